"""The V2 checks of a plan record's billing periods: P20's boundaries and what the current
state's own entry, and the plan that ended last, billed (P5, P6, P8, P9, P15, P21)."""

from __future__ import annotations

import pendulum

from support_flows.errors import describe
from support_flows.localtime import (
    add_wall_days,
    is_month_start,
    is_next_month_start,
    next_month_start,
)
from support_flows.snapshots.plan import PlanSnapshot
from support_flows.snapshots.plan_invariants import boundary_allowed
from support_flows.snapshots.plan_terms import Terms
from support_flows.values import PlanState, Tier
from support_flows.values.plan import IN_FORCE, BillingPeriod

__all__ = ["billed_since", "periods_problem"]

PAID = (PlanState.DEVELOPER, PlanState.PREMIUM)
_TRIAL, _CANCELLED, _PREMIUM = PlanState.TRIAL, PlanState.CANCELLED, PlanState.PREMIUM
_PREMIUM_TIER = Tier.PREMIUM
_BILLED = (Tier.DEVELOPER, Tier.PREMIUM)


def _iso(at: pendulum.DateTime | None) -> str:
    return "none" if at is None else at.isoformat()


def periods_problem(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    """The periods in order, without overlap, each boundary where P20 allows it, and the open
    one billing the tier the state is in force at. (Where some version of the catalog bills or
    changes at the request instant, a record alone does not say which boundaries are request
    instants: its boundaries are then checked by replaying its history, not here.)"""
    periods = r.periods
    exceptions = _Exceptions(r, tz, terms)
    previous_end: pendulum.DateTime | None = None
    for n, p in enumerate(periods):
        problem = _period(r, n, p, previous_end, tz, exceptions)
        if problem is not None:
            return f"{_period_name(n, p)} {problem}"
        previous_end = p.ends_at
    return _open_period(r)


def _period(
    r: PlanSnapshot,
    n: int,
    p: BillingPeriod,
    previous_end: pendulum.DateTime | None,
    tz: str,
    exceptions: _Exceptions,
) -> str | None:
    starts, ends = p.starts_at, p.ends_at
    if p.tier not in _BILLED:
        return "bills a tier that is never billed"
    if ends is not None and ends <= starts:
        return "is empty or ends before it starts"
    if ends is None and n != len(r.periods) - 1:
        return "is open but is not the last period"
    if n and (previous_end or starts) > starts:
        return "overlaps or comes before the period preceding it"
    if n and previous_end != starts and r.last_plan is None:
        return "leaves a gap after the period preceding it, but no plan ever ended (P9)"
    if not boundary_allowed(starts, tz, exceptions):
        return _off_month(starts)
    if ends is not None and not boundary_allowed(ends, tz, exceptions):
        return _off_month(ends)
    return None


def _open_period(r: PlanSnapshot) -> str | None:
    """A paid state is billed by an open period of the tier in force; no other state is."""
    last = r.periods[-1] if r.periods else None
    open_tier = last.tier if last is not None and last.ends_at is None else None
    state = r.state
    if state in PAID and open_tier is not IN_FORCE[state]:
        return f"state {state.value!r} is not billed by an open {IN_FORCE[state].value} period"
    if state not in PAID and open_tier is not None:
        return f"state {state.value!r} has an open billing period"
    return None


def billed_since(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    """The billing the current state's own entry made (P5, P6, P8, P9, P15), and the end of the
    plan that ended last: what periods the rest of the record says were billed."""
    if r.state is _CANCELLED and r.last_plan is not None:
        return _cancelled(r, terms)
    if r.state not in PAID or r.since is None or not r.periods:
        return None
    trial_end = None if r.trial_started_at is None else _first_trial_end(r, tz, terms)
    return (
        _first_billing(r, trial_end, terms)
        or _last_plan_billed(r, terms)
        or (
            _retroactive(r, tz, terms)
            if r.periods[-1].retroactive
            else (None if terms.upgrades_at_request else _premium_billed(r, tz, trial_end))
            if r.state is _PREMIUM
            else _developer_billed(r, tz, trial_end, terms)
        )
    )


def _cancelled(r: PlanSnapshot, terms: Terms) -> str | None:
    """A cancelled plan is billed up to its end (P9); a cancelled trial never was (P7). Under a
    version whose changes take effect at the request (K1), a plan cancelled the instant it was
    chosen was in force for no time, and billed for none."""
    periods, since, last_plan = r.periods, r.since, r.last_plan
    assert last_plan is not None
    if last_plan.state is _TRIAL:
        return None if not periods else "a trial cancelled (P7) has no billing periods"
    last = periods[-1] if periods else None
    if (
        terms.changes_at_request
        and since is not None
        and (last is None or (last.ends_at is not None and last.ends_at <= since))
    ):
        return None  # in force for no time: billed for none, up to where it ended at most
    if last is None or last.ends_at != since or last.tier is not IN_FORCE[last_plan.state]:
        billed = "none" if last is None else f"{_period_name(len(periods) - 1, last)}"
        until = "" if last is None else f", ending at {_iso(last.ends_at)}"
        return (
            f"the {last_plan.state.value} plan that ended at {_iso(since)} is not billed up "
            f"to then: its last billing period is {billed}{until} (P9)"
        )
    return None


def _first_billing(
    r: PlanSnapshot, trial_end: pendulum.DateTime | None, terms: Terms
) -> str | None:
    """In the first cycle, premium is billed first without a trial (P4, P5), or developer under
    a version offering none (K1); after one, billing starts by the trial's end (P6, P8)."""
    if r.last_plan is not None:
        return None
    started, first = r.trial_started_at, r.periods[0]
    # Developer first: subscribed without a trial (K1), or after a premium downgraded at the
    # instant it began, whose catch-up had no length (K1's immediate changes, P20).
    free_first = terms.without_trial or terms.changes_at_request
    if started is None and first.tier is not _PREMIUM_TIER and not free_first:
        return (
            f"{_period_name(0, first)} is the first billing, but without a trial the "
            "first plan billed is premium (P4, P5)"
        )
    if (
        started is not None
        and trial_end is not None
        and not started <= first.starts_at <= trial_end
    ):
        return (
            f"{_period_name(0, first)} is the first billing after a trial from "
            f"{_iso(started)}, which bills from its end, {_iso(trial_end)}, at the latest "
            "(P6, P8)"
        )
    return None


def _last_plan_billed(r: PlanSnapshot, terms: Terms) -> str | None:
    """A paid plan that ended was billed up to its end (P9); one that ended the instant it was
    chosen, under a version changing at the request (K1), was billed for no time (its history,
    when the record holds it, says which)."""
    last_plan = r.last_plan
    if last_plan is None or last_plan.state is _TRIAL or terms.changes_at_request:
        return None
    tier = IN_FORCE[last_plan.state]
    if any(p.ends_at == last_plan.ended_at and p.tier is tier for p in r.periods):
        return None
    return (
        f"no billing period of the {last_plan.state.value} plan ends where it ended, at "
        f"{_iso(last_plan.ended_at)} (P9)"
    )


def _retroactive(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    """Only a reactivation bills retroactively, back to the end or the version's cap (P15)."""
    periods, since, last_plan = r.periods, r.since, r.last_plan
    assert since is not None
    open_period = periods[-1]
    name = _period_name(len(periods) - 1, open_period)
    if last_plan is None or (r.state is _PREMIUM and last_plan.state is not _PREMIUM):
        return (
            f"{name} is billed retroactively, but {r.state.value} in force since "
            f"{_iso(since)} after last plan {describe(last_plan)} is not a reactivation "
            "billed retroactively (P5, P6, P8, P9, P15)"
        )
    starts = [max(last_plan.ended_at, add_wall_days(since, -d, tz)) for d in terms.retroactive_days]
    if open_period.starts_at in starts and not r.last_change_applied:
        return None
    expected = " or ".join(_iso(s) for s in sorted(set(starts)))
    return (
        f"{name} is billed retroactively, but a reactivation at {_iso(since)} after the "
        f"{last_plan.state.value} plan that ended at {_iso(last_plan.ended_at)} is billed "
        f"from {expected} (P15)"
    )


def _premium_billed(r: PlanSnapshot, tz: str, trial_end: pendulum.DateTime | None) -> str | None:
    """Premium is billed from the 1st of the next month, or from a trial's end if sooner (P5,
    P8, P15's exception)."""
    periods, since = r.periods, r.since
    assert since is not None
    starts = periods[-1].starts_at
    if trial_end is not None and len(periods) == 1:
        if since < trial_end and starts == min(next_month_start(since, tz), trial_end):
            return None  # P8: the trial upgraded, billed from its end if sooner
    elif is_next_month_start(starts, since, tz):
        return None  # P5, P8, P15's exception
    elif trial_end is not None and starts == min(next_month_start(since, tz), trial_end):
        return None  # P8: the trial upgraded, after a downgrade during it
    return (
        f"{_period_name(len(periods) - 1, periods[-1])}: premium in force since "
        f"{_iso(since)} is billed from the 1st of the next month (P5, P8, P15)"
    )


def _developer_billed(
    r: PlanSnapshot, tz: str, trial_end: pendulum.DateTime | None, terms: Terms
) -> str | None:
    """Developer is billed from a trial's end (P6) or a downgrade's effective instant (P9), or,
    subscribed without a trial (K1), from the 1st after it was (P5)."""
    periods, since = r.periods, r.since
    assert since is not None
    if (
        terms.without_trial
        and len(periods) == 1
        and r.trial_started_at is None
        and r.last_plan is None
        and is_next_month_start(periods[0].starts_at, since, tz)
    ):
        return None
    if not terms.month_starts_only:
        # A request instant may be a boundary (K1): developer billed from its own start, after
        # a downgrade in force at the request or subscribed and billed at once.
        return None
    if periods[-1].starts_at == since:
        if len(periods) == 1 and since == trial_end and not r.last_change_applied:
            return None  # P6: the trial converted
        before = periods[-2] if len(periods) > 1 else None
        if (
            before is not None
            and before.tier is _PREMIUM_TIER
            and before.ends_at == since
            and is_month_start(since, tz)
        ):
            return None  # P9: a downgrade took effect
    return (
        f"{_period_name(len(periods) - 1, periods[-1])}: developer in force since "
        f"{_iso(since)} is billed from a trial's end (P6) or a downgrade's effective instant "
        "(P9), after premium billed up to it (P21)"
    )


def _first_trial_end(r: PlanSnapshot, tz: str, terms: Terms) -> pendulum.DateTime | None:
    """The end of the one trial, when no plan has ended since it began (the first cycle): under
    a catalog of several trial lengths, the one a billing period starts at, if any."""
    started = r.trial_started_at
    if started is None or r.last_plan is not None:
        return None
    ends = terms.trial_ends(started, tz)
    if len(ends) > 1:
        starts = {p.starts_at for p in r.periods}
        return next((end for end in ends if end in starts), max(ends))
    return ends[0] if ends else None


class _Exceptions:
    """P20's exceptions to month starts in a record: its retroactive and catch-up starts, and
    the end of the trial it began (the boundary P6 and P8 may set), worked out only for a
    boundary that is not a month start."""

    __slots__ = ("r", "terms", "tz")

    def __init__(self, r: PlanSnapshot, tz: str, terms: Terms) -> None:
        self.r = r
        self.tz = tz
        self.terms = terms

    def __contains__(self, boundary: object) -> bool:
        if any(p.retroactive and p.starts_at == boundary for p in self.r.periods):
            return True
        if not self.terms.month_starts_only:
            return True
        started = self.r.trial_started_at
        return started is not None and boundary in self.terms.trial_ends(started, self.tz)


def _off_month(boundary: pendulum.DateTime) -> str:
    return f"has a boundary {boundary.isoformat()} not at a month start (P20)"


def _period_name(n: int, p: BillingPeriod) -> str:
    return f"billing period {n} ({p.tier.value} from {p.starts_at.isoformat()})"
