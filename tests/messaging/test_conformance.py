"""One mutation per MedCom business rule, each checked on JSON and after an XML round trip."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource
from bindeled.messaging.conformance import CC_MAX_BYTES, RULE_CODES, check_message, gln_is_valid
from bindeled.messaging.messages import CPR_SYSTEM, GLN_SYSTEM, SOR_SYSTEM, Message

from ._mutate import Bundle, header, index_of, path, receiver_index, resource, sender_index, set_identifier

Found = set[tuple[str, str]]
Mutation = Callable[[Bundle], Found]

XECPR_SYSTEM = "urn:oid:1.2.208.176.1.6.1.1"


def _found(bundle: Bundle, size: int | None = None) -> Found:
    return {(i.details_code or "", i.expression[0]) for i in check_message(Message(bundle), size=size)}


def _via(fmt: str, bundle: Bundle, definitions: Definitions) -> Bundle:
    if fmt == "json":
        return bundle
    return xml_to_resource(resource_to_xml(bundle, definitions), definitions)


# -- common rules ------------------------------------------------------------------------------


def bundle_type(b: Bundle) -> Found:
    b["type"] = "collection"
    return {("MEDCOM-BUNDLE", "Bundle.type")}


def header_not_first(b: Bundle) -> Found:
    b["entry"].append(b["entry"].pop(0))
    return {("MEDCOM-BUNDLE", "Bundle.entry[0]")}


def envelope_id(b: Bundle) -> Found:
    b["id"] = "envelope-1"
    return {("MEDCOM-ID-UUID", "Bundle.id")}


def sender_without_sor(b: Bundle) -> Found:
    i = sender_index(b)
    set_identifier(b["entry"][i]["resource"], SOR_SYSTEM, None)
    return {("MEDCOM-ORG-SOR", path(i, ".identifier"))}


def sender_short_sor(b: Bundle) -> Found:
    i = sender_index(b)
    set_identifier(b["entry"][i]["resource"], SOR_SYSTEM, "1234567890")
    return {("MEDCOM-ORG-SOR", path(i, ".identifier"))}


def sender_without_gln(b: Bundle) -> Found:
    i = sender_index(b)
    set_identifier(b["entry"][i]["resource"], GLN_SYSTEM, None)
    return {("MEDCOM-ORG-GLN", path(i, ".identifier"))}


def receiver_bad_gln(b: Bundle) -> Found:
    i = receiver_index(b)
    set_identifier(b["entry"][i]["resource"], GLN_SYSTEM, "5790000141228")
    return {("MEDCOM-GLN-CHECK-DIGIT", path(i, ".identifier"))}


def sender_not_in_bundle(b: Bundle) -> Found:
    header(b)["sender"] = {"reference": "Organization/0b6e0f0c-7f4e-4f7e-9d0e-4a3f1c2b5d6e"}
    return {
        ("MEDCOM-ORG-MISSING", "Bundle.entry[0].resource.sender"),
        ("MEDCOM-REFERENCE-OUTSIDE", "Bundle.entry[0].resource.sender.reference"),
    }


def two_primaries(b: Bundle) -> Found:
    dest = header(b)["destination"]
    dest.append(copy.deepcopy(dest[0]))
    return {("MEDCOM-DESTINATION-PRIMARY", "Bundle.entry[0].resource.destination")}


def cc_destination(b: Bundle) -> Found:
    dest = header(b)["destination"]
    cc = copy.deepcopy(dest[0])
    cc["extension"][0]["valueCoding"]["code"] = "cc"
    dest.append(cc)
    return {("MEDCOM-DESTINATION-CC", "Bundle.entry[0].resource.destination[1]")}


def destination_without_use(b: Bundle) -> Found:
    del header(b)["destination"][0]["extension"]
    return {
        ("MEDCOM-DESTINATION-PRIMARY", "Bundle.entry[0].resource.destination"),
        ("MEDCOM-DESTINATION-PRIMARY", "Bundle.entry[0].resource.destination[0]"),
        ("MEDCOM-ORG-MISSING", "Bundle.entry[0].resource.destination"),
    }


def two_patients(b: Bundle) -> Found:
    b["entry"].append(copy.deepcopy(b["entry"][index_of(b, "Patient")]))
    b["entry"][-1]["resource"]["id"] = "5f0c3a1e-2b7d-4c8e-9f10-3a2b1c0d9e8f"
    b["entry"][-1]["fullUrl"] = "Patient/5f0c3a1e-2b7d-4c8e-9f10-3a2b1c0d9e8f"
    return {("MEDCOM-PATIENT", "Bundle.entry")}


def patient_without_cpr(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    del b["entry"][i]["resource"]["identifier"]
    return {("MEDCOM-PATIENT-CPR", path(i, ".identifier"))}


def cpr_nine_digits(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    b["entry"][i]["resource"]["identifier"] = [{"system": CPR_SYSTEM, "value": "250947998"}]
    return {("MEDCOM-PATIENT-CPR", path(i, ".identifier"))}


def no_provenance(b: Bundle) -> Found:
    b["entry"] = [e for e in b["entry"] if e["resource"]["resourceType"] != "Provenance"]
    return {("MEDCOM-PROVENANCE", "Bundle.entry")}


def provenance_for_another_header(b: Bundle) -> Found:
    resource(b, "Provenance", -1)["target"] = [{"reference": "MessageHeader/7d7f0a33-5a1b-4c9e-8f2d-0e1c2b3a4d5f"}]
    return {("MEDCOM-PROVENANCE", "Bundle.entry")}


def narrative_missing(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    del b["entry"][i]["resource"]["text"]
    return {("MEDCOM-NARRATIVE", path(i, ".text"))}


def timestamp_without_zone(b: Bundle) -> Found:
    b["timestamp"] = "2022-12-07T12:00:05"
    return {("MEDCOM-TIMEZONE", "Bundle.timestamp")}


def provenance_time_without_zone(b: Bundle) -> Found:
    i = index_of(b, "Provenance", -1)
    b["entry"][i]["resource"]["recorded"] = "2022-12-07T12:00:02.123"
    return {("MEDCOM-TIMEZONE", path(i, ".recorded"))}


def reference_outside(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    b["entry"][i]["resource"]["managingOrganization"] = {
        "reference": "Organization/3e1d2c4b-6a5f-4e7d-8c9b-0a1f2e3d4c5b"
    }
    return {("MEDCOM-REFERENCE-OUTSIDE", path(i, ".managingOrganization.reference"))}


# -- HospitalNotification ------------------------------------------------------------------


def _encounter(b: Bundle) -> tuple[int, dict[str, Any]]:
    i = index_of(b, "Encounter")
    return i, b["entry"][i]["resource"]


def _activity(b: Bundle, code: str, *, keep_report_flag: bool = False) -> None:
    """Change the current activity; the reportOfAdmission flag belongs to an initial STIN/STAA only."""
    resource(b, "Provenance", -1)["activity"]["coding"][0]["code"] = code
    extensions = [e for e in header(b).get("extension", []) if not e["url"].endswith("reportOfAdmissionExtension")]
    if not keep_report_flag and extensions:
        header(b)["extension"] = extensions
    elif not keep_report_flag:
        header(b).pop("extension", None)


def hn_wrong_class(b: Bundle) -> Found:
    i, enc = _encounter(b)
    enc["class"]["code"] = "EMER"
    return {("MEDCOM-HN-CLASS-STATUS", path(i, ".class"))}


def hn_wrong_status(b: Bundle) -> Found:
    i, enc = _encounter(b)
    enc["status"] = "onleave"
    enc["extension"] = [
        {
            "url": "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension",
            "valuePeriod": {"start": "2022-12-08T10:00:00+01:00"},
        }
    ]
    return {("MEDCOM-HN-CLASS-STATUS", path(i, ".status"))}


def hn_cancel_not_entered_in_error(b: Bundle) -> Found:
    i, _ = _encounter(b)
    _activity(b, "cancel-admit-inpatient")
    return {("MEDCOM-HN-CLASS-STATUS", path(i, ".status"))}


def hn_discharge_class_mismatch(b: Bundle) -> Found:
    i, enc = _encounter(b)
    _activity(b, "discharge-emergency-home")
    enc["status"] = "finished"
    enc["period"]["end"] = "2022-12-09T10:00:00+01:00"
    return {("MEDCOM-HN-CLASS-STATUS", path(i, ".class"))}


def hn_no_start(b: Bundle) -> Found:
    i, enc = _encounter(b)
    del enc["period"]
    return {("MEDCOM-HN-PERIOD", path(i, ".period.start"))}


def hn_finished_without_end(b: Bundle) -> Found:
    i, enc = _encounter(b)
    _activity(b, "discharge-inpatient-home")
    enc["status"] = "finished"
    return {("MEDCOM-HN-PERIOD", path(i, ".period.end"))}


def hn_end_while_in_progress(b: Bundle) -> Found:
    i, enc = _encounter(b)
    enc["period"]["end"] = "2022-12-09T10:00:00+01:00"
    return {("MEDCOM-HN-PERIOD", path(i, ".period.end"))}


def hn_leave_without_period(b: Bundle) -> Found:
    i, enc = _encounter(b)
    _activity(b, "start-leave-inpatient")
    enc["status"] = "onleave"
    return {("MEDCOM-HN-LEAVE", path(i, ".extension"))}


def hn_no_episode(b: Bundle) -> Found:
    i, enc = _encounter(b)
    del enc["episodeOfCare"]
    return {("MEDCOM-HN-ENCOUNTER", path(i, ".episodeOfCare"))}


def hn_focus_not_encounter(b: Bundle) -> Found:
    header(b)["focus"] = [{"reference": f"Patient/{resource(b, 'Patient')['id']}"}]
    return {("MEDCOM-HN-ENCOUNTER", "Bundle.entry[0].resource.focus")}


def hn_not_an_hn_activity(b: Bundle) -> Found:
    i = index_of(b, "Provenance", -1)
    _activity(b, "new-message")
    return {("MEDCOM-PROVENANCE-ACTIVITY", path(i, ".activity"))}


def hn_replacement_id(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    b["entry"][i]["resource"]["identifier"].append({"system": XECPR_SYSTEM, "value": "0101011AB1"})
    return {("MEDCOM-PATIENT-CPR", path(i, ".identifier[1]"))}


def hn_deceased_datetime(b: Bundle) -> Found:
    i = index_of(b, "Patient")
    b["entry"][i]["resource"]["deceasedDateTime"] = "2022-12-08T10:00:00+01:00"
    return {("MEDCOM-HN-DECEASED", path(i, ".deceasedDateTime"))}


def hn_report_of_admission_on_discharge(b: Bundle) -> Found:
    _, enc = _encounter(b)
    _activity(b, "discharge-inpatient-home", keep_report_flag=True)
    enc["status"] = "finished"
    enc["period"]["end"] = "2022-12-09T10:00:00+01:00"
    index = next(n for n, e in enumerate(header(b)["extension"]) if e["url"].endswith("reportOfAdmissionExtension"))
    return {("MEDCOM-HN-REPORT-OF-ADMISSION", f"Bundle.entry[0].resource.extension[{index}]")}


# -- CareCommunication ---------------------------------------------------------------------


def _communication(b: Bundle) -> tuple[int, dict[str, Any]]:
    i = index_of(b, "Communication")
    return i, b["entry"][i]["resource"]


def _category(comm: dict[str, Any], code: str) -> None:
    comm["category"][0]["coding"][0]["code"] = code


def cc_unknown_category(b: Bundle) -> Found:
    i, comm = _communication(b)
    _category(comm, "gossip")
    return {("MEDCOM-CC-CATEGORY", path(i, ".category"))}


def cc_two_categories(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["category"].append(copy.deepcopy(comm["category"][0]))
    return {("MEDCOM-CC-CATEGORY", path(i, ".category"))}


def cc_other_without_topic(b: Bundle) -> Found:
    i, comm = _communication(b)
    _category(comm, "other")
    comm.pop("topic", None)
    return {("MEDCOM-CC-TOPIC", path(i, ".topic"))}


def cc_priority_outside_referral(b: Bundle) -> Found:
    i, comm = _communication(b)
    _category(comm, "medicine")
    comm["priority"] = "asap"
    return {("MEDCOM-CC-PRIORITY", path(i, ".priority"))}


def cc_bad_priority(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["priority"] = "stat"
    return {("MEDCOM-CC-PRIORITY", path(i, ".priority"))}


def cc_thread_not_uuid4(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["identifier"] = [{"value": "urn:uuid:da1edb7c-6e7c-1af8-bdd1-94f4aa99908a"}]
    return {("MEDCOM-CC-THREAD", path(i, ".identifier"))}


def cc_video_attachment(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["payload"][1]["contentAttachment"]["contentType"] = "video/mp4"
    return {("MEDCOM-CC-ATTACHMENT", path(i, ".payload[1].contentAttachment.contentType"))}


def cc_attachment_without_title(b: Bundle) -> Found:
    i, comm = _communication(b)
    del comm["payload"][1]["contentAttachment"]["title"]
    return {("MEDCOM-CC-ATTACHMENT", path(i, ".payload[1].contentAttachment.title"))}


def cc_attachment_data_and_url(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["payload"][1]["contentAttachment"]["url"] = "https://example.org/attachment.pdf"
    return {("MEDCOM-CC-ATTACHMENT", path(i, ".payload[1].contentAttachment"))}


def cc_no_text(b: Bundle) -> Found:
    i, comm = _communication(b)
    comm["payload"] = [p for p in comm["payload"] if "contentString" not in p]
    return {("MEDCOM-CC-COMMUNICATION", path(i, ".payload"))}


def cc_focus_missing(b: Bundle) -> Found:
    del header(b)["focus"]
    return {("MEDCOM-CC-COMMUNICATION", "Bundle.entry[0].resource.focus")}


def cc_modified_activity(b: Bundle) -> Found:
    i = index_of(b, "Provenance", -1)
    _activity(b, "modified-message")
    return {("MEDCOM-PROVENANCE-ACTIVITY", path(i, ".activity"))}


def cc_old_definition(b: Bundle) -> Found:
    header(b)["definition"] = header(b)["definition"].replace("|5.0", "|4.0")
    return {("MEDCOM-DEFINITION", "Bundle.entry[0].resource.definition")}


MUTATIONS: list[tuple[str, Mutation]] = [
    ("hn", bundle_type),
    ("hn", header_not_first),
    ("hn", envelope_id),
    ("hn", sender_without_sor),
    ("cc", sender_short_sor),
    ("hn", sender_without_gln),
    ("cc", receiver_bad_gln),
    ("hn", sender_not_in_bundle),
    ("hn", two_primaries),
    ("cc", cc_destination),
    ("hn", destination_without_use),
    ("hn", two_patients),
    ("hn", patient_without_cpr),
    ("cc", cpr_nine_digits),
    ("hn", no_provenance),
    ("cc", provenance_for_another_header),
    ("hn", narrative_missing),
    ("cc", timestamp_without_zone),
    ("hn", provenance_time_without_zone),
    ("hn", reference_outside),
    ("hn", hn_wrong_class),
    ("hn", hn_wrong_status),
    ("hn", hn_cancel_not_entered_in_error),
    ("hn", hn_discharge_class_mismatch),
    ("hn", hn_no_start),
    ("hn", hn_finished_without_end),
    ("hn", hn_end_while_in_progress),
    ("hn", hn_leave_without_period),
    ("hn", hn_no_episode),
    ("hn", hn_focus_not_encounter),
    ("hn", hn_not_an_hn_activity),
    ("hn", hn_replacement_id),
    ("hn", hn_deceased_datetime),
    ("hn", hn_report_of_admission_on_discharge),
    ("cc", cc_unknown_category),
    ("cc", cc_two_categories),
    ("cc", cc_other_without_topic),
    ("cc", cc_priority_outside_referral),
    ("cc", cc_bad_priority),
    ("cc", cc_thread_not_uuid4),
    ("cc", cc_video_attachment),
    ("cc", cc_attachment_without_title),
    ("cc", cc_attachment_data_and_url),
    ("cc", cc_no_text),
    ("cc", cc_focus_missing),
    ("cc", cc_modified_activity),
    ("cc", cc_old_definition),
]

FORMATS = ["json", "xml"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["hn", "cc"])
def test_clean_messages_pass_every_rule(
    kind: str, fmt: str, clean: Callable[[str], Bundle], definitions: Definitions
) -> None:
    assert _found(_via(fmt, clean(kind), definitions)) == set()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("kind", "mutate"), MUTATIONS, ids=[m.__name__ for _, m in MUTATIONS])
def test_each_rule_catches_its_mutation(
    kind: str, mutate: Mutation, fmt: str, clean: Callable[[str], Bundle], definitions: Definitions
) -> None:
    bundle = clean(kind)
    expected = mutate(bundle)
    found = _found(_via(fmt, bundle, definitions))
    assert expected <= found, f"missing {expected - found}; found {found}"
    if mutate is not header_not_first:  # moving the header breaks everything that reads it
        assert found == expected


def test_every_rule_code_has_a_mutation(clean: Callable[[str], Bundle]) -> None:
    covered = {"MEDCOM-CC-SIZE"}
    for kind, mutate in MUTATIONS:
        covered |= {code for code, _ in mutate(clean(kind))}
    assert covered == set(RULE_CODES)


@pytest.mark.parametrize(
    ("kind", "system", "value"),
    [("hn", "urn:oid:1.3.88", None), ("cc", XECPR_SYSTEM, "0101011AB1")],
    ids=["gln-alias-accepted", "cc-replacement-id-accepted"],
)
def test_accepted_variants(kind: str, system: str, value: str | None, clean: Callable[[str], Bundle]) -> None:
    bundle = clean(kind)
    if value is None:  # the messaging GLN alias on input
        org = bundle["entry"][sender_index(bundle)]["resource"]
        gln = next(i["value"] for i in org["identifier"] if i["system"] == GLN_SYSTEM)
        set_identifier(org, GLN_SYSTEM, None)
        set_identifier(org, system, gln)
    else:
        resource(bundle, "Patient")["identifier"] = [{"system": system, "value": value}]
    assert _found(bundle) == set()


def test_care_communication_size_limit(clean_cc: Bundle) -> None:
    message = Message(clean_cc)
    assert check_message(message, size=CC_MAX_BYTES) == []
    issues = check_message(message, size=CC_MAX_BYTES + 1)
    assert [(i.details_code, i.expression) for i in issues] == [("MEDCOM-CC-SIZE", ("Bundle",))]


def test_diagnostics_never_carry_the_cpr(clean_hn: Bundle) -> None:
    cpr = resource(clean_hn, "Patient")["identifier"][0]["value"]
    resource(clean_hn, "Patient")["identifier"] = [{"system": "urn:example", "value": cpr}]
    issues = check_message(Message(clean_hn))
    assert issues and all(cpr not in i.diagnostics for i in issues)


# -- GS1 check digit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gln", "ok"),
    [
        ("5790000141227", True),
        ("5790000209354", True),
        ("5790001348120", True),
        ("5790000141228", False),
        ("579000014122", False),
        ("57900001412270", False),
        ("579000014122x", False),
        ("５７９００００１４１２２７", False),
    ],
)
def test_gln_check_digit(gln: str, ok: bool) -> None:
    assert gln_is_valid(gln) is ok


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_one_check_digit_completes_a_gln(stem: str) -> None:
    assert sum(gln_is_valid(stem + str(d)) for d in range(10)) == 1
