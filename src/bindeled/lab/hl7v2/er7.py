"""HL7 v2 ER7 ("pipe and hat") parsing and serialising, as a small typed model.

Splitting is delegated to python-hl7 (``hl7``), which reads the encoding characters from ``MSH-2`` and
splits segments, fields, repetitions, components and sub-components. Its containers are ragged (a field
without separators is a plain string, with them a nested list) and untyped, so this module turns them into
one uniform, frozen shape and does the v2.5 escape rules (section 2.7) itself:

* ``Message.segments`` → :class:`Segment` (``id`` + ``fields``; ``fields[0]`` is field 1),
* :class:`Field` → repetitions → components → sub-components, every leaf an *unescaped* ``str``.

In ``MSH`` the field numbering follows the standard: ``MSH-1`` is the field separator and ``MSH-2`` the
encoding characters, both kept verbatim. Serialising escapes separators, the escape character and control
characters, so ``parse(serialise(m)) == m`` for every message whose values do not begin or end the whole
message with white space (the framing strips that, as HL7 receivers do).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hl7  # type: ignore[import-untyped]

from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error

__all__ = [
    "DEFAULT_ENCODING",
    "Component",
    "Encoding",
    "Field",
    "Message",
    "Repetition",
    "Segment",
    "escape",
    "parse",
    "serialise",
    "unescape",
]

Component = tuple[str, ...]
"""The sub-components of one component (usually just one)."""
Repetition = tuple[Component, ...]
"""The components of one repetition of a field."""

_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}\Z")
_FORMATTING = {".br": "\n", ".sp": "\n", ".ce": "\n", ".fi": "", ".nf": "", ".sk": " ", "H": "", "N": ""}


@dataclass(frozen=True, slots=True)
class Encoding:
    """The delimiters of one message, as declared by ``MSH-1`` and ``MSH-2``."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""
    """The v2.7 truncation character, kept only so that ``MSH-2`` is written back as received."""

    @property
    def msh2(self) -> str:
        """The ``MSH-2`` value that declares these characters."""
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation

    def specials(self) -> str:
        return self.field + self.msh2


DEFAULT_ENCODING = Encoding()


@dataclass(frozen=True, slots=True)
class Field:
    """One field: repetitions of components of sub-components, all unescaped text."""

    repetitions: tuple[Repetition, ...] = ((("",),),)

    @classmethod
    def of(cls, *components: str) -> Field:
        """A single-repetition field with the given components (no sub-components)."""
        comps: Repetition = tuple((c,) for c in components) or (("",),)
        return cls((comps,))

    def component(self, number: int = 1, repetition: int = 1) -> str:
        """The first sub-component of component ``number`` in repetition ``repetition`` ('' if absent)."""
        if repetition > len(self.repetitions) or number < 1:
            return ""
        comps = self.repetitions[repetition - 1]
        return comps[number - 1][0] if number <= len(comps) else ""

    @property
    def value(self) -> str:
        """The first component of the first repetition: the field's value for simple types."""
        return self.component(1)

    @property
    def is_empty(self) -> bool:
        return all(sub == "" for rep in self.repetitions for comp in rep for sub in comp)


_EMPTY = Field()


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment; ``field(n)`` follows HL7 numbering (``MSH-1`` is the field separator)."""

    id: str
    fields: tuple[Field, ...] = ()

    def field(self, number: int) -> Field:
        """Field ``number`` (1-based), or an empty field when the segment is shorter."""
        return self.fields[number - 1] if 0 < number <= len(self.fields) else _EMPTY

    def __getitem__(self, number: int) -> str:
        """Shorthand for ``field(number).value``."""
        return self.field(number).value


@dataclass(frozen=True, slots=True)
class Message:
    """A parsed message: its encoding characters and segments in order."""

    encoding: Encoding
    segments: tuple[Segment, ...]

    def first(self, segment_id: str) -> Segment | None:
        return next(self.all(segment_id), None)

    def all(self, segment_id: str) -> Iterator[Segment]:
        return (s for s in self.segments if s.id == segment_id)

    @property
    def msh(self) -> Segment:
        return self.segments[0]


def escape(text: str, enc: Encoding = DEFAULT_ENCODING) -> str:
    """Escape delimiters, control characters and non-space white space in one value (v2.5 section 2.7)."""
    names = {
        enc.field: "F",
        enc.component: "S",
        enc.subcomponent: "T",
        enc.repetition: "R",
        enc.escape: "E",
    }
    out: list[str] = []
    for char in text:
        if char in names:
            out.append(f"{enc.escape}{names[char]}{enc.escape}")
        elif char != " " and (char.isspace() or not char.isprintable()):
            # Control characters and white space other than the space would be eaten by segment splitting
            # or by stripping: send them as the hex of their UTF-8 bytes.
            out.append(f"{enc.escape}X{char.encode('utf-8', 'surrogatepass').hex().upper()}{enc.escape}")
        else:
            out.append(char)
    return "".join(out)


def unescape(text: str, enc: Encoding = DEFAULT_ENCODING) -> str:
    """Undo escape sequences; unknown sequences are kept verbatim rather than silently dropped."""
    if enc.escape not in text:
        return text
    out: list[str] = []
    pos = 0
    while pos < len(text):
        start = text.find(enc.escape, pos)
        end = text.find(enc.escape, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:start])
        out.append(_decode_sequence(text[start + 1 : end], enc))
        pos = end + 1
    return "".join(out)


def _decode_sequence(body: str, enc: Encoding) -> str:
    simple = {"F": enc.field, "S": enc.component, "T": enc.subcomponent, "R": enc.repetition, "E": enc.escape}
    if body in simple:
        return simple[body]
    if body in _FORMATTING:
        return _FORMATTING[body]
    if body.startswith("X") and len(body) > 1 and len(body) % 2 == 1:
        try:
            raw = bytes.fromhex(body[1:])
        except ValueError:
            return f"{enc.escape}{body}{enc.escape}"
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:  # senders on ISO 8859-1 escape single bytes such as \XE6\ (æ)
            return raw.decode("latin-1")
    return f"{enc.escape}{body}{enc.escape}"


def parse(text: str) -> Message:
    """Parse one ER7 message; raises :class:`Hl7Error` (AR) when the header or a segment id is broken."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip()
    enc = _read_encoding(text)
    try:
        raw = hl7.parse(text)
    except Exception as exc:  # the library's own failure modes are not typed; any of them means "unparseable"
        where = ErrorLocation("MSH", 1)
        raise Hl7Error(
            "the message cannot be split into segments", where, ErrorCode.SEGMENT_SEQUENCE, reject=True
        ) from exc
    segments = tuple(_segment(seg, enc, index) for index, seg in enumerate(raw))
    _check_segment_ids(segments)
    return Message(enc, segments)


def _read_encoding(text: str) -> Encoding:
    msh = ErrorLocation("MSH", 1, 1)
    if not text.startswith("MSH"):
        raise Hl7Error("the message does not start with an MSH segment", msh, ErrorCode.SEGMENT_SEQUENCE, reject=True)
    if len(text) < 8:
        raise Hl7Error("the MSH segment is truncated", msh, ErrorCode.REQUIRED_FIELD_MISSING, reject=True)
    field = text[3]
    chars = text[4 : text.find(field, 4)] if text.find(field, 4) > 0 else ""
    specials = field + chars
    bad = len(chars) not in (4, 5) or len(set(specials)) != len(specials)
    if bad or any(c.isalnum() or c.isspace() for c in specials):
        where = ErrorLocation("MSH", 1, 2) if field.isprintable() and not field.isalnum() else msh
        raise Hl7Error("MSH-1/MSH-2 do not declare valid encoding characters", where, ErrorCode.DATA_TYPE, reject=True)
    return Encoding(field, chars[0], chars[1], chars[2], chars[3], chars[4:])


def _segment(raw: Any, enc: Encoding, index: int) -> Segment:
    seg_id = _leaf(raw[0])
    if seg_id == "MSH" and index == 0:
        header = (Field((((enc.field,),),)), Field((((_leaf(raw[2]),),),)))
        # MSH-2 is always followed by a field separator (checked above); python-hl7 drops a lone empty MSH-3.
        rest = tuple(_field(f, enc) for f in raw[3:]) or (Field(),)
        return Segment(seg_id, header + rest)
    return Segment(seg_id, tuple(_field(f, enc) for f in raw[1:]))


def _leaf(node: Any) -> str:
    """The text of a node that may still be wrapped in single-element containers."""
    while not isinstance(node, str):
        node = node[0] if len(node) else ""
    return node


def _field(node: Any, enc: Encoding) -> Field:
    reps = [node] if isinstance(node, str) else list(node)
    return Field(tuple(_repetition(rep, enc) for rep in reps) or ((("",),),))


def _repetition(node: Any, enc: Encoding) -> Repetition:
    if isinstance(node, str):
        return ((unescape(node, enc),),)
    comps = tuple(_component(comp, enc) for comp in node)
    return comps or (("",),)


def _component(node: Any, enc: Encoding) -> Component:
    if isinstance(node, str):
        return (unescape(node, enc),)
    return tuple(unescape(_leaf(sub), enc) for sub in node) or ("",)


def _check_segment_ids(segments: tuple[Segment, ...]) -> None:
    counts: dict[str, int] = {}
    for seg in segments:
        counts[seg.id] = counts.get(seg.id, 0) + 1
        if not _SEGMENT_ID.match(seg.id):
            where = ErrorLocation(seg.id[:3] or "???", counts[seg.id])
            raise Hl7Error("a segment has an invalid segment id", where, ErrorCode.SEGMENT_SEQUENCE, reject=True)
        if seg.id == "MSH" and counts["MSH"] > 1:
            where = ErrorLocation("MSH", counts["MSH"])
            raise Hl7Error("more than one MSH segment in a message", where, ErrorCode.SEGMENT_SEQUENCE, reject=True)


def serialise(message: Message) -> str:
    """ER7 text of ``message``, segments ended by carriage returns."""
    return "".join(_serialise_segment(seg, message.encoding) + "\r" for seg in message.segments)


def _serialise_segment(seg: Segment, enc: Encoding) -> str:
    if seg.id == "MSH":
        rest = [_serialise_field(f, enc) for f in seg.fields[2:]]
        return "MSH" + enc.field + enc.field.join([enc.msh2, *rest])
    return enc.field.join([seg.id, *(_serialise_field(f, enc) for f in seg.fields)])


def _serialise_field(field: Field, enc: Encoding) -> str:
    return enc.repetition.join(
        enc.component.join(enc.subcomponent.join(escape(sub, enc) for sub in comp) for comp in rep)
        for rep in field.repetitions
    )
