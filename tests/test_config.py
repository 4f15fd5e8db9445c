"""Settings: precedence, validation, and that every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from bindeled.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def test_precedence_defaults_file_env_overrides(tmp_path: Path) -> None:
    toml = tmp_path / "b.toml"
    toml.write_text('port = 9001\nlog_level = "DEBUG"\nhost = "0.0.0.0"\n')
    settings = load_settings(toml, environ={"BINDELED_PORT": "9002", "BINDELED_DEV": "true"}, host=None)
    assert settings.port == 9002 and settings.log_level == "DEBUG" and settings.dev is True
    assert settings.host == "0.0.0.0"
    assert load_settings(toml, environ={"BINDELED_PORT": "9002"}, port=9003).port == 9003
    assert load_settings(environ={"BINDELED_CONFIG": str(toml)}).port == 9001


def test_invalid_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="port"):
        load_settings(environ={"BINDELED_PORT": "70000"})
    with pytest.raises(ValueError, match="database_url"):
        load_settings(environ={"BINDELED_DATABASE_URL": "mysql://x"})
    with pytest.raises(ValueError):
        load_settings(environ={"BINDELED_PORT": "eighty"})
    unknown = tmp_path / "u.toml"
    unknown.write_text("colour = 'blue'\n")
    with pytest.raises(ValueError, match="colour"):
        load_settings(unknown, environ={})


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
    assert settings.replace(port=1234).port == 1234


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", doc, re.M))
    fields = {f.name for f in msgspec.structs.fields(Settings)}
    assert fields == documented


def test_list_settings_from_the_environment() -> None:
    settings = load_settings(environ={"BINDELED_FHIR_PROFILE_PACKAGES": "/a/dk-core, /b/medcom"})
    assert settings.fhir_profile_packages == ("/a/dk-core", "/b/medcom")
