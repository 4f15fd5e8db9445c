"""HAIBA: hospital-acquired bacteraemia, urinary-tract infection and C. difficile infection.

Reads columnar extracts (:class:`HaibaData`), applies a versioned case definition (Danish HAIBA by
default, ECDC and NHSN as variants; :func:`definition`) and returns episodes, risk time split at unit,
week and month boundaries, and rates per 10,000 risk days (:func:`run` → :class:`HaibaResult`).
Numbers reflect sampling and coding practice and must not be used to rank hospitals.
"""

from bindeled.surveillance.haiba.codelists import CodeLists, load_codelists
from bindeled.surveillance.haiba.definition import (
    DEFINITIONS,
    Bound,
    CommensalPair,
    Definition,
    EpisodeRule,
    Infection,
    InfectionRule,
    definition,
)
from bindeled.surveillance.haiba.engine import HaibaResult, run
from bindeled.surveillance.haiba.frames import SCHEMAS, HaibaData
from bindeled.surveillance.haiba.rates import LEVELS

__all__ = [
    "DEFINITIONS",
    "LEVELS",
    "SCHEMAS",
    "Bound",
    "CodeLists",
    "CommensalPair",
    "Definition",
    "EpisodeRule",
    "HaibaData",
    "HaibaResult",
    "Infection",
    "InfectionRule",
    "definition",
    "load_codelists",
    "run",
]
