"""Known limitations of the generic profile validator and defects of the compiled packages.

The issues they cause are set aside by the MedCom tests, and strict xfail tests track each one, so
the day the validator is fixed those tests fail and this list shrinks.

Fixed limitations move to ``FIXED_DEFECTS``: their issues are no longer set aside, and the
examples they used to break are asserted free of them (a regression guard with the old patterns).
"""

from __future__ import annotations

import re

from bindeled.errors import Issue

# name → (location pattern, diagnostics pattern, why)
VALIDATOR_DEFECTS: dict[str, tuple[str, str, str]] = {
    "terminology-1.4.0-issue-details": (
        r"^Bundle\.entry\[\d+\]\.resource\.issue\[\d+\]\.details\.coding\[0\]$",
        r"medcom-acknowledgement-issue-details",
        "package defect: Acknowledgement 2.0.3 pins terminology 1.4.0, whose issue-details ValueSet lists "
        "HL7's codes under the system http://hl7.org/fhir/ValueSet/operation-outcome and lost MedCom's "
        "own error codes (fhir-packages/SOURCES.md); terminology 2.0.1 has both systems right",
    ),
}

# Fixed in the validator; same shape as above, kept so the examples stay asserted free of them.
FIXED_DEFECTS: dict[str, tuple[str, str, str]] = {
    "choice-stem-discriminator": (
        r"^Bundle\.entry\[\d+\]\.resource\.(destination|payload)(\[\d+\])?$",
        r"does not match any slice|^Slice (primary|string) of",
        "a discriminator path naming a choice element by its stem (MessageHeader.destination "
        "'$this.extension.value', Communication.payload '$this.content') used to miss valueCoding / "
        "contentString, so the slice never matched",
    ),
    "resolve-discriminator": (
        r"^Bundle\.entry\[\d+\]\.resource\.performer(\[\d+\])?$",
        r"does not match any slice|^Slice \w+ of performer",
        "profile discriminators on resolve() used not to be evaluated, so DiagnosticReport.performer's "
        "slices never matched",
    ),
    "bundle-invariant-practitionerrole": (
        r"^Bundle$",
        r"medcom-careCommunication-13",
        "medcom-careCommunication-13 (every PractitionerRole references a Practitioner) used to fail: "
        "fhirpathpy ignored the leading type name of 'Bundle.entry…' on a wrapped resource node",
    ),
}


def _matches(issue: Issue, defects: dict[str, tuple[str, str, str]]) -> str | None:
    for name, (where, what, _) in defects.items():
        if issue.expression and re.search(where, issue.expression[0]) and re.search(what, issue.diagnostics):
            return name
    return None


def defect_of(issue: Issue) -> str | None:
    """The known, still open defect an issue is caused by, if any."""
    return _matches(issue, VALIDATOR_DEFECTS)


def fixed_defect_of(issue: Issue) -> str | None:
    """The fixed defect an issue looks like: any hit is a regression."""
    return _matches(issue, FIXED_DEFECTS)
