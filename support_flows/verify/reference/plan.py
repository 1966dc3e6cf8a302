"""An executable reference of the support plan, written from RULES.md (P1-P21, T3-T8) alone.

It shares nothing with the chart, the guards, the plan's book or the library's calendar: the
calendar (T3's month start, T5's wall days) is the reference's own, `reference.calendar`. The
billing timeline is kept as a step function: points "from this instant on, bill this tier (or
nothing)", and the periods are read off it. Every function is pure: a `RefPlan` in, a new one
out, so an explorer can branch from any of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import attrs

from support_flows.verify.reference.calendar import add_wall_days, is_month_start, next_month_start
from support_flows.verify.reference.terms import current

__all__ = [
    "ENTITLED",
    "IN_FORCE",
    "TIERS",
    "RefPending",
    "RefPeriod",
    "RefPlan",
    "Refusal",
    "applied_rules",
    "billing",
    "decide",
    "due",
    "entitled",
    "meaning",
    "observe",
    "perform",
    "request_instants",
]

TIERS = ("basic", "developer", "premium", "enterprise")
RANK = {"basic": 0, "developer": 1, "premium": 2}
IN_FORCE = {
    "basic": "basic",
    "trial": "developer",
    "developer": "developer",
    "premium": "premium",
    "cancelled": "basic",
}
ENTITLED = {
    "basic": frozenset({"chat", "developer_resources"}),
    "cancelled": frozenset({"chat", "developer_resources"}),
    "trial": frozenset({"chat", "developer_resources", "support_case"}),
    "developer": frozenset({"chat", "developer_resources", "support_case"}),
    "premium": frozenset({"chat", "developer_resources", "support_case"}),
}
"""P17, restated (Atlas's case states)."""


def entitled(state: str) -> frozenset[str]:
    """P17 under K1: a state of the policy's `case_states` has cases besides the basic two."""
    return ENTITLED["trial"] if state in current().case_states else ENTITLED["basic"]


Refusal = tuple[str, str]
"""(reason code, rule id)."""


@attrs.frozen
class Point:
    """From `at` on, bill `tier` (None: bill nothing)."""

    at: dt.datetime
    tier: str | None
    retroactive: bool = False


@attrs.frozen
class RefPending:
    target: str
    effective_at: dt.datetime
    requested_at: dt.datetime
    requested_by: str


@attrs.frozen
class RefPeriod:
    tier: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    retroactive: bool


@attrs.frozen
class RefPlan:
    """What RULES.md says one organization's plan is."""

    tz: str
    cross_org: bool
    state: str = "basic"
    trial: tuple[dt.datetime, dt.datetime] | None = None
    pending: RefPending | None = None
    since: dt.datetime | None = None
    last_end: tuple[str, dt.datetime] | None = None
    trial_end: dt.datetime | None = None
    """The one trial's scheduled end, kept for P20's exceptions once the trial is over."""
    points: tuple[Point, ...] = ()
    change_took_effect: bool = False
    """P12: a pending change took effect and no request came after it."""
    history: tuple[tuple[dt.datetime, str, str, str | None], ...] = ()
    """(at, source, target, requested_by) of every accepted request and applied change."""

    def month_after(self, now: dt.datetime) -> dt.datetime:
        return next_month_start(now, self.tz)


def due(ref: RefPlan) -> dt.datetime | None:
    """When the trial ends or the pending change takes effect (never both at once)."""
    if ref.trial is not None:
        return ref.trial[1]
    return ref.pending.effective_at if ref.pending is not None else None


Applied = tuple[dt.datetime, str, str, tuple[str, ...]]
"""(instant, state before, state after, rules applied) of something the clock applied."""


def observe(ref: RefPlan, now: dt.datetime) -> tuple[RefPlan, tuple[Applied, ...]]:
    """T7/P14: whatever has come due by `now`, applied in time order at its own instant."""
    applied: list[Applied] = []
    while (at := due(ref)) is not None and at <= now:
        source = ref.state
        ref, rules = _trial_ends(ref, at) if ref.trial is not None else _change_applies(ref, at)
        applied.append((at, source, ref.state, rules))
        ref = _log(ref, at, source, None)
    return ref, tuple(applied)


def _trial_ends(ref: RefPlan, at: dt.datetime) -> tuple[RefPlan, tuple[str, ...]]:
    """P6: the trial becomes developer, billed from its end."""
    points = (*ref.points, Point(at, "developer"))
    ref = attrs.evolve(ref, state="developer", trial=None, since=at, points=points)
    return ref, ("P6", "P14", "T7")


def _change_applies(ref: RefPlan, at: dt.datetime) -> tuple[RefPlan, tuple[str, ...]]:
    """P9/P16/P21: the pending change takes effect at its instant, whoever asked for it."""
    assert ref.pending is not None
    change = ref.pending
    rules = ("P9", "P14", "P16", "T7", *applied_rules(ref))
    points = (*_until(_caught_up(ref, at), at), Point(at, _billed(change.target)))
    ended = (ref.state, at) if change.target == "cancelled" else ref.last_end
    ref = attrs.evolve(
        ref,
        state=change.target,
        pending=None,
        since=at,
        points=points,
        last_end=ended,
        change_took_effect=True,
    )
    return ref, rules


def _log(ref: RefPlan, at: dt.datetime, source: str, by: str | None) -> RefPlan:
    return attrs.evolve(ref, history=(*ref.history, (at, source, ref.state, by)))


def _billed(target: str) -> str | None:
    return "developer" if target == "developer" else None


def meaning(ref: RefPlan, tier: str) -> str | None:
    """What choosing `tier` asks for in this state, or None when it asks for nothing."""
    if tier == "enterprise":
        return None
    if tier == "basic":
        return "cancel" if ref.state in ("trial", "developer", "premium") else None
    if ref.state == "basic":
        return "subscribe"
    if ref.state == "cancelled":
        return "reactivate"
    if tier == IN_FORCE[ref.state]:
        return "revoke" if ref.state != "trial" and ref.pending is not None else None
    return "upgrade" if RANK[tier] > RANK[IN_FORCE[ref.state]] else "downgrade"


def decide(
    ref: RefPlan, request: str, org_roles: Collection[str], tier: str | None = None
) -> tuple[Refusal, ...]:
    """Every reason the request is refused, in rule order (P1, P2, P3, P11, P12, P13)."""
    reasons: list[Refusal] = []
    if not current().billing_roles & set(org_roles):
        reasons.append(("billing_role_required", "P1"))
    if request == "revoke_pending":
        if ref.pending is None:
            late = ref.change_took_effect
            reasons.append(("change_already_effective" if late else "no_pending_change", "P12"))
        return tuple(reasons)
    chosen = "basic" if request == "cancel" else tier
    assert chosen is not None
    if chosen == "enterprise":
        reasons.append(("contact_sales", "P2"))
    if ref.cross_org and meaning(ref, chosen) in ("subscribe", "upgrade", "reactivate"):
        reasons.append(("cross_org_billing", "P3"))
    on_it = ref.state not in ("basic", "cancelled") and chosen == IN_FORCE[ref.state]
    if on_it and (ref.state == "trial" or ref.pending is None):
        reasons.append(("already_on_plan", "P11"))
    if chosen == "basic" and ref.state in ("basic", "cancelled"):
        reasons.append(("nothing_to_cancel", "P13"))
    return tuple(reasons)


def perform(
    ref: RefPlan, request: str, actor_id: str, tier: str | None, now: dt.datetime
) -> tuple[RefPlan, tuple[str, ...]]:
    """An accepted request (decide() found nothing): the plan after it, and the rules it applied."""
    chosen = "basic" if request == "cancel" else tier
    what = "revoke" if request == "revoke_pending" else meaning(ref, chosen or "")
    terms = current()
    month_after = ref.month_after(now)
    billed_from = now if terms.upgrade_now else month_after  # K1's upgrade_billing
    later = () if terms.upgrade_now else ("T3",)
    source = ref.state
    rules: tuple[str, ...]
    if what == "subscribe" and chosen == "developer" and terms.has_trial:
        ends = add_wall_days(now, terms.trial_days, ref.tz)
        ref = attrs.evolve(ref, state="trial", trial=(now, ends), since=now, trial_end=ends)
        rules = ("P4", "T5")
    elif what == "subscribe":
        assert chosen is not None
        points = (*ref.points, Point(billed_from, chosen))
        ref = attrs.evolve(ref, state=chosen, since=now, points=points)
        rules = ("P5", *later)
    elif what == "upgrade" and ref.trial is not None:
        points = (*ref.points, Point(min(billed_from, ref.trial[1]), "premium"))
        ref = attrs.evolve(ref, state="premium", trial=None, since=now, points=points)
        rules = ("P8", *later)
    elif what == "upgrade":
        points = (*ref.points, Point(billed_from, "premium"))
        ref = attrs.evolve(ref, state="premium", pending=None, since=now, points=points)
        rules = ("P8", *later)
    elif what in ("cancel", "downgrade") and ref.trial is None and terms.changes_now:
        ref, rules = _change_now(ref, "cancelled" if what == "cancel" else "developer", now)
    elif what == "cancel" and ref.trial is not None:
        ended = ("trial", now)
        ref = attrs.evolve(ref, state="cancelled", trial=None, since=now, last_end=ended)
        rules = ("P7",)
    elif what == "cancel" and ref.pending is not None and ref.pending.target == "cancelled":
        rules = ("P13",)
    elif what in ("cancel", "downgrade"):
        target = "cancelled" if what == "cancel" else "developer"
        replaced = ("P10",) if ref.pending is not None else ()
        ref = attrs.evolve(ref, pending=RefPending(target, month_after, now, actor_id))
        rules = ("P9", "T3", *replaced)
    elif what == "revoke":
        ref = attrs.evolve(ref, pending=None)
        rules = ("P12",) if request == "revoke_pending" else ("P11", "P12")
    elif what == "reactivate":
        assert chosen is not None
        ref, rules = _reactivate(ref, chosen, now)
    else:
        raise AssertionError(f"accepted {request} {tier} on {ref.state}: the rules give no meaning")
    if "T3" in rules and is_month_start(now, ref.tz):
        rules = (*rules, "T4")
    ref = attrs.evolve(ref, change_took_effect=False)
    return _log(ref, now, source, actor_id), (*rules, *applied_rules(ref))


def _reactivate(ref: RefPlan, tier: str, now: dt.datetime) -> tuple[RefPlan, tuple[str, ...]]:
    """P15: paid support again now, billed retroactively (at most 90 days), no new trial."""
    assert ref.last_end is not None
    last, ended = ref.last_end
    if tier == "premium" and last in ("trial", "developer"):
        point = Point(ref.month_after(now), "premium")
        rules: tuple[str, ...] = ("P15", "T3")
    else:
        floor = add_wall_days(now, -current().retroactive_days, ref.tz)
        point = Point(max(ended, floor), tier, retroactive=True)
        rules = ("P15",)
    points = (*ref.points, point)
    return attrs.evolve(ref, state=tier, since=now, points=points), rules


def _change_now(ref: RefPlan, target: str, now: dt.datetime) -> tuple[RefPlan, tuple[str, ...]]:
    """P9 under K1's `immediately`: the change is in force at the request, billed as one that
    came due then (P21's catch-up for a tier never billed); nothing stays pending."""
    asked = attrs.evolve(ref, pending=RefPending(target, now, now, ""))
    caught = applied_rules(asked)
    return _change_applies(asked, now)[0], ("P9", *caught)


def request_instants(ref: RefPlan) -> frozenset[dt.datetime]:
    """K1: under `immediately`, the instants of the requests whose billing starts or whose change
    takes effect at the request, which P20's first invariant also allows as boundaries."""
    terms = current()
    found = set()
    for at, source, target, by in ref.history:
        if by is None or source == target:
            continue
        upgrade = target in RANK and source in ("basic", "trial", "developer")
        if (terms.upgrade_now and upgrade) or (terms.changes_now and not upgrade):
            found.add(at)
    return frozenset(found)


def _until(points: tuple[Point, ...], effective: dt.datetime) -> tuple[Point, ...]:
    """P9: a change that takes effect ends whatever billing was scheduled after its instant (under
    K1's `immediately`, a premium billing due at the 1st of next month)."""
    return tuple(p for p in points if p.at <= effective)


def _caught_up(ref: RefPlan, effective: dt.datetime) -> tuple[Point, ...]:
    """P21: the tier in force, if it is not billed just before the change's effective instant,
    billed from when it came into force, retroactively, instead of whatever was billed then."""
    tier = IN_FORCE[ref.state]
    before = [p for p in sorted(ref.points, key=lambda p: p.at) if p.at < effective]
    if before and before[-1].tier == tier:
        return ref.points
    assert ref.since is not None
    kept = tuple(p for p in ref.points if p.at < ref.since)
    return (*kept, Point(ref.since, tier, retroactive=True))


def applied_rules(ref: RefPlan) -> tuple[str, ...]:
    """P21 when the timeline shows a catch-up for the pending change."""
    if ref.pending is None:
        return ()
    return ("P21",) if _caught_up(ref, ref.pending.effective_at) != ref.points else ()


def billing(ref: RefPlan) -> tuple[RefPeriod, ...]:
    """P20: the periods, including what the trial's end and the pending change schedule."""
    points = list(ref.points)
    if ref.trial is not None:
        points.append(Point(ref.trial[1], "developer"))
    if ref.pending is not None:
        effective = ref.pending.effective_at
        points = list(
            _until(_caught_up(attrs.evolve(ref, points=tuple(points)), effective), effective)
        )
        points.append(Point(effective, _billed(ref.pending.target)))
    points.sort(key=lambda p: p.at)
    periods = []
    for index, here in enumerate(points):
        ends = points[index + 1].at if index + 1 < len(points) else None
        if here.tier is not None and (ends is None or ends > here.at):
            periods.append(RefPeriod(here.tier, here.at, ends, here.retroactive))
    return tuple(periods)
