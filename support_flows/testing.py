"""Hypothesis strategies and ready stateful tests for host applications (RULES.md P, C, F).

Subclass `PlanRules`, `CaseRules` or `ConsultingRules` to run the verifier's checks against your
own configuration (billing zones, hours per unit, validity) and your own persistence round trip::

    from support_flows.testing import PlanRules

    class MyPlans(PlanRules):
        zones = ("Europe/Berlin", "America/New_York")
        def persist(self, plan):                 # save and reload it the way your app does
            return my_store.reload(my_store.save(plan))

    TestMyPlans = MyPlans.TestCase

Each machine drives the real object with random requests and clock moves (to month starts, due
instants, session starts, expiries), compares every answer with the verifier's reference of
RULES.md, and checks the invariants after every step. Needs the ``test`` extra (hypothesis).
"""

from __future__ import annotations

try:
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "support_flows.testing needs hypothesis, which comes with the test extra: "
        'pip install "support-flows[test]"'
    ) from error

import calendar
import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.localtime import instant, start_of_local_day
from support_flows.machines.case import CaseFlow, check_case, check_channel
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import InMemoryOutbox
from support_flows.values import Member, Organization, Project, Role
from support_flows.verify.common import Verdict, attempt
from support_flows.verify.consulting_checks import agreement as order_agreement
from support_flows.verify.consulting_checks import balance
from support_flows.verify.consulting_checks import view as order_view
from support_flows.verify.consulting_roots import moves as order_moves
from support_flows.verify.plan_checks import agreement, premium_billed, timeline, view
from support_flows.verify.plan_roots import moves as plan_moves
from support_flows.verify.reference.case import expected_case, expected_channel, expected_step
from support_flows.verify.reference.consulting import (
    RefOrder,
    cancel_or_deliver,
    confirm,
    open_console,
    open_representative,
    schedule,
)
from support_flows.verify.reference.consulting import observe as observe_order
from support_flows.verify.reference.plan import TIERS, RefPlan, decide, observe, perform

__all__ = [
    "ZONES",
    "Action",
    "CaseRules",
    "ConsultingRules",
    "PlanRules",
    "billing_timezones",
    "case_steps",
    "instants",
    "members",
    "order_actions",
    "organizations",
    "plan_actions",
]

ZONES = (
    "UTC",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Asuncion",
    "America/Havana",
    "America/St_Johns",
    "Europe/Berlin",
    "Australia/Lord_Howe",
)
"""Billing zones where calendars misbehave: far from UTC, DST at midnight, half-hour shifts."""

FIRST_YEAR, LAST_YEAR = 2023, 2030
ORG_ROLES = tuple(r for r in Role if r.is_org_role)
PROJECT_ROLES = tuple(r for r in Role if not r.is_org_role)
NUDGES = tuple(
    pendulum.duration(**{unit: n})
    for unit, n in (
        ("microseconds", 0),
        ("microseconds", -1),
        ("microseconds", 1),
        ("hours", -1),
        ("hours", 1),
    )
)
MOVES = (
    {"microseconds": 1},
    {"minutes": 30},
    {"hours": 20},
    {"days": 3},
    {"days": 17},
    {"days": 31},
    {"days": 95},
)

# Strategies ---------------------------------------------------------------------------------


def billing_timezones(zones: Sequence[str] = ZONES) -> st.SearchStrategy[str]:
    """A billing timezone among `zones` (default: zones where calendars misbehave)."""
    return st.sampled_from(tuple(zones))


@functools.lru_cache(maxsize=64)
def _transitions(zone: str, first: int, last: int) -> tuple[pendulum.DateTime, ...]:
    """The instants, to the second, at which `zone` changes its UTC offset in these years."""
    tz = zoneinfo.ZoneInfo(zone)
    day = dt.timedelta(days=1)
    found = []
    moment = dt.datetime(first, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last + 1, 1, 1, tzinfo=dt.UTC)
    while moment < end:
        low, high = moment, moment + day
        if low.astimezone(tz).utcoffset() != high.astimezone(tz).utcoffset():
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(instant(high.replace(microsecond=0)))
        moment += day
    return tuple(found)


def instants(
    zones: Sequence[str] = ZONES, *, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> st.SearchStrategy[pendulum.DateTime]:
    """Aware instants (UTC) that favour the calendar's edges in `zones`: local month starts
    (T3, T4), leap days, DST changes, each give or take a microsecond or an hour; and any
    instant of those years."""
    zone = st.sampled_from(tuple(zones))
    nudge = st.sampled_from(NUDGES)
    years = st.integers(first_year, last_year)
    month_starts = st.builds(
        lambda z, y, m, n: instant(start_of_local_day(dt.date(y, m, 1), z) + n),
        zone,
        years,
        st.integers(1, 12),
        nudge,
    )
    leap = [y for y in range(first_year, last_year + 1) if calendar.isleap(y)]
    leap_days = st.builds(
        lambda z, y, s: instant(start_of_local_day(dt.date(y, 2, 29), z).add(seconds=s)),
        zone,
        st.sampled_from(leap or [2028]),
        st.integers(0, 86_399),
    )
    changes = [t for z in zones for t in _transitions(z, first_year, last_year)]
    anything = st.datetimes(
        min_value=dt.datetime(first_year, 1, 1),  # noqa: DTZ001  (hypothesis adds the zone)
        max_value=dt.datetime(last_year, 12, 31),  # noqa: DTZ001
        timezones=st.just(dt.UTC),
    ).map(instant)
    edges = [month_starts, leap_days]
    if changes:
        edges.append(st.builds(lambda t, n: instant(t + n), st.sampled_from(changes), nudge))
    return st.one_of(*edges, anything)


def organizations(
    zones: Sequence[str] = ZONES,
    *,
    max_projects: int = 3,
    cross_org_billing: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[Organization]:
    """Organizations "org-1" with 0 to `max_projects` projects ("p-1", "p-2", ...), a billing
    zone among `zones`, in cross-org billing or not."""
    return st.builds(
        lambda n, zone, cross: Organization(
            "org-1",
            projects=tuple(Project(f"p-{i}") for i in range(1, n + 1)),
            billing_timezone=zone,
            cross_org_billing=cross,
        ),
        st.integers(0, max_projects),
        billing_timezones(zones),
        cross_org_billing if cross_org_billing is not None else st.booleans(),
    )


def members(
    project_ids: Sequence[str] = ("p-1", "p-2"), *, user_id: str = "u-1"
) -> st.SearchStrategy[Member]:
    """Members with any set of organization roles and project roles in `project_ids` or in a
    project of another organization (so some are not members at all)."""
    where = st.sampled_from((*project_ids, "p-elsewhere"))
    roles = st.sets(st.sampled_from(PROJECT_ROLES), min_size=1, max_size=2)
    return st.builds(
        lambda org_roles, project_roles: Member(
            user_id,
            org_roles=org_roles,
            project_roles=project_roles,
            email=f"{user_id}@example.com",
        ),
        st.sets(st.sampled_from(ORG_ROLES), max_size=3),
        st.dictionaries(where, roles, max_size=2),
    )


def _acting(project_ids: Sequence[str]) -> st.SearchStrategy[Member]:
    """Mostly an owner or a billing admin (requests that move things), sometimes anyone."""
    owner = Member("u-owner", org_roles={Role.ORG_OWNER}, email="owner@example.com")
    admin = Member("u-admin", org_roles={Role.ORG_BILLING_ADMIN}, email="admin@example.com")
    return st.one_of(st.sampled_from((owner, admin, owner)), members(project_ids))


def _copy(args: Mapping[str, Any]) -> dict[str, Any]:
    return dict(args)


@attrs.frozen
class Action:
    """One step a host can replay: a method call on the object, or a clock move ("wait")."""

    call: str
    args: Mapping[str, Any] = attrs.field(factory=dict, converter=_copy, hash=False)

    def perform(self, target: Any, clock: FrozenClock) -> Any:
        """Make the call on `target` (a plan, an order or a case flow), or move `clock`."""
        if self.call == "wait":
            return clock.advance(**self.args)
        args = dict(self.args)
        if "start_in" in args:
            args["start"] = clock.now().add(**args.pop("start_in"))
        return getattr(target, self.call)(**args)


def plan_actions(
    project_ids: Sequence[str] = ("p-1",), *, max_size: int = 12
) -> st.SearchStrategy[list[Action]]:
    """Sequences of plan requests (every tier, cancel, revoke), clock moves and apply_due."""
    actor = _acting(project_ids)
    one = st.one_of(
        st.builds(
            lambda t, a: Action("change", {"tier": t, "actor": a}), st.sampled_from(TIERS), actor
        ),
        st.builds(lambda a: Action("cancel", {"actor": a}), actor),
        st.builds(lambda a: Action("revoke_pending", {"actor": a}), actor),
        st.builds(lambda m: Action("wait", m), st.sampled_from(MOVES)),
        st.just(Action("apply_due")),
    )
    return st.lists(one, max_size=max_size)


def _order_step(hours_per_unit: int, project_ids: Sequence[str]) -> st.SearchStrategy[Action]:
    actor = _acting(project_ids)
    session = st.integers(1, 4).map(lambda n: f"s-{n}")
    schedule = st.builds(
        lambda hours_in, units, extra, a: Action(
            "schedule",
            {"start_in": {"hours": hours_in}, "hours": units * hours_per_unit + extra, "actor": a},
        ),
        st.integers(-1, 24 * 40),
        st.integers(1, 3),
        st.sampled_from((0, 0, 0, 1)),
        actor,
    )
    close = st.builds(
        lambda call, s, a: Action(call, {"session_id": s, "actor": a}),
        st.sampled_from(("cancel_session", "deliver")),
        session,
        st.none() | actor,
    )
    return st.one_of(
        st.just(Action("confirm")),
        schedule,
        close,
        st.builds(lambda m: Action("wait", m), st.sampled_from(MOVES)),
        st.just(Action("apply_due")),
    )


def order_actions(
    hours_per_unit: int = 1, project_ids: Sequence[str] = ("p-1",), *, max_size: int = 12
) -> st.SearchStrategy[list[Action]]:
    """Sequences of order steps: confirm, bookings of whole (or not) units starting soon or in
    the past, cancels and deliveries of sessions s-1.., clock moves and apply_due."""
    return st.lists(_order_step(hours_per_unit, project_ids), max_size=max_size)


def case_steps(
    project_ids: Sequence[str] = ("p-1", "p-2", "p-9"), *, max_size: int = 6
) -> st.SearchStrategy[list[Action]]:
    """Sequences of `CaseFlow` steps, in the navigation's order or not (V3)."""
    one = st.one_of(
        st.sampled_from(
            (
                Action("choose_organization"),
                Action("open_organization_support"),
                Action("open_project_support"),
            )
        ),
        st.sampled_from(tuple(project_ids)).map(
            lambda p: Action("choose_project", {"project_id": p})
        ),
        st.sampled_from(("S1", "S2", "S3", "S4")).map(
            lambda s: Action("submit", {"title": "Slow queries", "severity": s})
        ),
    )
    return st.lists(one, max_size=max_size)


# Ready stateful tests -----------------------------------------------------------------------


def _confirm_all(verdicts: Sequence[Verdict]) -> None:
    broken = [v for v in verdicts if not v.ok]
    assert not broken, "; ".join(f"{v.rule} ({v.invariant}): {v.message}" for v in broken)


class PlanRules(RuleBasedStateMachine):
    """A support plan under random requests and clock moves, against the rules (P, T, P20, P21).

    Set `zones` and `cross_org_billing` to your configuration; override `persist` to save and
    reload the plan as your application does (called after every accepted step); set
    `keeps_history` False if your storage keeps the history elsewhere (a reloaded plan then
    holds only what happened since).
    """

    zones: ClassVar[Sequence[str]] = ZONES
    cross_org_billing: ClassVar[Sequence[bool]] = (False, True)
    keeps_history: ClassVar[bool] = True

    plan: SupportPlan
    ref: RefPlan

    def persist(self, plan: SupportPlan) -> SupportPlan:
        """Save `plan` and load it back; by default through its snapshot."""
        return SupportPlan.restore(plan.snapshot(), self.org, clock=self.clock)

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """A fresh plan on basic in one of `zones`, at an instant near a calendar edge."""
        zone = data.draw(st.sampled_from(tuple(self.zones)), label="zone")
        cross = data.draw(st.sampled_from(tuple(self.cross_org_billing)), label="cross_org")
        self.clock = FrozenClock(data.draw(instants((zone,)), label="start"))
        self.org = Organization(
            "org-1", projects=("p-1",), billing_timezone=zone, cross_org_billing=cross
        )
        self.plan = self.persist(SupportPlan(self.org, clock=self.clock))
        self.ref = RefPlan(zone, cross)
        self.last_rules: tuple[str, ...] = ("P4",)

    def _request(self, request: str, actor: Member, tier: str | None = None) -> None:
        self.ref, _ = observe(self.ref, self.clock.now())
        expected = decide(self.ref, request, [r.value for r in actor.org_roles], tier)
        before = self.plan.snapshot()
        assert _codes_of(self.plan.check(request, actor=actor, tier=tier)) == expected
        args = {"actor": actor} if tier is None else {"tier": tier, "actor": actor}
        outcome = attempt(functools.partial(getattr(self.plan, request), **args))
        assert outcome.crash is None, f"{request} {tier} crashed: {outcome.crash!r}"
        assert outcome.reasons == expected, f"{request} {tier}: {outcome.describe()}"
        if outcome.refused:
            assert self.plan.snapshot() == before, "a refusal changed the plan"
            return
        self.ref, self.last_rules = perform(
            self.ref, request, actor.user_id, tier, self.clock.now()
        )
        self.plan = self.persist(self.plan)

    @rule(actor=_acting(("p-1",)), tier=st.sampled_from(TIERS))
    def change(self, actor: Member, tier: str) -> None:
        """Choose a tier (P1-P15)."""
        self._request("change", actor, tier)

    @rule(actor=_acting(("p-1",)))
    def cancel(self, actor: Member) -> None:
        """Cancel (P7, P9, P13)."""
        self._request("cancel", actor)

    @rule(actor=_acting(("p-1",)))
    def revoke_pending(self, actor: Member) -> None:
        """Revoke the pending change (P12)."""
        self._request("revoke_pending", actor)

    @rule(data=st.data(), apply=st.booleans())
    def move_clock(self, data: st.DataObject, apply: bool) -> None:
        """Move to an edge (month start, due instant, 90 days after the end) or some days on;
        maybe apply_due, which applies exactly what the rules say is due (P14)."""
        now = self.clock.now()
        edges = [at for at, _ in plan_moves(self.ref, now)]
        later = [now + pendulum.duration(**m) for m in MOVES]
        self.clock.set(data.draw(st.sampled_from(edges + later), label="to"))
        self.ref, due = observe(self.ref, self.clock.now())
        self.last_rules = tuple(r for a in due for r in a[3]) or self.last_rules
        if apply:
            applied = [(e.at, e.source.value, e.target.value) for e in self.plan.apply_due()]
            assert applied == [(a[0], a[1], a[2]) for a in due], "apply_due"
            assert self.plan.apply_due() == ()
            self.plan = self.persist(self.plan)

    @invariant()
    def keeps_the_rules(self) -> None:
        """State, trial, pending change, billing and history are the rules'; P20's invariants
        hold; entitlements follow the state (P17)."""
        if not hasattr(self, "ref"):
            return
        self.ref, due = observe(self.ref, self.clock.now())
        self.last_rules = tuple(r for a in due for r in a[3]) or self.last_rules
        seen = view(self.plan)
        verdicts = agreement(seen, self.ref, self.last_rules)
        if not self.keeps_history:
            seen = attrs.evolve(seen, history=self.ref.history)
            verdicts = [v for v in verdicts if "history" not in v.invariant]
        verdicts += timeline(seen, self.org.billing_timezone, self.ref.trial_end)
        verdicts.append(premium_billed(seen))
        _confirm_all(verdicts)


def _codes_of(decision: Any) -> tuple[tuple[str, str], ...]:
    return tuple((r.code.value, r.rule) for r in decision.reasons)


class CaseRules(RuleBasedStateMachine):
    """Support requests and the case flow under random members, scopes and steps (C1-C7, V3).

    Set `plan_states` and `max_projects` to your configuration.
    """

    plan_states: ClassVar[Sequence[str]] = ("basic", "trial", "developer", "premium", "cancelled")
    max_projects: ClassVar[int] = 3

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """An organization, a plan state and a member, at the start of the navigation."""
        self.org = data.draw(organizations(max_projects=self.max_projects), label="org")
        self.plan_state = data.draw(st.sampled_from(tuple(self.plan_states)), label="plan")
        ids = sorted(self.org.project_ids)
        self.member = data.draw(members((*ids, "p-1")), label="member")
        self.clock = FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
        self.flow = CaseFlow(self.org, self.plan_state, self.member, clock=self.clock)
        self.where: tuple[str, str | None] = ("start", None)

    def _roles(self) -> tuple[list[str], dict[str, list[str]]]:
        org_roles = [r.value for r in self.member.org_roles]
        projects = {p: [r.value for r in rs] for p, rs in self.member.project_roles.items()}
        return org_roles, projects

    @rule(project=st.sampled_from((None, "p-1", "p-2", "p-3", "p-9")))
    def ask(self, project: str | None) -> None:
        """check_case at one scope gives every failing check in C6 order."""
        org_roles, projects = self._roles()
        want = expected_case(self.plan_state, org_roles, projects, self.org.project_ids, project)
        scope = "organization" if project is None else "project"
        got = check_case(self.org, self.plan_state, self.member, scope=scope, project_id=project)
        assert _codes_of(got) == want

    @rule(channel=st.sampled_from(("chat", "developer_resources", "support_case")))
    def channel(self, channel: str) -> None:
        """check_channel answers as C1 says."""
        org_roles, projects = self._roles()
        want = expected_channel(self.plan_state, org_roles, projects, self.org.project_ids, channel)
        assert _codes_of(check_channel(self.org, self.plan_state, self.member, channel)) == want

    @rule(steps=case_steps(max_size=1))
    def navigate(self, steps: list[Action]) -> None:
        """One navigation step, taken or refused as C7's navigation and C2-C6 say (V3)."""
        if not steps:
            return
        action = steps[0]
        org_roles, projects = self._roles()
        project = action.args.get("project_id") or self.where[1]
        target, want = expected_step(
            self.where[0],
            action.call,
            self.plan_state,
            org_roles,
            projects,
            self.org.project_ids,
            project,
        )
        outcome = attempt(functools.partial(action.perform, self.flow, self.clock))
        assert outcome.crash is None, f"{action.call} crashed: {outcome.crash!r}"
        assert outcome.reasons == want, f"{action.call}: {outcome.describe()}"
        if outcome.refused:
            assert self.flow.state == self.where[0], "a refusal moved the flow"
            return
        assert self.flow.state == target
        self.where = (
            self.flow.state,
            project if action.call == "choose_project" else self.where[1],
        )


class ConsultingRules(RuleBasedStateMachine):
    """A Flex Consulting order under random steps and clock moves, against the rules (F0-F7).

    Set `zones`, `hours_per_unit`, `validity_months` and `max_units` to your catalog; override
    `persist` to save and reload the order as your application does (called after every
    accepted step), `emails_sent` if your outbox is not the test's `self.outbox`, and set
    `keeps_history` False if your storage keeps the history elsewhere.
    """

    zones: ClassVar[Sequence[str]] = ZONES
    hours_per_unit: ClassVar[Sequence[int]] = (1, 2)
    validity_months: ClassVar[Sequence[int | None]] = (None, 1, 12)
    max_units: ClassVar[int] = 4
    keeps_history: ClassVar[bool] = True

    order: ConsultingOrder
    ref: RefOrder

    def persist(self, order: ConsultingOrder) -> ConsultingOrder:
        """Save `order` and load it back; by default through its snapshot."""
        data = order.snapshot()
        return ConsultingOrder.restore(data, self.org, clock=self.clock, outbox=self.outbox)

    def emails_sent(self) -> int:
        """How many confirmation emails this order has queued so far."""
        return len(self.outbox.sent)

    @initialize(data=st.data())
    def buy(self, data: st.DataObject) -> None:
        """An order bought in the console (maybe not yet confirmed) or from a representative."""
        zone = data.draw(st.sampled_from(tuple(self.zones)), label="zone")
        per = data.draw(st.sampled_from(tuple(self.hours_per_unit)), label="hours_per_unit")
        validity = data.draw(st.sampled_from(tuple(self.validity_months)), label="validity")
        units = data.draw(st.integers(1, self.max_units), label="units")
        self.clock = FrozenClock(data.draw(instants((zone,)), label="start"))
        self.org = Organization("org-1", projects=("p-1",), billing_timezone=zone)
        self.outbox = InMemoryOutbox()
        now = self.clock.now()
        terms: dict[str, Any] = {
            "units": units,
            "clock": self.clock,
            "outbox": self.outbox,
            "hours_per_unit": per,
            "validity_months": validity,
            "order_id": "co-1",
        }
        self.ref = RefOrder(zone, units, per, validity)
        if data.draw(st.booleans(), label="console"):
            owner = Member("u-owner", org_roles={Role.ORG_OWNER}, email="owner@example.com")
            order = ConsultingOrder.start_checkout(self.org, actor=owner, **terms)
            self.ref, _ = open_console(self.ref, ("ORG_OWNER",), "u-owner", now)
        else:
            order = ConsultingOrder.from_representative(
                self.org, sales_reference="SO-1", email="buyer@example.com", **terms
            )
            self.ref, _ = open_representative(self.ref, "SO-1", now)
        self.order = self.persist(order)

    def _step(self, action: Action) -> None:
        now = self.clock.now()
        self.ref, _ = observe_order(self.ref, now)
        a = action.args
        if action.call == "confirm":
            after, want = confirm(self.ref, now), tuple[tuple[str, str], ...]()
        else:
            actor: Member | None = a["actor"]
            member = None
            if actor is not None:
                projects = {p: [r.value for r in rs] for p, rs in actor.project_roles.items()}
                member = ([r.value for r in actor.org_roles], projects, self.org.project_ids)
            name = None if actor is None else actor.user_id
            if action.call == "schedule":
                assert member is not None
                assert name is not None
                start = now.add(**a["start_in"])
                after, want = schedule(self.ref, member, name, start, a["hours"], now)
            else:
                deliver = action.call == "deliver"
                after, want = cancel_or_deliver(
                    self.ref, deliver, member, name, a["session_id"], now
                )
        before = self.order.snapshot()
        outcome = attempt(functools.partial(action.perform, self.order, self.clock))
        assert outcome.crash is None, f"{action.call} crashed: {outcome.crash!r}"
        assert outcome.reasons == want, f"{action.call}: {outcome.describe()}"
        if outcome.refused:
            assert self.order.snapshot() == before, "a refusal changed the order"
            return
        self.ref = after
        self.order = self.persist(self.order)

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        """Confirm, book, cancel or deliver (F0-F6), as anyone, in whole units or not."""
        steps = _order_step(self.ref.hours_per_unit, ("p-1",))
        self._step(data.draw(steps.filter(lambda a: a.call not in ("wait", "apply_due"))))

    @rule(data=st.data())
    def move_clock(self, data: st.DataObject) -> None:
        """Move to a session's start or the expiry (or just before), or some days on, then
        apply_due: the expiry applies at its instant, once (F6, T7)."""
        now = self.clock.now()
        edges = [at for at, _ in order_moves(self.ref, now)]
        later = [now + pendulum.duration(**m) for m in MOVES]
        self.clock.set(data.draw(st.sampled_from(edges + later), label="to"))
        self.ref, expired = observe_order(self.ref, self.clock.now())
        applied = [(e.at, e.action.value, e.units) for e in self.order.apply_due()]
        assert applied == ([self.ref.history[-1][:3]] if expired else []), "apply_due"
        assert self.order.apply_due() == ()
        self.order = self.persist(self.order)

    @invariant()
    def keeps_the_rules(self) -> None:
        """State, balance, sessions, expiry and history are the rules'; F7's balance adds up;
        exactly one email per purchase (F3)."""
        if not hasattr(self, "ref"):
            return
        self.ref, _ = observe_order(self.ref, self.clock.now())
        seen = order_view(self.order)
        verdicts = [*order_agreement(seen, self.ref, "F0-F7"), balance(seen)]
        if not self.keeps_history:
            verdicts = [v for v in verdicts if "history" not in v.invariant]
        sent = self.emails_sent()
        verdicts.append(
            Verdict("F3", "one email per purchase", sent == self.ref.emails, f"{sent} emails")
        )
        _confirm_all(verdicts)
