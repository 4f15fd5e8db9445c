"""Which MedCom package and profile a message claims, and validators preloaded with exactly those.

Each MedCom IG pins old versions of its dependencies (HospitalNotification 3.0.2 → DK-core 2.0.0,
MedCom core 2.0.0, messaging 2.1.0, …), and the same canonical URLs exist in several versions with
different content. So one validator serves one message type: it is fed the IG's own package and
its dependency closure, where a package's version is the one declared *nearest* the IG (an IG's own
declaration beats a transitive one), loaded dependencies first so the nearer versions win.

Packages are folders ``<name>#<version>`` (SUSHI output or an unpacked npm package's ``package/``)
under one configurable root; tests point it at ``../shared/standards/fhir-packages``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from ..errors import Unprocessable
from ..fhir.definitions import Definitions
from ..fhir.validation.validator import Validator
from .messages import Message

__all__ = [
    "MESSAGE_TYPES",
    "MessageType",
    "ValidatorPool",
    "build_validator",
    "message_type",
    "message_type_of",
    "package_closure",
]

_IG = "http://medcomfhir.dk/ig"


@dataclass(frozen=True, slots=True)
class MessageType:
    """One MedCom FHIR message standard in one major version."""

    event: str
    """``MessageHeader.eventCoding.code``."""
    version: str
    """Major.minor of the standard (what ``MessageHeader.definition`` pins, and the SBDH TypeVersion)."""
    package: str
    """``name#version`` of the IG package holding the profiles."""
    bundle_profile: str
    header_profile: str
    definition: str | None
    """The MessageDefinition canonical ``MessageHeader.definition`` must name, if the standard requires one."""
    vans_name: str | None
    """VANS ``MCM:`` document name stem (``MCM:FDIS20``; a postfix names the variant), or None for a
    standard not sent on VANS (HomeCareObservation runs on EHMI only)."""

    @property
    def major(self) -> str:
        return self.version.split(".", 1)[0]


MESSAGE_TYPES: tuple[MessageType, ...] = (
    MessageType(
        "hospital-notification-message",
        "3.0",
        "medcom.fhir.dk.hospitalnotification#3.0.2",
        f"{_IG}/hospitalnotification/StructureDefinition/medcom-hospitalNotification-message",
        f"{_IG}/hospitalnotification/StructureDefinition/medcom-hospitalNotification-messageHeader",
        None,
        "MCM:FDIS20",
    ),
    MessageType(
        "care-communication-message",
        "5.0",
        "medcom.fhir.dk.carecommunication#5.0.4",
        f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-message",
        f"{_IG}/carecommunication/StructureDefinition/medcom-careCommunication-messageHeader",
        f"{_IG}/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition",
        "MCM:FDIS91",
    ),
    MessageType(
        "acknowledgement-message",
        "2.0",
        "medcom.fhir.dk.acknowledgement#2.0.3",
        f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement",
        f"{_IG}/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader",
        None,
        "MCM:FCTL",
    ),
    MessageType(
        "homecareobservation-message",
        "1.2",
        "medcom.fhir.dk.homecareobservation#1.2.1",
        f"{_IG}/homecareobservation/StructureDefinition/medcom-homecareobservation-message",
        f"{_IG}/homecareobservation/StructureDefinition/medcom-homecareobservation-messageheader",
        f"{_IG}/messagedefinitions/MessageDefinition/MedComHomeCareObservationMessageDefinition",
        None,
    ),
)


def message_type(event: str, version: str | None = None) -> MessageType:
    """The supported standard for an event code (and major version, when given).

    Raises :class:`Unprocessable` (``MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE``) for anything else.
    """
    for kind in MESSAGE_TYPES:
        if kind.event == event and (version is None or version.split(".", 1)[0] == kind.major):
            return kind
    raise Unprocessable(
        f"Message type {event} version {version or 'any'} is not supported",
        location=("Bundle.entry[0].resource.eventCoding",),
        details_code="MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
    )


def message_type_of(message: Message) -> MessageType:
    """The standard a message claims: its event code, and the version its ``definition`` pins."""
    event = message.event
    if event is None:
        raise Unprocessable(
            "The message has no MessageHeader.eventCoding",
            location=("Bundle.entry[0].resource.eventCoding",),
            details_code="MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
        )
    return message_type(event, message.definition_version)


# -- packages ---------------------------------------------------------------------------------


def _manifest(folder: Path) -> dict[str, Any]:
    data = msgspec.json.decode((folder / "package.json").read_bytes())
    return data if isinstance(data, dict) else {}


def _folder(root: Path, name: str, version: str) -> Path:
    for candidate in (root / f"{name}#{version}", root / f"{name}#{version}" / "package"):
        if (candidate / "package.json").is_file():
            return candidate
    raise FileNotFoundError(f"FHIR package {name}#{version} is not in {root}")


_CORE = frozenset({"hl7.fhir.r4.core", "hl7.fhir.r4.examples"})


def package_closure(root: Path, package: str, *, skip: Iterable[str] = ()) -> list[Path]:
    """The folders to load for ``package`` (``name#version``), dependencies first.

    Breadth-first from the IG: the first version met for a name is the one used. Packages named in
    ``skip`` (and the R4 core, which :class:`Definitions` already holds) are left out; a dependency
    that is not in ``root`` and not skipped raises :class:`FileNotFoundError`.
    """
    skipped = _CORE | set(skip)
    name, version = package.split("#", 1)
    chosen: dict[str, Path] = {}
    level = [(name, version)]
    order: list[list[Path]] = []
    while level:
        found: list[Path] = []
        following: list[tuple[str, str]] = []
        for dep_name, dep_version in level:
            if dep_name in chosen or dep_name in skipped:
                continue
            folder = _folder(root, dep_name, dep_version)
            chosen[dep_name] = folder
            found.append(folder)
            deps = _manifest(folder).get("dependencies") or {}
            following.extend((n, str(v)) for n, v in deps.items())
        order.append(found)
        level = following
    return [folder for found in reversed(order) for folder in found]


def build_validator(definitions: Definitions, packages: Path, kind: MessageType) -> Validator:
    """A validator holding ``kind``'s IG and exactly its declared dependency versions."""
    validator = Validator(definitions)
    for folder in package_closure(packages, kind.package):
        validator.add_package(folder)
    return validator


class ValidatorPool:
    """One validator per message type, built on first use and kept (compile once, run many times)."""

    def __init__(self, definitions: Definitions, packages: Path) -> None:
        self.definitions = definitions
        self.packages = packages
        self._validators: dict[str, Validator] = {}
        self._lock = threading.Lock()

    def for_type(self, kind: MessageType) -> Validator:
        with self._lock:
            validator = self._validators.get(kind.package)
            if validator is None:
                validator = self._validators[kind.package] = build_validator(self.definitions, self.packages, kind)
            return validator
