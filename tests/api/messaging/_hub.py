"""Helpers for the hub's HTTP tests: the official examples made fresh, the register, sender tokens.

The server lives for the whole session, so every test sends letters with new envelope and letter
ids (and, where the overview is involved, a synthetic citizen of its own).
"""

from __future__ import annotations

import copy
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bindeled.fhir import jsonio
from bindeled.fhir.definitions import Definitions
from bindeled.fhir.xmlio import resource_to_xml, xml_to_resource
from bindeled.messaging.hub.endpoints import ReceiverEndpoint, endpoint_id, endpoint_resource
from bindeled.messaging.messages import CPR_SYSTEM, GLN_SYSTEM, SOR_SYSTEM
from bindeled.security import LocalIssuer
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from bindeled.security.devissuer import DemoUser
from tests.api.conftest import LiveServer
from tests.conftest import SHARED

EXAMPLES = SHARED / "standards" / "medcom" / "examples"
PACKAGES = SHARED / "standards" / "fhir-packages"
HN_EXAMPLE = "hospitalnotification/Bundle-a5e5b880-c087-4055-b9ec-99108695f81d.json"
HN_DISCHARGE_EXAMPLE = "hospitalnotification/Bundle-f4aa42a4-86db-4e68-9b38-9dda0dfd5774.json"
CC_EXAMPLE = "carecommunication/Flow3-CareCommunication_Ex_to_OIOXML.xml"
ACK_OK_EXAMPLE = "acknowledgement/Ack_3.3.1.1_A-AA.xml"
CC_DEFINITION = (
    "http://medcomfhir.dk/ig/messagedefinitions/MessageDefinition/MedComCareCommunicationMessageDefinition|5.0"
)
# The published HospitalNotifications use ids that are not UUIDs (their documented defect); the clean
# copies swap the first letter for a hex digit and, for the discharge, name the Organization that is there.
HN_ID_FIXES = {
    "t33cef33-": "a33cef33-",
    "o4cdf292-": "b4cdf292-",
    "o7056980-": "c7056980-",
    "g1affa53-": "d1affa53-",
}

HOSPITAL = ("265161000016000", "5790000209354")
MUNICIPALITY = ("953741000016009", "5790001348120")
CC_SENDER = ("359011000016000", "5790001382445")
CC_RECEIVER = ("328051000016008", "5790000121441")
HN, CC, ACK = "hospital-notification-message", "care-communication-message", "acknowledgement-message"
JSON = "application/fhir+json"
XML = "application/fhir+xml"


def example(name: str, definitions: Definitions) -> dict[str, Any]:
    data = (EXAMPLES / name).read_bytes()
    return jsonio.decode(data) if name.endswith(".json") else xml_to_resource(data, definitions)


def fresh(bundle: dict[str, Any], *, cpr: str | None = None) -> dict[str, Any]:
    """The same message as a new letter: new envelope id and MessageHeader id (and optionally another CPR)."""
    header_id = bundle["entry"][0]["resource"]["id"]
    text = jsonio.encode(bundle).decode()
    text = text.replace(header_id, str(uuid.uuid4()))
    if cpr is not None:
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] == "Patient":
                for ident in entry["resource"].get("identifier", []):
                    if ident.get("system") == CPR_SYSTEM:
                        text = text.replace(ident["value"], cpr)  # the narrative shows it too
    out: dict[str, Any] = jsonio.decode(text)
    out["id"] = str(uuid.uuid4())
    return out


def new_envelope(bundle: dict[str, Any]) -> dict[str, Any]:
    """The same letter in a new envelope (a resend)."""
    out = copy.deepcopy(bundle)
    out["id"] = str(uuid.uuid4())
    return out


def clean_hn(definitions: Definitions, name: str = HN_EXAMPLE) -> dict[str, Any]:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    for old, new in HN_ID_FIXES.items():
        text = text.replace(old, new)
    bundle: dict[str, Any] = jsonio.decode(text)
    return bundle


def acknowledgement_of(
    letter: str, definitions: Definitions, code: str = "ok", name: str = ACK_OK_EXAMPLE
) -> dict[str, Any]:
    """An official Acknowledgement (municipality → hospital), made fresh to answer the letter ``letter``."""
    original = example(name, definitions)
    header = next(e["resource"] for e in original["entry"] if e["resource"]["resourceType"] == "MessageHeader")
    text = jsonio.encode(original).decode().replace(header["response"]["identifier"], letter)
    ack = fresh(jsonio.decode(text))
    if code:
        ack["entry"][0]["resource"]["response"]["code"] = code
    return ack


def clean_cc(definitions: Definitions) -> dict[str, Any]:
    bundle = example(CC_EXAMPLE, definitions)
    bundle["entry"][0]["resource"]["definition"] = CC_DEFINITION
    return bundle


def synthetic_cpr(rnd: random.Random | None = None) -> str:
    """A synthetic CPR number: day of month + 60, so it can never be a real one."""
    r = rnd or random.Random()
    return f"{r.randint(61, 88):02d}{r.randint(1, 12):02d}{r.randint(0, 99):02d}{r.randint(0, 9999):04d}"


def gln_with_check_digit(twelve: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(twelve))
    return twelve + str((10 - total % 10) % 10)


# -- the register ------------------------------------------------------------------------------------


def register_unit(client: httpx.Client, sor: str, gln: str | None, *, part_of: str | None = None) -> None:
    """A SOR unit in the register (as the SOR import would store it)."""
    identifiers = [{"system": SOR_SYSTEM, "value": sor}]
    if gln:
        identifiers.append({"system": GLN_SYSTEM, "value": gln})
    org: dict[str, Any] = {
        "resourceType": "Organization",
        "id": f"sor-{sor}",
        "identifier": identifiers,
        "active": True,
        "name": f"Test unit {sor}",
    }
    if part_of:
        org["partOf"] = {"reference": f"Organization/sor-{part_of}"}
    response = client.put(f"/Organization/sor-{sor}", json=org)
    assert response.status_code in (200, 201), response.text


def register_endpoint(client: httpx.Client, sor: str, gln: str, accepts: set[tuple[str, str]]) -> None:
    endpoint = ReceiverEndpoint(gln, sor, "mailbox", "", frozenset(accepts))
    response = client.put(f"/Endpoint/{endpoint_id(gln)}", json=endpoint_resource(endpoint, name=f"Test {sor}"))
    assert response.status_code in (200, 201), response.text


def register_examples(client: httpx.Client) -> None:
    """The parties of the official examples, each receiving what the examples send it."""
    everything = {(HN, "3.0"), (CC, "5.0")}
    for sor, gln in (HOSPITAL, MUNICIPALITY, CC_SENDER, CC_RECEIVER):
        register_unit(client, sor, gln)
        register_endpoint(client, sor, gln, everything)


# -- callers -----------------------------------------------------------------------------------------


def sender_token(
    server: LiveServer, sor: str, *, purpose: str = "MESSAGING", user_type: str = "system", scope: str = ""
) -> str:
    """A sender system's token (SMART backend-services style) from the server's development issuer."""
    claims = {
        "user_type": user_type,
        "name": "Test sender system",
        "sor": sor,
        "org_name": f"Unit {sor}",
        "system_name": "TestHubSender",
        "system_version": "1.0",
    }
    user = DemoUser("hub-sender", claims, scope or "system/*.cruds")
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    return issuer.mint(user, now=datetime.now(UTC), purpose=purpose)


def sender(server: LiveServer, sor: str, **kwargs: str) -> httpx.Client:
    token = sender_token(server, sor, **kwargs)
    headers = {"Accept": JSON, "Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=server.base, timeout=120, headers=headers)


def post(
    client: httpx.Client, bundle: dict[str, Any], definitions: Definitions, *, xml: bool = False
) -> httpx.Response:
    if xml:
        body = resource_to_xml(bundle, definitions)
        return client.post("/$process-message", content=body, headers={"Content-Type": XML})
    return client.post("/$process-message", content=jsonio.encode(bundle), headers={"Content-Type": JSON})


# -- reading answers ---------------------------------------------------------------------------------


def ack_header(ack: dict[str, Any]) -> dict[str, Any]:
    header: dict[str, Any] = ack["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    return header


def ack_issue_codes(ack: dict[str, Any]) -> set[str]:
    """The MedCom/HL7 error codes in an Acknowledgement's OperationOutcome."""
    found = set()
    for entry in ack["entry"]:
        if entry["resource"]["resourceType"] == "OperationOutcome":
            for issue in entry["resource"]["issue"]:
                for coding in issue.get("details", {}).get("coding", []):
                    found.add(coding["code"])
    return found


def ack_issue_paths(ack: dict[str, Any]) -> set[str]:
    found = set()
    for entry in ack["entry"]:
        if entry["resource"]["resourceType"] == "OperationOutcome":
            for issue in entry["resource"]["issue"]:
                found.update(issue.get("expression", []))
    return found


def hops(client: httpx.Client, message_id: str) -> list[str]:
    response = client.get("/$message-status", params={"message": message_id})
    assert response.status_code == 200, response.text
    return [e["resource"]["subtype"][0]["code"] for e in response.json()["entry"]]
