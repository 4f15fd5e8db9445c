"""FHIR R4 knowledge: definitions, JSON and XML, validation, FHIRPath, search semantics.

Pure functions; the only I/O is loading the definitions package.
"""
