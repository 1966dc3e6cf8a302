"""`ConsultingRules`: a Flex Consulting order driven at random against the verifier's reference
(RULES.md F0-F7), for a host to subclass with its catalog and persistence."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar

import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from support_flows.clock import FrozenClock
from support_flows.machines.consulting import FROM_POLICY, ConsultingOrder, FromPolicy
from support_flows.outbox import InMemoryOutbox
from support_flows.testing.actions import MOVES, Action, order_step
from support_flows.testing.checks import confirm_all
from support_flows.testing.strategies import ZONES, instants
from support_flows.values import Member, Organization, Role
from support_flows.values.policy import ATLAS, Catalog
from support_flows.verify.common import Verdict, attempt
from support_flows.verify.consulting_checks import agreement as order_agreement
from support_flows.verify.consulting_checks import balance
from support_flows.verify.consulting_checks import view as order_view
from support_flows.verify.consulting_roots import moves as order_moves
from support_flows.verify.reference.consulting import (
    RefOrder,
    cancel_or_deliver,
    confirm,
    open_console,
    open_representative,
    schedule,
)
from support_flows.verify.reference.consulting import observe as observe_order

__all__ = ["ConsultingRules"]


class ConsultingRules(RuleBasedStateMachine):
    """A Flex Consulting order under random steps and clock moves, against the rules (F0-F7).

    Set `zones`, `hours_per_unit`, `validity_months` and `max_units` to your offer (`FROM_POLICY`
    among the terms opens orders without them, taking the policy's) and `catalog` to your
    catalog (K: every order is opened, decided and restored under it; the console buyer holds
    the billing roles of the version in force); override `persist` to save and reload the order
    as your application does (called after every accepted step), `emails_sent` if your outbox
    is not the test's `self.outbox`, and set `keeps_history` False if your storage keeps the
    history elsewhere.
    """

    zones: ClassVar[Sequence[str]] = ZONES
    hours_per_unit: ClassVar[Sequence[int | FromPolicy]] = (1, 2)
    validity_months: ClassVar[Sequence[int | FromPolicy | None]] = (None, 1, 12)
    max_units: ClassVar[int] = 4
    keeps_history: ClassVar[bool] = True
    catalog: ClassVar[Catalog] = ATLAS

    order: ConsultingOrder
    ref: RefOrder

    def persist(self, order: ConsultingOrder) -> ConsultingOrder:
        """Save `order` and load it back; by default through its snapshot."""
        data = order.snapshot()
        return ConsultingOrder.restore(
            data, self.org, clock=self.clock, outbox=self.outbox, catalog=self.catalog
        )

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
        policy = self.catalog.at(now)
        terms: dict[str, Any] = {
            "units": units,
            "clock": self.clock,
            "outbox": self.outbox,
            "hours_per_unit": per,
            "validity_months": validity,
            "order_id": "co-1",
            "catalog": self.catalog,
        }
        self.ref = RefOrder(
            zone,
            units,
            policy.hours_per_unit if per is FROM_POLICY else per,
            policy.validity_months if validity is FROM_POLICY else validity,
        )
        if data.draw(st.booleans(), label="console"):
            # an owner (the reference's billing role) holding the policy's billing roles too
            roles = {Role.ORG_OWNER, *policy.billing_roles}
            owner = Member("u-owner", org_roles=roles, email="owner@example.com")
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
        steps = order_step(self.ref.hours_per_unit, ("p-1",))
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
        confirm_all(verdicts)
