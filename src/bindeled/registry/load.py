"""Import the public SOR XML export (root ``SorTree``) into :class:`~bindeled.registry.model.SorEntity` records.

The full export is large (the whole Danish health sector), so it is read as a stream: each record is
turned into an entity as soon as its element closes, and the element is then freed. Memory stays flat
whatever the file size, apart from the entities themselves.

The parser is locked down: no DTD is loaded, entities are not resolved, nothing is fetched from the
network, and a document with a ``DOCTYPE`` is refused outright (the export never has one, and an
internal subset is how entity-expansion attacks start).

Malformed input raises :class:`SorFormatError` naming the element path and line. Elements the
importer does not know are not fatal but never silently lost: each becomes a
:class:`~bindeled.registry.model.LoadIssue` in :attr:`SorExport.issues`, and so does an EAN that
fails its GS1 check digit (which is then left out).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO

from lxml import etree

from ._records import RECORD_LEVELS, read_entity
from ._xml import Ctx, SorFormatError, local_name, read_date, read_datetime
from .model import LoadIssue, SorEntity, SorExport

__all__ = ["SOR_NAMESPACE", "SorFormatError", "SorHeader", "Source", "iter_entities", "load_export"]

SOR_NAMESPACE = "urn:oio:sundhedsstyrelsen:organisation:1.0.0"

Source = str | Path | bytes | IO[bytes]
"""A file path (``str`` or ``Path``), the document's bytes, or a binary file object."""

_WRAPPER_PARENTS = {
    "InstitutionOwnerEntity": ("SorTree",),
    "HealthInstitutionEntity": ("InstitutionOwnerEntity",),
    "OrganizationalUnitEntity": ("HealthInstitutionEntity", "OrganizationalUnitEntity"),
}
"""Entity wrapper → the elements it may sit in."""
_RECORD_OF = {
    "InstitutionOwnerEntity": "InstitutionOwner",
    "HealthInstitutionEntity": "HealthInstitution",
    "OrganizationalUnitEntity": "OrganizationalUnit",
}
_HEADER = ("CreatedAtTime", "SnapshotDate")


@dataclass(slots=True)
class SorHeader:
    """The export's header, filled in while streaming."""

    created_at: datetime | None = None
    snapshot_date: date | None = None
    issues: list[LoadIssue] = field(default_factory=list)
    on_issue: Callable[[LoadIssue], None] | None = None
    """Called with each issue the moment it is found (e.g. to log it), also when the import later fails."""

    def add(self, issue: LoadIssue) -> None:
        self.issues.append(issue)
        if self.on_issue is not None:
            self.on_issue(issue)


@dataclass(slots=True)
class _Frame:
    """One open element the streamer tracks (the root, an entity wrapper, a record, a header field)."""

    elem: etree._Element
    name: str
    path: str
    counts: dict[str, int] = field(default_factory=dict)
    sor_code: str | None = None
    """For an entity wrapper: the SOR code of its record, once read."""
    seen_record: bool = False


_TAGS = [f"{{{SOR_NAMESPACE}}}{name}" for name in ("SorTree", *_WRAPPER_PARENTS, *_RECORD_OF.values(), *_HEADER)]
"""Only these elements produce parse events; a record's inside is read as a subtree once it closes."""


def _open(source: Source) -> IO[bytes] | str:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, Path):
        return str(source)
    return source


def _check_root(root: etree._Element | None) -> None:
    if root is None:
        raise SorFormatError("Not a SOR export: no root element", "/")
    if root.getroottree().docinfo.doctype:
        raise SorFormatError("A DOCTYPE is not accepted in a SOR export", "/", root.sourceline)
    if root.tag == f"{{{SOR_NAMESPACE}}}SorTree":
        return
    name = local_name(root)
    problem = "is not in the SOR namespace" if name == "SorTree" else "is not SorTree"
    raise SorFormatError(f"Not a SOR export: root element {name} {problem}", "/", root.sourceline)


def _events(source: Source) -> Iterator[tuple[str, etree._Element]]:
    events = etree.iterparse(
        _open(source),
        events=("start", "end"),
        tag=_TAGS,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    checked = False
    for event, elem in events:
        if not checked:
            _check_root(elem.getroottree().getroot())
            checked = True
        yield event, elem
    if not checked:
        _check_root(events.root)


class _Streamer:
    """Turns parse events into entities, keeping only the open path in memory."""

    def __init__(self, header: SorHeader) -> None:
        self.header = header
        self.stack: list[_Frame] = []

    def report(self, issue: LoadIssue) -> None:
        self.header.add(issue)

    def start(self, elem: etree._Element) -> None:
        name = local_name(elem)
        parent_elem = elem.getparent()
        if parent_elem is None:
            self.stack.append(_Frame(elem, name, f"/{name}"))
            return
        parent = self.stack[-1]
        if name in _WRAPPER_PARENTS:
            self._start_wrapper(elem, name, parent, parent_elem)
        elif parent_elem is parent.elem and (_RECORD_OF.get(parent.name) == name or _is_header(parent, name)):
            self.stack.append(_Frame(elem, name, f"{parent.path}/{name}"))

    def _start_wrapper(self, elem: etree._Element, name: str, parent: _Frame, parent_elem: etree._Element) -> None:
        index = parent.counts[name] = parent.counts.get(name, 0) + 1
        path = f"{parent.path}/{name}[{index}]"
        if parent_elem is not parent.elem or parent.name not in _WRAPPER_PARENTS[name]:
            raise SorFormatError(f"{name} is misplaced inside {local_name(parent_elem)}", path, elem.sourceline)
        if parent.name != "SorTree" and not parent.seen_record:
            raise SorFormatError(f"{name} before its parent's record", path, elem.sourceline)
        self.stack.append(_Frame(elem, name, path))

    def end(self, elem: etree._Element) -> SorEntity | None:
        if not self.stack or self.stack[-1].elem is not elem:
            return None
        frame = self.stack.pop()
        entity = None
        if not self.stack or frame.name in _WRAPPER_PARENTS:
            self._close_container(frame)
        elif frame.name in _HEADER:
            self._read_header(elem, frame)
        else:
            entity = self._record(elem, frame, self.stack[-1])
        if self.stack:
            self._free(elem, self.stack[-1])
        return entity

    def _record(self, elem: etree._Element, frame: _Frame, wrapper: _Frame) -> SorEntity:
        if wrapper.seen_record:
            raise SorFormatError(f"A second {frame.name} in one {wrapper.name}", frame.path, elem.sourceline)
        owner_frame = self.stack[-2]
        parent_code = owner_frame.sor_code if owner_frame.name in _RECORD_OF else None
        entity = read_entity(elem, Ctx(frame.path, self.report), RECORD_LEVELS[frame.name], parent_code)
        wrapper.sor_code, wrapper.seen_record = entity.sor_code, True
        return entity

    def _close_container(self, frame: _Frame) -> None:
        """At the end of the root or a wrapper: a wrapper needs its record; leftovers are reported."""
        if frame.name in _RECORD_OF and not frame.seen_record:
            record = _RECORD_OF[frame.name]
            raise SorFormatError(f"{frame.name} without its {record} record", frame.path, frame.elem.sourceline)
        for child in frame.elem:
            self._report_unknown(child, frame)

    def _report_unknown(self, child: etree._Element, container: _Frame) -> None:
        name = local_name(child)
        known = name in _WRAPPER_PARENTS or name == _RECORD_OF.get(container.name) or _is_header(container, name)
        if isinstance(child.tag, str) and not (known and child.tag.startswith(f"{{{SOR_NAMESPACE}}}")):
            message = f"Unexpected element {name} ignored"
            self.report(LoadIssue(f"{container.path}/{name}", child.sourceline, message, "unknown-element"))

    def _read_header(self, elem: etree._Element, frame: _Frame) -> None:
        ctx = Ctx(frame.path, self.report)
        if frame.name == "CreatedAtTime":
            self.header.created_at = read_datetime(elem, ctx)
        else:
            self.header.snapshot_date = read_date(elem, ctx)

    def _free(self, elem: etree._Element, container: _Frame) -> None:
        """Drop a finished element's content and its elder siblings, so the parsed tree never grows.

        Elder siblings the streamer did not track are reported before they go.
        """
        elem.clear(keep_tail=False)
        while (previous := elem.getprevious()) is not None:
            self._report_unknown(previous, container)
            del container.elem[0]


def _is_header(frame: _Frame, name: str) -> bool:
    return frame.name == "SorTree" and name in _HEADER


def iter_entities(source: Source, header: SorHeader | None = None) -> Iterator[SorEntity]:
    """Stream the entities of an export in document order (every parent before its children).

    ``header`` (if given) receives the creation time, snapshot date and issues as they are met.
    """
    streamer = _Streamer(header if header is not None else SorHeader())
    try:
        for event, elem in _events(source):
            if event == "start":
                streamer.start(elem)
            elif (entity := streamer.end(elem)) is not None:
                yield entity
    except etree.XMLSyntaxError as exc:
        path = streamer.stack[-1].path if streamer.stack else "/"
        raise SorFormatError(f"Malformed XML ({exc.msg})", path, exc.lineno) from None


def load_export(source: Source, *, on_issue: Callable[[LoadIssue], None] | None = None) -> SorExport:
    """Read a whole export. ``on_issue`` sees each issue as it is found (e.g. to log it)."""
    header = SorHeader(on_issue=on_issue)
    entities = []
    seen: set[str] = set()
    for entity in iter_entities(source, header):
        if entity.sor_code in seen:
            raise SorFormatError(f"SOR code {entity.sor_code} appears twice", "/SorTree")
        seen.add(entity.sor_code)
        entities.append(entity)
    return SorExport(header.created_at, header.snapshot_date, tuple(entities), tuple(header.issues))
