"""Narrative XHTML sanity."""

from __future__ import annotations

from typing import Any

import pytest

from bindeled.fhir.validation import Validator
from bindeled.fhir.validation.narrative import check_div

from .conftest import errors

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


@pytest.mark.parametrize(
    "div",
    [
        f"<div {NS}>Hello</div>",
        f"<div {NS}><p>a&nbsp;b</p><table><tr><td>x</td></tr></table></div>",
        f'<div {NS}><img src="#x"/></div>',
        f'<div {NS}><a href="http://example.org" style="color:red">x</a></div>',
    ],
)
def test_good_narratives(div: str) -> None:
    assert check_div(div) is None


@pytest.mark.parametrize(
    "div",
    [
        "<div>no namespace</div>",
        f"<p {NS}>not a div</p>",
        f"<div {NS}><script>alert(1)</script>x</div>",
        f"<div {NS}><form><input/></form>x</div>",
        f'<div {NS}><p onclick="x()">x</p></div>',
        f"<div {NS}><iframe/>x</div>",
        f"<div {NS}>   </div>",
        f"<div {NS}><p>unclosed</div>",
    ],
)
def test_bad_narratives(div: str) -> None:
    assert check_div(div) is not None


def test_narrative_issue_location(validator: Validator, patient: dict[str, Any]) -> None:
    patient["text"]["div"] = f"<div {NS}><script>x</script>y</div>"
    assert errors(validator.validate(patient)) == [("value", "Patient.text.div")]
