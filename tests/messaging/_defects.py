"""Known limitations of the generic profile validator and defects of the compiled packages.

The issues they cause are set aside by the MedCom tests, and strict xfail tests track each one, so
the day the validator is fixed those tests fail and this list shrinks.
"""

from __future__ import annotations

import re

from bindeled.errors import Issue

# name → (location pattern, diagnostics pattern, why)
VALIDATOR_DEFECTS: dict[str, tuple[str, str, str]] = {
    "choice-stem-discriminator": (
        r"^Bundle\.entry\[\d+\]\.resource\.(destination|payload)(\[\d+\])?$",
        r"does not match any slice|^Slice (primary|string) of",
        "a discriminator path naming a choice element by its stem (MessageHeader.destination "
        "'$this.extension.value', Communication.payload '$this.content') never finds valueCoding / "
        "contentString (fhir/validation/slicing.py _children), so the slice never matches",
    ),
    "resolve-discriminator": (
        r"^Bundle\.entry\[\d+\]\.resource\.performer(\[\d+\])?$",
        r"does not match any slice|^Slice \w+ of performer",
        "profile discriminators on resolve() are not evaluated, so DiagnosticReport.performer's slices never match",
    ),
    "bundle-invariant-practitionerrole": (
        r"^Bundle$",
        r"medcom-careCommunication-13",
        "medcom-careCommunication-13 (every PractitionerRole references a Practitioner) fails although "
        "the example's PractitionerRole has practitioner.reference",
    ),
    "terminology-1.4.0-issue-details": (
        r"^Bundle\.entry\[\d+\]\.resource\.issue\[\d+\]\.details\.coding\[0\]$",
        r"medcom-acknowledgement-issue-details",
        "package defect: Acknowledgement 2.0.3 pins terminology 1.4.0, whose issue-details ValueSet lists "
        "HL7's codes under the system http://hl7.org/fhir/ValueSet/operation-outcome and lost MedCom's "
        "own error codes (fhir-packages/SOURCES.md); terminology 2.0.1 has both systems right",
    ),
}


def defect_of(issue: Issue) -> str | None:
    for name, (where, what, _) in VALIDATOR_DEFECTS.items():
        if issue.expression and re.search(where, issue.expression[0]) and re.search(what, issue.diagnostics):
            return name
    return None
