"""Receiving one MedCom message: check, decide, answer, store and queue — in one transaction.

The steps (issue #6 points 1–3, DOMAIN §5 rules 5.1–5.5):

1. The transmission is a message Bundle that can be answered: a MessageHeader with an id, an
   envelope id, sender and primary receiver with SOR and GLN, and a ``source.endpoint``. Otherwise
   there is nobody to send an Acknowledgement to, and the caller gets an error instead (400/422).
2. The sender system may only send as its own organisation or a unit below it (:mod:`.routing`).
3. The letter is validated against the profile it claims and the business rules (on a worker
   thread: validation is CPU work), and routed: its receiver must be known and accept the type.
   This happens before the duplicate decision, for copies too (they are rare; asking first would
   cost every letter a round trip to the store); a copy's assessment is simply not used.
4. MedCom's duplicate rule (:mod:`bindeled.messaging.duplicates`) decides, inside the transaction,
   whether the copy is new (one query for the envelope and the letter).
5. In one transaction: the letter (bytes as received), its envelope, the hops, the letter queued for
   the receiver (only when ``ok``), the Acknowledgement queued for the sender, the stay effect of a
   HospitalNotification, and the request's audit record. A crash before commit leaves nothing; a
   concurrent first copy of the same letter makes the transaction start again and see a duplicate.

Every non-acknowledgement letter gets exactly one answer *code*: a repeated envelope gets the
original Acknowledgement again; a new envelope of a known letter gets a new Acknowledgement (new
ids and time) with the first answer's code and issues, and is not delivered again.

An incoming Acknowledgement is a letter too: validated, routed to its receiver (the sender of the
acknowledged letter) and queued, and the acknowledged letter is marked answered
(:func:`~bindeled.messaging.delivery.outbox.on_receiver_acknowledgement`). Acknowledgements are
never acknowledged, so an invalid one is refused to the caller (422) and goes no further.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import msgspec

from ...errors import BindeledError, InvalidRequest, Issue, Unprocessable
from ...fhir import jsonio
from ...fhir.definitions import Definitions
from ...fhir.xmlio import xml_to_resource
from ...store.base import Clock, Store, Transaction, TransientConflict, run_transaction, utc_now
from ...store.guard import current_guard
from ...store.repository import Repository
from ...store.sql_params import chunks
from ..acknowledgement import AckIds, ResponseCode, build_acknowledgement
from ..conformance import validate_message
from ..delivery.outbox import Outgoing, enqueue_statement, on_receiver_acknowledgement
from ..duplicates import Verdict
from ..hospital_notification import read_notification
from ..messages import Message
from ..profiles import MessageType, ValidatorPool, message_type_of
from .one_statement import Statement, run_together
from .package_defects import set_aside_package_defects
from .received import Letter, decide_transmission, envelope_statement, find_letter, letter_statement
from .routing import Parties, may_send_as, parties_of, resolve_receiver
from .status import Hop, HopRecord, hops_statement
from .stay_effects import RegisteredUnits, apply_notification

__all__ = ["ACK_EVENT", "Hub", "HubUnavailable", "Receipt", "SenderRefused", "answerable_parties", "check_shape"]

ACK_EVENT = "acknowledgement-message"


_MALFORMED = (TypeError, AttributeError, KeyError, IndexError, ValueError)
"""What reading a Bundle of the wrong shape (a list where an object belongs, …) raises in the views and the
validator; at the hub's door that is the sender's malformed message, never a server error."""


def _malformed() -> InvalidRequest:
    return InvalidRequest("The message Bundle is malformed and cannot be read", location=("Bundle",))


def _acknowledge(
    message: Message, code: ResponseCode, ids: AckIds, at: datetime, issues: list[Issue]
) -> dict[str, Any]:
    """The Acknowledgement; a message too malformed to answer is refused (400) instead."""
    try:
        return build_acknowledgement(message, code, ids, at, issues)
    except _MALFORMED as broken:
        raise _malformed() from broken


class HubUnavailable(BindeledError):
    """The hub cannot validate messages (its MedCom packages are missing): nothing was received."""

    status, code = 503, "transient"


class SenderRefused(Exception):
    """The caller may not send as the message's sender organisation (the API answers 403)."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the hub answers the transmission with."""

    verdict: str
    """``processed``, ``refused``, ``resent``, ``duplicate``, ``rejected`` or ``acknowledgement``."""
    response_code: str
    """The Acknowledgement's code (for an incoming Acknowledgement: the code it carries)."""
    acknowledgement: bytes | None
    """The Acknowledgement Bundle (FHIR JSON) sent to the sender; None for an incoming Acknowledgement."""


@dataclass(frozen=True, slots=True)
class _Assessment:
    """The outcome of validating and routing a new letter (computed before the transaction)."""

    kind: MessageType | None
    issues: list[Issue]
    code: ResponseCode

    @property
    def event(self) -> str:
        return self.kind.event if self.kind is not None else "unknown"


def _new_ids() -> AckIds:
    return AckIds(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()))


def _codes(issues: list[Issue]) -> str:
    """Hop detail for a refusal: the stable codes only (diagnostics may quote message content)."""
    return ", ".join(sorted({i.details_code or i.code for i in issues if i.is_error})) or "fatal-error"


def _issues_of_ack(acknowledgement: bytes) -> list[Issue]:
    """The issues an earlier Acknowledgement reported, to answer a duplicate with the same content."""
    bundle = msgspec.json.decode(acknowledgement)
    found: list[Issue] = []
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "OperationOutcome":
            continue
        for item in resource.get("issue") or ():
            codings = (item.get("details") or {}).get("coding") or [{}]
            found.append(
                Issue(
                    str(item.get("severity", "error")),
                    str(item.get("code", "processing")),
                    str(item.get("diagnostics", "")),
                    tuple(item.get("expression") or ()),
                    codings[0].get("code"),
                )
            )
    return found


def check_shape(bundle: dict[str, Any]) -> Message:
    """The message view of a body that is a message Bundle with its MessageHeader first; else 400."""
    if bundle.get("resourceType") != "Bundle":
        raise InvalidRequest("$process-message needs a Bundle", location=("resourceType",))
    if bundle.get("type") != "message":
        raise InvalidRequest("$process-message needs a Bundle of type message", location=("Bundle.type",))
    message = Message(bundle)
    if message.header_entry is None:
        raise InvalidRequest("The first entry of a message must be its MessageHeader", location=("Bundle.entry[0]",))
    return message


def answerable_parties(message: Message) -> Parties:
    """The parties of a message an Acknowledgement can be sent for; 422 when it cannot be answered."""
    parties = parties_of(message)
    missing = []
    if not message.envelope_id:
        missing.append(("Bundle.id", "The message has no Bundle.id (envelope id)"))
    if not message.message_id:
        missing.append(("Bundle.entry[0].resource.id", "The MessageHeader has no id"))
    if not message.source_endpoint:
        missing.append(("Bundle.entry[0].resource.source.endpoint", "The MessageHeader names no source endpoint"))
    if parties is None:
        missing.append(
            ("Bundle.entry[0].resource", "Sender and primary receiver must be Organizations with SOR and GLN")
        )
    if missing or parties is None:
        issues = [Issue("error", "required", text, (where,), "MSG_RESOURCE_REQUIRED") for where, text in missing]
        raise Unprocessable("The message cannot be acknowledged", issues=issues)
    return parties


class Hub:
    """The receiving side of the message hub for one process (store, repository, validators)."""

    def __init__(
        self,
        store: Store,
        repo: Repository,
        definitions: Definitions,
        pool: ValidatorPool,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.repo = repo
        self.definitions = definitions
        self.pool = pool
        self.clock = clock
        self.units = RegisteredUnits(store)

    # -- the steps before the transaction ---------------------------------------------------------

    async def _validate(self, message: Message, size: int) -> tuple[MessageType | None, list[Issue]]:
        try:
            kind = message_type_of(message)
        except Unprocessable as refused:
            return None, refused.all_issues()
        run: Callable[[], list[Issue]] = functools.partial(validate_message, message, self.pool, size=size)
        try:
            issues = await anyio.to_thread.run_sync(run)
        except FileNotFoundError as missing:
            raise HubUnavailable("The hub's MedCom packages are not installed (medcom_packages_dir)") from missing
        except _MALFORMED:
            text = "The message is not well-formed FHIR and could not be validated"
            return kind, [Issue("error", "structure", text, ("Bundle",), "MSG_BAD_SYNTAX")]
        return kind, set_aside_package_defects(message, [i for i in issues if i.is_error])

    async def _assess(self, message: Message, parties: Parties, size: int) -> _Assessment:
        kind, issues = await self._validate(message, size)
        if kind is not None and not issues:
            _endpoint, issues = await resolve_receiver(self.store, parties, kind)
        return _Assessment(kind, issues, ResponseCode.FATAL_ERROR if issues else ResponseCode.OK)

    # -- the public step ---------------------------------------------------------------------------

    async def receive(
        self, raw: bytes, media_type: str, bundle: dict[str, Any], *, acting_sor: str | None, admin: bool
    ) -> Receipt:
        """Receive one transmission; raises InvalidRequest/Unprocessable/SenderRefused when it cannot be answered."""
        try:
            message = check_shape(bundle)
            parties = answerable_parties(message)
        except _MALFORMED as broken:
            raise _malformed() from broken
        if not admin and (acting_sor is None or not await self._may_send(acting_sor, parties.sender_sor)):
            raise SenderRefused("The caller's organisation may not send as the message's sender")
        if message.event == ACK_EVENT:
            return await self._receive_acknowledgement(raw, media_type, message, parties)
        envelope_id, message_id = str(message.envelope_id), str(message.message_id)
        # Validated before the transaction, copy or not: copies are rare, and asking the store first would
        # cost every letter a round trip. The duplicate rule is decided once, inside the transaction.
        assessment = await self._assess(message, parties, len(raw))
        letter = _Incoming(raw, media_type, message, parties)

        async def work(tx: Transaction) -> Receipt:
            now = self.clock()
            writes = _Writes(self.store.dialect)
            current, first = await decide_transmission(tx, envelope_id, message_id)
            if current.verdict is Verdict.RESEND_ACK and first is not None:
                receipt = self._resend(writes, first, now)
            elif current.verdict is Verdict.DUPLICATE and first is not None:
                receipt = self._duplicate(writes, letter, first, now)
            elif current.verdict is Verdict.REJECT:
                receipt = self._reject(writes, letter, now)
            else:
                receipt = await self._process(tx, writes, letter, assessment, now)
            await writes.flush(tx, now)
            await current_guard().finish(200, tx)
            return receipt

        return await run_transaction(self.store, work)

    async def _may_send(self, acting_sor: str, sender_sor: str) -> bool:
        return await may_send_as(self.store, acting_sor, sender_sor)

    # -- the verdicts, inside the transaction ------------------------------------------------------

    def _answer(
        self,
        writes: _Writes,
        letter: _Incoming,
        event: str,
        ack: dict[str, Any],
        code: ResponseCode,
        now: datetime,
        payload: bytes | None = None,
    ) -> bytes:
        """Queue an Acknowledgement to the letter's sender and record the hop; its JSON bytes (``payload``
        when the caller encoded it already)."""
        payload = jsonio.encode(ack) if payload is None else payload
        parties = letter.parties
        writes.outgoing.append(
            Outgoing(
                message_id=str(ack["entry"][0]["resource"]["id"]),
                envelope_id=str(ack["id"]),
                message_type=ACK_EVENT,
                sender_gln=parties.receiver_gln,
                receiver_gln=parties.sender_gln,
                payload=payload,
                is_acknowledgement=True,
            ),
        )
        writes.hop(letter, Hop.ACKNOWLEDGED, event, code.value, now)
        return payload

    async def _process(
        self, tx: Transaction, writes: _Writes, letter: _Incoming, found: _Assessment, now: datetime
    ) -> Receipt:
        ack = _acknowledge(letter.message, found.code, _new_ids(), now, found.issues)
        ack_bytes = jsonio.encode(ack)
        # Kept with the other rows at the end; a concurrent first copy then makes the transaction start again.
        writes.letter = letter.letter(found.event, found.code.value, ack_bytes, now)
        writes.envelope = (letter.envelope_id, letter.message_id, now)
        writes.hop(letter, Hop.RECEIVED, found.event, f"envelope {letter.envelope_id}", now)
        if found.code is ResponseCode.OK:
            writes.hop(letter, Hop.VALIDATED, found.event, "", now)
            writes.outgoing.append(letter.outgoing(found.event))
            note = read_notification(letter.message) if found.event == "hospital-notification-message" else None
            if note is not None:
                await apply_notification(tx, self.repo, letter.message, note, later=writes.more, units=self.units)
        else:
            writes.hop(letter, Hop.REFUSED, found.event, _codes(found.issues), now)
        self._answer(writes, letter, found.event, ack, found.code, now, ack_bytes)
        verdict = "processed" if found.code is ResponseCode.OK else "refused"
        return Receipt(verdict, found.code.value, ack_bytes)

    def _resend(self, writes: _Writes, first: Letter, now: datetime) -> Receipt:
        """The same envelope again: the original Acknowledgement, unchanged, queued and answered again."""
        ack = msgspec.json.decode(first.acknowledgement)
        writes.outgoing.append(
            Outgoing(
                message_id=str(ack["entry"][0]["resource"]["id"]),
                envelope_id=str(ack["id"]),
                message_type=ACK_EVENT,
                sender_gln=first.receiver_gln,
                receiver_gln=first.sender_gln,
                payload=first.acknowledgement,
                is_acknowledgement=True,
            ),
        )
        detail = f"{first.response_code}; envelope {first.envelope_id} received again, original acknowledgement"
        writes.hops.append(
            HopRecord(
                first.message_id,
                Hop.ACKNOWLEDGED,
                first.message_type,
                first.sender_gln,
                first.receiver_gln,
                detail,
                now,
            )
        )
        return Receipt("resent", first.response_code, first.acknowledgement)

    def _stored_message(self, first: Letter) -> Message:
        if "xml" in first.media_type:
            return Message(xml_to_resource(first.body, self.definitions))
        return Message(jsonio.decode(first.body))

    def _duplicate(self, writes: _Writes, letter: _Incoming, first: Letter, now: datetime) -> Receipt:
        """A known letter in a new envelope: not delivered again; a new Acknowledgement with the first answer."""
        code = ResponseCode(first.response_code)
        issues = _issues_of_ack(first.acknowledgement)
        ack = _acknowledge(self._stored_message(first), code, _new_ids(), now, issues)
        writes.envelope, writes.envelope_must_be_new = (letter.envelope_id, letter.message_id, now), False
        detail = f"duplicate in envelope {letter.envelope_id}; not delivered again"
        writes.hop(letter, Hop.RECEIVED, first.message_type, detail, now)
        payload = self._answer(writes, letter, first.message_type, ack, code, now)
        return Receipt("duplicate", code.value, payload)

    def _reject(self, writes: _Writes, letter: _Incoming, now: datetime) -> Receipt:
        """A new letter in an envelope used before: fatal-error, remembered so every later copy gets it too."""
        event = letter.message.event or "unknown"
        issue = Issue(
            "error",
            "duplicate",
            "The envelope id (Bundle.id) was used before for another message",
            ("Bundle.id",),
            "MSG_DUPLICATE_ID",
        )
        ack = _acknowledge(letter.message, ResponseCode.FATAL_ERROR, _new_ids(), now, [issue])
        ack_bytes = jsonio.encode(ack)
        writes.letter = letter.letter(event, ResponseCode.FATAL_ERROR.value, ack_bytes, now)
        writes.hop(letter, Hop.RECEIVED, event, f"envelope {letter.envelope_id} (used before)", now)
        writes.hop(letter, Hop.REFUSED, event, "MSG_DUPLICATE_ID", now)
        self._answer(writes, letter, event, ack, ResponseCode.FATAL_ERROR, now, ack_bytes)
        return Receipt("rejected", ResponseCode.FATAL_ERROR.value, ack_bytes)

    # -- incoming Acknowledgements -----------------------------------------------------------------

    async def _receive_acknowledgement(
        self, raw: bytes, media_type: str, message: Message, parties: Parties
    ) -> Receipt:
        response = message.header.get("response")
        acked = response.get("identifier") if isinstance(response, dict) else None
        code = response.get("code") if isinstance(response, dict) else None
        if not isinstance(acked, str) or not isinstance(code, str):
            raise Unprocessable(
                "The Acknowledgement names no acknowledged message or response code",
                location=("Bundle.entry[0].resource.response",),
            )
        original = await find_letter(self.store, acked)
        if original is not None and original.receiver_sor != parties.sender_sor:
            raise SenderRefused("Only the receiver of a letter may acknowledge it")
        letter = _Incoming(raw, media_type, message, parties)
        kind, issues = await self._validate(message, len(raw))
        if kind is not None and not issues:
            _endpoint, issues = await resolve_receiver(self.store, parties, kind)
        if issues:
            raise Unprocessable(
                "The Acknowledgement is refused; acknowledgements are never acknowledged", issues=issues
            )

        async def work(tx: Transaction) -> Receipt:
            now = self.clock()
            current, _ = await decide_transmission(tx, letter.envelope_id, letter.message_id)
            if current.verdict is not Verdict.PROCESS:
                await current_guard().finish(200, tx)
                return Receipt("duplicate", code, None)
            writes = _Writes(self.store.dialect)
            writes.letter = letter.letter(ACK_EVENT, code, b"", now)
            writes.envelope = (letter.envelope_id, letter.message_id, now)
            writes.hop(letter, Hop.RECEIVED, ACK_EVENT, f"acknowledges {acked}: {code}", now)
            writes.hop(letter, Hop.VALIDATED, ACK_EVENT, "", now)
            writes.outgoing.append(letter.outgoing(ACK_EVENT, is_acknowledgement=True))
            await writes.flush(tx, now)
            await on_receiver_acknowledgement(tx, acked, code)
            await current_guard().finish(200, tx)
            return Receipt("acknowledgement", code, None)

        return await run_transaction(self.store, work)


class _Writes:
    """The rows one receiving transaction adds, written together at its end.

    The letter, its envelope, the outgoing letters, the hops and the citizen's stay: one statement on
    PostgreSQL (every statement is a round trip there), one hop to the writer thread on SQLite. A letter
    or envelope that must be new but was kept meanwhile by a concurrent copy makes the transaction start
    again (everything it did is rolled back, the stay effect too).
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.letter: Letter | None = None
        """The letter to keep (it must be new)."""
        self.envelope: tuple[str, str, datetime] | None = None
        """(envelope id, message id, when) to keep."""
        self.envelope_must_be_new = True
        self.hops: list[HopRecord] = []
        self.outgoing: list[Outgoing] = []
        self.more: list[Statement] = []
        """Other rows to write with these (without ``RETURNING``), e.g. the citizen's stay."""

    def hop(self, letter: _Incoming, hop: Hop, event: str, detail: str, at: datetime) -> None:
        p = letter.parties
        self.hops.append(HopRecord(letter.message_id, hop, event, p.sender_gln, p.receiver_gln, detail, at))

    async def flush(self, tx: Transaction, at: datetime) -> None:
        """Write everything; the outgoing letters count as queued at ``at``, the receipt's moment."""
        statements = []
        if self.letter is not None:
            statements.append(letter_statement(self.letter))
        if self.envelope is not None:
            statements.append(envelope_statement(*self.envelope))
        if self.outgoing:
            statements.append(enqueue_statement(self.outgoing, at=at))
        statements.extend(hops_statement(chunk) for chunk in chunks(self.hops))
        statements.extend(self.more)
        counts = iter(await run_together(tx, self.dialect, statements))
        if self.letter is not None and not next(counts):
            raise TransientConflict("Another copy of this letter was received at the same moment")
        if self.envelope is not None and not next(counts) and self.envelope_must_be_new:
            raise TransientConflict("Another transmission in this envelope was received at the same moment")
        self.letter, self.envelope, self.hops, self.outgoing, self.more = None, None, [], [], []


class _Incoming:
    """One transmission being received: the bytes, the parsed message and its parties."""

    def __init__(self, raw: bytes, media_type: str, message: Message, parties: Parties) -> None:
        self.raw = raw
        self.media_type = media_type
        self.message = message
        self.parties = parties
        self.envelope_id = str(message.envelope_id)
        self.message_id = str(message.message_id)

    def json_payload(self) -> bytes:
        """The Bundle as FHIR JSON: the received bytes themselves when they were JSON."""
        return self.raw if "json" in self.media_type else jsonio.encode(self.message.bundle)

    def letter(self, event: str, code: str, acknowledgement: bytes, now: datetime) -> Letter:
        p = self.parties
        return Letter(
            message_id=self.message_id,
            envelope_id=self.envelope_id,
            message_type=event,
            sender_gln=p.sender_gln,
            receiver_gln=p.receiver_gln,
            sender_sor=p.sender_sor,
            receiver_sor=p.receiver_sor,
            received=now,
            response_code=code,
            media_type=self.media_type,
            body=self.raw,
            acknowledgement=acknowledgement,
        )

    def outgoing(self, event: str, *, is_acknowledgement: bool = False) -> Outgoing:
        return Outgoing(
            message_id=self.message_id,
            envelope_id=self.envelope_id,
            message_type=event,
            sender_gln=self.parties.sender_gln,
            receiver_gln=self.parties.receiver_gln,
            payload=self.json_payload(),
            is_acknowledgement=is_acknowledgement,
        )
