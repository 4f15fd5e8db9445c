"""GLN (EAN location number) checks: 13 digits, GS1 modulo-10 check digit.

A GLN addresses a MedCom mailbox, so a typo must never be accepted: a message would go to another
receiver or nowhere. GS1 weights the first twelve digits 1, 3, 1, 3, … from the left; the check digit
is ``(10 - sum mod 10) mod 10`` (DK-core's ``gln-modulus-10`` invariant says the same).
"""

from __future__ import annotations

__all__ = [
    "GLN_OID_PREFIX",
    "GLN_SYSTEM",
    "gln_check_digit",
    "is_valid_gln",
    "normalise_gln_system",
    "with_check_digit",
]

GLN_SYSTEM = "https://www.gs1.org/gln"
"""The identifier system DK-core fixes for GLNs (always emitted)."""
GLN_OID_PREFIX = "urn:oid:1.3.88"
"""GS1's OID arc: accepted as an alias of :data:`GLN_SYSTEM` on input."""


def gln_check_digit(first_twelve: str) -> int:
    """The GS1 check digit for 12 leading digits."""
    if len(first_twelve) != 12 or not first_twelve.isascii() or not first_twelve.isdigit():
        raise ValueError("a GLN body is exactly 12 ASCII digits")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return (10 - total % 10) % 10


def with_check_digit(first_twelve: str) -> str:
    """Complete 12 digits to a valid GLN."""
    return first_twelve + str(gln_check_digit(first_twelve))


def is_valid_gln(value: str) -> bool:
    """Whether ``value`` is 13 ASCII digits whose last digit is the GS1 check digit."""
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return False
    return gln_check_digit(value[:12]) == int(value[12])


def normalise_gln_system(system: str) -> str | None:
    """The canonical GLN system for ``system`` if it names GLNs (the URL or GS1's OID), else None."""
    return GLN_SYSTEM if system in (GLN_SYSTEM, GLN_OID_PREFIX) else None
