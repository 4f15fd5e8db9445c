"""The synthetic demo data: generated in code, seeded, and marked synthetic everywhere it shows."""
