"""The one package defect the hub sets aside: MedCom's error codes on Acknowledgements (terminology 1.4.0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bindeled.errors import Issue
from bindeled.fhir.definitions import Definitions
from bindeled.messaging.conformance import validate_message
from bindeled.messaging.hub.package_defects import set_aside_package_defects
from bindeled.messaging.messages import Message
from bindeled.messaging.profiles import ValidatorPool
from tests.messaging.conftest import load_message

ERROR_ACKS = [
    "acknowledgement/Ack_3.3.2.1_A_AE.xml",
    "acknowledgement/Ack_3.3.3.1_A_AR.xml",
    "acknowledgement/Ack_3.3.3.6_A_AE.xml",
    "acknowledgement/Ack_3.4.4_A_AE.json",
]


@pytest.mark.parametrize("name", ERROR_ACKS)
def test_error_acknowledgements_are_valid_once_the_defect_is_set_aside(
    name: str, medcom_examples: Path, definitions: Definitions, pool: ValidatorPool
) -> None:
    message = Message(load_message(medcom_examples / name, definitions))
    errors = [i for i in validate_message(message, pool) if i.is_error]
    assert errors  # the defect is still there (the day it is fixed, this test says so)
    assert set_aside_package_defects(message, errors) == []


def test_other_codes_at_the_same_place_still_count(
    medcom_examples: Path, definitions: Definitions, pool: ValidatorPool
) -> None:
    bundle = load_message(medcom_examples / ERROR_ACKS[-1], definitions)
    bundle["entry"][5]["resource"]["issue"][0]["details"]["coding"][0]["code"] = "NOT_A_CODE"
    message = Message(bundle)
    errors = [i for i in validate_message(message, pool) if i.is_error]
    assert set_aside_package_defects(message, errors) == errors != []


def test_only_acknowledgements_are_concerned(clean_hn: dict[str, object]) -> None:
    issue = Issue("error", "code-invalid", "x", ("Bundle.entry[5].resource.issue[0].details.coding[0]",))
    assert set_aside_package_defects(Message(clean_hn), [issue]) == [issue]  # type: ignore[arg-type]
