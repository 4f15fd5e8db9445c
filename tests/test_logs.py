"""The application log never carries a CPR number or a token, and is one JSON object per line."""

from __future__ import annotations

import json
import logging

import pytest

from bindeled.logs import JsonFormatter, RedactingFilter, redact, request_id_var


def test_redact() -> None:
    assert "0101701234" not in redact("patient 0101701234 and 010170-1234")
    assert "eyJ" not in redact("token eyJhbGciOi.eyJzdWIiOi.sig")
    assert "secret" not in redact("Authorization: Bearer secret")
    assert redact("order 12345") == "order 12345"


def test_records_are_json_and_redacted(caplog: pytest.LogCaptureFixture) -> None:
    record = logging.LogRecord("bindeled.test", logging.INFO, __file__, 1, "looked up %s", ("0101701234",), None)
    RedactingFilter().filter(record)
    token = request_id_var.set("req-1")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    out = json.loads(line)
    assert out["message"] == "looked up [redacted-cpr]"
    assert out["request_id"] == "req-1" and out["level"] == "INFO"
