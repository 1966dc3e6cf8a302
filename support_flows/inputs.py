"""Input checks every public entry point runs first (RULES.md V1, V4, V5): a coded error, never a
raw Python one, naming the offending value.

Types are checked exactly (``type(x) is str``) before a value is used: a subclass of a built-in
may override ``__eq__``, ``__hash__``, ``__len__`` or ``strip`` with code of its own, and an
object's ``__class__`` may lie to ``isinstance``."""

from __future__ import annotations

import datetime as dt
import math
import types
from collections.abc import Mapping
from typing import Any, TypeVar

from support_flows.errors import Reason, SupportFlowsError, describe, invalid

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TITLE_LENGTH",
    "QUANTITY_BOUNDS",
    "attribute",
    "callback",
    "choice",
    "email",
    "finite_number",
    "flag",
    "has_method",
    "identifier",
    "is_email",
    "is_identifier",
    "items",
    "of_type",
    "quantity",
    "text",
    "whole",
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
        type(value) is str
        and 0 < len(value) <= MAX_ID_LENGTH
        and value.isprintable()
        and value == value.strip()
    )


def is_email(value: object) -> bool:
    """One '@' with text on both sides, printable, no spaces, at most 254 characters (V5)."""
    if type(value) is not str or not 0 < len(value) <= MAX_EMAIL_LENGTH:
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
    if type(value) is str and value.strip() and len(value) <= limit and value.isprintable():
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
    """True or False, nothing merely truthy (V5)."""
    if type(value) is bool:
        return value
    raise invalid(
        Reason.INVALID_VALUE, "V5", f"{what} must be True or False, got {describe(value)}"
    )


def of_type(value: object, kind: type[T], what: str) -> T:
    """`value` if it is a `kind`; anything else (None, a number, another record) is V5. The
    type itself is asked, never the object's own ``__class__``."""
    if type(value) is kind or issubclass(type(value), kind):
        return value  # type: ignore[return-value]
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must be a {kind.__name__}, got {describe(value)}",
    )


def has_method(value: Any, name: str, what: str) -> Any:
    """`value` if it is an object with a callable `name` (a clock's `now`, an outbox's `send`),
    else V5. A class, a module or a datetime (which has a `now` of its own) is not one."""
    try:
        found = not issubclass(type(value), type | types.ModuleType | dt.date) and callable(
            getattr(value, name, None)
        )
    except Exception:  # an attribute lookup of the object's own that raises
        found = False
    if found:
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"{what} must have a {name}() method, got {describe(value)}",
    )


def choice(value: object, accepted: tuple[str, ...], what: str, *, rule: str = "V1") -> str:
    """`value` if it is one of the names `accepted` (an exact str); anything else is V1."""
    if type(value) is str and value in accepted:
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        rule,
        f"unknown {what} {describe(value)}; accepted: {', '.join(accepted)}",
    )


def whole(value: object, what: str, low: int, high: int, *, rule: str = "V4") -> int:
    """A whole number from `low` to `high` inclusive; a bool is not a number (V4)."""
    if type(value) is int and low <= value <= high:
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        rule,
        f"{what} must be a whole number from {low} to {high}, got {describe(value)}",
    )


def callback(value: T, what: str) -> T:
    """`value` if it is None or callable (a progress callback, a factory); else V5."""
    if value is None or callable(value):
        return value
    raise invalid(
        Reason.INVALID_VALUE, "V5", f"{what} must be callable or None, got {describe(value)}"
    )


_COLLECTIONS = (list, set, frozenset)


def items(values: object, what: str, expected: str) -> tuple[object, ...]:
    """The items of a collection argument, read once: a tuple, list, set or any iterable that
    is not text or a mapping. One that cannot be iterated, or whose iteration raises, is V5."""
    kind = type(values)
    if kind is tuple:
        return values  # type: ignore[return-value]
    if kind in _COLLECTIONS:
        return tuple(values)  # type: ignore[arg-type]
    if not issubclass(kind, str | bytes | bytearray | Mapping):
        try:
            return tuple(values)  # type: ignore[arg-type]
        except Exception:  # not iterable, or an iteration of its own that raises
            pass
    raise invalid(Reason.INVALID_VALUE, "V5", f"{what} must be {expected}, got {describe(values)}")


def attribute(value: object, name: str, default: object) -> object:
    """`value.name`, or `default` when the object has none or its lookup raises."""
    try:
        return getattr(value, name, default)
    except SupportFlowsError:  # a live object of ours refusing the read (its clock, V7)
        raise
    except Exception:  # a property or __getattr__ of the object's own that raises
        return default
