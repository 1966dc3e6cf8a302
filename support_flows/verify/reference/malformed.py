"""What RULES.md (T1, V4, V5, F2, F6) says of malformed values at the entry points of orders and
cases: the refusal each must get, written from the rules' bounds alone, not from the library's
checks."""

from __future__ import annotations

import datetime as dt

__all__ = [
    "FIRST_INSTANT",
    "HOURS_PER_UNIT",
    "LAST_INSTANT",
    "SESSION_HOURS",
    "UNITS",
    "VALIDITY_MONTHS",
    "WRONG_TYPE",
    "Refusal",
    "aware",
    "email",
    "identifier",
    "outside",
    "quantity",
]

Refusal = tuple[str, str]
"""(reason code, rule id)."""

UNITS = (1, 100_000)
HOURS_PER_UNIT = (1, 1_000)
VALIDITY_MONTHS = (1, 120)
SESSION_HOURS = (1, 10_000)
IDENTIFIER_LENGTH = 200
FIRST_INSTANT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LAST_INSTANT = dt.datetime(2999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)
"""V4: the first and the last instant the product holds (the years 1970-2999, in UTC)."""
WRONG_TYPE: Refusal = ("invalid_value", "V5")
"""V5: a value of the wrong type (None, a number, an organization where a member is expected)."""


def quantity(value: object, bounds: tuple[int, int], rule: str) -> Refusal | None:
    """V4: a whole number within `bounds`; a bool is never a number. Below the bounds or not
    whole is the quantity's own rule (`rule`: F2's "whole number of units >= 1")."""
    low, high = bounds
    if isinstance(value, bool) or (isinstance(value, int) and value > high):
        return ("invalid_quantity", "V4")
    if not isinstance(value, int) or value < low:
        return ("invalid_quantity", rule)
    return None


def identifier(value: object) -> Refusal | None:
    """V5: a non-empty printable string, no surrounding whitespace, at most 200 characters."""
    ok = (
        isinstance(value, str)
        and 0 < len(value) <= IDENTIFIER_LENGTH
        and value.isprintable()
        and value == value.strip()
    )
    return None if ok else ("invalid_value", "V5")


def email(value: object) -> Refusal | None:
    """V5: an e-mail address holds one `@` with text on both sides."""
    if not isinstance(value, str):
        return WRONG_TYPE
    local, at, domain = value.partition("@")
    ok = at and local and domain and "@" not in domain
    return None if ok else ("invalid_value", "V5")


def aware(value: dt.datetime) -> Refusal | None:
    """T1: an instant without a timezone is refused."""
    return ("naive_datetime", "T1") if value.utcoffset() is None else None


def outside(at: dt.datetime) -> bool:
    """V4: whether an instant, given or computed, is outside the years 1970-2999 (refused
    `invalid_value`); the year is the instant's own, in UTC, whatever offset it is read at."""
    return not FIRST_INSTANT <= at <= LAST_INSTANT
