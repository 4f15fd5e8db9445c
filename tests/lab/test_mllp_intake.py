"""The MLLP listener end to end: a real socket client on 127.0.0.1 against the server and intake pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bindeled.lab import Er7Handler, MemorySink, QuarantineStatus, inspect, replay
from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.mllp import MllpClient, MllpServer, frame
from bindeled.lab.hl7v2.oru_r01 import ResultKey
from tests.lab.messages import CPR, LAB, oru

pytestmark = pytest.mark.anyio

KEY = ResultKey(LAB, "S1000", "BLOD-D")


@pytest.fixture
async def server(sink: MemorySink) -> AsyncIterator[MllpServer]:
    async with MllpServer(Er7Handler(sink), max_frame=16_384) as running:
        yield running


@pytest.fixture
async def client(server: MllpServer) -> AsyncIterator[MllpClient]:
    async with await MllpClient.connect("127.0.0.1", server.port) as connected:
        yield connected


def parse_ack(payload: bytes) -> er7.Message:
    ack = er7.parse(payload.decode())
    assert ack.msh.field(9).value == "ACK"
    return ack


def msa(ack: er7.Message) -> tuple[str, str]:
    segment = ack.segments[1]
    return segment[1], segment[2]


def erl(ack: er7.Message) -> tuple[str, ...]:
    err = ack.segments[2]
    assert err.id == "ERR"
    return tuple(comp[0] for comp in err.field(2).repetitions[0][:3])


async def test_valid_message_is_accepted_and_stored(client: MllpClient, sink: MemorySink) -> None:
    ack = parse_ack(await client.send(oru().encode()))
    assert msa(ack) == ("AA", "MSG0001")
    assert ack.msh[5] == "KMA-LIS"
    current = await sink.current(KEY)
    assert current is not None
    assert current.status == "final"
    assert current.cpr == CPR
    assert await inspect(sink) == []


async def test_missing_pid3_is_answered_ae_and_quarantined(client: MllpClient, sink: MemorySink) -> None:
    raw = oru(pid3="", control_id="NO-PID3").encode()
    ack = parse_ack(await client.send(raw))
    assert msa(ack) == ("AE", "NO-PID3")
    assert erl(ack) == ("PID", "1", "3")
    assert ack.segments[2].field(3).component(1) == "101"
    (record,) = await inspect(sink)
    assert (record.raw, record.control_id, record.source) == (raw, "NO-PID3", "mllp")
    assert (record.error.where.segment_id, record.error.where.field) == ("PID", 3)
    assert record.status is QuarantineStatus.HELD
    assert await sink.current(KEY) is None


async def test_bad_obx_value_type_names_segment_sequence_and_field(client: MllpClient, sink: MemorySink) -> None:
    obx = ("OBX|1|CWE|ISO^Isolat^L|1|SAUR^S. aureus^L||||||F", "OBX|2|QQ|CLO^C^L|1|S||||||F")
    ack = parse_ack(await client.send(oru(obx=obx, control_id="BAD-OBX").encode()))
    assert msa(ack) == ("AE", "BAD-OBX")
    assert erl(ack) == ("OBX", "2", "2")
    assert ack.segments[2].field(3).component(1) == "102"
    assert len(await inspect(sink)) == 1


async def test_broken_msh_is_rejected_ar(client: MllpClient, sink: MemorySink) -> None:
    raw = oru().replace("MSH|^~\\&|", "MSH|^^|", 1).encode()
    ack = parse_ack(await client.send(raw))
    assert msa(ack) == ("AR", "MSG0001")  # the control id is still salvaged for the sender
    assert erl(ack) == ("MSH", "1", "2")
    (record,) = await inspect(sink)
    assert record.raw == raw


async def test_not_hl7_at_all_is_rejected(client: MllpClient, sink: MemorySink) -> None:
    ack = parse_ack(await client.send(b"hello, is this the lab?"))
    assert msa(ack) == ("AR", "")
    assert erl(ack)[0] == "MSH"
    assert len(await inspect(sink)) == 1


async def test_wrong_character_set_is_rejected(client: MllpClient, sink: MemorySink) -> None:
    raw = oru().replace("Jensen", "Sørensen").encode("latin-1")
    ack = parse_ack(await client.send(raw))
    assert msa(ack)[0] == "AR"
    assert erl(ack) == ("MSH", "1", "18")
    latin = oru().replace("UNICODE UTF-8", "8859/1").replace("Jensen", "Sørensen").encode("latin-1")
    assert msa(parse_ack(await client.send(latin))) == ("AA", "MSG0001")
    current = await sink.current(KEY)
    assert current is not None
    assert current.patient["name"][0]["family"] == "Sørensen"


async def test_duplicate_is_idempotent(client: MllpClient, sink: MemorySink) -> None:
    first = parse_ack(await client.send(oru().encode()))
    second = parse_ack(await client.send(oru().encode()))
    assert msa(first) == msa(second) == ("AA", "MSG0001")
    assert second.segments[1][3] == "duplicate"
    assert len(await sink.versions(KEY)) == 1
    assert await inspect(sink, None) == []


async def test_corrections_supersede_and_late_versions_do_not(client: MllpClient, sink: MemorySink) -> None:
    prelim = oru(status="P", control_id="V1", sent="20260309080000")
    final = oru(status="F", control_id="V2", sent="20260310120000")
    corrected = oru(status="C", control_id="V3", sent="20260311090000")
    for text in (prelim, final):
        assert msa(parse_ack(await client.send(text.encode())))[0] == "AA"
    current = await sink.current(KEY)
    assert current is not None
    assert current.control_id == "V2"
    await client.send(corrected.encode())
    late = oru(status="P", control_id="V0", sent="20260308230000")  # an older preliminary arriving last
    assert msa(parse_ack(await client.send(late.encode()))) == ("AA", "V0")
    current = await sink.current(KEY)
    assert current is not None
    assert (current.control_id, current.status, current.report["status"]) == ("V3", "corrected", "corrected")
    assert [v.control_id for v in await sink.versions(KEY)] == ["V1", "V2", "V3", "V0"]


async def test_partial_frames_and_garbage_across_tcp_writes(client: MllpClient, sink: MemorySink) -> None:
    stream = b"\r\n junk " + frame(oru(control_id="P1").encode()) + b"\x00\x00" + frame(oru(control_id="P2").encode())
    for start in range(0, len(stream), 97):
        await client.write(stream[start : start + 97])
        await asyncio.sleep(0)
    answers = [parse_ack(await client.receive()), parse_ack(await client.receive())]
    assert [msa(a) for a in answers] == [("AA", "P1"), ("AA", "P2")]
    assert [v.control_id for v in await sink.versions(KEY)] == ["P1", "P2"]


async def test_oversized_frame_is_rejected_and_the_connection_goes_on(client: MllpClient, sink: MemorySink) -> None:
    huge = oru(control_id="HUGE", obx=tuple(f"OBX|{i}|ST|NOTE^Note^L||{'x' * 200}||||||F" for i in range(1, 120)))
    ack = parse_ack(await client.send(huge.encode()))
    assert msa(ack) == ("AR", "HUGE")
    (record,) = await inspect(sink)
    assert record.source == "mllp-oversized"
    assert record.raw == huge.encode()[: len(record.raw)]
    assert msa(parse_ack(await client.send(oru().encode()))) == ("AA", "MSG0001")


async def test_many_connections_at_once(server: MllpServer, sink: MemorySink) -> None:
    async def one_client(number: int) -> list[str]:
        async with await MllpClient.connect("127.0.0.1", server.port) as mine:
            codes = []
            for sequence in range(5):
                text = oru(control_id=f"C{number}-{sequence}").replace("S1000", f"S{number}")
                codes.append(msa(parse_ack(await mine.send(text.encode())))[0])
            return codes

    results = await asyncio.gather(*(one_client(n) for n in range(12)))
    assert all(codes == ["AA"] * 5 for codes in results)
    assert len(sink.result_keys()) == 12


async def test_quarantined_message_replayed_after_a_fix(client: MllpClient, sink: MemorySink) -> None:
    bad = oru(pid3="", control_id="FIXME")
    await client.send(bad.encode())
    (record,) = await inspect(sink)
    still_bad = await replay(sink, record.id)
    assert still_bad.code.value == "AE"
    assert (await inspect(sink))[0].attempts == 1
    fixed = await replay(sink, record.id, corrected=oru(control_id="FIXME").encode())
    assert fixed.code.value == "AA"
    assert await inspect(sink) == []
    (done,) = await inspect(sink, QuarantineStatus.REPLAYED)
    assert done.attempts == 2
    current = await sink.current(KEY)
    assert current is not None
    assert current.control_id == "FIXME"


async def test_a_client_vanishing_mid_frame_leaves_the_server_serving(server: MllpServer, sink: MemorySink) -> None:
    quitter = await MllpClient.connect("127.0.0.1", server.port)
    await quitter.write(b"\x0b" + oru(control_id="HALF").encode()[:100])
    await quitter.close()
    async with await MllpClient.connect("127.0.0.1", server.port) as other:
        assert msa(parse_ack(await other.send(oru().encode()))) == ("AA", "MSG0001")
    assert [v.control_id for v in await sink.versions(KEY)] == ["MSG0001"]
    assert await inspect(sink) == []
