"""SOR, the Danish health-sector organisation register: import, tree, lookups, FHIR resources, diffs.

``load`` reads the public SOR XML export as a stream into :mod:`~bindeled.registry.model` records;
``tree`` links them and resolves inherited address, phone and EAN; ``lookup`` finds entities by SHAK,
ydernummer, EAN and SOR code as of a date; ``fhir`` turns the tree into DK-core Organization, Location
and Endpoint resources with stable ids; ``diff`` reports what a re-import changed; ``importer`` writes the
resources through the store; ``dump`` writes the export format back out; ``synthetic`` builds the
demo's Region Syddanmark.
"""

from .diff import ChangeKind, EntityChange, FieldChange, SorDiff, diff_trees
from .dump import dump_export, write_export
from .fhir import tree_resources
from .gln import is_valid_gln
from .importer import ImportResult, import_into
from .load import SorFormatError, iter_entities, load_export
from .lookup import AmbiguousLookup, SorLookup
from .model import Address, Contact, EanLocation, Level, LoadIssue, SorEntity, SorExport, Validity
from .synthetic import synthetic_region
from .tree import Inherited, Resolved, SorTree

__all__ = [
    "Address",
    "AmbiguousLookup",
    "ChangeKind",
    "Contact",
    "EanLocation",
    "EntityChange",
    "FieldChange",
    "ImportResult",
    "Inherited",
    "Level",
    "LoadIssue",
    "Resolved",
    "SorDiff",
    "SorEntity",
    "SorExport",
    "SorFormatError",
    "SorLookup",
    "SorTree",
    "Validity",
    "diff_trees",
    "dump_export",
    "import_into",
    "is_valid_gln",
    "iter_entities",
    "load_export",
    "synthetic_region",
    "tree_resources",
    "write_export",
]
