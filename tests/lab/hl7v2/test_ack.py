"""ACK rendering: MSH mirrors the sender, MSA echoes the control id, ERR names the location (v2.5 ERR-2)."""

from __future__ import annotations

from datetime import UTC, datetime

from bindeled.lab.hl7v2 import er7
from bindeled.lab.hl7v2.ack import Ack, AckCode, salvage_header
from bindeled.lab.hl7v2.errors import ErrorCode, ErrorLocation, Hl7Error
from tests.lab.messages import LAB, oru

NOW = datetime(2026, 3, 10, 12, 0, 1, tzinfo=UTC)


def test_accept_mirrors_routing_and_echoes_control_id() -> None:
    msh = er7.parse(oru()).msh
    ack = er7.parse(Ack(AckCode.ACCEPT, "MSG0001", answering=msh).render(NOW, "ACK1"))
    out = ack.msh
    assert (out[3], out[4], out[5], out[6]) == ("BINDELED", "BINDELED", "KMA-LIS", LAB)
    assert out.field(9).repetitions == ((("ACK",), ("R01",), ("ACK",)),)
    assert (out[7], out[10], out[11], out[12]) == ("20260310120001+0000", "ACK1", "P", "2.5")
    msa = ack.segments[1]
    assert (msa.id, msa[1], msa[2]) == ("MSA", "AA", "MSG0001")
    assert len(ack.segments) == 2


def test_error_ack_has_err_with_erl_code_and_severity() -> None:
    error = Hl7Error("OBX-2 names an unsupported value type", ErrorLocation("OBX", 3, 2), ErrorCode.DATA_TYPE)
    rendered = Ack.for_error(error, "MSG9", er7.parse(oru()).msh).render(NOW, "A2")
    ack = er7.parse(rendered)
    msa, err = ack.segments[1], ack.segments[2]
    assert (msa[1], msa[2], msa[3]) == ("AE", "MSG9", "OBX-2 names an unsupported value type")
    assert err.id == "ERR"
    assert err.field(2).repetitions == ((("OBX",), ("3",), ("2",), ("",), ("",), ("",)),)
    assert err.field(3).repetitions == ((("102",), ("Data type error",), ("HL70357",)),)
    assert err[4] == "E"
    assert err[8] == "OBX-2 names an unsupported value type"


def test_reject_without_a_readable_header() -> None:
    error = Hl7Error("broken", ErrorLocation("MSH", 1, 2), ErrorCode.DATA_TYPE, reject=True)
    ack = er7.parse(Ack.for_error(error, "", None).render(NOW, "A3"))
    assert (ack.segments[1][1], ack.segments[1][2]) == ("AR", "")
    assert ack.msh.field(9).value == "ACK"


def test_salvage_header_reads_what_it_can() -> None:
    header = salvage_header("MSH|^~\\^|APP|FAC|||x||ORU^R01|CTRL7|P|2.5\rgarbage")
    assert header is not None
    assert (header[3], header[4], header[10]) == ("APP", "FAC", "CTRL7")
    assert header.field(9).component(2) == "R01"
    assert salvage_header("PID|1") is None
    assert salvage_header("") is None
