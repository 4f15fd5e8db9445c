"""Resource ids: the R4 ``id`` datatype, checked wherever an id comes from a URL or a body."""

from __future__ import annotations

import re

__all__ = ["ID_PATTERN", "valid_id"]

ID_PATTERN = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""The R4 ``id`` datatype."""


def valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None
