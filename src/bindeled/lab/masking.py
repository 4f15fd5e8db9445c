"""A quarantined message as a platform operator may see it: the structure kept, the person masked.

Platform operators run the quarantine but see no citizen's data (``security/roles.py``). To find
what is wrong with a message they need its segments and fields, not who it is about, so the
identifying fields of ``PID`` (identifiers, names, birth date, address, phone numbers, SSN) and of
``NK1`` (next of kin: name, address, phone) are replaced by ``***`` and everything else is shown as
received. The message is read leniently, line by line, since a quarantined message may not parse.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "masked_message"]

MASK = "***"

_PERSONAL_FIELDS = {
    "PID": frozenset({2, 3, 4, 5, 6, 7, 9, 11, 12, 13, 14, 19, 20, 21}),
    "NK1": frozenset({2, 4, 5, 6, 30, 31, 32, 33}),
}
"""Field numbers (HL7 v2.5) that identify a person, per segment."""


def masked_message(raw: bytes) -> str:
    """``raw`` decoded (bad bytes replaced), segments on their own lines, personal fields masked."""
    text = raw.decode("utf-8", "replace")
    separator = text[3] if text.startswith("MSH") and len(text) > 3 else "|"
    return "\r".join(_segment(line, separator) for line in re.split(r"\r\n|\r|\n", text) if line)


def _segment(line: str, separator: str) -> str:
    fields = line.split(separator)
    personal = _PERSONAL_FIELDS.get(fields[0].strip(), frozenset())
    return separator.join(MASK if number in personal and value else value for number, value in enumerate(fields))
