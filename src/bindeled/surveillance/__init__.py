"""Surveillance back end: HAIBA infection algorithms and outbreak detection on weekly counts."""
