"""The V2 checks of a support plan's record alone (RULES.md V2).

Restore refuses, whole, any record this library could not have written, naming the first
inconsistency found. Every field is required. Each derived fact (since, the trial, the pending
change, the last plan, recorded_at, P12's flag, the billing periods) is checked against the rest
of the record: it must be one that some accepted requests could have produced (the state's own
entry, P20's invariants, T7 and T8). With a history, the machine moreover replays it
(`machines.plan_record`).
"""

from __future__ import annotations

import pendulum

from support_flows.errors import describe
from support_flows.inputs import is_identifier
from support_flows.localtime import add_wall_days, is_month_start, is_next_month_start
from support_flows.snapshots.plan import SNAPSHOT_VERSION, PlanSnapshot
from support_flows.snapshots.plan_periods import billed_since, periods_problem
from support_flows.snapshots.plan_terms import Terms
from support_flows.snapshots.strict import whose
from support_flows.values import Organization, PlanState

__all__ = ["inconsistency"]

PAID = (PlanState.DEVELOPER, PlanState.PREMIUM)
# Members read once: on Python 3.11 reading one through its enum class costs a lookup each time.
_BASIC, _TRIAL, _CANCELLED = PlanState.BASIC, PlanState.TRIAL, PlanState.CANCELLED
_DEVELOPER, _PREMIUM = PlanState.DEVELOPER, PlanState.PREMIUM
_ENDS = (_TRIAL, *PAID)
_CHANGED = (PlanState.DEVELOPER, _CANCELLED)


def inconsistency(r: PlanSnapshot, org: Organization, terms: Terms) -> str | None:
    """The first thing that makes `r` a record this library could not have written under the
    catalog of `terms`, judged from the record alone, if any. (P21's premium billing follows:
    the open premium period, and the catch-up a pending change bills, cover the stretch in
    premium.)"""
    tz = org.billing_timezone
    return (
        whose(r.version, r.org_id, r.billing_timezone, SNAPSHOT_VERSION, org)
        or _record(r, tz, terms)
        or _recorded(r)
        or _trial(r, tz, terms)
        or _pending(r, tz, terms)
        or periods_problem(r, tz, terms)
        or billed_since(r, tz, terms)
    )


def _record(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    """The state's own facts: since, the one trial (P4), the last plan (P15), P12's flag."""
    return _state(r) or _last_plan(r, tz, terms) or _change_flag(r, terms)


def _state(r: PlanSnapshot) -> str | None:
    """basic is where nothing ever happened (P4); a cancelled plan holds the plan that ended."""
    state, since, last_plan = r.state, r.since, r.last_plan
    if (state is _BASIC) != (since is None):
        return f"state {state.value!r} with since {_iso(since)}"
    if state is _BASIC and (
        r.trial_started_at is not None or last_plan is not None or r.periods or r.pending
    ):
        return "state 'basic' with a trial, a billed or ended plan (P4: basic means none ever was)"
    if state is _CANCELLED and (last_plan is None or last_plan.ended_at != since):
        return "state 'cancelled' without the plan that ended when it began"
    return None


def _last_plan(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    """The plan that ended last: a trial cancelled while it ran (P7), or a paid plan whose
    cancel took effect on a month's 1st (P9)."""
    last_plan, since, started = r.last_plan, r.since, r.trial_started_at
    if last_plan is None:
        return None
    if last_plan.state not in _ENDS:
        return f"a last plan in state {last_plan.state.value!r}, which is not a plan that ends"
    if since is None or last_plan.ended_at > since:
        return "a last plan that ended after the current state began"
    if last_plan.state is _TRIAL:
        ends = () if started is None else terms.trial_ends(started, tz)
        if started is None or not ends or not (started <= last_plan.ended_at < max(ends)):
            return (
                f"a last plan that was a trial ending at {_iso(last_plan.ended_at)}, "
                f"but no trial ran then (trial_started_at {_iso(started)}, P7)"
            )
    elif terms.month_starts_only and not is_month_start(last_plan.ended_at, tz):
        return (
            f"a last {last_plan.state.value} plan ending at {_iso(last_plan.ended_at)}, "
            "not at the 1st of a month where its cancel took effect (P9)"
        )
    return None


def _change_flag(r: PlanSnapshot, terms: Terms) -> str | None:
    """The trial began by the current state; P12's flag is what the last change left."""
    state, since, last_plan, started = r.state, r.since, r.last_plan, r.trial_started_at
    if started is not None and since is not None and started > since:
        return "the trial started after the current state began"
    if r.last_change_applied and (r.pending is not None or state not in _CHANGED):
        return "a change took effect (P12), but the record is not what a change leaves"
    if state is _CANCELLED and last_plan is not None:
        applied = last_plan.state is not _TRIAL  # P9's cancel is applied; P7's is a request
        at_request = terms.changes_at_request and not r.last_change_applied  # K1: a request
        if r.last_change_applied != applied and not at_request:
            return (
                f"last_change_applied {r.last_change_applied} on a plan cancelled from "
                f"{last_plan.state.value!r} (P12: {applied} until a request follows)"
            )
    return None


def _recorded(r: PlanSnapshot) -> str | None:
    """T8: `recorded_at`, the instant of the latest history entry, is no earlier than anything
    the record says happened, and earlier than what it still holds as due (T7). In a trial or
    a cancelled plan no request is recorded after the state began; nor after a change applied.
    (`_record` has checked that the trial began by `since`, and basic holds nothing.)"""
    recorded, since, pending = r.recorded_at, r.since, r.pending
    if since is None:
        if recorded is None:
            return None
        return f"recorded_at {_iso(recorded)} on a plan to which nothing ever happened"
    if recorded is None or recorded < since:
        return f"recorded_at {_iso(recorded)} is before the state began, at {_iso(since)} (T8)"
    state = r.state
    if state is _TRIAL or state is _CANCELLED or r.last_change_applied:
        if recorded == since:
            return None
        return (
            f"recorded_at {_iso(recorded)} is not since {_iso(since)}: nothing is recorded in "
            f"state {state.value!r} after it began"
            + (" and the change took effect (P12)" if r.last_change_applied else "")
        )
    if pending is None:
        return None
    if recorded < pending.requested_at:
        return (
            f"recorded_at {_iso(recorded)} is before the pending change was requested, at "
            f"{_iso(pending.requested_at)} (T8)"
        )
    if recorded != pending.requested_at and pending.target is _DEVELOPER:
        return (
            f"recorded_at {_iso(recorded)} is not when the pending downgrade was requested, "
            f"{_iso(pending.requested_at)}: any later request replaces or drops it (P10)"
        )
    if recorded >= pending.effective_at:
        return (
            f"recorded_at {_iso(recorded)} is not before the pending change's effective "
            f"instant {_iso(pending.effective_at)}: it would have taken effect first (T7)"
        )
    return None


def _iso(at: pendulum.DateTime | None) -> str:
    return "none" if at is None else at.isoformat()


def _trial(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    trial = r.trial
    if (r.state is _TRIAL) != (trial is not None):
        return f"state {r.state.value!r} with trial {describe(trial)}"
    if trial is not None:
        if trial.started_at != r.since or trial.started_at != r.trial_started_at:
            return "the trial did not start when the plan entered it"
        policy = terms.version(trial.policy)
        if policy is None:
            return _unknown("the trial", trial.policy, terms)
        days = policy.trial_days
        if days == 0 or trial.ends_at != add_wall_days(trial.started_at, days, tz):
            return f"the trial does not last {days} days (T5, K4: version {trial.policy!r})"
        if r.periods or r.last_plan is not None:
            return (
                f"a trial with {len(r.periods)} billing period(s) and last plan "
                f"{describe(r.last_plan)}: a trial is free and begins from basic (P4, P20)"
            )
    return None


_IDENTIFIERS: set[str] = set()


def _identifier(value: str) -> bool:
    """V5, remembered for the ids seen: a store restores the same requesters again and again."""
    if not is_identifier(value):
        return False
    if len(_IDENTIFIERS) >= 4096:
        _IDENTIFIERS.clear()
    _IDENTIFIERS.add(value)
    return True


def _unknown(what: str, version: str, terms: Terms) -> str:
    return (
        f"{what} names policy version {describe(version)}, which the catalog lacks "
        f"(it holds {', '.join(terms.catalog.ids)}; K4)"
    )


def _pending(r: PlanSnapshot, tz: str, terms: Terms) -> str | None:
    p = r.pending
    if p is None:
        return None
    policy = terms.version(p.policy)
    if policy is None:
        return _unknown("the pending change", p.policy, terms)
    if policy.changes_now:
        return f"a pending change under version {p.policy!r}, whose changes take effect at once"
    if r.state not in PAID:
        return f"a pending change in state {r.state.value!r}"
    if p.target is _DEVELOPER and r.state is not _PREMIUM:
        return f"a pending downgrade to developer in state {r.state.value!r}"
    if p.target not in _CHANGED:
        return f"a pending change to {p.target.value!r} (P9 makes only developer or cancelled)"
    if not is_next_month_start(p.effective_at, p.requested_at, tz):
        return "the pending change is not effective on the 1st after its request (P9)"
    if r.since is None or p.requested_at < r.since:
        return "the pending change was requested before the state it changes began"
    if p.requested_by not in _IDENTIFIERS and not _identifier(p.requested_by):
        return f"pending.requested_by {describe(p.requested_by)} is not an identifier (V5)"
    return None
