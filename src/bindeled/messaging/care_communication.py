"""CareCommunication: the thread, category and the text and attachment segments of one message.

The focus Communication carries the conversation: ``identifier`` is the thread id (new on new and
forwarded messages, kept on replies), one ``category`` (``topic.text`` when it is ``other``),
``priority`` only for ``regarding-referral``, and ``payload`` segments, each a text
(``contentString``) or an attachment, stamped with a date, a segment id, and the author.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._json import as_dict, as_list
from .messages import Entry, Message

__all__ = ["CareCommunication", "Segment", "read_care_communication"]

_CORE = "http://medcomfhir.dk/ig/core/StructureDefinition"
DATE_URL = f"{_CORE}/medcom-core-datetime-extension"
IDENTIFIER_URL = f"{_CORE}/medcom-core-identifier-extension"
AUTHOR_URL = f"{_CORE}/medcom-core-practitioner-extension"


@dataclass(frozen=True, slots=True)
class Segment:
    """One payload entry: a text or an attachment."""

    index: int
    path: str
    text: str | None
    attachment: dict[str, Any] | None
    date: str | None
    identifier: str | None
    author: str | None
    """Reference to the authoring PractitionerRole, if given."""


@dataclass(frozen=True, slots=True)
class CareCommunication:
    entry: Entry
    thread_ids: tuple[str, ...]
    categories: tuple[str, ...]
    """Category codes (MedCom allows exactly one)."""
    category_count: int
    topic: str | None
    priority: Any
    segments: tuple[Segment, ...]

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def thread_id(self) -> str | None:
        return self.thread_ids[0] if len(self.thread_ids) == 1 else None

    @property
    def category(self) -> str | None:
        return self.categories[0] if len(self.categories) == 1 and self.category_count == 1 else None


def _extension(payload: dict[str, Any], url: str) -> Any:
    for ext in as_list(payload.get("extension")):
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


def _segment(index: int, path: str, payload: dict[str, Any]) -> Segment:
    ident = as_dict(as_dict(_extension(payload, IDENTIFIER_URL)).get("valueIdentifier")).get("value")
    author = as_dict(as_dict(_extension(payload, AUTHOR_URL)).get("valueReference")).get("reference")
    date = as_dict(_extension(payload, DATE_URL)).get("valueDateTime")
    text = payload.get("contentString")
    attachment = payload.get("contentAttachment")
    return Segment(
        index,
        f"{path}.payload[{index}]",
        text if isinstance(text, str) else None,
        attachment if isinstance(attachment, dict) else None,
        date if isinstance(date, str) else None,
        ident if isinstance(ident, str) else None,
        author if isinstance(author, str) else None,
    )


def read_care_communication(message: Message) -> CareCommunication | None:
    """The focus Communication's parts, or None when the header's focus is not a Communication."""
    entry = next((e for e in message.focus if e.resource.get("resourceType") == "Communication"), None)
    if entry is None:
        return None
    res = entry.resource
    categories = as_list(res.get("category"))
    codes = tuple(
        str(c["code"])
        for concept in categories
        for c in as_list(as_dict(concept).get("coding"))
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    )
    threads = tuple(str(i.get("value")) for i in as_list(res.get("identifier")) if isinstance(i, dict))
    topic = as_dict(res.get("topic")).get("text")
    payloads = as_list(res.get("payload"))
    return CareCommunication(
        entry=entry,
        thread_ids=threads,
        categories=codes,
        category_count=len(categories),
        topic=topic if isinstance(topic, str) and topic else None,
        priority=res.get("priority"),
        segments=tuple(_segment(i, entry.path, p) for i, p in enumerate(payloads) if isinstance(p, dict)),
    )
