"""The public surface: ``__all__`` pinned, R-JSON controls parsed strictly, the CLI's contract."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import bindeled.surveillance.outbreak as outbreak_api
from bindeled.surveillance.outbreak import (
    METHODS,
    ControlError,
    EarsControl,
    FarringtonFlexibleControl,
    GlrControl,
    Mu0Model,
    WeeklySeries,
    control_from_r_json,
    ears_c,
)
from bindeled.surveillance.outbreak.cli import outbreak
from bindeled.surveillance.outbreak.csvio import read_series, write_result


def test_public_names_are_pinned() -> None:
    assert sorted(outbreak_api.__all__, key=str.lower) == sorted(
        [
            "BayesControl",
            "Control",
            "ControlError",
            "CusumControl",
            "DetectionResult",
            "EarsControl",
            "FarringtonControl",
            "FarringtonFlexibleControl",
            "GlrControl",
            "METHODS",
            "Mu0Model",
            "WeekResult",
            "WeeklySeries",
            "bayes",
            "control_from_r_json",
            "cusum",
            "detect",
            "ears_c",
            "farrington",
            "farrington_flexible",
            "glrnb",
            "glrpois",
        ],
        key=str.lower,
    )


def test_r_json_uses_r_names_and_defaults() -> None:
    control = control_from_r_json(
        "farringtonFlexible", '{"b":5,"w":3,"range":[209,260],"reweight":true,"thresholdMethod":"nbPlugin"}'
    )
    assert control == FarringtonFlexibleControl(range=(209, 260), thresholdMethod="nbPlugin")
    glr = control_from_r_json("glrnb", {"c.ARL": 4, "mu0": {"S": 2}, "range": [100, 200]})
    assert glr == GlrControl(range=(100, 200), c_ARL=4.0, mu0=Mu0Model(S=2))
    assert control_from_r_json("earsC", {"method": ["C2"], "verbose": True}) == EarsControl(method="C2")


_KNOWN = {f.name for f in dataclasses.fields(FarringtonFlexibleControl)}


@given(st.text(min_size=1, max_size=20).filter(lambda s: s not in _KNOWN))
def test_unknown_control_names_are_rejected(name: str) -> None:
    if name in ("verbose", "glmWarnings", "plot"):
        return
    with pytest.raises(ControlError, match="unknown control"):
        control_from_r_json("farringtonFlexible", {name: 1})


@pytest.mark.parametrize(
    ("method", "control", "message"),
    [
        ("farringtonFlexible", '{"b": "five"}', "whole number"),
        ("farringtonFlexible", '{"range": [1]}', "two whole numbers"),
        ("earsC", "{not json", "not valid JSON"),
        ("glrpois", '{"alpha": 0.3}', "alpha = 0"),
        ("nope", "{}", "unknown method"),
    ],
)
def test_bad_controls_say_what_is_wrong(method: str, control: str, message: str) -> None:
    with pytest.raises(ControlError, match=message):
        control_from_r_json(method, control)


def test_every_method_has_a_control_record() -> None:
    assert set(METHODS) == {"farringtonFlexible", "farrington", "earsC", "cusum", "glrnb", "glrpois", "bayes"}


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "weeks.csv"
    path.write_text(text)
    return str(path)


def test_cli_writes_one_row_per_monitored_week(tmp_path: Path) -> None:
    counts = [3, 4, 2, 5, 3, 4, 3, 9, 2]
    path = _write(tmp_path, "observed\n" + "\n".join(map(str, counts)) + "\n")
    result = CliRunner().invoke(outbreak, ["--method", "earsC", "--control", '{"method":"C1"}', path])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("t,observed,upperbound,alarm")
    assert [line.split(",")[0] for line in lines[1:]] == ["8", "9"]
    assert lines[1].split(",")[3] == "true"


@pytest.mark.parametrize(
    ("text", "control", "message"),
    [
        ("count\n1\n", "{}", "'observed' column"),
        ("observed\n1\nx\n", "{}", "row 3"),
        ("observed\n1\n-2\n", "{}", "non-negative"),
        ("observed\n1\n2\n", '{"range":[1,2]}', "too short"),
        ("observed\n1\n2\n", '{"metod":"C1"}', "unknown control"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(tmp_path: Path, text: str, control: str, message: str) -> None:
    result = CliRunner().invoke(outbreak, ["--method", "earsC", "--control", control, _write(tmp_path, text)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_csv_round_trip_keeps_na_alarm_empty() -> None:
    series = read_series("observed,date\n" + "\n".join(f"2,2020-01-{d:02d}" for d in range(1, 15)) + "\n")
    assert series.epoch_as_date
    text = write_result(ears_c(WeeklySeries.of([2] * 14), EarsControl(method="C3")))
    first = text.splitlines()[1].split(",")
    assert first[2] == "NA" and first[3] == ""
    assert json.dumps(text)  # plain text, no binary
