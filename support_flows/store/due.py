"""What the store's columns derive from a stored snapshot: the next instant at which something
comes due (T7, S5), which the month-start job selects on, and the policy version whose terms the
record holds for what is still to come (K3, K4), by which a review counts records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from support_flows.store.records import micros

__all__ = ["due_at", "policy_of"]

_ACTIVE = ("purchased", "scheduled")


def _at(text: str) -> int:
    return micros(dt.datetime.fromisoformat(text))


def due_at(snapshot: Mapping[str, Any]) -> int | None:
    """A plan's trial end or pending change (P6, P9); an active order's expiry (F6); else None."""
    if snapshot["kind"] == "support_plan":
        if snapshot["trial"] is not None:
            return _at(snapshot["trial"]["ends_at"])
        if snapshot["pending"] is not None:
            return _at(snapshot["pending"]["effective_at"])
        return None
    if (
        snapshot["state"] in _ACTIVE
        and not snapshot["validity_ended"]
        and snapshot["expires_at"] is not None
    ):
        return _at(snapshot["expires_at"])
    return None


def policy_of(snapshot: object) -> str | None:
    """An order's version (its hours per unit and validity, K3); a plan's trial's or pending
    change's; else None. A record not shaped as the library writes it answers None: the
    migration reads every stored row, and only a restore judges a record (V2)."""
    if type(snapshot) is not dict:
        return None
    if snapshot.get("kind") == "support_plan":
        scheduled = snapshot.get("trial") or snapshot.get("pending")
        found = scheduled.get("policy") if type(scheduled) is dict else None
    else:
        found = snapshot.get("policy")
    return found if type(found) is str and len(found) <= 200 else None
