"""What a catalog lets a plan record hold (RULES.md K4): the terms the V2 checks of a record
alone read, in place of Atlas's constants, worked out once per catalog."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pendulum

from support_flows.localtime import add_wall_days
from support_flows.values.policy import ATLAS, Catalog, Policy

__all__ = ["Terms", "terms_of"]


@attrs.frozen
class Terms:
    """The values a record's facts may have been decided under: every version's trial length and
    retroactive cap, and whether every version bills and changes at month starts (Atlas's)."""

    catalog: Catalog
    trial_days: tuple[int, ...]
    retroactive_days: tuple[int, ...]
    month_starts_only: bool
    changes_at_request: bool
    """Some version makes downgrades and cancels take effect at the request (K1)."""
    upgrades_at_request: bool
    """Some version bills a higher tier from the request instant (K1)."""
    without_trial: bool
    """Some version offers no trial: developer may be subscribed from basic directly (K1)."""
    by_id: Mapping[str, Policy]

    def version(self, version: str) -> Policy | None:
        """The version a record names, if the catalog holds it (K4)."""
        return self.by_id.get(version)

    def trial_ends(self, started: pendulum.DateTime, tz: str) -> tuple[pendulum.DateTime, ...]:
        """Where a trial that began at `started` may have ended (T5 under each version)."""
        lengths = self.trial_days
        if len(lengths) == 1:  # one trial length, as under Atlas's catalog: no generator
            return (add_wall_days(started, lengths[0], tz),) if lengths[0] else ()
        return tuple(add_wall_days(started, days, tz) for days in lengths if days > 0)


def _terms(catalog: Catalog) -> Terms:
    return Terms(
        catalog,
        tuple(sorted({p.trial_days for p in catalog})),
        tuple(sorted({p.retroactive_days for p in catalog})),
        not any(p.bills_upgrade_now or p.changes_now for p in catalog),
        any(p.changes_now for p in catalog),
        any(p.bills_upgrade_now for p in catalog),
        any(p.trial_days == 0 for p in catalog),
        {p.version: p for p in catalog},
    )


_KNOWN: dict[int, Terms] = {id(ATLAS): _terms(ATLAS)}


def terms_of(catalog: Catalog) -> Terms:
    """The terms of `catalog`, remembered by identity (a store restores under one catalog)."""
    found = _KNOWN.get(id(catalog))
    if found is not None and found.catalog is catalog:
        return found
    if len(_KNOWN) >= 64:
        _KNOWN.clear()
        _KNOWN[id(ATLAS)] = _terms(ATLAS)
    found = _KNOWN[id(catalog)] = _terms(catalog)
    return found
