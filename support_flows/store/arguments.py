"""Checks of the store's own arguments (limits, retention, callbacks, flags) and of the values a
command would store (S6): each a coded error naming the value, never a raw Python one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from support_flows.errors import InvalidInput, Reason, describe, invalid
from support_flows.inputs import QUANTITY_BOUNDS, quantity
from support_flows.store.keys import jsonable

__all__ = [
    "MAX_LIMIT",
    "MAX_RETENTION",
    "callback",
    "count_limit",
    "flag",
    "retention",
    "unholdable",
]

MAX_LIMIT = 1_000_000
"""The most emails one relay run may be asked to send."""
MAX_RETENTION = dt.timedelta(days=3_650)
"""The longest idempotency keys may be asked to be kept (ten years)."""


def count_limit(value: object, what: str) -> int | None:
    """None, or a whole number from 1 to `MAX_LIMIT` (a bool is not a number)."""
    if value is None or (type(value) is int and 1 <= value <= MAX_LIMIT):
        return value
    raise invalid(
        Reason.INVALID_VALUE,
        "S3",
        f"{what} must be None or a whole number from 1 to {MAX_LIMIT:,}, got {describe(value)}",
    )


def retention(value: object, least: dt.timedelta) -> dt.timedelta:
    """A `timedelta` from zero to `MAX_RETENTION`, raised to `least` (S2)."""
    if isinstance(value, dt.timedelta) and dt.timedelta(0) <= value <= MAX_RETENTION:
        return max(value, least)
    raise invalid(
        Reason.INVALID_VALUE,
        "S2",
        f"keep must be a timedelta from 0 to {MAX_RETENTION.days:,} days, got {describe(value)}",
    )


def callback(value: object, what: str, rule: str) -> Callable[..., Any] | None:
    """None, or something callable."""
    if value is None or callable(value):
        return value
    raise invalid(Reason.INVALID_VALUE, rule, f"{what} must be callable, got {describe(value)}")


def flag(value: object, what: str, rule: str) -> bool:
    if type(value) is bool:
        return value
    raise invalid(
        Reason.INVALID_VALUE, rule, f"{what} must be True or False, got {describe(value)}"
    )


def unholdable(params: Mapping[str, Any]) -> InvalidInput | None:
    """The error for the first parameter no database holds (NaN, an infinity, text with NUL:
    S6), or None: a quantity's is `invalid_quantity` (V4), anything else's `invalid_value`."""
    for name, value in params.items():
        try:
            jsonable(value, strict=False, what=name)
        except InvalidInput as error:
            if name in QUANTITY_BOUNDS:
                try:
                    quantity(value, name)
                except InvalidInput as refusal:
                    return refusal
            return error
    return None
