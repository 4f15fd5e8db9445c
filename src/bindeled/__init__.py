"""bindeled — the link: a FHIR R4 platform joining Danish healthcare sectors."""

__all__ = ["__version__"]

__version__ = "0.1.0"
