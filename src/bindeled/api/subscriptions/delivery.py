"""The rest-hook channel: one HTTP call per notification, its failure described without any data.

With no payload the server POSTs an empty body to the endpoint; with a payload it PUTs the resource,
in the payload's format, to ``[endpoint]/[type]/[id]`` (R4: the endpoint is then read as a FHIR base).
The Subscription's ``channel.header`` lines go with every call. A status of 300 or more, a timeout or a
connection failure is a failed delivery; the text returned is what ``Subscription.error`` says.
"""

from __future__ import annotations

import httpx

from ...fhir import jsonio
from ...fhir.definitions import Definitions
from ...fhir.xmlio import resource_to_xml
from ...store.base import StoredResource
from .spec import SubscriptionSpec

__all__ = ["deliver"]


async def deliver(
    client: httpx.AsyncClient, spec: SubscriptionSpec, stored: StoredResource, definitions: Definitions
) -> str | None:
    """Notify the endpoint of ``spec`` about ``stored``; returns None on success, else an error text."""
    headers = dict(spec.headers)
    try:
        if spec.payload:
            headers["Content-Type"] = spec.payload
            url = f"{spec.endpoint.rstrip('/')}/{stored.resource_type}/{stored.id}"
            response = await client.put(url, content=_body(spec.payload, stored, definitions), headers=headers)
        else:
            response = await client.post(spec.endpoint, headers=headers)
    except httpx.HTTPError as error:
        return f"The endpoint could not be reached ({type(error).__name__})"
    if response.status_code >= 300:
        return f"The endpoint answered HTTP {response.status_code}"
    return None


def _body(payload: str, stored: StoredResource, definitions: Definitions) -> bytes:
    if payload == "application/fhir+xml":
        return resource_to_xml(jsonio.decode_stored(stored.body), definitions)
    return stored.body
