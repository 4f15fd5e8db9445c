"""Paging cursors: where a page ends, so the next page starts after it whatever was written meanwhile.

An offset shifts when a resource before it is created or deleted, so a client paging with offsets
can skip or repeat matches. A cursor names the sort position of a page's last (or first) match
instead: the values of the sort keys followed by the tie-breakers ``lastUpdated``, type and id.
The next page is "everything after that position"; a previous page is "everything before it", read
backwards. The token is opaque to clients (URL-safe base64 of JSON); a tampered token is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import InvalidRequest

__all__ = ["CURSOR_PARAM", "Cursor", "decode_cursor", "encode_cursor"]

CURSOR_PARAM = "_cursor"

_MAX_TOKEN = 4096


@dataclass(frozen=True, slots=True)
class Cursor:
    """A sort position: after it (``backward`` False) or before it (``backward`` True)."""

    values: tuple[Any, ...]
    backward: bool = False


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"a cursor cannot hold {type(value).__name__}")


def _typed(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        return datetime.fromisoformat(value["t"])
    if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
        return value
    raise ValueError("bad cursor value")


def encode_cursor(cursor: Cursor) -> str:
    """The token for a link."""
    document = {"v": [_plain(v) for v in cursor.values], "b": int(cursor.backward)}
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(token: str) -> Cursor:
    """The cursor in a link's token; :class:`InvalidRequest` (400) when it is not one of ours."""
    try:
        if len(token) > _MAX_TOKEN:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = json.loads(raw)
        if not isinstance(document, dict) or not isinstance(document.get("v"), list) or document.get("b") not in (0, 1):
            raise ValueError("not a cursor")
        return Cursor(tuple(_typed(v) for v in document["v"]), bool(document["b"]))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidRequest(
            "_cursor is not a paging position this server gave out; follow the Bundle's links",
            location=(CURSOR_PARAM,),
        ) from exc
