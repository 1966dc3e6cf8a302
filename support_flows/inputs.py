"""Input checks every public entry point runs first (RULES.md V4, V5): a coded error, never a
raw Python one, naming the offending value."""

from __future__ import annotations

import datetime as dt
import math
import types
from typing import Any, TypeVar

from support_flows.errors import Reason, describe, invalid

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TITLE_LENGTH",
    "QUANTITY_BOUNDS",
    "email",
    "finite_number",
    "flag",
    "identifier",
    "is_email",
    "is_identifier",
    "of_type",
    "quantity",
    "text",
]

T = TypeVar("T")

MAX_ID_LENGTH = 200
MAX_TITLE_LENGTH = 500
MAX_EMAIL_LENGTH = 254

QUANTITY_BOUNDS = {
    "units": (1, 100_000),
    "hours_per_unit": (1, 1_000),
    "validity_months": (1, 120),
    "hours": (1, 10_000),
}
"""V4: the whole numbers the product holds, inclusive."""


def is_identifier(value: object) -> bool:
    """A non-empty printable string, no surrounding whitespace, at most 200 characters (V5)."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_ID_LENGTH
        and value.isprintable()
        and value == value.strip()
    )


def is_email(value: object) -> bool:
    """One '@' with text on both sides, printable, no spaces, at most 254 characters (V5)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_EMAIL_LENGTH:
        return False
    local, at, domain = value.partition("@")
    return (
        bool(at and local and domain)
        and "@" not in domain
        and value.isprintable()
        and value.split() == [value]  # no whitespace anywhere
    )


def identifier(value: object, what: str, *, rule: str = "V5") -> str:
    """`value` if it is an identifier (V5); otherwise `invalid_value` naming it."""
    if is_identifier(value):
        return value  # type: ignore[return-value]
    raise invalid(
        Reason.INVALID_VALUE,
        rule,
        f"{what} must be a non-empty string of at most {MAX_ID_LENGTH} printable characters "
        f"with no surrounding spaces, got {describe(value)}",
    )


def email(value: object, what: str) -> str:
    """`value` if it is an e-mail address (V5); otherwise `invalid_value` naming it."""
    if is_email(value):
        return value  # type: ignore[return-value]
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must be an e-mail address with one '@' and text on both sides, "
        f"got {describe(value)}",
    )


def text(value: object, what: str, limit: int = MAX_TITLE_LENGTH) -> str:
    """Free text: printable, not blank, at most `limit` characters (V5)."""
    if isinstance(value, str) and value.strip() and len(value) <= limit and value.isprintable():
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must be non-blank printable text of at most {limit} characters, "
        f"got {describe(value)}",
    )


def quantity(value: object, what: str, *, rule: str = "V4") -> int:
    """A whole number within the product's bounds for `what` (V4); a bool is not a number."""
    low, high = QUANTITY_BOUNDS[what]
    if type(value) is int and low <= value <= high:
        return value
    raise invalid(
        Reason.INVALID_QUANTITY,
        rule,
        f"{what} must be a whole number from {low:,} to {high:,}, got {describe(value)}",
    )


def finite_number(value: object, what: str) -> float:
    """An int or float that is finite; a bool is not a number (V4)."""
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    raise invalid(
        Reason.INVALID_VALUE, "V4", f"{what} must be a finite number, got {describe(value)}"
    )


def flag(value: object, what: str) -> bool:
    if isinstance(value, bool):
        return value
    raise invalid(
        Reason.INVALID_VALUE, "V5", f"{what} must be True or False, got {describe(value)}"
    )


def of_type(value: object, kind: type[T], what: str) -> T:
    """`value` if it is a `kind`; anything else (None, a number, another record) is V5."""
    if isinstance(value, kind):
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must be a {kind.__name__}, got {describe(value)}",
    )


def has_method(value: Any, name: str, what: str) -> Any:
    """`value` if it is an object with a callable `name` (a clock's `now`, an outbox's `send`),
    else V5. A class, a module or a datetime (which has a `now` of its own) is not one."""
    if not isinstance(value, type | types.ModuleType | dt.date) and callable(
        getattr(value, name, None)
    ):
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must have a {name}() method, got {describe(value)}",
    )
