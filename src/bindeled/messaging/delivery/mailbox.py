"""Mailbox delivery: the receiver fetches its letters from the hub instead of being pushed to.

A letter for a ``mailbox`` receiver (see the endpoint register) is delivered by making it visible
in that receiver's mailbox: the outbox row is marked delivered over the ``mailbox`` channel, and the
receiver's system lists its letters, newest delivery last, with ``GET /fhir/$mailbox?receiver=<GLN>``
(``_since`` for the letters delivered since an instant, ``_count`` for a page size). Only a system of
the receiving organisation (the SOR code its token carries equals the endpoint's) or an operator may
read a mailbox. Delivered letters stay listed (acknowledged ones too), so a receiver pages with
``_since``; a resent letter appears again with its new envelope. The hub learns that a letter
arrived from the receiver's Acknowledgement, as with push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ...store._records import format_instant, parse_instant
from ...store.base import Store

__all__ = ["MailboxLetter", "mailbox_letters"]


@dataclass(frozen=True, slots=True)
class MailboxLetter:
    """One letter waiting in a mailbox."""

    message_id: str
    envelope_id: str
    message_type: str
    delivered: datetime
    payload: bytes


_SELECT = """
SELECT message_id, envelope_id, message_type, last_delivered, payload FROM hub_outbox
WHERE receiver_gln = $1 AND channel = 'mailbox' AND state IN ('delivered', 'acknowledged') AND last_delivered > $2
ORDER BY last_delivered, seq LIMIT $3"""


async def mailbox_letters(
    store: Store, receiver_gln: str, *, since: datetime | None, limit: int
) -> list[MailboxLetter]:
    """The letters delivered to ``receiver_gln``'s mailbox after ``since``, oldest delivery first."""
    after = format_instant(since) if since is not None else ""
    rows = await store.fetch_all(_SELECT, (receiver_gln, after, limit))
    return [MailboxLetter(str(r[0]), str(r[1]), str(r[2]), parse_instant(str(r[3])), bytes(r[4])) for r in rows]
