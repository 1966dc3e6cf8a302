"""The next instant at which something comes due for a stored snapshot (T7, S5): the column the
month-start job selects on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from support_flows.store.records import micros

__all__ = ["due_at"]

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
