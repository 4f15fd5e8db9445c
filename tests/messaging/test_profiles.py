"""Message types, the package closure each IG is validated with, and the package loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bindeled.errors import Unprocessable
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import (
    MessageType,
    ValidatorPool,
    build_validator,
    message_type,
    message_type_of,
    package_closure,
)


@pytest.mark.parametrize(
    ("event", "closure"),
    [
        (
            "hospital-notification-message",
            [
                "hl7.fhir.dk.core#2.0.0",
                "medcom.fhir.dk.core#2.0.0",
                "medcom.fhir.dk.messaging#2.1.0",
                "medcom.fhir.dk.terminology#1.1.1",
                "medcom.fhir.dk.hospitalnotification#3.0.2",
            ],
        ),
        (
            "care-communication-message",
            [
                "hl7.fhir.dk.core#3.4.0",
                "medcom.fhir.dk.core#3.0.1",
                "medcom.fhir.dk.messaging#4.0.1",
                "medcom.fhir.dk.terminology#2.0.1",
                "medcom.fhir.dk.messagedefinitions#1.0.0-trial-use",
                "medcom.fhir.dk.carecommunication#5.0.4",
            ],
        ),
        (
            "acknowledgement-message",
            [
                "hl7.fhir.dk.core#2.0.0",
                "medcom.fhir.dk.core#2.0.1",
                "medcom.fhir.dk.messaging#2.1.0",
                "medcom.fhir.dk.terminology#1.4.0",
                "medcom.fhir.dk.acknowledgement#2.0.3",
            ],
        ),
    ],
)
def test_closure_uses_the_versions_the_ig_declares(event: str, closure: list[str], packages_dir: Path) -> None:
    """Messaging 2.1.0 wants MedCom core 2.3.0, but HospitalNotification's own pin (2.0.0) wins."""
    folders = package_closure(packages_dir, message_type(event).package)
    assert [f.name for f in folders] == closure


def _package(root: Path, name: str, version: str, deps: dict[str, str], files: dict[str, object]) -> None:
    folder = root / f"{name}#{version}"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"name": name, "version": version, "dependencies": deps}))
    for file, content in files.items():
        (folder / file).write_text(json.dumps(content))


def test_closure_order_and_missing_packages(tmp_path: Path) -> None:
    _package(tmp_path, "ig", "1.0.0", {"hl7.fhir.r4.core": "4.0.1", "a": "2.0.0", "b": "1.0.0"}, {})
    _package(tmp_path, "a", "2.0.0", {"b": "9.9.9"}, {})
    _package(tmp_path, "b", "1.0.0", {"c": "1.0.0"}, {})
    _package(tmp_path, "c", "1.0.0", {}, {})
    assert [f.name for f in package_closure(tmp_path, "ig#1.0.0")] == ["c#1.0.0", "a#2.0.0", "b#1.0.0", "ig#1.0.0"]
    _package(tmp_path, "x", "1.0.0", {"d": "1.0.0"}, {})
    with pytest.raises(FileNotFoundError, match=r"d#1\.0\.0"):
        package_closure(tmp_path, "x#1.0.0")


def test_loader_drops_json_nulls(tmp_path: Path, definitions: Definitions) -> None:
    """SUSHI wrote ``null`` into terminology 1.4.0's ValueSet; the loader must not choke on it."""
    system = "http://example.org/cs"
    vs = {
        "resourceType": "ValueSet",
        "url": "http://example.org/vs",
        "status": "active",
        "compose": {"include": [{"system": system, "concept": [{"code": "a"}]}, None]},
    }
    sd = {
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/coded-basic",  # = url below
        "name": "CodedBasic",
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": "Basic",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Basic",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Basic.code",
                    "path": "Basic.code",
                    "binding": {"strength": "required", "valueSet": "http://example.org/vs"},
                }
            ]
        },
    }
    _package(tmp_path, "ig", "1.0.0", {}, {"ValueSet-vs.json": vs, "StructureDefinition-sd.json": sd})
    url = "http://example.org/StructureDefinition/coded-basic"
    kind = MessageType("x", "1.0", "ig#1.0.0", url, url, None, "MCM:X")
    validator = build_validator(definitions, tmp_path, kind)
    good = {"resourceType": "Basic", "code": {"coding": [{"system": system, "code": "a"}]}}
    bad = {"resourceType": "Basic", "code": {"coding": [{"system": system, "code": "b"}]}}
    assert not [i for i in validator.validate(good, [url]) if i.is_error]
    assert [i for i in validator.validate(bad, [url]) if i.is_error]


@pytest.mark.parametrize(
    ("event", "definition", "version"),
    [
        ("hospital-notification-message", None, "3.0"),
        ("care-communication-message", "http://x/MedComCareCommunicationMessageDefinition|5.0", "5.0"),
        ("care-communication-message", "http://x/MedComCareCommunicationMessageDefinition|5.12", "5.0"),
        ("acknowledgement-message", "http://x/ack|2.0.0", "2.0"),
    ],
)
def test_message_type_of(event: str, definition: str | None, version: str) -> None:
    header: dict[str, object] = {"resourceType": "MessageHeader", "eventCoding": {"code": event}}
    if definition:
        header["definition"] = definition
    message = Message({"resourceType": "Bundle", "entry": [{"resource": header}]})
    assert message_type_of(message).version == version


@pytest.mark.parametrize(
    ("event", "version"), [("care-communication-message", "4.0.0"), ("referral-message", None), (None, None)]
)
def test_unsupported_types_are_refused(event: str | None, version: str | None) -> None:
    header: dict[str, object] = {"resourceType": "MessageHeader"}
    if event:
        header["eventCoding"] = {"code": event}
    if version:
        header["definition"] = f"http://x|{version}"
    with pytest.raises(Unprocessable) as caught:
        message_type_of(Message({"resourceType": "Bundle", "entry": [{"resource": header}]}))
    assert caught.value.details_code == "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE"


def test_pool_builds_each_validator_once(pool: ValidatorPool) -> None:
    kind = message_type("acknowledgement-message")
    assert pool.for_type(kind) is pool.for_type(kind)
    assert pool.for_type(kind) is not pool.for_type(message_type("hospital-notification-message"))
