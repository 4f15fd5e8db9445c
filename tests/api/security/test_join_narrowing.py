"""Chained and ``_has`` searches for non-administrators, over HTTP with real tokens, on both backends.

They work for clinicians and citizens, narrowed to what the caller could be shown: a chain or ``_has``
through a blocked citizen's data, a result refused for display, another citizen's data (for a citizen)
or a type outside the purpose of use finds nothing, and answers exactly like a probe for data that
does not exist — also with ``_total=accurate``, ``_summary=count`` and ``_sort``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bindeled.security.facts import REFUSED_DISPLAY
from tests.api.conftest import LiveServer
from tests.api.test_crud import JSON
from tests.api.test_security_api import CPR, _as, _block_consent

CODES = "urn:bindeled:test:join"
OWN_CPR, OTHER_CPR, BLOCKED_CPR = "6101709995", "6203853712", "0712614382"


@dataclass
class World:
    """Citizens A (no block; the demo citizen), B (blocks the GP by name) and C (a result refused for display)."""

    marker: str
    patients: dict[str, str]
    observations: dict[str, str]
    practitioners: dict[str, str]
    medication: str

    def code(self, name: str) -> str:
        return f"{CODES}|{self.marker}-{name}"


def _post(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    made = client.post(f"/{body['resourceType']}", json=body, headers=JSON)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def _observation(marker: str, name: str, patient: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": CODES, "code": f"{marker}-{name}"}]},
        "subject": {"reference": f"Patient/{patient}"},
        **extra,
    }


@pytest.fixture
def world(client: httpx.Client) -> Iterator[World]:
    marker = uuid.uuid4().hex[:10]
    made: list[dict[str, Any]] = []
    patients: dict[str, str] = {}
    for key, cpr in (("a", OWN_CPR), ("b", BLOCKED_CPR), ("c", OTHER_CPR)):
        body = {"resourceType": "Patient", "identifier": [{"system": CPR, "value": cpr}], "name": [{"family": marker}]}
        patients[key] = _post(client, body)["id"]
    practitioners = {k: _post(client, {"resourceType": "Practitioner", "name": [{"family": k}]})["id"] for k in "xyz"}
    made += [{"resourceType": "Practitioner", "id": i} for i in practitioners.values()]

    def performer(key: str) -> list[dict[str, str]]:
        return [{"reference": f"Practitioner/{practitioners[key]}"}]

    obs: dict[str, str] = {}
    # A's second result, B's (blocked) result, C's result refused for display, C's ordinary one.
    obs["a2"] = _post(client, _observation(marker, "a2", patients["a"], performer=performer("x")))["id"]
    obs["b1"] = _post(client, _observation(marker, "b1", patients["b"], performer=performer("y")))["id"]
    refused = _observation(marker, "c1", patients["c"], performer=performer("z"), meta={"security": [REFUSED_DISPLAY]})
    obs["c1"] = _post(client, refused)["id"]
    obs["c2"] = _post(client, _observation(marker, "c2", patients["c"]))["id"]
    members = [{"reference": f"Observation/{obs[k]}"} for k in ("a2", "b1", "c1", "c2")]
    # A's panel: its members are A's own result, the blocked one, the refused one and another citizen's.
    obs["a1"] = _post(client, _observation(marker, "a1", patients["a"], hasMember=members))["id"]
    made += [{"resourceType": "Observation", "id": i} for i in obs.values()]
    medication = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": marker},
        "subject": {"reference": f"Patient/{patients['a']}"},
    }
    medication_id = _post(client, medication)["id"]
    made.append({"resourceType": "MedicationRequest", "id": medication_id})
    block = _post(client, _block_consent(patients["b"], "GP7K2"))
    try:
        yield World(marker, patients, obs, practitioners, medication_id)
    finally:
        withdrawn = {**block, "status": "inactive"}
        assert client.put(f"/Consent/{block['id']}", json=withdrawn, headers=JSON).status_code == 200
        for item in reversed(made):  # leave no refused-display result behind on the shared server
            assert client.delete(f"/{item['resourceType']}/{item['id']}").status_code in (200, 204)


def _ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", [])}


def _chain(world: World, member: str) -> dict[str, str]:
    """Observations having a member with ``member``'s code (a chain through the member)."""
    return {"has-member:Observation.code": world.code(member)}


def _has(world: World, name: str) -> dict[str, str]:
    """Practitioners who performed an Observation with ``name``'s code (a ``_has`` through it)."""
    return {"_has:Observation:performer:code": world.code(name)}


def test_gp_chains_and_has_find_unblocked_data(server: LiveServer, world: World) -> None:
    with _as(server, "gp", "SJ_READ") as gp:
        assert _ids(gp.get("/Observation", params={"subject:Patient.family": world.marker})) == {
            world.observations["a1"],
            world.observations["a2"],
            world.observations["c2"],
        }
        assert _ids(gp.get("/Observation", params=_chain(world, "a2"))) == {world.observations["a1"]}
        assert _ids(gp.get("/Observation", params=_chain(world, "c2"))) == {world.observations["a1"]}
        assert _ids(gp.get("/Practitioner", params=_has(world, "a2"))) == {world.practitioners["x"]}
        by_result = {"_has:Observation:subject:code": world.code("a2")}
        assert _ids(gp.get("/Patient", params=by_result)) == {world.patients["a"]}
        by_medication = {"_has:MedicationRequest:subject:_id": world.medication}
        assert _ids(gp.get("/Patient", params=by_medication)) == {world.patients["a"]}


def test_chains_and_has_through_blocked_or_refused_data_find_nothing(server: LiveServer, world: World) -> None:
    with _as(server, "gp", "SJ_READ") as gp:
        for hidden in ("b1", "c1"):
            assert _ids(gp.get("/Observation", params=_chain(world, hidden))) == set(), hidden
            assert _ids(gp.get("/Practitioner", params=_has(world, hidden))) == set(), hidden
        assert _ids(gp.get("/Patient", params={"_has:Observation:subject:code": world.code("b1")})) == set()
    with _as(server, "doctor", "SJ_READ") as doctor:  # the block names the GP only; the label hides from all
        assert _ids(doctor.get("/Observation", params=_chain(world, "b1"))) == {world.observations["a1"]}
        assert _ids(doctor.get("/Practitioner", params=_has(world, "b1"))) == {world.practitioners["y"]}
        assert _ids(doctor.get("/Practitioner", params=_has(world, "c1"))) == set()
    emergency = {"X-Emergency-Access": "true", "X-Emergency-Reason": "acute_care"}
    with _as(server, "gp", "SJ_READ", **emergency) as gp_emergency:
        assert _ids(gp_emergency.get("/Practitioner", params=_has(world, "b1"))) == {world.practitioners["y"]}


def test_a_type_outside_the_purpose_is_never_joined(server: LiveServer, world: World) -> None:
    by_medication = {"_has:MedicationRequest:subject:_id": world.medication}
    with _as(server, "gp", "LAB_READ") as gp:
        assert _ids(gp.get("/Patient", params=by_medication)) == set()
        assert _ids(gp.get("/Patient", params={"_has:Observation:subject:code": world.code("a2")})) == {
            world.patients["a"]
        }


def test_a_citizen_joins_only_their_own_data(server: LiveServer, world: World) -> None:
    with _as(server, "citizen") as citizen:
        assert _ids(citizen.get("/Observation", params=_chain(world, "a2"))) == {world.observations["a1"]}
        for other in ("b1", "c1", "c2"):
            assert _ids(citizen.get("/Observation", params=_chain(world, other))) == set(), other
    with _as(server, "proxy") as proxy:  # holds powers of attorney for the demo citizens A and C, not B
        for represented in ("a2", "c2"):
            assert _ids(proxy.get("/Observation", params=_chain(world, represented))) == {world.observations["a1"]}
        for hidden in ("b1", "c1"):  # another citizen's; a result C refused to have displayed
            assert _ids(proxy.get("/Observation", params=_chain(world, hidden))) == set(), hidden


def _shape(response: httpx.Response) -> dict[str, Any]:
    """What a searchset tells beside its ids: total, entries, the kinds of links."""
    assert response.status_code == 200, response.text
    body = response.json()
    return {
        "total": body.get("total"),
        "entries": len(body.get("entry", [])),
        "links": sorted(link["relation"] for link in body.get("link", [])),
    }


@pytest.mark.parametrize(
    "extra",
    [{}, {"_total": "accurate"}, {"_summary": "count"}, {"_sort": "-_lastUpdated", "_count": "1"}],
)
def test_a_probe_through_hidden_data_answers_like_one_for_nothing(
    server: LiveServer, world: World, extra: dict[str, str]
) -> None:
    with _as(server, "gp", "SJ_READ") as gp:
        nothing = _shape(gp.get("/Practitioner", params={**_has(world, "none"), **extra}))
        for hidden in ("b1", "c1"):
            assert _shape(gp.get("/Practitioner", params={**_has(world, hidden), **extra})) == nothing, hidden
            chained = {**_chain(world, hidden), **extra}
            assert _shape(gp.get("/Observation", params=chained)) == _shape(
                gp.get("/Observation", params={**_chain(world, "none"), **extra})
            ), hidden
    assert nothing["total"] is None and nothing["entries"] == 0


def test_a_chain_on_the_id_of_a_named_type_works(server: LiveServer, client: httpx.Client, world: World) -> None:
    by_member = {"has-member:Observation._id": world.observations["a2"]}
    assert _ids(client.get("/Observation", params=by_member)) == {world.observations["a1"]}
    with _as(server, "gp", "SJ_READ") as gp:
        assert _ids(gp.get("/Observation", params=by_member)) == {world.observations["a1"]}
        hidden = {"has-member:Observation._id": world.observations["b1"]}
        assert _ids(gp.get("/Observation", params=hidden)) == set()


def test_a_changed_cpr_number_is_judged_at_once(server: LiveServer, client: httpx.Client) -> None:
    """The gate remembers Patient → CPR; a Patient write must make it look again (here: into a block)."""
    marker = uuid.uuid4().hex[:8]
    patient = _post(client, {"resourceType": "Patient", "identifier": [{"system": CPR, "value": "0101701234"}]})
    blocked = _post(client, {"resourceType": "Patient", "identifier": [{"system": CPR, "value": "0202702345"}]})
    observation = _post(client, _observation(marker, "x", patient["id"]))
    block = _post(client, _block_consent(blocked["id"], "GP7K2"))
    try:
        with _as(server, "gp", "SJ_READ") as gp:
            assert gp.get(f"/Observation/{observation['id']}").status_code == 200
            patient["identifier"][0]["value"] = "0202702345"
            assert client.put(f"/Patient/{patient['id']}", json=patient, headers=JSON).status_code == 200
            assert gp.get(f"/Observation/{observation['id']}").status_code == 404
    finally:
        withdrawn = {**block, "status": "inactive"}
        assert client.put(f"/Consent/{block['id']}", json=withdrawn, headers=JSON).status_code == 200


def _codes(world: World, *names: str) -> str:
    return ",".join(world.code(n) for n in names)


def _pages(client: httpx.Client, params: dict[str, str]) -> tuple[list[list[str]], list[str]]:
    """Every page's ids, following ``next`` links, and every cursor token the links gave out."""
    pages: list[list[str]] = []
    tokens: list[str] = []
    response = client.get("/Observation", params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([e["resource"]["id"] for e in body.get("entry", [])])
        links = {link["relation"]: link["url"] for link in body.get("link", [])}
        tokens += [v for u in links.values() for k, v in httpx.URL(u).params.multi_items() if k == "_cursor"]
        if "next" not in links:
            return pages, tokens
        response = client.get(links["next"])


def test_pages_are_filled_past_hidden_matches_and_cursors_name_none(server: LiveServer, world: World) -> None:
    """Stored in the order a2, b1 (blocked), c1 (refused for display), c2, a1; the GP sees a2, c2, a1."""
    every = {"code": _codes(world, "a1", "a2", "b1", "c1", "c2")}
    a1, a2, c2 = (world.observations[k] for k in ("a1", "a2", "c2"))
    hidden = {world.observations["b1"], world.observations["c1"]}
    with _as(server, "gp", "SJ_READ") as gp:
        one_by_one, tokens = _pages(gp, {**every, "_count": "1"})
        assert one_by_one == [[a2], [c2], [a1]]
        newest_first, more_tokens = _pages(gp, {**every, "_count": "2", "_sort": "-_lastUpdated"})
        assert newest_first == [[a1, c2], [a2]]
        assert _pages(gp, {**every, "_count": "3"})[0] == [[a2, c2, a1]]  # full, and no next page
        assert _pages(gp, {**every, "_count": "1", "_offset": "1"})[0][0] == [c2]
    decoded = " ".join(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)).decode() for t in tokens + more_tokens)
    assert a2 in decoded and not any(h in decoded for h in hidden)
    with _as(server, "doctor", "SJ_READ") as doctor:  # not blocked: b1 is there (c1 stays refused for display)
        assert _pages(doctor, {**every, "_count": "2"})[0] == [[a2, world.observations["b1"]], [c2, a1]]


def test_include_iterate_does_not_lead_on_through_hidden_data(
    server: LiveServer, client: httpx.Client, world: World
) -> None:
    params = {
        "_id": world.observations["a1"],
        "_include": "Observation:has-member",
        "_include:iterate": "Observation:performer",
    }
    x, y, z = (world.practitioners[k] for k in "xyz")
    assert {x, y, z} <= _ids(client.get("/Observation", params=params))
    with _as(server, "gp", "SJ_READ") as gp:
        found = _ids(gp.get("/Observation", params=params))
    assert {world.observations["a1"], world.observations["a2"], world.observations["c2"], x} <= found
    assert not found & {y, z, world.observations["b1"], world.observations["c1"]}
