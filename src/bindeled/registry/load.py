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
"""A file path, the document's bytes, or a binary file object."""

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


@dataclass(slots=True)
class _Frame:
    """One open element: its name, its position among same-named siblings, and its path."""

    name: str
    path: str
    counts: dict[str, int] = field(default_factory=dict)
    sor_code: str | None = None
    """For an entity wrapper: the SOR code of its record, once read."""
    seen_record: bool = False


def _open(source: Source) -> IO[bytes] | str:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, Path):
        return str(source)
    return source


def _events(source: Source) -> Iterator[tuple[str, etree._Element]]:
    parser_source = _open(source)
    events = etree.iterparse(
        parser_source,
        events=("start", "end"),
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
            if elem.getroottree().docinfo.doctype:
                raise SorFormatError("A DOCTYPE is not accepted in a SOR export", "/", elem.sourceline)
            checked = True
        yield event, elem


class _Streamer:
    """Turns parse events into entities, keeping only the open path in memory."""

    def __init__(self, header: SorHeader) -> None:
        self.header = header
        self.stack: list[_Frame] = []

    def report(self, issue: LoadIssue) -> None:
        self.header.issues.append(issue)

    def start(self, elem: etree._Element) -> None:
        name = local_name(elem)
        if not self.stack:
            self._check_root(elem, name)
            self.stack.append(_Frame(name, f"/{name}"))
            return
        parent = self.stack[-1]
        index = parent.counts[name] = parent.counts.get(name, 0) + 1
        path = f"{parent.path}/{name}[{index}]" if name in _WRAPPER_PARENTS or index > 1 else f"{parent.path}/{name}"
        self.stack.append(_Frame(name, path))
        if name in _WRAPPER_PARENTS:
            if parent.name not in _WRAPPER_PARENTS[name]:
                raise SorFormatError(f"{name} is misplaced inside {parent.name}", path, elem.sourceline)
            if parent.name != "SorTree" and not parent.seen_record:
                raise SorFormatError(f"{name} before its parent's record", path, elem.sourceline)

    def _check_root(self, elem: etree._Element, name: str) -> None:
        if elem.tag == f"{{{SOR_NAMESPACE}}}SorTree":
            return
        problem = "is not in the SOR namespace" if name == "SorTree" else "is not SorTree"
        raise SorFormatError(f"Not a SOR export: root element {name} {problem}", "/", elem.sourceline)

    def end(self, elem: etree._Element) -> SorEntity | None:
        frame = self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        entity = None
        if parent is None:
            pass
        elif parent.name in _RECORD_OF and frame.name == _RECORD_OF[parent.name]:
            entity = self._record(elem, frame, parent)
        elif frame.name in _WRAPPER_PARENTS:
            self._close_wrapper(elem, frame)
        elif parent.name == "SorTree" and frame.name in _HEADER:
            self._read_header(elem, frame)
        elif parent.name == "SorTree" or parent.name in _RECORD_OF:
            self.report(
                LoadIssue(frame.path, elem.sourceline, f"Unexpected element {frame.name} ignored", "unknown-element")
            )
        else:
            return None
        _free(elem)
        return entity

    def _record(self, elem: etree._Element, frame: _Frame, wrapper: _Frame) -> SorEntity:
        if wrapper.seen_record:
            raise SorFormatError(f"A second {frame.name} in one {wrapper.name}", frame.path, elem.sourceline)
        owner_frame = self.stack[-2]
        parent_code = owner_frame.sor_code if owner_frame.name in _RECORD_OF else None
        entity = read_entity(elem, Ctx(frame.path, self.report), RECORD_LEVELS[frame.name], parent_code)
        wrapper.sor_code, wrapper.seen_record = entity.sor_code, True
        return entity

    def _close_wrapper(self, elem: etree._Element, frame: _Frame) -> None:
        if not frame.seen_record:
            raise SorFormatError(
                f"{frame.name} without its {_RECORD_OF[frame.name]} record", frame.path, elem.sourceline
            )

    def _read_header(self, elem: etree._Element, frame: _Frame) -> None:
        ctx = Ctx(frame.path, self.report)
        if frame.name == "CreatedAtTime":
            self.header.created_at = read_datetime(elem, ctx)
        else:
            self.header.snapshot_date = read_date(elem, ctx)


def _free(elem: etree._Element) -> None:
    """Drop a finished element and its finished elder siblings, so the parsed tree never grows."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


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
    header = SorHeader()
    entities = []
    seen: set[str] = set()
    for entity in iter_entities(source, header):
        if entity.sor_code in seen:
            raise SorFormatError(f"SOR code {entity.sor_code} appears twice", "/SorTree")
        seen.add(entity.sor_code)
        entities.append(entity)
    if on_issue is not None:
        for issue in header.issues:
            on_issue(issue)
    return SorExport(header.created_at, header.snapshot_date, tuple(entities), tuple(header.issues))
