"""CareCommunication business rules (DOMAIN §5.3): category, topic, priority, thread id, attachments."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

from ..errors import Issue
from ._rules_common import issue
from .care_communication import CareCommunication, read_care_communication
from .messages import Message

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


def communication(message: Message) -> Iterator[Issue]:
    cc = read_care_communication(message)
    if cc is None:
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
    yield from _category(cc)
    if cc.thread_id is None or not _THREAD.match(cc.thread_id):
        yield issue(
            "MEDCOM-CC-THREAD",
            "Communication.identifier must be one thread id urn:uuid:<UUID v4>",
            f"{cc.path}.identifier",
        )
    yield from _segments(cc)


def _category(cc: CareCommunication) -> Iterator[Issue]:
    category = cc.category
    if category not in CATEGORIES:
        yield issue("MEDCOM-CC-CATEGORY", "Exactly one category from MedCom's list is required", f"{cc.path}.category")
        return
    if category == "other" and cc.topic is None:
        yield issue("MEDCOM-CC-TOPIC", "Category 'other' needs topic.text", f"{cc.path}.topic", "required")
    if cc.priority is not None and (category != "regarding-referral" or cc.priority not in ("routine", "asap")):
        yield issue(
            "MEDCOM-CC-PRIORITY",
            "priority (routine|asap) is only allowed with category regarding-referral",
            f"{cc.path}.priority",
        )


def _segments(cc: CareCommunication) -> Iterator[Issue]:
    if not any(segment.text is not None for segment in cc.segments):
        yield issue(
            "MEDCOM-CC-COMMUNICATION",
            "At least one text segment (payload.contentString) is required",
            f"{cc.path}.payload",
            "required",
        )
    for segment in cc.segments:
        if segment.attachment is not None:
            yield from _attachment(segment.attachment, f"{segment.path}.contentAttachment")


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
