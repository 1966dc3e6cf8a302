"""A support plan's snapshot: what it holds, and the V2 checks a restore runs on it.

Restore refuses, whole, any record this library could not have written, naming the first
inconsistency found (RULES.md V2): every field required, the history in time order and chained
state to state, the trial, pending change, last plan and billing periods consistent with the
state and the history, and both P20 invariants.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import attrs
import pendulum

from support_flows.errors import describe
from support_flows.guards.plan import IN_FORCE
from support_flows.inputs import is_identifier
from support_flows.localtime import add_wall_days, is_month_start, is_next_month_start
from support_flows.machines.plan_book import TRIAL_DAYS, PlanBook
from support_flows.plan_values import BillingPeriod, EndedPlan, HistoryEntry, PendingChange, Trial
from support_flows.snapshot_codec import writer_fn
from support_flows.snapshots import read, refuse, whose
from support_flows.values import Organization, PlanState, Tier

__all__ = ["KIND", "SNAPSHOT_VERSION", "PlanSnapshot", "book_from_snapshot", "snapshot_of"]

SNAPSHOT_VERSION = 2
KIND = "support_plan"
REQUESTS = frozenset({"subscribe", "upgrade", "downgrade", "cancel", "revoke", "reactivate"})
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
    problem = _inconsistency(record, org, book)
    if problem is not None:
        raise refuse("support plan", problem)
    book.history_complete = record.history is not None
    return book


def _inconsistency(r: PlanSnapshot, org: Organization, book: PlanBook) -> str | None:
    """The first thing that makes `r` a record this library could not have written, if any.
    `book` holds the record's values; its billing timeline is what an action would bill."""
    tz = org.billing_timezone
    problem = (
        whose(r.version, r.org_id, r.billing_timezone, SNAPSHOT_VERSION, org)
        or _record(r)
        or _trial(r, tz)
        or _pending(r, tz)
        or _periods(r, tz)
    )
    if problem is None and r.state is _PREMIUM and r.since is not None:
        end = r.pending.effective_at if r.pending is not None else None
        problem = _premium_billed(book, [(r.since, end)])
    if problem is None and r.history is not None:
        problem = _history(r, r.history, tz) or _history_agrees(r, r.history)
        if problem is None:
            problem = _premium_billed(book, _premium_stretches(r, r.history))
    return problem


def _record(r: PlanSnapshot) -> str | None:
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
        if last_plan.state is _TRIAL and started is None:
            return "a last plan that was a trial, but no trial ever started"
    recorded = r.recorded_at
    latest = _latest(since, started, r.pending.requested_at if r.pending is not None else None)
    if (recorded is None) != (latest is None) or (
        latest is not None and recorded is not None and recorded < latest
    ):
        return f"recorded_at {_iso(recorded)} is before what the record says happened (T8)"
    if started is not None and since is not None and started > since:
        return "the trial started after the current state began"
    if r.last_change_applied and (r.pending is not None or state not in _CHANGED):
        return "a change took effect (P12), but the record is not what a change leaves"
    return None


def _latest(*instants: pendulum.DateTime | None) -> pendulum.DateTime | None:
    """The latest of the instants at which the record says something happened (None if none)."""
    latest = None
    for at in instants:
        if at is not None and (latest is None or at > latest):
            latest = at
    return latest


def _iso(at: pendulum.DateTime | None) -> str:
    return "none" if at is None else at.isoformat()


def _history(r: PlanSnapshot, history: Sequence[HistoryEntry], tz: str) -> str | None:
    """Each entry an edge of the chart, in time order, chained state to state, with the tier and
    effective instant its event gives; the pending change followed through to the record's."""
    edges, events = _chart_edges()
    previous_at: pendulum.DateTime | None = None
    current = _BASIC
    pending: tuple[PlanState, pendulum.DateTime | None] | None = None
    for n, entry in enumerate(history):
        problem = _entry_problem(entry, previous_at, current, pending, edges, events, tz)
        if problem is not None:
            return f"{_entry_name(n, entry)}{problem}"
        if entry.event == "apply_pending":
            pending = None
        elif _schedules(entry):
            target = PlanState.DEVELOPER if entry.event == "downgrade" else _CANCELLED
            pending = (target, entry.effective_at)
        elif entry.event in ("revoke", "upgrade", "cancel"):
            pending = None
        previous_at, current = entry.at, entry.target
    if current is not r.state:
        return f"the history ends in {current.value!r}, not in state {r.state.value!r}"
    held = (r.pending.target, r.pending.effective_at) if r.pending is not None else None
    if pending != held:
        return "the pending change is not the one the history leaves (P9, P10, P12)"
    return None


def _schedules(entry: HistoryEntry) -> bool:
    """Whether the entry's event schedules a change (P9): a downgrade, or a cancel that waits."""
    return entry.event == "downgrade" or (entry.event == "cancel" and entry.source is entry.target)


def _entry_problem(
    entry: HistoryEntry,
    previous_at: pendulum.DateTime | None,
    current: PlanState,
    pending: tuple[PlanState, pendulum.DateTime | None] | None,
    edges: frozenset[tuple[str, str, str]],
    events: frozenset[str],
    tz: str,
) -> str | None:
    """What is wrong with one history entry, following the entries before it, if anything."""
    if entry.event not in events:
        return " names an unknown event"
    if (entry.event, entry.source, entry.target) not in edges:
        return " is not a transition of the plan chart"
    if previous_at is not None and entry.at < previous_at:
        return " comes before the entry preceding it"
    if entry.source is not current:
        return f" starts from {entry.source.value!r}, but the plan was {current.value!r}"
    if (entry.event in REQUESTS) != (entry.requested_by is not None):
        return ": only requests name who made them"
    if entry.requested_by is not None and not is_identifier(entry.requested_by):
        return " names a requester that is not an identifier (V5)"
    if entry.tier not in _TIERS.get(entry.event, _no_tier)(entry):
        return f" records tier {describe(entry.tier)}, which its event does not choose"
    if _schedules(entry) != (entry.effective_at is not None) or (
        entry.effective_at is not None and not is_next_month_start(entry.effective_at, entry.at, tz)
    ):
        return " has an effective instant its event does not give (P9)"
    if entry.event == "apply_pending" and pending != (entry.target, entry.at):
        return " applies a change that was not pending for that instant"
    return None


@cache
def _chart_edges() -> tuple[frozenset[tuple[str, str, str]], frozenset[str]]:
    """The plan chart's (event, source, target) edges and its events, read once."""
    from support_flows.machines.plan import COMPILED  # the chart's module restores through here

    return frozenset((e.event, e.source, e.target) for e in COMPILED.edges), frozenset(
        COMPILED.events
    )


def _entry_name(n: int, entry: HistoryEntry) -> str:
    return f"history entry {n} ({describe(entry.event)} at {entry.at.isoformat()})"


def _request_tier(entry: HistoryEntry) -> tuple[Tier | None, ...]:
    return (IN_FORCE[entry.target],)


def _no_tier(entry: HistoryEntry) -> tuple[Tier | None, ...]:
    return ()


_TIERS = {
    "subscribe": _request_tier,
    "upgrade": _request_tier,
    "reactivate": _request_tier,
    "downgrade": lambda e: (Tier.DEVELOPER,),
    "cancel": lambda e: (Tier.BASIC,),
    "revoke": lambda e: (None, IN_FORCE[e.source]),
    "end_trial": lambda e: (None,),
    "apply_pending": lambda e: (None,),
}


def _history_agrees(r: PlanSnapshot, history: Sequence[HistoryEntry]) -> str | None:
    """What the record says of its past is what its history shows."""
    changes = [e for e in history if e.source is not e.target]
    since = changes[-1].at if changes else None
    if r.since != since:
        return f"since {_iso(r.since)} is not when the state last changed ({_iso(since)})"
    trials = [e.at for e in history if e.target is _TRIAL and e.source is not e.target]
    if r.trial_started_at != (trials[0] if trials else None) or len(trials) > 1:
        return "trial_started_at is not when the history's one trial began"
    if r.recorded_at != (history[-1].at if history else None):
        return "recorded_at is not the instant of the history's latest entry (T8)"
    applied = False
    for entry in history:
        applied = entry.event == "apply_pending" or (applied and not entry.is_request)
    if applied != r.last_change_applied:
        return "last_change_applied does not follow from the history (P12)"
    ended = [e for e in changes if e.target is _CANCELLED]
    expected = EndedPlan(ended[-1].source, ended[-1].at) if ended else None
    if r.last_plan != expected:
        return f"last plan {describe(r.last_plan)} is not the plan that ended ({expected!r})"
    if r.pending is not None and not any(
        e.at == r.pending.requested_at
        and e.requested_by == r.pending.requested_by
        and e.event in _MAKES[r.pending.target]
        for e in history
    ):
        return "no request in the history made the pending change"
    return None


def _trial(r: PlanSnapshot, tz: str) -> str | None:
    trial = r.trial
    if (r.state is _TRIAL) != (trial is not None):
        return f"state {r.state.value!r} with trial {describe(trial)}"
    if trial is not None:
        if trial.started_at != r.since or trial.started_at != r.trial_started_at:
            return "the trial did not start when the plan entered it"
        if trial.ends_at != add_wall_days(trial.started_at, TRIAL_DAYS, tz):
            return f"the trial does not last {TRIAL_DAYS} days (T5)"
    return None


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
    return None


_MAKES = {PlanState.DEVELOPER: ("downgrade",), PlanState.CANCELLED: ("cancel",)}


def _periods(r: PlanSnapshot, tz: str) -> str | None:
    periods = r.periods
    last_n = len(periods) - 1
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
        elif not _allowed(starts, r, tz):
            problem = _off_month(starts)
        elif ends is not None and not _allowed(ends, r, tz):
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


def _allowed(boundary: pendulum.DateTime, r: PlanSnapshot, tz: str) -> bool:
    """P20's exceptions: a month start, a retroactive or catch-up start, or the one trial's end."""
    if is_month_start(boundary, tz) or any(
        p.retroactive and p.starts_at == boundary for p in r.periods
    ):
        return True
    started = r.trial_started_at
    return started is not None and boundary == add_wall_days(started, TRIAL_DAYS, tz)


def _off_month(boundary: pendulum.DateTime) -> str:
    return f"has a boundary {boundary.isoformat()} not at a month start (P20)"


def _period_name(n: int, p: BillingPeriod) -> str:
    return f"billing period {n} ({p.tier.value} from {p.starts_at.isoformat()})"


def _premium_billed(
    book: PlanBook, stretches: Sequence[tuple[pendulum.DateTime, pendulum.DateTime | None]]
) -> str | None:
    """P20's second invariant (P21): every stretch in premium overlaps, or is followed without a
    gap by, a premium billing period of the book's timeline, the pending change included."""
    if not stretches:
        return None
    timeline = book.timeline()
    for start, end in stretches:
        for p in timeline:  # loops, not any(): this runs on every restore of a premium plan
            if (
                p.tier is _PREMIUM_TIER
                and (end is None or p.starts_at <= end)
                and (p.ends_at is None or p.ends_at > start)
            ):
                break
        else:
            return f"premium held from {start.isoformat()} is never billed (P21)"
    return None


Stretch = tuple[pendulum.DateTime, pendulum.DateTime | None]


def _premium_stretches(r: PlanSnapshot, history: Sequence[HistoryEntry]) -> list[Stretch]:
    """The stretches the history shows in premium, the last one ending with the pending change."""
    stretches: list[Stretch] = []
    start: pendulum.DateTime | None = None
    for entry in history:
        if entry.source is entry.target:
            continue
        if entry.target is _PREMIUM:
            start = entry.at
        elif start is not None:
            stretches.append((start, entry.at))
            start = None
    if start is not None:
        stretches.append((start, r.pending.effective_at if r.pending is not None else None))
    return stretches
