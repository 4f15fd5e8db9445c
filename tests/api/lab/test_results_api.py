"""Results through the front door: FHIR Bundles at ``$lab-results``, and who sees what came in."""

from __future__ import annotations

import httpx

from bindeled.fhir import jsonio
from bindeled.lab.current_view import REFUSED
from tests.api.conftest import LiveServer, token_for
from tests.api.lab.test_mllp_server import message, msa, reports, send, synthetic_cpr, unique
from tests.lab.messages import CPR
from tests.lab.test_fhir_intake import bundle_from_hl7

CITIZEN_CPR = "6101709995"
"""The demo citizen's CPR number (``security/devissuer.py``)."""


def bundle_for(sample: str, cpr: str, status: str = "F", control: str = "") -> bytes:
    text = jsonio.encode_str(bundle_from_hl7(status, control or unique("B")))
    return text.replace("S1000", sample).replace(CPR, cpr).encode()


def as_user(server: LiveServer, user: str, **kwargs: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token_for(server, user, **kwargs)}", "Accept": "application/fhir+json"}
    return httpx.Client(base_url=server.base, headers=headers, timeout=60)


def post_bundle(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post("/$lab-results", content=body, headers={"Content-Type": "application/fhir+json"})


def test_a_result_bundle_is_stored_like_an_hl7_message(client: httpx.Client) -> None:
    sample, cpr = unique("S"), synthetic_cpr()
    answer = post_bundle(client, bundle_for(sample, cpr))
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["parameter"]
    outcome, report = (p.get("valueCode") or p.get("valueReference") for p in result["part"])
    assert outcome == "current"
    (stored,) = reports(client, sample)
    assert report == {"reference": f"DiagnosticReport/{stored['id']}"}
    again = post_bundle(client, bundle_for(sample, cpr, control="same")).json()
    assert again["parameter"][0]["part"][0]["valueCode"] == "current"
    repeated = post_bundle(client, bundle_for(sample, cpr, control="same")).json()
    assert repeated["parameter"][0]["part"][0]["valueCode"] == "duplicate"


def test_a_bundle_without_a_laboratory_is_422_with_a_location(client: httpx.Client) -> None:
    body = jsonio.decode(bundle_for(unique("S"), synthetic_cpr()))
    for entry in body["entry"]:
        entry["resource"].pop("performer", None)
    answer = post_bundle(client, jsonio.encode(body))
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"][0].endswith(".performer")


def test_citizens_may_not_post_results(server: LiveServer) -> None:
    with as_user(server, "citizen") as citizen:
        answer = post_bundle(citizen, bundle_for(unique("S"), CITIZEN_CPR))
    assert answer.status_code == 403


def test_a_citizen_sees_their_result_but_not_one_whose_display_they_refused(
    server: LiveServer, client: httpx.Client
) -> None:
    shown, hidden = unique("S"), unique("S")
    refused = message(hidden, unique("R"), CITIZEN_CPR).replace(
        b"ORC|RE|R1000", b"ARV|1|A|ALL^All^HL70717|PAT^Patient request^HL70719\rORC|RE|R1000"
    )
    acks = send(server, message(shown, unique("M"), CITIZEN_CPR), refused)
    assert [msa(a)[0] for a in acks] == ["AA", "AA"]
    (labelled,) = reports(client, hidden)  # an administrator sees it, labelled
    assert REFUSED in labelled["meta"]["security"]  # type: ignore[index]
    with as_user(server, "citizen") as citizen:
        assert [r["status"] for r in reports(citizen, shown)] == ["final"]
        assert reports(citizen, hidden) == []
        assert citizen.get(f"/DiagnosticReport/{labelled['id']}").status_code == 404


def test_surveillance_sees_a_refused_result_and_a_clinician_does_not(server: LiveServer) -> None:
    hidden, shown = unique("S"), unique("S")
    cpr = synthetic_cpr()
    refused = message(hidden, unique("R"), cpr).replace(
        b"ORC|RE|R1000", b"ARV|1|A|ALL^All^HL70717|PAT^Patient request^HL70719\rORC|RE|R1000"
    )
    assert [msa(a)[0] for a in send(server, refused, message(shown, unique("M"), cpr))] == ["AA", "AA"]
    with as_user(server, "epidemiologist") as epidemiologist:
        (labelled,) = reports(epidemiologist, hidden)
        assert REFUSED in labelled["meta"]["security"]  # type: ignore[index]
    with as_user(server, "gp", purpose="LAB_READ") as gp:
        assert len(reports(gp, shown)) == 1
        assert reports(gp, hidden) == []
