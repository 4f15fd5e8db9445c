"""``bindeled surveillance outbreak``: the detectors from the shell, for people who come from R.

    bindeled surveillance outbreak --method farringtonFlexible --control '{"b":5,"w":3}' weeks.csv

INPUT.csv has an ``observed`` column (optional ``year``, ``epoch_in_year``, ``population``,
``date``), one row per week in order (``-`` reads standard input). The output CSV goes to standard
output: one row per monitored week with ``t``, ``observed``, ``upperbound``, ``alarm`` and the
method's internals. Bad input gives a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

from typing import TextIO

import click

from .csvio import read_series, write_result
from .detect import detect
from .rjson import METHODS, control_from_r_json

__all__ = ["outbreak"]


@click.command("outbreak")
@click.option("--method", "method", required=True, type=click.Choice(list(METHODS)), help="R's function name.")
@click.option(
    "--control",
    "control",
    default="{}",
    show_default=True,
    help='R control list as JSON, R names and values, e.g. \'{"b":5,"w":3,"range":[209,260]}\'.',
)
@click.argument("input_csv", type=click.File("r", encoding="utf-8"))
def outbreak(method: str, control: str, input_csv: TextIO) -> None:
    """Run an outbreak detector over a weekly count series and print the result as CSV."""
    try:
        parsed = control_from_r_json(method, control)
        series = read_series(input_csv.read())
        result = detect(method, series, parsed)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(write_result(result), nl=False)
