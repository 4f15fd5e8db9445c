"""The `bindeled` command: help, definitions, migrations, and the demo as a real process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from bindeled.cli import main


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "demo", "definitions", "migrate", "surveillance"):
        assert command in result.output


def test_definitions_check() -> None:
    result = CliRunner().invoke(main, ["definitions", "check"])
    assert result.exit_code == 0, result.output
    assert "146 resource types" in result.output and "1375 search parameters" in result.output


def test_definitions_missing_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["definitions", "check"], env={"BINDELED_FHIR_PACKAGE_CACHE": str(tmp_path)})
    assert result.exit_code == 1
    assert "bindeled definitions install" in result.output


def test_definitions_install_from_tarball_is_idempotent(tmp_path: Path) -> None:
    env = {"BINDELED_FHIR_PACKAGE_CACHE": str(Path("~/.fhir/packages").expanduser())}
    result = CliRunner().invoke(main, ["definitions", "install"], env=env)
    assert result.exit_code == 0, result.output
    assert "hl7.fhir.r4.examples#4.0.1" in result.output


def test_bad_settings_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["migrate", "--database", "mysql://nope"])
    assert result.exit_code == 2
    assert "database_url" in result.output


def test_migrate_then_dry_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    pending = CliRunner().invoke(main, ["migrate", "--database", url, "--dry-run"])
    assert pending.exit_code == 0, pending.output
    assert "0001" in pending.output
    assert CliRunner().invoke(main, ["migrate", "--database", url]).exit_code == 0
    after = CliRunner().invoke(main, ["migrate", "--database", url, "--dry-run"])
    assert "No pending migrations" in after.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_demo_builds_synthetic_data_and_serves_it(tmp_path: Path, shared_dir: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "BINDELED_LOG_JSON": "true",
        "BINDELED_DATA_DIR": str(tmp_path / "data"),
        "BINDELED_MEDCOM_PACKAGES_DIR": str(shared_dir / "standards" / "fhir-packages"),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bindeled",
            "demo",
            "--citizens",
            "12",
            "--port",
            str(port),
            "--database",
            f"sqlite:///{tmp_path / 'demo.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}/fhir"
        deadline = time.monotonic() + 600  # a busy shared machine builds slowly
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the demo did not start in time"
            try:
                if httpx.get(f"{base}/metadata", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert httpx.get(f"{base}/Patient").status_code == 401
        token = CliRunner().invoke(main, ["token", "--as", "admin"], env=env).output.strip()
        headers = {"Authorization": f"Bearer {token}"}
        bundle = httpx.get(f"{base}/Patient", params={"_count": "100", "_total": "accurate"}, headers=headers).json()
        assert bundle["total"] == 12
        tags = {t["code"] for e in bundle["entry"] for t in e["resource"]["meta"]["tag"]}
        assert "SYNTHETIC" in tags
        # Every service has its part of the region: appointments, plans, lab results, stays, mailboxes.
        for query in (
            "Appointment",
            "DiagnosticReport",
            "Encounter?_tag=https://bindeled.dk/fhir/CodeSystem/overview|current-stay",
        ):
            found = httpx.get(f"{base}/{query}", params={"_summary": "count"}, headers=headers).json()
            assert found["total"] > 0, query
        # The demo logins are people in the data: the citizen finds exactly their own record.
        citizen = CliRunner().invoke(main, ["token", "--as", "citizen"], env=env).output.strip()
        own = httpx.get(f"{base}/Patient", headers={"Authorization": f"Bearer {citizen}"}).json()
        assert [e["resource"]["name"][0]["given"] for e in own["entry"]] == [["Carl"]]
        endpoints = httpx.get(f"{base}/Endpoint", params={"_count": "1000"}, headers=headers).json()
        assert any(e["resource"]["id"].startswith("eer-") for e in endpoints["entry"]), "mailboxes registered"
        reports = sorted(p.suffix for p in (tmp_path / "data" / "surveillance" / "reports").rglob("*.*"))
        assert {".csv", ".html", ".pdf"} <= set(reports)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=30)
    assert "Synthetic demo data (not real people): 12 citizens" in out
    assert "MedCom messages" in out and " 0 MedCom messages" not in out
    assert f"http://127.0.0.1:{port}/fhir/metadata" in out
    assert "Demo logins" in out and "sosu" in out


def test_import_sor_and_reimport_reports_changes(tmp_path: Path, shared_dir: Path) -> None:
    samples = sorted((shared_dir / "standards" / "esp" / "sor-xml").glob("*.xml"))
    assert samples
    url = f"sqlite:///{tmp_path / 'sor.db'}"
    first = CliRunner().invoke(main, ["import", "sor", str(samples[0]), "--database", url])
    assert first.exit_code == 0, first.output
    assert "created" in first.output and " 0 created" not in first.output
    again = CliRunner().invoke(
        main, ["import", "sor", str(samples[0]), "--database", url, "--previous", str(samples[0])]
    )
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated" in again.output and "unchanged" in again.output


def test_import_sor_rejects_malformed_xml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<not-sor>")
    result = CliRunner().invoke(main, ["import", "sor", str(bad), "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
