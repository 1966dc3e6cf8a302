"""A support plan's snapshot: what it holds, and the V2 checks a restore runs on it.

Restore refuses, whole, any record this library could not have written, naming the first
inconsistency found (RULES.md V2). Every field is required. Each derived fact (since, the trial,
the pending change, the last plan, recorded_at, P12's flag, the billing periods) is checked
against the rest of the record: it must be one that some accepted requests could have produced
(the state's own entry, P20's invariants, T7 and T8). With a history, the record must moreover be
exactly what replaying that history gives (`plan_replay`), the refusal naming the first JSON path
where it is not.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import attrs
import pendulum

from support_flows.errors import describe
from support_flows.guards.plan import IN_FORCE
from support_flows.inputs import is_identifier
from support_flows.localtime import (
    add_wall_days,
    is_month_start,
    is_next_month_start,
    next_month_start,
)
from support_flows.machines.plan_book import RETROACTIVE_DAYS, TRIAL_DAYS, PlanBook
from support_flows.machines.plan_invariants import boundary_allowed
from support_flows.machines.plan_replay import derive
from support_flows.snapshot_codec import writer_fn
from support_flows.snapshots import differs, read, refuse, whose
from support_flows.values import Organization, PlanState, Tier
from support_flows.values.plan import BillingPeriod, EndedPlan, HistoryEntry, PendingChange, Trial

__all__ = ["KIND", "SNAPSHOT_VERSION", "PlanSnapshot", "book_from_snapshot", "snapshot_of"]

SNAPSHOT_VERSION = 2
KIND = "support_plan"
PAID = (PlanState.DEVELOPER, PlanState.PREMIUM)
# Members read once: on Python 3.11 reading one through its enum class costs a lookup each time.
_BASIC, _TRIAL, _CANCELLED = PlanState.BASIC, PlanState.TRIAL, PlanState.CANCELLED
_DEVELOPER, _PREMIUM, _PREMIUM_TIER = PlanState.DEVELOPER, PlanState.PREMIUM, Tier.PREMIUM
_BILLED = (Tier.DEVELOPER, Tier.PREMIUM)
_ENDS = (_TRIAL, *PAID)
_CHANGED = (PlanState.DEVELOPER, _CANCELLED)


@attrs.frozen(slots=False)  # read once per restore; a dict class is built faster
class PlanSnapshot:
    """What `SupportPlan.snapshot()` writes: every field required on restore.

    `history` is None in a snapshot written without it (a store keeps it in its audit log); the
    record still holds what the rules need: when the state began (`since`), when the one trial
    began (`trial_started_at`), and whether the last change took effect with no request since
    (`last_change_applied`, P12), and the instant of its latest history entry (`recorded_at`, T8).
    """

    kind: str
    version: int
    org_id: str
    billing_timezone: str
    state: PlanState
    since: pendulum.DateTime | None
    trial_started_at: pendulum.DateTime | None
    last_change_applied: bool
    recorded_at: pendulum.DateTime | None
    trial: Trial | None
    pending: PendingChange | None
    periods: tuple[BillingPeriod, ...]
    last_plan: EndedPlan | None
    history: tuple[HistoryEntry, ...] | None


def snapshot_of(book: PlanBook, org: Organization, *, history: bool = True) -> dict[str, Any]:
    """`book` as a snapshot dict, its history included when asked for and held in full."""
    return writer_fn(PlanSnapshot)(
        KIND,
        SNAPSHOT_VERSION,
        org.org_id,
        org.billing_timezone,
        book.state,
        book.since,
        book.trial_started_at,
        book.last_change_applied,
        book.recorded_at,
        book.trial,
        book.pending,
        book.periods,
        book.last_plan,
        tuple(book.history) if history and book.history_complete else None,
    )


def book_from_snapshot(data: object, org: Organization) -> PlanBook:
    """The plan record `data` describes, or `invalid_snapshot` naming its first inconsistency."""
    record = read(data, PlanSnapshot, KIND, "support plan")
    book = PlanBook(
        org.billing_timezone,
        record.state,
        record.trial,
        record.pending,
        record.periods,
        record.since,
        record.last_plan,
        list(record.history or ()),
        record.last_change_applied,
        record.trial_started_at,
        record.recorded_at,
    )
    problem = _inconsistency(record, org)
    if problem is None and record.history is not None:
        problem = _derived(data, record, record.history, org)
    if problem is not None:
        raise refuse("support plan", problem)
    book.history_complete = record.history is not None
    return book


# The facts a history determines, as the book holds them and as the record does.
_FACTS = (
    "state",
    "since",
    "trial_started_at",
    "last_change_applied",
    "recorded_at",
    "trial",
    "pending",
    "periods",
    "last_plan",
)
_facts_of = operator.attrgetter(*_FACTS)


def _derived(
    data: object, record: PlanSnapshot, history: Sequence[HistoryEntry], org: Organization
) -> str | None:
    """With its history, the record is exactly what replaying that history writes (V2)."""
    derived = derive(history, org)
    if isinstance(derived, str):
        return derived
    if _facts_of(derived) == _facts_of(record) and derived.history == list(history):
        return None
    return differs(data, snapshot_of(derived, org), "replaying its history")


def _inconsistency(r: PlanSnapshot, org: Organization) -> str | None:
    """The first thing that makes `r` a record this library could not have written, judged from
    the record alone, if any. (P21's premium billing follows: the open premium period, and the
    catch-up a pending change bills, cover the stretch in premium.)"""
    tz = org.billing_timezone
    return (
        whose(r.version, r.org_id, r.billing_timezone, SNAPSHOT_VERSION, org)
        or _record(r, tz)
        or _recorded(r)
        or _trial(r, tz)
        or _pending(r, tz)
        or _periods(r, tz)
        or _billed_since(r, tz)
    )


def _record(r: PlanSnapshot, tz: str) -> str | None:
    """The state's own facts: since, the one trial (P4), the last plan (P15), P12's flag."""
    state, since, last_plan, started = r.state, r.since, r.last_plan, r.trial_started_at
    if (state is _BASIC) != (since is None):
        return f"state {state.value!r} with since {_iso(since)}"
    if state is _BASIC and (started is not None or last_plan is not None or r.periods or r.pending):
        return "state 'basic' with a trial, a billed or ended plan (P4: basic means none ever was)"
    if state is _CANCELLED and (last_plan is None or last_plan.ended_at != since):
        return "state 'cancelled' without the plan that ended when it began"
    if last_plan is not None:
        if last_plan.state not in _ENDS:
            return f"a last plan in state {last_plan.state.value!r}, which is not a plan that ends"
        if since is None or last_plan.ended_at > since:
            return "a last plan that ended after the current state began"
        if last_plan.state is _TRIAL:
            if started is None or not (
                started <= last_plan.ended_at < add_wall_days(started, TRIAL_DAYS, tz)
            ):
                return (
                    f"a last plan that was a trial ending at {_iso(last_plan.ended_at)}, "
                    f"but no trial ran then (trial_started_at {_iso(started)}, P7)"
                )
        elif not is_month_start(last_plan.ended_at, tz):
            return (
                f"a last {last_plan.state.value} plan ending at {_iso(last_plan.ended_at)}, "
                "not at the 1st of a month where its cancel took effect (P9)"
            )
    if started is not None and since is not None and started > since:
        return "the trial started after the current state began"
    if r.last_change_applied and (r.pending is not None or state not in _CHANGED):
        return "a change took effect (P12), but the record is not what a change leaves"
    if state is _CANCELLED and last_plan is not None:
        applied = last_plan.state is not _TRIAL  # P9's cancel is applied; P7's is a request
        if r.last_change_applied != applied:
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


def _trial(r: PlanSnapshot, tz: str) -> str | None:
    trial = r.trial
    if (r.state is _TRIAL) != (trial is not None):
        return f"state {r.state.value!r} with trial {describe(trial)}"
    if trial is not None:
        if trial.started_at != r.since or trial.started_at != r.trial_started_at:
            return "the trial did not start when the plan entered it"
        if trial.ends_at != add_wall_days(trial.started_at, TRIAL_DAYS, tz):
            return f"the trial does not last {TRIAL_DAYS} days (T5)"
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


def _pending(r: PlanSnapshot, tz: str) -> str | None:
    p = r.pending
    if p is None:
        return None
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


def _periods(r: PlanSnapshot, tz: str) -> str | None:
    periods = r.periods
    last_n = len(periods) - 1
    exceptions = _Exceptions(r, tz)
    previous_end: pendulum.DateTime | None = None
    for n, p in enumerate(periods):
        starts, ends = p.starts_at, p.ends_at
        if p.tier not in _BILLED:
            problem = "bills a tier that is never billed"
        elif ends is not None and ends <= starts:
            problem = "is empty or ends before it starts"
        elif ends is None and n != last_n:
            problem = "is open but is not the last period"
        elif n and (previous_end or starts) > starts:
            problem = "overlaps or comes before the period preceding it"
        elif n and previous_end != starts and r.last_plan is None:
            problem = "leaves a gap after the period preceding it, but no plan ever ended (P9)"
        elif not boundary_allowed(starts, tz, exceptions):
            problem = _off_month(starts)
        elif ends is not None and not boundary_allowed(ends, tz, exceptions):
            problem = _off_month(ends)
        else:
            previous_end = ends
            continue
        return f"{_period_name(n, p)} {problem}"
    last = periods[-1] if periods else None
    open_tier = last.tier if last is not None and last.ends_at is None else None
    state = r.state
    if state in PAID and open_tier is not IN_FORCE[state]:
        return f"state {state.value!r} is not billed by an open {IN_FORCE[state].value} period"
    if state not in PAID and open_tier is not None:
        return f"state {state.value!r} has an open billing period"
    return None


def _billed_since(r: PlanSnapshot, tz: str) -> str | None:
    """The billing the current state's own entry made (P5, P6, P8, P9, P15), and the end of the
    plan that ended last: what periods the rest of the record says were billed."""
    periods, since, last_plan = r.periods, r.since, r.last_plan
    if r.state is _CANCELLED and last_plan is not None:
        if last_plan.state is _TRIAL:
            return None if not periods else "a trial cancelled (P7) has no billing periods"
        last = periods[-1] if periods else None
        if last is None or last.ends_at != since or last.tier is not IN_FORCE[last_plan.state]:
            billed = "none" if last is None else f"{_period_name(len(periods) - 1, last)}"
            until = "" if last is None else f", ending at {_iso(last.ends_at)}"
            return (
                f"the {last_plan.state.value} plan that ended at {_iso(since)} is not billed up "
                f"to then: its last billing period is {billed}{until} (P9)"
            )
        return None
    if r.state not in PAID or since is None or not periods:
        return None
    started = r.trial_started_at
    trial_end = None if started is None else _first_trial_end(r, tz)
    first = periods[0].starts_at
    if last_plan is None:
        if started is None and periods[0].tier is not _PREMIUM_TIER:
            return (
                f"{_period_name(0, periods[0])} is the first billing, but without a trial the "
                "first plan billed is premium (P4, P5)"
            )
        if started is not None and trial_end is not None and not started <= first <= trial_end:
            return (
                f"{_period_name(0, periods[0])} is the first billing after a trial from "
                f"{_iso(started)}, which bills from its end, {_iso(trial_end)}, at the latest "
                "(P6, P8)"
            )
    if (
        last_plan is not None
        and last_plan.state is not _TRIAL
        and not any(
            p.ends_at == last_plan.ended_at and p.tier is IN_FORCE[last_plan.state] for p in periods
        )
    ):
        return (
            f"no billing period of the {last_plan.state.value} plan ends where it ended, at "
            f"{_iso(last_plan.ended_at)} (P9)"
        )
    open_period = periods[-1]
    starts = open_period.starts_at
    if open_period.retroactive:
        name = _period_name(len(periods) - 1, open_period)
        if last_plan is None or (r.state is _PREMIUM and last_plan.state is not _PREMIUM):
            return (
                f"{name} is billed retroactively, but {r.state.value} in force since "
                f"{_iso(since)} after last plan {describe(last_plan)} is not a reactivation "
                "billed retroactively (P5, P6, P8, P9, P15)"
            )
        expected = max(last_plan.ended_at, add_wall_days(since, -RETROACTIVE_DAYS, tz))
        if starts == expected and not r.last_change_applied:
            return None
        return (
            f"{name} is billed retroactively, but a reactivation at {_iso(since)} after the "
            f"{last_plan.state.value} plan that ended at {_iso(last_plan.ended_at)} is billed "
            f"from {_iso(expected)} (P15)"
        )
    if r.state is _PREMIUM:
        if trial_end is not None and len(periods) == 1:
            upgraded = since < trial_end and starts == min(next_month_start(since, tz), trial_end)
            if upgraded:
                return None  # P8: the trial upgraded, billed from its end if sooner
        elif is_next_month_start(starts, since, tz):
            return None  # P5, P8, P15's exception
        elif trial_end is not None and starts == min(next_month_start(since, tz), trial_end):
            return None  # P8: the trial upgraded, after a downgrade during it
        return (
            f"{_period_name(len(periods) - 1, open_period)}: premium in force since "
            f"{_iso(since)} is billed from the 1st of the next month (P5, P8, P15)"
        )
    if starts == since:
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
        f"{_period_name(len(periods) - 1, open_period)}: developer in force since "
        f"{_iso(since)} is billed from a trial's end (P6) or a downgrade's effective instant "
        "(P9), after premium billed up to it (P21)"
    )


def _first_trial_end(r: PlanSnapshot, tz: str) -> pendulum.DateTime | None:
    """The end of the one trial, when no plan has ended since it began (the first cycle)."""
    started = r.trial_started_at
    if started is None or r.last_plan is not None:
        return None
    return add_wall_days(started, TRIAL_DAYS, tz)


class _Exceptions:
    """P20's exceptions to month starts in a record: its retroactive and catch-up starts, and
    the end of the trial it began (the boundary P6 and P8 may set), worked out only for a
    boundary that is not a month start."""

    __slots__ = ("r", "tz")

    def __init__(self, r: PlanSnapshot, tz: str) -> None:
        self.r = r
        self.tz = tz

    def __contains__(self, boundary: object) -> bool:
        if any(p.retroactive and p.starts_at == boundary for p in self.r.periods):
            return True
        started = self.r.trial_started_at
        return started is not None and boundary == add_wall_days(started, TRIAL_DAYS, self.tz)


def _off_month(boundary: pendulum.DateTime) -> str:
    return f"has a boundary {boundary.isoformat()} not at a month start (P20)"


def _period_name(n: int, p: BillingPeriod) -> str:
    return f"billing period {n} ({p.tier.value} from {p.starts_at.isoformat()})"
