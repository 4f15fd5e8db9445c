"""The security registers' admin API over HTTP: each change decides the very next request."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from bindeled.security import DemoUser, LocalIssuer
from bindeled.security.demo import DEV_AUDIENCE, DEV_ISSUER
from tests.api.conftest import LiveServer
from tests.api.test_crud import JSON
from tests.api.test_security_api import CPR, _as

HOME_CARE = "12519999999100"
GP_PRACTICE = "17459999999100"


def _code(response: httpx.Response) -> str:
    return str(response.json()["issue"][0]["details"]["coding"][0]["code"])


def _cpr() -> str:
    """A synthetic CPR number (day of month + 60), unique enough per test."""
    rng = random.Random(uuid.uuid4().int)
    return f"{61 + rng.randrange(28):02d}{rng.randrange(1, 13):02d}{rng.randrange(100):02d}{rng.randrange(10000):04d}"


def _custom(server: LiveServer, claims: dict[str, Any], purpose: str) -> httpx.Client:
    """A client for a user who is not a demo user (same development issuer, real verification; sub: demo-<sub>)."""
    issuer = LocalIssuer(Path(server.settings.data_dir), DEV_ISSUER, DEV_AUDIENCE)
    user = DemoUser(str(claims["sub"]), claims, "openid fhirUser user/*.cruds")
    token = issuer.mint(user, now=datetime.now(UTC), purpose=purpose)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    return httpx.Client(base_url=server.base, timeout=60, headers=headers)


def test_only_administrators_manage_registers(server: LiveServer) -> None:
    with _as(server, "gp", "SJ_READ") as gp:
        for response in (
            gp.get("/$security-registers/trust-agreements"),
            gp.put("/$security-registers/trust-agreements/x", json={}),
            gp.post("/$import-authorisations", content=b"", headers={"Content-Type": "text/csv"}),
        ):
            assert response.status_code == 403 and _code(response) == "admin_only"
    with _as(server, "operator") as operator:
        refused = operator.get("/$security-registers/clients")
        assert refused.status_code == 403 and _code(refused) == "admin_only"
        assert operator.get("/$pending-verifications").status_code == 200
        assert operator.get("/$pending-verifications", params={"status": "all", "_count": "5"}).status_code == 200
        assert operator.get("/$pending-verifications", params={"status": "maybe"}).status_code == 400
        assert operator.get("/$pending-verifications", params={"_count": "-1"}).status_code == 400
    with _as(server, "nurse", "SJ_READ") as nurse:
        flags = nurse.get("/$pending-verifications")
        assert flags.status_code == 403 and _code(flags) == "operator_only"


def test_an_imported_authorisation_counts_and_a_revoked_one_does_not(server: LiveServer, client: httpx.Client) -> None:
    aut = f"I{uuid.uuid4().hex[:6].upper()}"
    claims = {
        "sub": f"imp-{aut}",
        "user_type": "hcp",
        "name": "Ida Demo Import",
        "role": "nurse",
        "authorisation_id": aut,
        "education_code": "5166",
        "sor": HOME_CARE,
        "org_name": "Odense Kommune, Hjemmeplejen Nord",
        "system_name": "DemoCare",
    }
    with _custom(server, claims, "SJ_READ") as ida:
        before = ida.get("/Patient", params={"_count": "1"})
        assert before.status_code == 403 and _code(before) == "not_authorised"
        csv = f"authorisation_id;name;education_code;status\n{aut};Ida Demo Import;5166;active\n"
        imported = client.post("/$import-authorisations", content=csv.encode(), headers={"Content-Type": "text/csv"})
        assert imported.status_code == 200, imported.text
        assert imported.json()["rows"] == 1 and imported.json()["counting"] == 1
        assert ida.get("/Patient", params={"_count": "1"}).status_code == 200
        looked_up = client.get("/$security-registers/authorisations", params={"authorisation_id": aut}).json()
        assert [a["status"] for a in looked_up["authorisations"]] == ["active"]
        revoked = [{"authorisation_id": aut, "name": "Ida Demo Import", "education_code": "5166", "status": "revoked"}]
        assert client.post("/$import-authorisations", json=revoked).status_code == 200
        after = ida.get("/Patient", params={"_count": "1"})
        assert after.status_code == 403 and _code(after) == "authorisation_expired"
    broken = client.post(
        "/$import-authorisations", content=b"authorisation_id\nX\n", headers={"Content-Type": "text/csv"}
    )
    assert broken.status_code == 400 and _code(broken) == "invalid_snapshot"
    assert client.get("/$security-registers/authorisations").json()["last_import"]["rows"] == 1  # nothing half-done


def test_trust_agreements_are_managed_and_decide_the_next_call(server: LiveServer, client: httpx.Client) -> None:
    path = f"/$security-registers/trust-agreements/kih-{uuid.uuid4().hex[:8]}"
    agreement = {
        "organisation_sor": HOME_CARE,
        "system_name": "DemoCare",
        "purpose": "KIH_READ",
        "municipality_code": "0461",
        "last_review": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
    }
    try:
        with _as(server, "sosu", "KIH_READ") as sosu:
            assert _code(sosu.get("/Observation")) == "no_trust_agreement"
            made = client.put(path, json=agreement)
            assert made.status_code == 201, made.text
            assert "review_due" in made.json()
            assert sosu.get("/Observation", params={"_count": "1"}).status_code == 200
            lapsed = {**agreement, "last_review": (datetime.now(UTC) - timedelta(days=200)).isoformat()}
            assert client.put(path, json=lapsed).status_code == 200
            assert _code(sosu.get("/Observation")) == "trust_review_lapsed"
            withdrawn = {**agreement, "withdrawn_at": datetime.now(UTC).isoformat()}
            assert client.put(path, json=withdrawn).status_code == 200
            assert _code(sosu.get("/Observation")) == "trust_agreement_withdrawn"
            assert client.get(path).json()["withdrawn_at"]
            listed = client.get("/$security-registers/trust-agreements").json()
            assert path.rsplit("/", 1)[1] in {e["id"] for e in listed["entries"]}
    finally:
        assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404
    with _as(server, "sosu", "KIH_READ") as sosu:
        assert _code(sosu.get("/Observation")) == "no_trust_agreement"
    bad = client.put(path, json={**agreement, "purpose": "NOPE"})
    assert bad.status_code == 400 and _code(bad) == "invalid_register_entry"
    assert bad.json()["issue"][0]["expression"] == ["purpose"]
    assert client.get("/$security-registers/nothing").status_code == 404


def _patient(client: httpx.Client, cpr: str) -> str:
    made = client.post("/Patient", json={"resourceType": "Patient", "identifier": [{"system": CPR, "value": cpr}]})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _open_flags(client: httpx.Client, patient: str) -> list[dict[str, Any]]:
    listing = client.get("/$pending-verifications", params={"_count": "1000"}).json()
    assert listing["open"] >= 0
    return [f for f in listing["flags"] if f["patient"] == f"Patient/{patient}"]


def test_access_without_a_treatment_relation_is_flagged_until_one_is_registered(
    server: LiveServer, client: httpx.Client
) -> None:
    cpr = _cpr()
    patient = _patient(client, cpr)
    with _as(server, "gp", "SJ_READ") as gp:
        assert gp.get(f"/Patient/{patient}").status_code == 200
        assert gp.get(f"/Patient/{patient}").status_code == 200
    with _as(server, "operator") as operator:
        [flag] = _open_flags(operator, patient)
        assert flag["accesses"] == 2 and flag["purpose"] == "SJ_READ"
        assert flag["accessed_by"]["authorisation_id"] == "GP7K2"
        assert cpr not in json.dumps(flag)
        done = operator.put(f"/$pending-verifications/{flag['id']}", json={"resolution": "checked with the GP"})
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        assert _open_flags(operator, patient) == []
        assert operator.put("/$pending-verifications/999999999", json={"resolution": "x"}).status_code == 404
        assert operator.put(f"/$pending-verifications/{flag['id']}", json={"nope": 1}).status_code == 400
    relation = {"citizen": cpr, "kind": "assigned_gp", "organisation_sor": GP_PRACTICE}
    path = f"/$security-registers/treatment-relations/rel-{uuid.uuid4().hex[:8]}"
    assert client.put(path, json=relation).status_code == 201
    try:
        with _as(server, "gp", "LAB_READ") as gp:
            assert gp.get(f"/Patient/{patient}").status_code == 200
        assert _open_flags(client, patient) == []  # the relation is registered: nothing to follow up
        with _as(server, "doctor", "LAB_READ") as doctor:  # another unit: no relation
            assert doctor.get(f"/Patient/{patient}").status_code == 200
        [other] = _open_flags(client, patient)
        assert other["organisation_sor"] == "10079999999100"
    finally:
        assert client.delete(path).status_code == 204


def test_delegations_let_a_helper_prescribe_for_a_doctor(server: LiveServer, client: httpx.Client) -> None:
    helper = f"H{uuid.uuid4().hex[:6].upper()}"
    claims = {
        "sub": f"helper-{helper}",
        "user_type": "trust_user",
        "name": "Hanne Demo Medhjælp",
        "role": "secretary-helper",
        "sor": "10079999999100",
        "org_name": "Medicinsk afdeling, Odense",
        "system_name": "DemoSP",
        "responsible_user": "HD4M9",
    }
    patient = _patient(client, _cpr())
    order = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "paracetamol"},
        "subject": {"reference": f"Patient/{patient}"},
    }
    path = f"/$security-registers/delegations/del-{helper.lower()}"
    with _custom(server, claims, "FMK_WRITE") as helper_client:
        refused = helper_client.post("/MedicationRequest", json=order, headers=JSON)
        assert refused.status_code == 403 and _code(refused) == "no_delegation"
        grant = {"helper_id": f"demo-helper-{helper}", "delegator_authorisation_id": "HD4M9", "purposes": ["FMK_WRITE"]}
        assert client.put(path, json=grant).status_code == 201
        try:
            made = helper_client.post("/MedicationRequest", json=order, headers=JSON)
            assert made.status_code == 201, made.text
        finally:
            assert client.delete(path).status_code == 204
        again = helper_client.post("/MedicationRequest", json=order, headers=JSON)
        assert again.status_code == 403 and _code(again) == "no_delegation"


def test_a_system_registered_through_the_api_gets_tokens(server: LiveServer, client: httpx.Client) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "k1", "alg": "ES256", "use": "sig"})
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    registration = {
        "jwks": {"keys": [public]},
        "system_name": "DemoLab",
        "organisation_sor": "10259999999100",
        "scopes": "system/Observation.rs",
        "purposes": ["LAB_READ"],
    }
    path = f"/$security-registers/clients/{client_id}"
    assert client.put(path, json=registration).status_code == 201
    token_url = server.base.removesuffix("/fhir") + "/oauth/token"

    def exchange() -> httpx.Response:
        now = datetime.now(UTC)
        claims = {"iss": client_id, "sub": client_id, "aud": token_url, "jti": str(uuid.uuid4())}
        claims |= {"iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=4)).timestamp())}
        assertion = jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
        return httpx.post(token_url, data=form)

    try:
        granted = exchange()
        assert granted.status_code == 200, granted.text
        headers = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        assert httpx.get(f"{server.base}/Observation", params={"_count": "1"}, headers=headers).status_code == 200
        assert client.put(path, json={**registration, "active": False}).status_code == 200
        assert exchange().json()["error"] == "invalid_client"
    finally:
        assert client.delete(path).status_code == 204
    assert exchange().json()["error"] == "invalid_client"
    secret = {**registration, "jwks": {"keys": [{**public, "d": "x"}]}}
    assert client.put(path, json=secret).status_code == 400


def test_a_second_server_picks_up_register_changes_made_by_the_first(server: LiveServer, client: httpx.Client) -> None:
    import time

    import msgspec

    from tests.api.conftest import _free_port

    settings = msgspec.structs.replace(
        server.settings, port=_free_port(), registers_refresh_seconds=0.1, mllp_enabled=False, lab_intake_dir=""
    )
    path = f"/$security-registers/trust-agreements/other-{uuid.uuid4().hex[:8]}"
    agreement = {
        "organisation_sor": HOME_CARE,
        "system_name": "DemoCare",
        "purpose": "KIH_READ",
        "last_review": datetime.now(UTC).isoformat(),
    }
    with LiveServer(settings) as other, _as(other, "sosu", "KIH_READ") as sosu:
        assert _code(sosu.get("/Observation")) == "no_trust_agreement"
        assert client.put(path, json=agreement).status_code == 201  # through the first server
        try:
            status = 403
            for _ in range(300):  # the second server's refresher notices within a few of its intervals
                status = sosu.get("/Observation", params={"_count": "1"}).status_code
                if status == 200:
                    break
                time.sleep(0.05)
            assert status == 200
        finally:
            assert client.delete(path).status_code == 204
