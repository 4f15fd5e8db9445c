"""Public facts for the synthetic Region Syddanmark: hospital sites, municipalities, post towns.

Names of hospitals and municipalities, municipality codes (kommunekoder) and postcodes are public;
populations are rounded and only steer how many GP practices each municipality gets.
"""

from __future__ import annotations

__all__ = ["DEPARTMENTS", "HOSPITALS", "MUNICIPALITIES", "PSYCHIATRY_DEPARTMENTS", "STREETS"]

HOSPITALS: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Odense Universitetshospital", (("Odense", "5000", "Odense C"), ("Svendborg", "5700", "Svendborg"))),
    ("Sygehus Lillebælt", (("Vejle", "7100", "Vejle"), ("Kolding", "6000", "Kolding"))),
    ("Sydvestjysk Sygehus", (("Esbjerg", "6700", "Esbjerg"),)),
    ("Sygehus Sønderjylland", (("Aabenraa", "6200", "Aabenraa"), ("Sønderborg", "6400", "Sønderborg"))),
    (
        "Psykiatrien i Region Syddanmark",
        (("Odense", "5000", "Odense C"), ("Vejle", "7100", "Vejle"), ("Esbjerg", "6700", "Esbjerg")),
    ),
)
"""Institution → sites (site name, postcode, post town)."""

DEPARTMENTS = (
    "Akutafdelingen",
    "Medicinsk afdeling",
    "Kirurgisk afdeling",
    "Ortopædkirurgisk afdeling",
    "Kardiologisk afdeling",
    "Gynækologisk-obstetrisk afdeling",
    "Børne- og ungeafdelingen",
    "Klinisk mikrobiologisk afdeling",
)
PSYCHIATRY_DEPARTMENTS = ("Psykiatrisk afdeling", "Børne- og ungdomspsykiatrisk afdeling")

MUNICIPALITIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("Assens", "0420", "5610", "Assens", 41),
    ("Billund", "0530", "7190", "Billund", 27),
    ("Esbjerg", "0561", "6700", "Esbjerg", 116),
    ("Fanø", "0563", "6720", "Fanø", 4),
    ("Fredericia", "0607", "7000", "Fredericia", 52),
    ("Faaborg-Midtfyn", "0430", "5750", "Ringe", 51),
    ("Haderslev", "0510", "6100", "Haderslev", 56),
    ("Kerteminde", "0440", "5300", "Kerteminde", 24),
    ("Kolding", "0621", "6000", "Kolding", 95),
    ("Langeland", "0482", "5900", "Rudkøbing", 12),
    ("Middelfart", "0410", "5500", "Middelfart", 39),
    ("Nordfyns", "0480", "5400", "Bogense", 30),
    ("Nyborg", "0450", "5800", "Nyborg", 32),
    ("Odense", "0461", "5000", "Odense C", 207),
    ("Svendborg", "0479", "5700", "Svendborg", 59),
    ("Sønderborg", "0540", "6400", "Sønderborg", 74),
    ("Tønder", "0550", "6270", "Tønder", 37),
    ("Varde", "0573", "6800", "Varde", 50),
    ("Vejen", "0575", "6600", "Vejen", 43),
    ("Vejle", "0630", "7100", "Vejle", 121),
    ("Ærø", "0492", "5970", "Ærøskøbing", 6),
    ("Aabenraa", "0580", "6200", "Aabenraa", 59),
)
"""The 22 municipalities of Region Syddanmark: name, kommunekode, postcode, post town, thousands of inhabitants."""

STREETS = (
    "Algade",
    "Bredgade",
    "Kirkevej",
    "Skolegade",
    "Torvet",
    "Vestergade",
    "Østergade",
    "Nørregade",
    "Søndergade",
    "Stationsvej",
    "Møllevej",
    "Parkvej",
    "Engvej",
    "Skovvej",
    "Havnegade",
    "Lindevej",
)
