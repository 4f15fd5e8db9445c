"""Surveillance reports: HAI rates and outbreak signals per region, municipality and hospital.

:func:`build_report` turns an extract (``surveillance.extract``) into a :class:`Report` for one level
and period; :func:`render` gives CSV, HTML (inline SVG plots) or PDF, byte-identical for the same
cut-off; :func:`measure_reports` / :func:`store_fhir` give FHIR Measures and MeasureReports. Every
output states the data cut-off, the definition version, the suppression rule (:func:`suppress`) and
that the numbers must not rank hospitals.
"""

from bindeled.surveillance.reports.build import LEVELS, PERIODS, build_report
from bindeled.surveillance.reports.measure import measure, measure_reports, store_fhir
from bindeled.surveillance.reports.model import CAVEAT, RateTable, Report, Signal
from bindeled.surveillance.reports.publish import FORMATS, render, write_reports
from bindeled.surveillance.reports.suppression import RULE, Suppressed, suppress

__all__ = [
    "CAVEAT",
    "FORMATS",
    "LEVELS",
    "PERIODS",
    "RULE",
    "RateTable",
    "Report",
    "Signal",
    "Suppressed",
    "build_report",
    "measure",
    "measure_reports",
    "render",
    "store_fhir",
    "suppress",
    "write_reports",
]
