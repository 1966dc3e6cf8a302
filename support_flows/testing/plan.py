"""`PlanRules`: a support plan driven at random against the verifier's reference (RULES.md P,
T, P20, P21), for a host to subclass with its zones, catalog and persistence.

The reference models Atlas's policy. Under another catalog the kit translates what a version
tunes into what the reference holds, version by version as each request's instant selects it
(K3): a trial of `trial_days` (the trial the reference starts, re-timed), a reactivation billed
back at most `retroactive_days`, `billing_roles` (a requester holding one stands, for P1, as an
owner; one holding none, as a member without a billing role), and `case_states` (P17 judged by
the policy's states). It refuses, when the class is defined, a catalog choosing what reshapes
the chart (no trial, or `immediately` for upgrade billing or changes): the reference does not
draw those edges.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import ClassVar

import attrs
import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from support_flows.clock import FrozenClock
from support_flows.errors import Reason, invalid
from support_flows.machines.plan import SupportPlan
from support_flows.testing.actions import MOVES
from support_flows.testing.checks import codes_of, confirm_all
from support_flows.testing.strategies import ZONES, acting, instants
from support_flows.values import Member, Organization
from support_flows.values.policy import ATLAS, CASE_STATES, Catalog, Policy
from support_flows.verify.common import Verdict, attempt
from support_flows.verify.plan_checks import PlanView, agreement, premium_billed, timeline, view
from support_flows.verify.plan_roots import moves as plan_moves
from support_flows.verify.reference.calendar import add_wall_days
from support_flows.verify.reference.plan import (
    ENTITLED,
    TIERS,
    RefPlan,
    decide,
    observe,
    perform,
)

__all__ = ["PlanRules"]

_MOVERS = ("u-owner", "u-admin")
"""The requesters `acting` favours, who hold the policy's billing roles too."""


def _untranslated(catalog: object) -> None:
    """Refuse a catalog the reference cannot stand for (see the module's docstring)."""
    if type(catalog) is not Catalog:
        raise invalid(
            Reason.INVALID_VALUE, "K1", f"PlanRules.catalog must be a Catalog, got {catalog!r}"
        )
    for policy in catalog:
        reshaping = [
            name
            for name, chosen in (
                ("trial_days = 0", not policy.has_trial),
                ("upgrade_billing = immediately", policy.bills_upgrade_now),
                ("change_timing = immediately", policy.changes_now),
            )
            if chosen
        ]
        if reshaping:
            raise invalid(
                Reason.INVALID_VALUE,
                "K6",
                f"PlanRules' reference models Atlas's chart; version {policy.version!r} chooses "
                f"{', '.join(reshaping)}, which it does not translate (use the verifier for it)",
            )


class PlanRules(RuleBasedStateMachine):
    """A support plan under random requests and clock moves, against the rules (P, T, P20, P21).

    Set `zones` and `cross_org_billing` to your configuration and `catalog` to your catalog
    (K: the plan is created, decided and restored under it; what the kit translates for the
    reference and what it refuses is in the module's docstring); override `persist` to save and
    reload the plan as your application does (called after every accepted step); set
    `keeps_history` False if your storage keeps the history elsewhere (a reloaded plan then
    holds only what happened since).
    """

    zones: ClassVar[Sequence[str]] = ZONES
    cross_org_billing: ClassVar[Sequence[bool]] = (False, True)
    keeps_history: ClassVar[bool] = True
    catalog: ClassVar[Catalog] = ATLAS

    plan: SupportPlan
    ref: RefPlan

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        _untranslated(cls.catalog)

    def persist(self, plan: SupportPlan) -> SupportPlan:
        """Save `plan` and load it back; by default through its snapshot."""
        return SupportPlan.restore(
            plan.snapshot(), self.org, clock=self.clock, catalog=self.catalog
        )

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """A fresh plan on basic in one of `zones`, at an instant near a calendar edge."""
        zone = data.draw(st.sampled_from(tuple(self.zones)), label="zone")
        cross = data.draw(st.sampled_from(tuple(self.cross_org_billing)), label="cross_org")
        self.clock = FrozenClock(data.draw(instants((zone,)), label="start"))
        self.org = Organization(
            "org-1", projects=("p-1",), billing_timezone=zone, cross_org_billing=cross
        )
        self.plan = self.persist(SupportPlan(self.org, clock=self.clock, catalog=self.catalog))
        self.ref = RefPlan(zone, cross)
        self.last_rules: tuple[str, ...] = ("P4",)

    def request(self, request: str, actor: Member, tier: str | None = None) -> None:
        """Make `request` ("change", "cancel" or "revoke_pending") as `actor`, and check it: check()
        changes nothing and gives the rules' reasons, so does the call; a refusal changes nothing,
        an accepted request returns its history entry (now, by `actor`) and is persisted.
        Subclasses adding rules of their own make their requests through it."""
        now = self.clock.now()
        policy = self.catalog.at(now)
        actor = self._holding_billing_roles(actor, policy)
        self.ref, _ = observe(self.ref, now)
        billing_role = not actor.org_roles.isdisjoint(policy.billing_roles)
        expected = decide(self.ref, request, ["ORG_OWNER"] if billing_role else [], tier)
        before = self.plan.snapshot()
        assert codes_of(self.plan.check(request, actor=actor, tier=tier)) == expected
        assert self.plan.snapshot() == before, "check() changed the plan"
        args = {"actor": actor} if tier is None else {"tier": tier, "actor": actor}
        outcome = attempt(functools.partial(getattr(self.plan, request), **args))
        assert outcome.crash is None, f"{request} {tier} crashed: {outcome.crash!r}"
        assert outcome.reasons == expected, f"{request} {tier}: {outcome.describe()}"
        if outcome.refused:
            assert self.plan.snapshot() == before, "a refusal changed the plan"
            return
        entry = outcome.result
        assert (entry.at, entry.requested_by) == (now, actor.user_id), "the entry returned"
        self.ref, self.last_rules = perform(self.ref, request, actor.user_id, tier, now)
        self.ref = self._under(policy, self.ref, now)
        self.plan = self.persist(self.plan)

    @staticmethod
    def _holding_billing_roles(actor: Member, policy: Policy) -> Member:
        """The kit's owner and billing admin, holding the policy's billing roles too when theirs
        are not among them (Atlas's: unchanged), so that requests move the plan."""
        if actor.user_id not in _MOVERS or not actor.org_roles.isdisjoint(policy.billing_roles):
            return actor
        roles = actor.org_roles | policy.billing_roles
        return Member(actor.user_id, org_roles=roles, email=actor.email)

    def _under(self, policy: Policy, ref: RefPlan, now: dt.datetime) -> RefPlan:
        """What the request just performed schedules under `policy` rather than Atlas's: the
        trial it started lasts `trial_days`, the reactivation it made is billed back at most
        `retroactive_days` (K1, K3: the version in force at the request)."""
        if "P4" in self.last_rules and ref.trial is not None and ref.trial[0] == now:
            ends = add_wall_days(now, policy.trial_days, ref.tz)
            return attrs.evolve(ref, trial=(now, ends), trial_end=ends)
        last = ref.points[-1] if ref.points else None
        if "P15" in self.last_rules and last is not None and last.retroactive:
            assert ref.last_end is not None
            floor = add_wall_days(now, -policy.retroactive_days, ref.tz)
            moved = attrs.evolve(last, at=max(ref.last_end[1], floor))
            return attrs.evolve(ref, points=(*ref.points[:-1], moved))
        return ref

    @rule(actor=acting(("p-1",)), tier=st.sampled_from(TIERS))
    def change(self, actor: Member, tier: str) -> None:
        """Choose a tier (P1-P15)."""
        self.request("change", actor, tier)

    @rule(actor=acting(("p-1",)))
    def cancel(self, actor: Member) -> None:
        """Cancel (P7, P9, P13)."""
        self.request("cancel", actor)

    @rule(actor=acting(("p-1",)))
    def revoke_pending(self, actor: Member) -> None:
        """Revoke the pending change (P12)."""
        self.request("revoke_pending", actor)

    @rule(data=st.data(), apply=st.booleans())
    def move_clock(self, data: st.DataObject, apply: bool) -> None:
        """Move to an edge (month start, due instant, 90 days after the end) or some days on;
        maybe apply_due (P14)."""
        now = self.clock.now()
        edges = [at for at, _ in plan_moves(self.ref, now)]
        later = [now + pendulum.duration(**m) for m in MOVES]
        self.move_to(data.draw(st.sampled_from(edges + later), label="to"), apply)

    def move_to(self, at: dt.datetime, apply: bool = False) -> None:
        """Set the clock to `at` (never back); with `apply`, apply_due applies exactly what the
        rules say is due, at its instants, and a second call nothing (P14). Subclasses adding
        clock moves of their own make them through it."""
        self.clock.set(at)
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
        policy = self.catalog.at(self.clock.now())
        if policy.case_states != CASE_STATES:
            verdicts = [v for v in verdicts if v.rule != "P17"]
            verdicts.append(_entitled(seen, policy))
        if not self.keeps_history:
            seen = attrs.evolve(seen, history=self.ref.history)
            verdicts = [v for v in verdicts if "history" not in v.invariant]
        verdicts += timeline(seen, self.org.billing_timezone, self.ref.trial_end)
        verdicts.append(premium_billed(seen))
        confirm_all(verdicts)


def _entitled(seen: PlanView, policy: Policy) -> Verdict:
    """P17 under K1's `case_states`: a state among them entitles as the reference's developer
    does, any other as its basic."""
    want = ENTITLED["developer" if seen.state in policy.case_states else "basic"]
    ok = seen.entitlements == want
    return Verdict(
        "P17",
        "entitlements follow the state (the policy's case_states)",
        ok,
        ""
        if ok
        else f"the entitlements in {seen.state} are {sorted(seen.entitlements)}; under policy "
        f"{policy.version} they are {sorted(want)}",
    )
