"""A Subscription is its owner's on every path (both backends, real tokens from the development issuer).

Another user — a citizen, or a platform operator who may read everything that is nobody's data — finds
another's Subscription through no read, vread, history (instance, type, system), search (type, POST,
system-wide), include, ``_has`` or batch, and cannot change it through a transaction or a conditional delete. An
administrator sees every Subscription, but its ``channel.header`` lines (a receiver's secret) only
redacted; only the owner's own read shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import LiveServer
from tests.api.lab.test_mllp_server import unique
from tests.api.subscriptions.test_rest_hook import as_user, subscription, wait_for_status

FHIR_JSON = {"Content-Type": "application/fhir+json"}


class Owned:
    """A citizen's rest-hook Subscription with a secret header and an endpoint no other test uses."""

    def __init__(self, server: LiveServer) -> None:
        self.secret = f"Bearer {unique('secret')}"
        self.endpoint = f"http://127.0.0.1:9/{unique('hook')}"
        with as_user(server, "citizen") as owner:
            body = subscription(
                "DiagnosticReport?status=final", self.endpoint, header=[f"Authorization: {self.secret}"]
            )
            created = owner.post("/Subscription", json=body, headers=FHIR_JSON)
            assert created.status_code == 201, created.text
            assert created.json()["channel"]["header"] == [f"Authorization: {self.secret}"]
            self.id = str(created.json()["id"])
            self.since = str(created.json()["meta"]["lastUpdated"])
            wait_for_status(owner, self.id, "active")  # a second version, written by the server

    def leaked(self, response: httpx.Response) -> bool:
        """Whether the response shows any part of this Subscription."""
        return self.secret in response.text or self.endpoint in response.text or self.id in resource_ids(response)


@pytest.fixture
def owned(server: LiveServer) -> Owned:
    return Owned(server)


def resource_ids(response: httpx.Response) -> set[str]:
    """The ids of every resource in the body (a resource, or a Bundle's entries and their responses)."""
    if not response.content:
        return set()
    body: dict[str, Any] = response.json()
    found = {str(body["id"])} if body.get("resourceType") == "Subscription" else set()
    for entry in body.get("entry", []):
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Subscription":
            found.add(str(resource.get("id")))
        for inner in resource.get("entry", []):  # a search inside a batch
            found.add(str((inner.get("resource") or {}).get("id")))
    return found


def probes(client: httpx.Client, owned: Owned) -> Iterator[tuple[str, httpx.Response]]:
    """Every read path that could show the Subscription."""
    id_, since = owned.id, {"_since": owned.since, "_count": "1000"}
    yield "read", client.get(f"/Subscription/{id_}")
    yield "vread", client.get(f"/Subscription/{id_}/_history/1")
    yield "instance history", client.get(f"/Subscription/{id_}/_history")
    yield "type history", client.get("/Subscription/_history", params=since)
    yield "system history", client.get("/_history", params=since)
    yield "search", client.get("/Subscription", params={"_id": id_})
    yield "search by POST", client.post("/Subscription/_search", data={"_id": id_})
    yield "system search", client.get("/", params={"_type": "Subscription", "_id": id_})
    yield "system search by POST", client.post("/_search", data={"_type": "Subscription", "_id": id_})
    gets = [f"Subscription/{id_}", f"Subscription/{id_}/_history/1", f"Subscription?_id={id_}"]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"request": {"method": "GET", "url": url}} for url in gets],
    }
    yield "batch", client.post("/", json=batch, headers=FHIR_JSON)


@pytest.mark.parametrize("user", ["citizen2", "operator"])
def test_another_users_subscription_shows_on_no_path(server: LiveServer, owned: Owned, user: str) -> None:
    with as_user(server, user) as other:
        for name, response in probes(other, owned):
            assert response.status_code in (200, 400, 403, 404), (name, response.text)
            assert not owned.leaked(response), name
        assert other.get(f"/Subscription/{owned.id}/_history/2").status_code in (403, 404)


def test_an_administrator_sees_every_subscription_but_not_its_headers(client: httpx.Client, owned: Owned) -> None:
    for name, response in probes(client, owned):
        assert response.status_code == 200, (name, response.text)
        assert owned.id in resource_ids(response), name
        assert owned.secret not in response.text, name
        assert "Authorization: [redacted]" in response.text, name


def test_only_the_owner_reads_the_headers_and_sending_them_back_redacted_keeps_them(
    server: LiveServer, client: httpx.Client, owned: Owned
) -> None:
    with as_user(server, "citizen") as owner:
        mine = owner.get(f"/Subscription/{owned.id}").json()
        assert mine["channel"]["header"] == [f"Authorization: {owned.secret}"]
        stored = owner.get(f"/Subscription/{owned.id}/_history/1").json()  # a stored version: redacted
        assert stored["channel"]["header"] == ["Authorization: [redacted]"]
        as_read_by_admin = client.get(f"/Subscription/{owned.id}").json()
        updated = owner.put(f"/Subscription/{owned.id}", json=as_read_by_admin, headers=FHIR_JSON)
        assert updated.status_code == 200, updated.text
        assert owner.get(f"/Subscription/{owned.id}").json()["channel"]["header"] == [f"Authorization: {owned.secret}"]


def test_another_user_cannot_change_or_delete_it_through_other_paths(server: LiveServer, owned: Owned) -> None:
    with as_user(server, "operator") as other, as_user(server, "citizen") as owner:
        before = owner.get(f"/Subscription/{owned.id}").json()
        assert other.delete("/Subscription", params={"_id": owned.id}).status_code in (200, 204, 403, 404)
        entry = {
            "resource": {**before, "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/stolen"}},
            "request": {"method": "PUT", "url": f"Subscription/{owned.id}"},
        }
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
        assert other.post("/", json=bundle, headers=FHIR_JSON).status_code in (403, 404)
        assert other.delete(f"/Subscription/{owned.id}").status_code == 404
        after = owner.get(f"/Subscription/{owned.id}")
        assert after.status_code == 200
        assert after.json()["channel"] == before["channel"]


def test_includes_and_has_show_nothing_of_another_users_subscription(server: LiveServer, client: httpx.Client) -> None:
    """Through a custom reference parameter on Subscription, ``_revinclude``, ``_include`` and ``_has`` reach them."""
    about = f"https://bindeled.dk/fhir/test/{unique('about')}"
    code = unique("about").lower().replace("-", "")
    parameter = {
        "resourceType": "SearchParameter",
        "url": about,
        "name": code,
        "status": "active",
        "description": "The organisation a test Subscription is about",
        "code": code,
        "base": ["Subscription"],
        "type": "reference",
        "expression": f"Subscription.extension.where(url='{about}').value",
        "target": ["Organization"],
    }
    made = client.post("/SearchParameter", json=parameter, headers=FHIR_JSON)
    assert made.status_code == 201, made.text
    organisation = client.post("/Organization", json={"resourceType": "Organization", "name": unique("Org")}).json()
    extension = [{"url": about, "valueReference": {"reference": f"Organization/{organisation['id']}"}}]
    with as_user(server, "citizen") as owner, as_user(server, "operator") as other:
        body = {**subscription("DiagnosticReport?status=final", "http://127.0.0.1:9/x"), "extension": extension}
        created = owner.post("/Subscription", json=body, headers=FHIR_JSON)
        assert created.status_code == 201, created.text
        id_ = created.json()["id"]
        revinclude = {"_id": organisation["id"], "_revinclude": f"Subscription:{code}"}
        assert id_ in resource_ids(client.get("/Organization", params=revinclude))  # the probe works
        assert id_ not in resource_ids(other.get("/Organization", params=revinclude))
        assert id_ in resource_ids(owner.get("/Organization", params=revinclude))
        include = {"_id": id_, "_include": f"Subscription:{code}"}
        assert id_ not in resource_ids(other.post("/Subscription/_search", data=include))
        has = {"_id": organisation["id"], f"_has:Subscription:{code}:status": "requested,active"}
        assert organisation_ids(client.get("/Organization", params=has)) == {organisation["id"]}  # the probe works
        assert organisation_ids(other.get("/Organization", params=has)) == set()  # nothing of another's shows
    assert client.delete(f"/SearchParameter/{made.json()['id']}").status_code in (200, 204)


def organisation_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {
        str(e["resource"]["id"])
        for e in response.json().get("entry", [])
        if e["resource"]["resourceType"] == "Organization"
    }
