"""A consulting order driven by random steps, checked against a reference model (F0-F7, T7)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import support_flows as sf
from support_flows.codec import unstructure
from support_flows.localtime import add_wall_months_clamped

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_READ_ONLY}})
STRANGER = sf.Member("u-stranger", project_roles={"p-9": {sf.Role.PROJECT_OWNER}})
ACTORS = {"owner": OWNER, "dev": DEV, "stranger": STRANGER, "none": None}
STARTS = [
    pendulum.datetime(2024, 1, 31, 10, tz="UTC"),
    pendulum.datetime(2024, 2, 29, 23, 30, tz="UTC"),
    pendulum.datetime(2026, 3, 7, 6, 30, tz="UTC"),
]
ZONES = ["UTC", "America/New_York", "Asia/Kolkata"]


@attrs.define
class RefSession:
    start: pendulum.DateTime
    units: int
    status: str = "scheduled"


@attrs.define
class Reference:
    """What RULES.md says the order should hold, written as plainly as possible."""

    purchased: int
    hours_per_unit: int
    expires_at: pendulum.DateTime | None
    available: int = 0
    scheduled: int = 0
    consumed: int = 0
    expired: int = 0
    validity_ended: bool = False
    expiry: tuple[pendulum.DateTime, str, int] | None = None
    sessions: dict[str, RefSession] = attrs.Factory(dict)

    @property
    def balance(self) -> tuple[int, int, int, int, int]:
        return (self.purchased, self.available, self.scheduled, self.consumed, self.expired)

    @property
    def state(self) -> str:
        if self.scheduled:
            return "scheduled"
        if self.consumed == self.purchased:
            return "consumed"
        return "purchased" if self.available else "expired"

    @property
    def active(self) -> bool:
        return self.state in ("purchased", "scheduled")

    def apply_due(self, now: pendulum.DateTime) -> None:
        if self.expires_at is None or self.validity_ended or not self.active:
            return
        if now < self.expires_at:
            return
        self.expiry = (self.expires_at, "expire", self.available)
        self.expired += self.available
        self.available, self.validity_ended = 0, True


def utc(moment: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone("UTC")


class ConsultingOrderMachine(RuleBasedStateMachine):
    """Real order, and a shadow fed the same actions but never read, against the reference."""

    order: sf.ConsultingOrder
    shadow: sf.ConsultingOrder

    @initialize(
        units=st.one_of(st.integers(1, 3), st.integers(1, 12)),
        hours_per_unit=st.sampled_from([1, 1, 2, 4]),
        validity=st.sampled_from([None, 1, 2, 12]),
        at=st.sampled_from(STARTS),
        tz=st.sampled_from(ZONES),
        representative=st.booleans(),
    )
    def buy(
        self,
        units: int,
        hours_per_unit: int,
        validity: int | None,
        at: pendulum.DateTime,
        tz: str,
        representative: bool,
    ) -> None:
        self.clock = sf.FrozenClock(at)
        self.org = sf.Organization("org-1", projects=("p-1",), billing_timezone=tz)
        self.outbox = sf.InMemoryOutbox()
        self.shadow_outbox = sf.InMemoryOutbox()
        self.order = self._buy(units, hours_per_unit, validity, representative, self.outbox)
        self.shadow = self._buy(units, hours_per_unit, validity, representative, self.shadow_outbox)
        expiry = None if validity is None else utc(add_wall_months_clamped(at, validity, tz))
        self.ref = Reference(units, hours_per_unit, expiry, available=units)

    def _buy(
        self,
        units: int,
        hours_per_unit: int,
        validity: int | None,
        representative: bool,
        outbox: sf.InMemoryOutbox,
    ) -> sf.ConsultingOrder:
        options: dict[str, Any] = {
            "units": units,
            "clock": self.clock,
            "outbox": outbox,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity,
            "order_id": "co-1",
        }
        if representative:
            return sf.ConsultingOrder.from_representative(
                self.org, sales_reference="SO-1", email="buyer@example.com", **options
            )
        order = sf.ConsultingOrder.start_checkout(self.org, actor=OWNER, **options)
        order.confirm()
        return order

    # -- helpers ------------------------------------------------------------------------------

    def _both(self, act: Callable[[sf.ConsultingOrder], Any], expected: list[str]) -> list[Any]:
        """Run `act` on the order and its shadow; refused exactly as expected, changing nothing."""
        results = []
        for order in (self.order, self.shadow):
            if not expected:
                results.append(act(order))
                continue
            before = order.snapshot()
            with pytest.raises(sf.SupportFlowsError) as error:
                act(order)
            assert [r.code.value for r in error.value.reasons] == expected
            assert order.snapshot() == before
        return results

    def _session_ids(self) -> list[str]:
        return sorted(self.ref.sessions)

    # -- rules --------------------------------------------------------------------------------

    @rule(
        anchor=st.sampled_from(["now", "expiry"]),
        minutes=st.integers(-120, 60 * 24 * 45),
        micros=st.sampled_from([0, 0, -1, 1]),
        whole_units=st.integers(0, 4),
        off_by=st.sampled_from([0, 0, 0, 1]),
        who=st.sampled_from(["owner", "owner", "dev", "stranger"]),
    )
    def schedule(
        self, anchor: str, minutes: int, micros: int, whole_units: int, off_by: int, who: str
    ) -> None:
        ref, now = self.ref, self.clock.now()
        ref.apply_due(now)
        hours = whole_units * ref.hours_per_unit + off_by
        base = (
            ref.expires_at.subtract(hours=hours) if anchor == "expiry" and ref.expires_at else now
        )
        start = base.add(
            minutes=minutes if anchor == "now" else min(minutes, 0), microseconds=micros
        )
        units = hours // ref.hours_per_unit
        if hours < 1:  # V4: malformed input comes first
            expected = ["invalid_quantity"]
        elif not ref.active:
            expected = ["order_not_active"]
        else:
            checks = [
                ("invalid_quantity", hours % ref.hours_per_unit != 0),
                ("not_org_member", who == "stranger"),
                ("session_in_past", start <= now),
                (
                    "session_after_expiry",
                    ref.expires_at is not None and start.add(hours=hours) > ref.expires_at,
                ),
                ("insufficient_units", units > ref.available),
            ]
            expected = [code for code, failed in checks if failed]
        actor = ACTORS[who]
        assert actor is not None
        sessions = self._both(lambda o: o.schedule(start=start, hours=hours, actor=actor), expected)
        if expected:
            return
        session_id = f"s-{len(ref.sessions) + 1}"
        assert [(s.session_id, s.start, s.hours, s.units) for s in sessions] == [
            (session_id, start, hours, units)
        ] * 2
        ref.sessions[session_id] = RefSession(start, units)
        ref.available -= units
        ref.scheduled += units

    @precondition(lambda self: self.ref.available > 0)
    @rule()
    def book_the_rest(self) -> None:
        self.schedule("now", 60, 0, self.ref.available, 0, "owner")

    def _close(self, pick: int, who: str, deliver: bool) -> None:
        ref, now = self.ref, self.clock.now()
        ref.apply_due(now)
        ids = [*self._session_ids(), "s-unknown"]
        session_id = ids[pick % len(ids)]
        session = ref.sessions.get(session_id)
        if not ref.active:
            expected = ["order_not_active"]
        else:
            expected = ["not_org_member"] if who == "stranger" else []
            if session is None:
                expected.append("unknown_session")
            elif session.status != "scheduled":
                expected.append("event_not_allowed")
            elif deliver and now < session.start:
                expected.append("session_not_started")
            elif not deliver and now >= session.start:
                expected.append("session_already_started")
        actor = ACTORS[who]
        if deliver:
            self._both(lambda o: o.deliver(session_id, actor=actor), expected)
        else:
            self._both(lambda o: o.cancel_session(session_id, actor=actor), expected)
        if expected:
            return
        assert session is not None
        ref.scheduled -= session.units
        if deliver:
            session.status = "delivered"
            ref.consumed += session.units
        else:
            session.status = "cancelled"
            if ref.validity_ended:
                ref.expired += session.units
            else:
                ref.available += session.units

    @rule(pick=st.integers(0, 20), who=st.sampled_from(["owner", "dev", "stranger", "none"]))
    def cancel_session(self, pick: int, who: str) -> None:
        self._close(pick, who, deliver=False)

    @rule(pick=st.integers(0, 20), who=st.sampled_from(["owner", "dev", "stranger", "none"]))
    def deliver(self, pick: int, who: str) -> None:
        self._close(pick, who, deliver=True)

    @rule(minutes=st.integers(1, 60 * 24 * 20))
    def advance(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @precondition(lambda self: self.ref.sessions or self.ref.expires_at is not None)
    @rule(data=st.data(), micros=st.sampled_from([-1, 0, 0, 1]))
    def jump_to_a_boundary(self, data: st.DataObject, micros: int) -> None:
        marks = [s.start for s in self.ref.sessions.values()]
        if self.ref.expires_at is not None:
            marks.append(self.ref.expires_at)
        target = data.draw(st.sampled_from(marks)).add(microseconds=micros)
        if target >= self.clock.now():
            self.clock.set(target)

    @rule()
    def apply_due(self) -> None:
        self.ref.apply_due(self.clock.now())
        due = [self.ref.expiry] if self.ref.expiry else []
        for order in (self.order, self.shadow):
            applied = [(e.at, e.action.value, e.units) for e in order.apply_due()]
            assert applied in ([], due)
            assert order.apply_due() == ()
            expiries = [(e.at, e.action.value, e.units) for e in order.history]
            assert [e for e in expiries if e[1] == "expire"] == due

    @rule()
    def confirm_again(self) -> None:
        self.order.confirm()

    @rule()
    def snapshot_and_restore(self) -> None:
        data = self.order.snapshot()
        self.order = sf.ConsultingOrder.restore(
            data, self.org, clock=self.clock, outbox=self.outbox
        )
        assert self.order.snapshot() == data
        # Unchanged, the restored order writes back a copy of what it read; what it would write
        # from its record must be the same.
        assert unstructure(self.order._book.snapshot()) == data
        self.order.confirm()

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def matches_the_reference(self) -> None:
        if not hasattr(self, "ref"):
            return
        self.ref.apply_due(self.clock.now())
        units = self.order.units
        balance = (units.purchased, units.available, units.scheduled, units.consumed)
        assert (*balance, units.expired) == self.ref.balance
        assert units.available + units.scheduled + units.consumed + units.expired == units.purchased
        assert min(balance) >= 0
        assert units.expired >= 0
        assert self.order.state == self.ref.state
        assert len(self.outbox.sent) == 1
        assert [(s.session_id, s.status.value) for s in self.order.sessions] == [
            (i, s.status) for i, s in self.ref.sessions.items()
        ]

    def teardown(self) -> None:
        if hasattr(self, "ref"):
            assert self.shadow.snapshot() == self.order.snapshot()
            assert len(self.shadow_outbox.sent) == 1


ConsultingOrderMachine.TestCase.settings = settings(
    ConsultingOrderMachine.TestCase.settings, stateful_step_count=30
)
TestConsultingOrderMachine = ConsultingOrderMachine.TestCase
TestConsultingOrderMachine.__doc__ = (
    "F7 balance, state, one email, refusals that change nothing and T7 observation independence"
)
