"""Columnar extracts for surveillance: lab results and hospital contacts out of the store, as of a cut-off.

:func:`extract_store` appends what the store's history gained since the last run (system work, every
version, refused-display results included) to Parquet parts in a folder; :func:`load_extract` gives
HAIBA's inputs as they were known at any cut-off the folder reaches, so a report for a past cut-off
is reproduced exactly whatever arrived later.
"""

from bindeled.surveillance.extract.extract import ExtractSummary, extract_store
from bindeled.surveillance.extract.load import Extract, load_extract
from bindeled.surveillance.extract.vocabulary import Vocabulary, default_vocabulary

__all__ = ["Extract", "ExtractSummary", "Vocabulary", "default_vocabulary", "extract_store", "load_extract"]
