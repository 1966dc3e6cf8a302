"""Checks of the store's own arguments (limits, retention, callbacks, flags, the organization)
and of the values a command would store (S6): each a coded error naming the value, never a raw
Python one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from support_flows.errors import InvalidInput, Reason, describe, invalid
from support_flows.inputs import QUANTITY_BOUNDS, identifier, of_type, quantity
from support_flows.store.keys import jsonable
from support_flows.values import Organization

__all__ = [
    "MAX_LIMIT",
    "MAX_RETENTION",
    "callback",
    "count_limit",
    "flag",
    "malformed",
    "name",
    "organization",
    "retention",
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


def name(value: object, what: str) -> str:
    """An identifier (V5), checked as exactly a `str` first: a subclass's own `__eq__` or
    `strip` is never called."""
    if type(value) is str:
        return identifier(value, what)
    raise invalid(
        Reason.INVALID_VALUE, "V5", f"{what} must be an identifier (a str), got {describe(value)}"
    )


def organization(org_id: object, org: object) -> Organization:
    """`org`, an `Organization`, which `org_id` (when given) must name (V5)."""
    found = of_type(org, Organization, "org")
    if org_id is None or (type(org_id) is str and org_id == found.org_id):
        return found  # the organization's own id, checked when it was made
    if name(org_id, "org_id") != found.org_id:
        raise invalid(
            Reason.INVALID_VALUE,
            "V5",
            f"org_id {org_id!r} does not name the organization given ({found.org_id!r})",
        )
    return found


def malformed(values: Mapping[str, object], optional: frozenset[str]) -> InvalidInput | None:
    """The error for the first of a command's arguments that is not exactly of its type (a
    quantity an `int`, anything else a `str`; None for those `optional`) or that no database
    holds (text with NUL: S6); None when all are. Checked before any of them is used, so no
    subclass's own methods run. A quantity's error is `invalid_quantity` (V4), NaN included."""
    for what, value in values.items():
        if value is None and what in optional:
            continue
        if what in QUANTITY_BOUNDS:
            if type(value) is not int:
                try:
                    quantity(value, what)
                except InvalidInput as error:
                    return error
            continue
        if type(value) is not str:
            return invalid(
                Reason.INVALID_VALUE, "V5", f"{what} must be text, got {describe(value)}"
            )
        try:
            jsonable(value, strict=False, what=what)
        except InvalidInput as error:
            return error
    return None
