"""The latest letter from each organisation's GLNs, and the hub's status of it (the test message).

Per GLN one indexed look-up of the newest letter (``hub_message`` by sender and time), then the hop
trail of the newest per organisation through :func:`~bindeled.messaging.hub.status.message_status`.
A letter *passed* when the hub validated it and neither refused nor dead-lettered it (an organisation
that receives letters shows it by acknowledging a test letter: its Acknowledgement is its letter).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...messaging.hub.status import Hop, message_status
from ...registry.tree import SorTree
from ...store.base import Store
from .readiness import LatestLetter, Organisation

__all__ = ["latest_test_messages"]

_LATEST = "SELECT message_id, received FROM hub_message WHERE sender_gln = $1 ORDER BY received DESC LIMIT 1"
_PASSED = frozenset({Hop.VALIDATED.value})
_FAILED = frozenset({Hop.REFUSED.value, Hop.DEAD_LETTERED.value})


def _hop(event: dict[str, object]) -> str:
    subtype = event.get("subtype")
    if isinstance(subtype, list) and subtype and isinstance(subtype[0], dict):
        return str(subtype[0].get("code", ""))
    return ""


async def _newest(store: Store, glns: Iterable[str]) -> tuple[str, str, str] | None:
    newest: tuple[str, str, str] | None = None
    for gln in sorted(glns):
        rows = await store.fetch_all(_LATEST, (gln,))
        if rows and (newest is None or str(rows[0][1]) > newest[2]):
            newest = (str(rows[0][0]), gln, str(rows[0][1]))
    return newest


async def latest_test_messages(store: Store, tree: SorTree, found: Iterable[Organisation]) -> dict[str, LatestLetter]:
    """Owner SOR code → the newest letter from one of its entities' own GLNs (absent: none ever sent)."""
    results: dict[str, LatestLetter] = {}
    for org in found:
        glns = {e.ean.gln for code in org.codes if (e := tree.get(code)) is not None and e.ean is not None}
        newest = await _newest(store, glns)
        if newest is None:
            continue
        hops = tuple(_hop(event) for event in await message_status(store, newest[0]))
        passed = set(hops) >= _PASSED and not _FAILED & set(hops)
        results[org.owner.sor_code] = LatestLetter(newest[0], newest[1], newest[2], passed, hops)
    return results
