"""The billing timeline of a support plan (RULES.md P6, P9, P20, P21): pure functions of records."""

from __future__ import annotations

from collections.abc import Sequence

import pendulum

from support_flows.values import PlanState, Tier
from support_flows.values.plan import BillingPeriod, PendingChange, Trial

__all__ = ["after_pending", "after_trial", "close_open", "cut_at"]

Periods = tuple[BillingPeriod, ...]
# Read once: reading a member through its enum class costs a lookup each time on Python 3.11.
_TO_DEVELOPER, _DEVELOPER = PlanState.DEVELOPER, Tier.DEVELOPER


def close_open(periods: Sequence[BillingPeriod], at: pendulum.DateTime) -> Periods:
    """`periods` with the open one ended at `at`; one that would not have begun is dropped."""
    if not periods or periods[-1].ends_at is not None:
        return tuple(periods)
    last = periods[-1]
    if at <= last.starts_at:
        return tuple(periods[:-1])
    return (*periods[:-1], BillingPeriod(last.tier, last.starts_at, at, last.retroactive))


def cut_at(periods: Sequence[BillingPeriod], at: pendulum.DateTime) -> Periods:
    """Every period ended by `at`: later ones dropped, one running across `at` ended there."""
    kept = []
    for period in periods:
        if period.starts_at >= at:
            continue
        if period.ends_at is None or period.ends_at > at:
            period = BillingPeriod(period.tier, period.starts_at, at, period.retroactive)
        kept.append(period)
    return tuple(kept)


def after_trial(periods: Periods, trial: Trial) -> Periods:
    """Developer billing from the trial's end (P6)."""
    return (*periods, BillingPeriod(Tier.DEVELOPER, trial.ends_at))


def after_pending(
    periods: Periods, pending: PendingChange, tier: Tier, since: pendulum.DateTime
) -> Periods:
    """The timeline once `pending` takes effect, ending `tier`, in force since `since`.

    P9: the tier's billing ends at the effective instant; a downgrade bills developer from there.
    P21: if the tier's billing would start at or after the effective instant (it was never
    billed), it is billed instead from `since` to the effective instant, flagged retroactive, and
    whatever was billed for that stretch ends where the catch-up starts.
    """
    effective = pending.effective_at
    last = periods[-1] if periods else None
    billed_from = (
        last.starts_at if last is not None and last.ends_at is None and last.tier is tier else None
    )
    if billed_from is None or billed_from >= effective:
        periods = cut_at(periods, since)
        if since < effective:
            periods = (*periods, BillingPeriod(tier, since, effective, retroactive=True))
    else:
        periods = close_open(periods, effective)
    if pending.target is _TO_DEVELOPER:
        periods = (*periods, BillingPeriod(_DEVELOPER, effective, None, False))
    return periods
