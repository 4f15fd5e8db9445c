"""Persistence behind one interface with two backends: SQLite (embedded default) and PostgreSQL."""
