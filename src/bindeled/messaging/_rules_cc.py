"""CareCommunication business rules (DOMAIN §5.3): category, topic, priority, thread id, attachments."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

from ..errors import Issue
from ._json import as_list
from ._rules_common import issue
from .messages import Entry, Message

__all__ = ["CATEGORIES", "CC_CHECKS", "MIME_TYPES"]

CATEGORIES = frozenset(
    {
        "alcohol-and-drug-treatment",
        "assistive-devices",
        "carecoordination",
        "decease",
        "discharge",
        "examination-results",
        "healthcare",
        "home-care-assessment",
        "medicine",
        "nursing",
        "outpatient",
        "psychiatry-social-disability",
        "regarding-referral",
        "telemedicine",
        "training",
        "acute-ambulant",
        "extended-care-responsibility",
        "other",
    }
)
MIME_TYPES = frozenset({"application/pdf", "image/gif", "image/jpeg", "image/png", "image/tiff", "image/bmp"})
ACTIVITIES = frozenset({"new-message", "reply-message", "forward-message"})
_THREAD = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _communication(message: Message) -> Entry | None:
    return next((e for e in message.focus if e.resource.get("resourceType") == "Communication"), None)


def _codes(concept: Any) -> list[str]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [c["code"] for c in as_list(codings) if isinstance(c, dict) and isinstance(c.get("code"), str)]


def communication(message: Message) -> Iterator[Issue]:
    entry = _communication(message)
    if entry is None:
        yield issue(
            "MEDCOM-CC-COMMUNICATION",
            "The MessageHeader's focus must be a Communication",
            "Bundle.entry[0].resource.focus",
        )
        return
    activity = message.activity
    current = message.current_provenance
    if activity is not None and activity not in ACTIVITIES and current is not None:
        yield issue(
            "MEDCOM-PROVENANCE-ACTIVITY",
            "CareCommunication activities are new, reply and forward",
            f"{current.entry.path}.activity",
        )
    res, path = entry.resource, entry.path
    yield from _category(res, path)
    yield from _thread(res, path)
    yield from _attachments(res, path)


def _category(res: dict[str, Any], path: str) -> Iterator[Issue]:
    categories = as_list(res.get("category"))
    codes = [code for concept in categories for code in _codes(concept)]
    if len(categories) != 1 or len(codes) != 1 or codes[0] not in CATEGORIES:
        yield issue("MEDCOM-CC-CATEGORY", "Exactly one category from MedCom's list is required", f"{path}.category")
        return
    topic = res.get("topic")
    if codes[0] == "other" and not (isinstance(topic, dict) and topic.get("text")):
        yield issue("MEDCOM-CC-TOPIC", "Category 'other' needs topic.text", f"{path}.topic", "required")
    priority = res.get("priority")
    if priority is not None and (codes[0] != "regarding-referral" or priority not in ("routine", "asap")):
        yield issue(
            "MEDCOM-CC-PRIORITY",
            "priority (routine|asap) is only allowed with category regarding-referral",
            f"{path}.priority",
        )


def _thread(res: dict[str, Any], path: str) -> Iterator[Issue]:
    idents = [i for i in as_list(res.get("identifier")) if isinstance(i, dict)]
    if len(idents) != 1 or not _THREAD.match(str(idents[0].get("value", ""))):
        yield issue(
            "MEDCOM-CC-THREAD",
            "Communication.identifier must be one thread id urn:uuid:<UUID v4>",
            f"{path}.identifier",
        )


def _attachments(res: dict[str, Any], path: str) -> Iterator[Issue]:
    payloads = as_list(res.get("payload"))
    if not any(isinstance(p, dict) and "contentString" in p for p in payloads):
        yield issue(
            "MEDCOM-CC-COMMUNICATION",
            "At least one text segment (payload.contentString) is required",
            f"{path}.payload",
            "required",
        )
    for index, payload in enumerate(payloads):
        attachment = payload.get("contentAttachment") if isinstance(payload, dict) else None
        if isinstance(attachment, dict):
            yield from _attachment(attachment, f"{path}.payload[{index}].contentAttachment")


def _attachment(attachment: dict[str, Any], path: str) -> Iterator[Issue]:
    if not attachment.get("title"):
        yield issue("MEDCOM-CC-ATTACHMENT", "An attachment needs a title", f"{path}.title", "required")
    has_data, has_url = "data" in attachment, "url" in attachment
    if has_data == has_url:
        yield issue("MEDCOM-CC-ATTACHMENT", "An attachment carries either data or a url", path)
    if has_data and attachment.get("contentType") not in MIME_TYPES:
        yield issue(
            "MEDCOM-CC-ATTACHMENT", "Attachment type must be pdf, gif, jpeg, png, tiff or bmp", f"{path}.contentType"
        )
    if has_data and not _base64_ok(attachment.get("data")):
        yield issue("MEDCOM-CC-ATTACHMENT", "Attachment data is not valid base64", f"{path}.data", "invalid")


def _base64_ok(data: Any) -> bool:
    if not isinstance(data, str):
        return False
    try:
        base64.b64decode(data, validate=True)
    except ValueError:
        return False
    return True


CC_CHECKS = (communication,)
