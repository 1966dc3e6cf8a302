"""Stateful tests: `SupportPlan` driven at random against the rules (P1-P17, P20, P21, T5, T7, V2).

The machine is a host's view of our own kit: a subclass of `support_flows.testing.PlanRules`,
which compares every answer with the verifier's reference of RULES.md and checks P20's
invariants after every step. It bills in zones far from UTC or heavy with DST changes, keeps the
plan as JSON text, and adds the moves the kit does not make: small clock steps, long jumps,
landing on (or past) what is due, apply_due at any time, and the organization joining or leaving
cross-org billing. A separate property compares a late apply_due with stepwise observation.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

import support_flows as sf
from support_flows.testing import PlanRules
from support_flows.verify.plan_checks import round_trip
from support_flows.verify.reference.plan import due

TIMEZONES = (
    "UTC",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Asuncion",
    "America/Havana",
    "Europe/Berlin",
    "Australia/Lord_Howe",
)
OWNER = sf.Member("owner", org_roles={sf.Role.ORG_OWNER})
BILLING_ADMIN = sf.Member("billing-admin", org_roles={sf.Role.ORG_BILLING_ADMIN})
MEMBER = sf.Member("member", org_roles={sf.Role.ORG_MEMBER, sf.Role.ORG_BILLING_READ_ONLY})
SMALL_MOVES = st.one_of(
    st.integers(1, 999_999).map(lambda n: {"microseconds": n}),
    st.integers(1, 59).map(lambda n: {"minutes": n}),
    st.integers(1, 23).map(lambda n: {"hours": n}),
)
PAID = ("developer", "premium")
MICROSECOND = dt.timedelta(microseconds=1)


class PlanMachine(PlanRules):
    """P1-P17, P20, T7: random requests, clock moves and restores, checked against the rules."""

    zones = TIMEZONES
    cross_org_billing = (False, True, False)

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        """Store the plan as JSON text and continue with the plan restored from it (V2)."""
        stored = json.dumps(plan.snapshot())
        return sf.SupportPlan.restore(json.loads(stored), self.org, clock=self.clock)

    @rule(actor=st.sampled_from((OWNER, BILLING_ADMIN)), tier=st.sampled_from(PAID))
    def choose_a_paid_tier(self, actor: sf.Member, tier: str) -> None:
        """Choose developer or premium with a billing role: the requests that move the plan."""
        self.request("change", actor, tier)

    @rule()
    def apply_due(self) -> None:
        """An explicit apply_due after the plan was observed applies nothing new (P14, T7)."""
        self.move_to(self.clock.now(), apply=True)

    @rule(step=SMALL_MOVES, apply_now=st.booleans())
    def move_a_little(self, step: dict[str, int], apply_now: bool) -> None:
        """Microseconds, minutes or hours later."""
        self.move_to(self.clock.now() + pendulum.duration(**step), apply_now)

    @rule(days=st.integers(1, 100), apply_now=st.booleans())
    def move_days(self, days: int, apply_now: bool) -> None:
        """Up to a hundred days later, maybe past what was due."""
        self.move_to(self.clock.now().add(days=days), apply_now)

    @rule(past=st.sampled_from((dt.timedelta(0), MICROSECOND, dt.timedelta(days=3))))
    def let_it_come_due(self, past: dt.timedelta) -> None:
        """Jump to (or just past) the trial's end or the pending change, then apply it (P14)."""
        if (at := due(self.ref)) is not None:
            self.move_to(at + past, apply=True)

    @rule()
    def switch_cross_org_billing(self) -> None:
        """The organization joins or leaves cross-org billing; the plan restored under it goes on
        (P3, V2)."""
        cross = not self.org.cross_org_billing
        self.org = attrs.evolve(self.org, cross_org_billing=cross)
        self.ref = attrs.evolve(self.ref, cross_org=cross)
        self.plan = self.persist(self.plan)

    @invariant()
    def snapshot_round_trips(self) -> None:
        """V2: the snapshot, with or without its history, restores to a plan that writes it again
        and reads the same."""
        if not hasattr(self, "plan"):
            return
        broken = [v.message for v in round_trip(self.plan, self.org, self.clock) if not v.ok]
        assert broken == []


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
STARTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2031, 12, 31),
    timezones=st.just(dt.UTC),
)


def _attempt(plan: sf.SupportPlan, action: str, actor: sf.Member, tier: str | None) -> None:
    """Make the request; a refusal changes nothing and is not the point here."""
    try:
        if action == "change":
            assert tier is not None
            plan.change(tier, actor=actor)
        elif action == "cancel":
            plan.cancel(actor=actor)
        else:
            plan.revoke_pending(actor=actor)
    except sf.Refused:
        pass


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
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone=tz)
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
