"""The duplicate rule: the decision table, and a simulated receive log never answering a letter twice differently."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bindeled.messaging.acknowledgement import ResponseCode
from bindeled.messaging.duplicates import Decision, Received, Verdict, decide


class MemoryLog:
    """A receive cache in memory, as the hub's store would keep it."""

    def __init__(self, *rows: Received) -> None:
        self.rows = list(rows)

    def by_envelope(self, envelope_id: str) -> Received | None:
        return next((r for r in self.rows if r.envelope_id == envelope_id), None)

    def first_by_message(self, message_id: str) -> Received | None:
        return next((r for r in self.rows if r.message_id == message_id), None)


OK, FATAL, TRANSIENT = ResponseCode.OK, ResponseCode.FATAL_ERROR, ResponseCode.TRANSIENT_ERROR
FIRST = Received("env-1", "msg-1", FATAL, "ack-1")


@pytest.mark.parametrize(
    ("envelope", "message", "verdict", "response", "reused"),
    [
        ("env-9", "msg-9", Verdict.PROCESS, None, False),
        ("env-1", "msg-1", Verdict.RESEND_ACK, FATAL, False),
        ("env-9", "msg-1", Verdict.DUPLICATE, FATAL, False),
        ("env-1", "msg-9", Verdict.REJECT, FATAL, True),
        ("env-2", "msg-1", Verdict.DUPLICATE, FATAL, True),
    ],
    ids=[
        "new-new",
        "seen-seen",
        "new-envelope-seen-letter",
        "reused-envelope-new-letter",
        "reused-envelope-seen-letter",
    ],
)
def test_decision_table(
    envelope: str, message: str, verdict: Verdict, response: ResponseCode | None, reused: bool
) -> None:
    log = MemoryLog(FIRST, Received("env-2", "msg-2", OK, "ack-2"))
    decision = decide(envelope, message, log)
    assert (decision.verdict, decision.response, decision.envelope_reused) == (verdict, response, reused)


def test_resend_repeats_the_original_acknowledgement() -> None:
    decision = decide("env-1", "msg-1", MemoryLog(FIRST))
    assert decision.original is FIRST
    assert decision.original.ack_envelope_id == "ack-1"


def test_still_processing_has_no_answer_yet() -> None:
    decision = decide("env-5", "msg-1", MemoryLog(Received("env-1", "msg-1", None)))
    assert decision == Decision(Verdict.DUPLICATE, Received("env-1", "msg-1", None))
    assert decision.response is None


transmissions = st.lists(
    st.tuples(
        st.sampled_from(["e1", "e2", "e3", "e4"]),
        st.sampled_from(["m1", "m2", "m3"]),
        st.sampled_from(list(ResponseCode)),
    ),
    max_size=25,
)


@given(transmissions)
def test_a_letter_is_never_answered_differently(sequence: list[tuple[str, str, ResponseCode]]) -> None:
    log = MemoryLog()
    answers: dict[str, set[ResponseCode]] = {}
    processed: list[str] = []
    for envelope, message, outcome in sequence:
        decision = decide(envelope, message, log)
        if decision.verdict is Verdict.PROCESS:
            processed.append(message)
            answer = outcome
        else:
            assert decision.response is not None
            answer = decision.response
        log.rows.append(Received(envelope, message, answer))
        answers.setdefault(message, set()).add(answer)
    assert all(len(codes) == 1 for codes in answers.values())
    assert len(processed) == len(set(processed)), "a letter was delivered twice"
