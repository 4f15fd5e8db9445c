"""Search over HTTP: parameters, paging links, includes, compartments, $everything, strict and lenient."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.api.test_crud import JSON, create


def _family() -> str:
    return "Sø" + uuid.uuid4().hex[:10]


def _people(client: httpx.Client, family: str, n: int) -> list[dict[str, Any]]:
    return [
        create(
            client,
            {
                "resourceType": "Patient",
                "name": [{"family": family, "given": [f"Åse{i}"]}],
                "gender": "female",
                "birthDate": f"19{50 + i}-01-01",
            },
        ).json()
        for i in range(n)
    ]


def _ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == mode]


def test_search_by_name_folds_danish_letters(client: httpx.Client) -> None:
    family = _family()
    made = _people(client, family, 2)
    folded = family.replace("Sø", "so").upper()
    bundle = client.get("/Patient", params={"family": folded}).json()
    assert bundle["type"] == "searchset"
    assert sorted(_ids(bundle)) == sorted(p["id"] for p in made)


def test_paging_links_walk_the_whole_result(client: httpx.Client) -> None:
    family = _family()
    made = {p["id"] for p in _people(client, family, 5)}
    seen: list[str] = []
    page = client.get("/Patient", params={"family": family, "_count": "2", "_sort": "birthdate"}).json()
    while True:
        seen += _ids(page)
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        page = client.get(nxt[0].split("/fhir", 1)[1]).json()
    assert seen and set(seen) == made and len(seen) == 5


def _link(bundle: dict[str, Any], relation: str) -> str | None:
    found = [link["url"] for link in bundle["link"] if link["relation"] == relation]
    return found[0].split("/fhir", 1)[1] if found else None


def test_paging_links_stay_right_while_data_changes(client: httpx.Client) -> None:
    family = _family()
    made = [p["id"] for p in _people(client, family, 7)]
    query = {"family": family, "_count": "3", "_sort": "-birthdate"}
    first = client.get("/Patient", params=query).json()
    assert _ids(first) == made[::-1][:3] and _link(first, "previous") is None
    # Between two pages someone deletes a shown patient and adds one that sorts first.
    assert client.delete(f"/Patient/{made[6]}").status_code in (200, 204)
    _people(client, family, 1)  # born 1950: sorts last with -birthdate, so it is on the last page
    second = client.get(_link(first, "next") or "").json()
    assert _ids(second) == [made[3], made[2], made[1]]
    back = client.get(_link(second, "previous") or "").json()
    assert _ids(back) == [made[5], made[4]]
    third = client.get(_link(second, "next") or "").json()
    assert len(_ids(third)) == 2 and _ids(third)[0] == made[0] and _link(third, "next") is None
    refused = client.get("/Patient", params={**query, "_cursor": "bm90LW91cnM"})
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["expression"] == ["_cursor"]


def test_total_summary_count_and_post_search(client: httpx.Client) -> None:
    family = _family()
    _people(client, family, 3)
    counted = client.get("/Patient", params={"family": family, "_summary": "count"}).json()
    assert counted["total"] == 3 and "entry" not in counted
    posted = client.post("/Patient/_search", data={"family": family, "_total": "accurate"})
    assert posted.status_code == 200 and posted.json()["total"] == 3


def test_include_compartment_and_everything(client: httpx.Client) -> None:
    patient = _people(client, _family(), 1)[0]
    ref = f"Patient/{patient['id']}"
    obs = create(
        client,
        {"resourceType": "Observation", "status": "final", "code": {"text": "puls"}, "subject": {"reference": ref}},
    ).json()
    included = client.get("/Observation", params={"_id": obs["id"], "_include": "Observation:subject"}).json()
    assert _ids(included) == [obs["id"]] and _ids(included, "include") == [patient["id"]]
    compartment = client.get(f"/{ref}/Observation").json()
    assert _ids(compartment) == [obs["id"]]
    everything = client.get(f"/{ref}/$everything").json()
    assert {e["resource"]["id"] for e in everything["entry"]} == {patient["id"], obs["id"]}
    assert client.get(f"/Patient/{uuid.uuid4()}/$everything").status_code == 404


def test_strict_and_lenient_handling(client: httpx.Client) -> None:
    lenient = client.get("/Patient", params={"nonsense": "1", "_count": "1"})
    assert lenient.status_code == 200
    outcome = [e for e in lenient.json().get("entry", []) if e["search"]["mode"] == "outcome"]
    assert outcome and "nonsense" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    strict = client.get("/Patient", params={"nonsense": "1"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["nonsense"]
    bad_value = client.get("/Patient", params={"birthdate": "not-a-date"})
    assert bad_value.status_code == 400


def test_search_never_fails_on_odd_input(client: httpx.Client) -> None:
    for params in (
        {"_count": "-1"},
        {"_sort": "nonsense"},
        {"birthdate": "ge"},
        {"name:exact": ""},
        {"identifier": "|"},
        {"_include": "Nope:nothing"},
        {"family": "\u00ff" * 300},
    ):
        response = client.get("/Patient", params=params, headers={"Prefer": "handling=strict"})
        assert response.status_code in (200, 400), (params, response.text[:300])
    assert client.get("/Patient", params={"name": "a\x00b"}).status_code == 400
    assert (
        client.post(
            "/",
            json={
                "resourceType": "Bundle",
                "type": "batch",
                "entry": [{"request": {"method": "GET", "url": "Patient?family=x"}}],
            },
            headers=JSON,
        ).status_code
        == 200
    )
