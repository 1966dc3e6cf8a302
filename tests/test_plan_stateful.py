"""Stateful tests: `SupportPlan` driven at random against a small reference model (P, P20, T7).

The reference below is written from RULES.md alone; it borrows only the time primitives
`next_month_start` (T3, T4) and `add_wall_days` (T5, P15) from `support_flows.localtime`. It keeps
the billing timeline as a step function: a list of points "from this instant, bill this tier (or
nothing)", and reads the periods off it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import support_flows as sf
from support_flows.localtime import add_wall_days, next_month_start
from support_flows.machines.plan_record import snapshot_of
from support_flows.snapshots.plan_invariants import (
    premium_stretches,
    stray_boundaries,
    unbilled_stretch,
)

TIMEZONES = (
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Asuncion",
    "America/Havana",
    "Europe/Berlin",
    "Australia/Lord_Howe",
)
PAID = ("developer", "premium")
RANK = {"basic": 0, "developer": 1, "premium": 2}
IN_FORCE = {
    "basic": "basic",
    "trial": "developer",
    "developer": "developer",
    "premium": "premium",
    "cancelled": "basic",
}
ENTITLED = {  # P17
    "basic": {"chat", "developer_resources"},
    "cancelled": {"chat", "developer_resources"},
    "trial": {"chat", "developer_resources", "support_case"},
    "developer": {"chat", "developer_resources", "support_case"},
    "premium": {"chat", "developer_resources", "support_case"},
}

OWNER = sf.Member("owner", org_roles={sf.Role.ORG_OWNER})
BILLING_ADMIN = sf.Member("billing-admin", org_roles={sf.Role.ORG_BILLING_ADMIN})
MEMBER = sf.Member("member", org_roles={sf.Role.ORG_MEMBER, sf.Role.ORG_BILLING_READ_ONLY})
ACTING = st.sampled_from((OWNER, BILLING_ADMIN, OWNER, BILLING_ADMIN, MEMBER))  # mostly allowed
CHOSEN = st.sampled_from(("premium", "developer", "basic", "premium", "developer", "enterprise"))
BILLING_ROLE_HOLDERS = frozenset({OWNER.user_id, BILLING_ADMIN.user_id})

STARTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2031, 12, 31),
    timezones=st.just(dt.UTC),
)
SMALL_MOVES = st.one_of(
    st.integers(1, 999_999).map(lambda n: {"microseconds": n}),
    st.integers(1, 59).map(lambda n: {"minutes": n}),
    st.integers(1, 23).map(lambda n: {"hours": n}),
)
MICROSECOND = dt.timedelta(microseconds=1)

Period = tuple[str, dt.datetime, dt.datetime | None, bool]


@dataclasses.dataclass(frozen=True)
class Point:
    """From `at` on, bill `tier` (None: bill nothing)."""

    at: dt.datetime
    tier: str | None
    retroactive: bool = False


@dataclasses.dataclass(frozen=True)
class Pending:
    target: str
    effective_at: dt.datetime
    requested_at: dt.datetime
    requested_by: str


@dataclasses.dataclass
class Reference:
    """What RULES.md says the plan is, step by step."""

    tz: str
    cross_org: bool
    state: str = "basic"
    trial: tuple[dt.datetime, dt.datetime] | None = None
    pending: Pending | None = None
    last_end: tuple[str, dt.datetime] | None = None  # the last trial or paid plan that ended
    points: list[Point] = dataclasses.field(default_factory=list)
    history: list[tuple[dt.datetime, str | None]] = dataclasses.field(default_factory=list)
    change_took_effect: bool = False  # P12: a pending change applied, no request since
    trial_end: dt.datetime | None = None  # the one trial's scheduled end, for P20's exceptions
    since: dt.datetime | None = None  # when the current state began, for P21's catch-up

    def month_after(self, now: dt.datetime) -> dt.datetime:
        return next_month_start(now, self.tz)

    # T7 / P6 / P14: what comes due applies at its recorded instant.

    def observe(self, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
        applied = []
        if self.trial is not None and self.trial[1] <= now:
            ends = self.trial[1]
            self.points.append(Point(ends, "developer"))
            self.state, self.trial, self.since = "developer", None, ends
            applied.append((ends, "developer"))
        if self.pending is not None and self.pending.effective_at <= now:
            change, self.pending = self.pending, None
            self.points = self.caught_up(self.points, change.effective_at)
            self.points.append(Point(change.effective_at, _billed(change.target)))
            if change.target == "cancelled":
                self.last_end = (self.state, change.effective_at)
            self.state, self.since = change.target, change.effective_at
            self.change_took_effect = True
            applied.append((change.effective_at, change.target))
        self.history.extend((at, None) for at, _ in applied)
        return applied

    def due(self) -> list[dt.datetime]:
        """When the trial ends or the pending change takes effect (at most one of them)."""
        due = [self.trial[1]] if self.trial is not None else []
        return due + ([self.pending.effective_at] if self.pending is not None else [])

    def edges(self, now: dt.datetime) -> list[dt.datetime]:
        """Instants worth landing on: what comes due, the next month, the P15 90-day edge."""
        edges = [*self.due(), self.month_after(now)]
        if self.last_end is not None:
            edges.append(add_wall_days(self.last_end[1], 90, self.tz))
        return edges

    # What a request means and whether it is refused (P1-P3, P11-P13), in rule order.

    def meaning(self, tier: str) -> str | None:
        if tier == "enterprise":
            return None
        if tier == "basic":
            return "cancel" if self.state in ("trial", "developer", "premium") else None
        if self.state == "basic":
            return "subscribe"
        if self.state == "cancelled":
            return "reactivate"
        if tier == IN_FORCE[self.state]:
            return "revoke" if self.state != "trial" and self.pending is not None else None
        return "upgrade" if RANK[tier] > RANK[IN_FORCE[self.state]] else "downgrade"

    def refusals(self, action: str, actor: sf.Member, tier: str | None) -> list[str]:
        reasons = [] if actor.user_id in BILLING_ROLE_HOLDERS else ["billing_role_required"]
        if action == "revoke_pending":
            if self.pending is None:
                effective = self.change_took_effect
                reasons.append("change_already_effective" if effective else "no_pending_change")
            return reasons
        chosen = "basic" if action == "cancel" else tier
        assert chosen is not None
        if chosen == "enterprise":
            reasons.append("contact_sales")
        if self.cross_org and self.meaning(chosen) in ("subscribe", "upgrade", "reactivate"):
            reasons.append("cross_org_billing")
        in_plan = self.state not in ("basic", "cancelled") and chosen == IN_FORCE[self.state]
        if in_plan and (self.state == "trial" or self.pending is None):
            reasons.append("already_on_plan")
        if chosen == "basic" and self.state in ("basic", "cancelled"):
            reasons.append("nothing_to_cancel")
        return reasons

    # Accepted requests (P4-P10, P13, P15).

    def perform(self, action: str, actor: sf.Member, tier: str | None, now: dt.datetime) -> None:
        chosen = "basic" if action == "cancel" else tier
        meaning = "revoke" if action == "revoke_pending" else self.meaning(chosen or "")
        month_after = self.month_after(now)
        if meaning in ("subscribe", "upgrade", "reactivate") or (
            meaning == "cancel" and self.trial is not None
        ):
            self.since = now
        if meaning == "subscribe" and chosen == "developer":
            self.trial_end = add_wall_days(now, 30, self.tz)
            self.state, self.trial = "trial", (now, self.trial_end)
        elif meaning == "subscribe":
            self.state = "premium"
            self.points.append(Point(month_after, "premium"))
        elif meaning == "upgrade" and self.trial is not None:
            self.points.append(Point(min(month_after, self.trial[1]), "premium"))
            self.state, self.trial = "premium", None
        elif meaning == "upgrade":
            self.points.append(Point(month_after, "premium"))
            self.state, self.pending = "premium", None
        elif meaning == "cancel" and self.trial is not None:
            self.last_end = ("trial", now)
            self.state, self.trial = "cancelled", None
        elif meaning == "cancel":
            if self.pending is None or self.pending.target != "cancelled":
                self.pending = Pending("cancelled", month_after, now, actor.user_id)
        elif meaning == "downgrade":
            self.pending = Pending("developer", month_after, now, actor.user_id)
        elif meaning == "revoke":
            self.pending = None
        elif meaning == "reactivate":
            assert chosen is not None
            self.reactivate(chosen, now)
        else:
            raise AssertionError(f"accepted {action} {tier} on {self.state}: no meaning")
        self.history.append((now, actor.user_id))
        self.change_took_effect = False

    def reactivate(self, tier: str, now: dt.datetime) -> None:
        assert self.last_end is not None
        last, ended = self.last_end
        if tier == "premium" and last in ("trial", "developer"):
            self.points.append(Point(self.month_after(now), "premium"))
        else:
            floor = add_wall_days(now, -90, self.tz)
            self.points.append(Point(max(ended, floor), tier, retroactive=True))
        self.state = tier

    # P20: the billing timeline, including what is scheduled.

    def caught_up(self, points: list[Point], effective: dt.datetime) -> list[Point]:
        """P21: if the tier in force is not what is billed just before the change's effective
        instant, bill it from when it came into force, retroactively, instead of what was."""
        tier = IN_FORCE[self.state]
        before = [p for p in sorted(points, key=lambda p: p.at) if p.at < effective]
        if before and before[-1].tier == tier:
            return points
        assert self.since is not None
        return [p for p in points if p.at < self.since] + [Point(self.since, tier, True)]

    def billing(self) -> list[Period]:
        points = list(self.points)
        if self.trial is not None:
            points.append(Point(self.trial[1], "developer"))
        if self.pending is not None:
            points = self.caught_up(points, self.pending.effective_at)
            points.append(Point(self.pending.effective_at, _billed(self.pending.target)))
        points.sort(key=lambda p: p.at)
        periods: list[Period] = []
        for index, here in enumerate(points):
            ends = points[index + 1].at if index + 1 < len(points) else None
            if here.tier is not None and (ends is None or ends > here.at):
                periods.append((here.tier, here.at, ends, here.retroactive))
        return periods


def _billed(target: str) -> str | None:
    return "developer" if target == "developer" else None


def _periods(plan: sf.SupportPlan) -> list[Period]:
    return [(p.tier.value, p.starts_at, p.ends_at, p.retroactive) for p in plan.billing]


def _codes(reasons: tuple[sf.Violation, ...]) -> list[str]:
    return [r.code.value for r in reasons]


def _attempt(
    plan: sf.SupportPlan, action: str, actor: sf.Member, tier: str | None
) -> sf.HistoryEntry | sf.Refused:
    """Make the request; a refusal is returned, not raised."""
    try:
        if action == "change":
            assert tier is not None
            return plan.change(tier, actor=actor)
        return plan.cancel(actor=actor) if action == "cancel" else plan.revoke_pending(actor=actor)
    except sf.Refused as refusal:
        return refusal


def _org(tz: str, cross_org: bool) -> sf.Organization:
    return sf.Organization(
        "org-1", projects=(sf.Project("p-1"),), billing_timezone=tz, cross_org_billing=cross_org
    )


class PlanMachine(RuleBasedStateMachine):
    """P1-P17, P20, T7: random requests, clock moves and restores, checked against `Reference`."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = sf.FrozenClock(pendulum.datetime(2024, 1, 1, tz="UTC"))
        self.org = _org("UTC", False)
        self.plan = sf.SupportPlan(self.org, clock=self.clock)
        self.ref = Reference("UTC", False)

    @initialize(
        tz=st.sampled_from(TIMEZONES),
        cross_org=st.sampled_from((False, True, False)),
        start=STARTS,
        first=st.sampled_from(("premium", "developer", "premium", "developer", None)),
        at_month_start=st.booleans(),
        then_wait=st.sampled_from((0, 27, 14, 29, 45)),
    )
    def start(
        self,
        tz: str,
        cross_org: bool,
        start: dt.datetime,
        first: str | None,
        at_month_start: bool,
        then_wait: int,
    ) -> None:
        """A fresh plan; maybe a first subscription, and some days into it (deep in a trial)."""
        if at_month_start:  # T4 and P8's trial end before the next month are found here
            start = next_month_start(start, tz)
        self.clock = sf.FrozenClock(start)
        self.org = _org(tz, cross_org)
        self.plan = sf.SupportPlan(self.org, clock=self.clock)
        self.ref = Reference(tz, cross_org)
        if first is not None:
            self._request("change", OWNER, first)
        self.clock.advance(days=then_wait)

    # Requests.

    def _request(self, action: str, actor: sf.Member, tier: str | None = None) -> None:
        now = self.clock.now()
        self.ref.observe(now)
        before = self.plan.snapshot()
        decision = self.plan.check(action, actor=actor, tier=tier)
        assert self.plan.snapshot() == before, "check() changed the plan"
        expected = self.ref.refusals(action, actor, tier)
        assert _codes(decision.reasons) == expected, f"check({action}, {tier})"
        outcome = _attempt(self.plan, action, actor, tier)
        if isinstance(outcome, sf.Refused):
            assert _codes(outcome.reasons) == expected, f"{action}({tier}) refused"
            assert self.plan.snapshot() == before, "a refused request changed the plan"
            return
        assert not expected, f"{action}({tier}) accepted; expected {expected}"
        assert (outcome.at, outcome.requested_by) == (now, actor.user_id)
        self.ref.perform(action, actor, tier, now)

    @rule(actor=ACTING, tier=CHOSEN)
    def change(self, actor: sf.Member, tier: str) -> None:
        """Choose any tier, as anyone (P1-P15)."""
        self._request("change", actor, tier)

    @rule(actor=st.sampled_from((OWNER, BILLING_ADMIN)), tier=st.sampled_from(PAID))
    def choose_a_paid_tier(self, actor: sf.Member, tier: str) -> None:
        """Choose developer or premium with a billing role: the requests that move the plan."""
        self._request("change", actor, tier)

    @rule(actor=ACTING)
    def cancel(self, actor: sf.Member) -> None:
        """Cancel (P7, P9, P13)."""
        self._request("cancel", actor)

    @rule(actor=ACTING)
    def revoke_pending(self, actor: sf.Member) -> None:
        """Revoke the pending change (P12)."""
        self._request("revoke_pending", actor)

    @rule()
    def apply_due(self) -> None:
        """An explicit apply_due after the plan was observed applies nothing new (P14)."""
        expected = self.ref.observe(self.clock.now())
        applied = self.plan.apply_due()
        assert [(e.at, e.target.value) for e in applied] == expected
        assert self.plan.apply_due() == ()

    @rule(switch_billing=st.booleans())
    def restore(self, switch_billing: bool) -> None:
        """Continue with the restored plan, maybe after the org joined or left cross-org billing."""
        if switch_billing:
            cross_org = not self.org.cross_org_billing
            self.org = _org(self.org.billing_timezone, cross_org)
            self.ref.cross_org = cross_org
        self.plan = sf.SupportPlan.restore(self.plan.snapshot(), self.org, clock=self.clock)

    # Clock moves; `apply_now` calls apply_due before anything observes the plan.

    def _move(self, to: dt.datetime, apply_now: bool) -> None:
        self.clock.set(to)
        expected = self.ref.observe(self.clock.now())
        if apply_now:
            applied = self.plan.apply_due()
            assert [(e.at, e.target.value) for e in applied] == expected

    @rule(step=SMALL_MOVES, apply_now=st.booleans())
    def move_a_little(self, step: dict[str, int], apply_now: bool) -> None:
        """Microseconds, minutes or hours later."""
        self._move(self.clock.now() + pendulum.duration(**step), apply_now)

    @rule(days=st.integers(1, 100), apply_now=st.booleans())
    def move_days(self, days: int, apply_now: bool) -> None:
        """Up to a hundred days later, maybe past what was due."""
        self._move(self.clock.now().add(days=days), apply_now)

    @rule(data=st.data(), just_before=st.booleans(), apply_now=st.booleans())
    def move_to_an_edge(self, data: st.DataObject, just_before: bool, apply_now: bool) -> None:
        """Exactly at, or a microsecond before, a due instant, a month start or a P15 edge."""
        now = self.clock.now()
        edges = [e - MICROSECOND if just_before else e for e in self.ref.edges(now)]
        edges = [e for e in edges if e >= now]
        if edges:
            self._move(data.draw(st.sampled_from(edges), label="edge"), apply_now)

    @rule(past=st.sampled_from((dt.timedelta(0), MICROSECOND, dt.timedelta(days=3))))
    def let_it_come_due(self, past: dt.timedelta) -> None:
        """Jump to (or just past) the trial's end or the pending change, then apply it (P14)."""
        for due in self.ref.due():
            self._move(due + past, apply_now=True)

    # Invariants.

    @invariant()
    def agrees_with_the_reference(self) -> None:
        """State, trial, pending, billing, entitlements and history are the reference's."""
        self.ref.observe(self.clock.now())
        plan, ref = self.plan, self.ref
        assert plan.state == ref.state
        trial = (plan.trial.started_at, plan.trial.ends_at) if plan.trial is not None else None
        assert trial == ref.trial
        pending = plan.pending
        assert (
            Pending(
                pending.target.value,
                pending.effective_at,
                pending.requested_at,
                pending.requested_by,
            )
            if pending is not None
            else None
        ) == ref.pending
        assert _periods(plan) == ref.billing()
        assert {c.value for c in plan.entitlements} == ENTITLED[ref.state]
        assert [(e.at, e.requested_by) for e in plan.history] == ref.history

    @invariant()
    def billing_boundaries_are_month_starts(self) -> None:
        """P20: boundaries are month starts but for a trial's end, a retroactive start (P15) and a
        catch-up start (P21)."""
        tz, trial_end = self.org.billing_timezone, self.ref.trial_end
        periods = self.plan.billing
        exceptions = {p.starts_at for p in periods if p.retroactive} | {trial_end}
        spans = [(p.starts_at, p.ends_at) for p in periods]
        assert stray_boundaries(spans, tz, exceptions) == []
        for starts, ends in spans:
            assert ends is None or ends > starts, "a period of no length is listed"
        for earlier, later in itertools.pairwise(periods):
            assert earlier.ends_at is not None, "an open period before another"
            assert earlier.ends_at <= later.starts_at, "periods overlap or are out of order"

    @invariant()
    def premium_is_never_held_unbilled(self) -> None:
        """P20's second invariant (P21): every stretch in premium overlaps, or is followed
        without a gap by, a premium billing period (the pending change included)."""
        premium = [(p.starts_at, p.ends_at) for p in self.plan.billing if p.tier == "premium"]
        pending = self.plan.pending
        steps = ((e.at, e.source, e.target) for e in self.plan.history)
        stretches = premium_stretches(steps, pending.effective_at if pending is not None else None)
        unbilled = unbilled_stretch(premium, stretches)
        assert unbilled is None, f"premium held from {unbilled} is never billed"

    @invariant()
    def snapshot_round_trips(self) -> None:
        """V2: restoring a snapshot gives a plan with an equal snapshot, with or without its
        history."""
        data = self.plan.snapshot()
        restored = sf.SupportPlan.restore(data, self.org, clock=self.clock)
        assert restored.snapshot() == data
        # An unchanged restored plan writes back a copy of what it read; what it would write
        # from its record must be the same.
        assert snapshot_of(restored._book, self.org) == data
        bare = self.plan.snapshot(history=False)
        again = sf.SupportPlan.restore(bare, self.org, clock=self.clock)
        assert again.snapshot(history=False) == bare
        assert again.history == ()

    @precondition(lambda self: self.ref.state == "trial")
    @invariant()
    def trial_is_thirty_wall_days(self) -> None:
        """T5: a trial ends 30 local calendar days after it started."""
        trial = self.plan.trial
        assert trial is not None
        assert trial.ends_at == add_wall_days(trial.started_at, 30, self.org.billing_timezone)


TestPlanMachine = PlanMachine.TestCase
TestPlanMachine.settings = settings(stateful_step_count=40)

REQUESTS = st.sampled_from(
    [
        ("change", OWNER, "developer"),
        ("change", OWNER, "premium"),
        ("change", BILLING_ADMIN, "developer"),
        ("change", MEMBER, "premium"),
        ("cancel", OWNER, None),
        ("revoke_pending", BILLING_ADMIN, None),
    ]
)


def _walk(plan: sf.SupportPlan, clock: sf.FrozenClock, to: dt.datetime) -> None:
    """Move `clock` to `to` in steps of at most twelve hours, landing on every due instant."""
    while clock.now() < to:
        due = [t.ends_at for t in [plan.trial] if t is not None]
        due += [p.effective_at for p in [plan.pending] if p is not None]
        stop = min([to, clock.now().add(hours=12), *[d for d in due if d > clock.now()]])
        clock.set(stop)
        plan.state  # noqa: B018  (observing is the point)


@given(
    tz=st.sampled_from(TIMEZONES),
    start=STARTS,
    script=st.lists(st.tuples(st.integers(0, 40 * 24), REQUESTS), max_size=6),
    late_by=st.integers(31, 200),
)
def test_p14_late_apply_due_equals_stepwise_observation(
    tz: str,
    start: dt.datetime,
    script: list[tuple[int, tuple[str, sf.Member, str | None]]],
    late_by: int,
) -> None:
    """P14/T7: jumping far past due instants then apply_due equals observing every step."""
    org = _org(tz, False)
    late_clock, step_clock = sf.FrozenClock(start), sf.FrozenClock(start)
    late = sf.SupportPlan(org, clock=late_clock)
    stepwise = sf.SupportPlan(org, clock=step_clock)
    for gap_hours, (action, actor, tier) in script:
        at = late_clock.now().add(hours=gap_hours)
        late_clock.set(at)
        _walk(stepwise, step_clock, at)
        for plan in (late, stepwise):
            _attempt(plan, action, actor, tier)
    end = late_clock.now().add(days=late_by)
    late_clock.set(end)
    applied = late.apply_due()
    _walk(stepwise, step_clock, end)
    assert late.snapshot() == stepwise.snapshot()
    assert late.apply_due() == ()
    assert all(entry.at <= end for entry in applied)
