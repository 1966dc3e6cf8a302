"""The policy the references model (RULES.md K1, K6), read from its plain data: a version id and
the mapping of K1's fields to ints, names and None (what `Policy.terms()` gives). Nothing here
knows the library's `Policy`; Atlas's terms are restated from RULES.md.

A run sets the terms it verifies with `using(terms)`; every reference function reads
`current()`, Atlas's outside any run."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

__all__ = ["ATLAS_TERMS", "Terms", "current", "terms_of", "using"]


@attrs.frozen
class Terms:
    """K1's values, as the rules read them."""

    version: str = "atlas"
    trial_days: int = 30
    retroactive_days: int = 90
    upgrade_now: bool = False
    """P5, P8 under `upgrade_billing = immediately`: a higher tier billed from the request."""
    changes_now: bool = False
    """P9 under `change_timing = immediately`: a downgrade or cancel in force at the request."""
    billing_roles: frozenset[str] = frozenset({"ORG_OWNER", "ORG_BILLING_ADMIN"})
    org_case_roles: frozenset[str] = frozenset({"ORG_OWNER"})
    case_states: frozenset[str] = frozenset({"trial", "developer", "premium"})
    hours_per_unit: int = 1
    validity_months: int | None = None

    @property
    def has_trial(self) -> bool:
        return self.trial_days > 0


ATLAS_TERMS = Terms()
"""RULES.md's own values: the default catalog's one version, `atlas`."""


def terms_of(version: str, data: Mapping[str, Any]) -> Terms:
    """The terms a policy's plain data states (field names as K1 gives them)."""
    return Terms(
        version=version,
        trial_days=data["trial_days"],
        retroactive_days=data["retroactive_days"],
        upgrade_now=data["upgrade_billing"] == "immediately",
        changes_now=data["change_timing"] == "immediately",
        billing_roles=frozenset(data["billing_roles"]),
        org_case_roles=frozenset(data["org_case_roles"]),
        case_states=frozenset(data["case_states"]),
        hours_per_unit=data["hours_per_unit"],
        validity_months=data["validity_months"],
    )


_CURRENT: contextvars.ContextVar[Terms] = contextvars.ContextVar("terms", default=ATLAS_TERMS)


def current() -> Terms:
    """The terms of the run in progress (Atlas's outside one)."""
    return _CURRENT.get()


@contextlib.contextmanager
def using(terms: Terms) -> Iterator[Terms]:
    """Model `terms` until the block ends."""
    token = _CURRENT.set(terms)
    try:
        yield terms
    finally:
        _CURRENT.reset(token)
