"""Flex Consulting orders (RULES.md F0-F7, T7): the order chart and the `ConsultingOrder` facade.

The facade checks every rule with the pure guards of `support_flows.guards.consulting`, in a
fixed order, and raises with every failing check; the chart carries the same guards so that its
diagram shows them, and picks the next state from the unit balance the action leaves behind.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pendulum
from statemachine import State

from support_flows.clock import Clock
from support_flows.consulting_values import OrderState, Session, SessionStatus, UnitBalance
from support_flows.errors import InvalidInput, Reason, Violation, error_for, invalid
from support_flows.guards import consulting as g
from support_flows.localtime import instant
from support_flows.machines._base import BaseChart
from support_flows.machines.consulting_email import confirmation
from support_flows.machines.consulting_records import (
    OrderAction,
    OrderChannel,
    OrderEvent,
    OrderRecord,
    inconsistencies,
)
from support_flows.outbox import Outbox
from support_flows.snapshots import structure, unstructure
from support_flows.values import Member, Organization

__all__ = [
    "ConsultingChart",
    "ConsultingOrder",
    "OrderAction",
    "OrderChannel",
    "OrderEvent",
    "OrderState",
    "Session",
    "SessionStatus",
    "UnitBalance",
]

SCHEDULE_GUARDS = [
    g.hours_not_whole_units,
    g.not_org_member,
    g.session_in_past,
    g.session_after_expiry,
    g.insufficient_units,
]
CANCEL_GUARDS = [
    g.not_org_member,
    g.unknown_session,
    g.session_not_booked,
    g.session_already_started,
]
DELIVER_GUARDS = [g.not_org_member, g.unknown_session, g.session_not_booked, g.session_not_started]


class ConsultingChart(BaseChart):
    """checkout -> purchased <-> scheduled -> consumed | expired; the balance picks the target."""

    checkout = State(initial=True)
    purchased = State()
    scheduled = State()
    consumed = State(final=True)
    expired = State(final=True)

    confirm = checkout.to(purchased)
    schedule = purchased.to(scheduled, unless=SCHEDULE_GUARDS) | scheduled.to.itself(
        internal=True, unless=SCHEDULE_GUARDS
    )
    cancel_session = (
        scheduled.to.itself(internal=True, cond=g.sessions_booked, unless=CANCEL_GUARDS)
        | scheduled.to(purchased, cond=g.units_left_nothing_booked, unless=CANCEL_GUARDS)
        | scheduled.to(expired, cond=g.units_expired_nothing_booked, unless=CANCEL_GUARDS)
    )
    deliver = (
        scheduled.to.itself(internal=True, cond=g.sessions_booked, unless=DELIVER_GUARDS)
        | scheduled.to(purchased, cond=g.units_left_nothing_booked, unless=DELIVER_GUARDS)
        | scheduled.to(consumed, cond=g.every_unit_consumed, unless=DELIVER_GUARDS)
        | scheduled.to(expired, cond=g.units_expired_nothing_booked, unless=DELIVER_GUARDS)
    )
    expire = purchased.to(expired, cond=g.units_expired_nothing_booked) | scheduled.to.itself(
        internal=True, cond=g.sessions_booked
    )


class _ChartModel:
    def __init__(self, state: str | None) -> None:
        self.state = state


def _raise_if(found: Iterable[Violation | None]) -> None:
    reasons = [v for v in found if v is not None]
    if reasons:
        raise error_for(reasons)


def _user(actor: Member | None) -> str | None:
    return None if actor is None else actor.user_id


def _check_member(actor: object, what: str) -> None:
    if actor is not None and not isinstance(actor, Member):
        raise invalid(Reason.INVALID_VALUE, "F0", f"{what} must be a Member, got {actor!r}")


def _order_id(order_id: str | None) -> str:
    if order_id is None:
        return f"co-{uuid.uuid4().hex[:12]}"
    if not isinstance(order_id, str) or not order_id:
        raise invalid(
            Reason.INVALID_VALUE, "V1", f"order id must be a non-empty string, got {order_id!r}"
        )
    return order_id


class ConsultingOrder:
    """A Flex Consulting order, observed as of its clock's now (T7).

    Build one with `start_checkout`, `from_representative` or `restore`.
    """

    def __init__(
        self, record: OrderRecord, org: Organization, *, clock: Clock, outbox: Outbox
    ) -> None:
        self._record = record
        self._org = org
        self._clock = clock
        self._outbox = outbox
        self._chart = ConsultingChart(_ChartModel(record.state.value), clock=clock)

    # -- creating ---------------------------------------------------------------------------

    @classmethod
    def start_checkout(
        cls,
        org: Organization,
        *,
        units: int,
        actor: Member,
        clock: Clock,
        outbox: Outbox,
        hours_per_unit: int = 1,
        validity_months: int | None = None,
        order_id: str | None = None,
    ) -> ConsultingOrder:
        """A console order (F1), in `checkout` until `confirm()`.

        Checks, in order: quantities (F2, F6), then the billing role (F1), then the buyer's
        email (F3).
        """
        _check_member(actor, "the actor")
        _raise_if(_quantity_checks(units, hours_per_unit, validity_months))
        _raise_if([g.billing_role_required(actor)])
        _raise_if([g.buyer_email_missing(actor.email, f"member {actor.user_id}")])
        now = instant(clock.now())
        record = OrderRecord.checkout(
            _order_id(order_id),
            org.org_id,
            OrderChannel.CONSOLE,
            now,
            buyer_email=str(actor.email).strip(),
            requested_by=actor.user_id,
            sales_reference=None,
            units=units,
            hours_per_unit=hours_per_unit,
            validity_months=validity_months,
        ).then(OrderEvent(now, OrderAction.CHECKOUT, units, None, actor.user_id))
        return cls(record, org, clock=clock, outbox=outbox)

    @classmethod
    def from_representative(
        cls,
        org: Organization,
        *,
        units: int,
        sales_reference: str,
        email: str,
        clock: Clock,
        outbox: Outbox,
        hours_per_unit: int = 1,
        validity_months: int | None = None,
        order_id: str | None = None,
    ) -> ConsultingOrder:
        """An order placed by a representative (F1): `purchased` at once, its email sent (F3).

        Checks, in order: quantities (F2, F6) and the buyer's email (F3), then the sales
        reference (F1).
        """
        _raise_if(
            [
                *_quantity_checks(units, hours_per_unit, validity_months),
                g.buyer_email_missing(email, "the buyer"),
            ]
        )
        _raise_if([g.sales_reference_required(sales_reference)])
        now = instant(clock.now())
        checkout = OrderRecord.checkout(
            _order_id(order_id),
            org.org_id,
            OrderChannel.REPRESENTATIVE,
            now,
            buyer_email=email.strip(),
            requested_by=None,
            sales_reference=sales_reference.strip(),
            units=units,
            hours_per_unit=hours_per_unit,
            validity_months=validity_months,
        )
        purchased = checkout.purchase(now, org.billing_timezone)
        outbox.send(confirmation(purchased, org.billing_timezone))
        return cls(purchased, org, clock=clock, outbox=outbox)

    @classmethod
    def restore(
        cls, data: object, org: Organization, *, clock: Clock, outbox: Outbox
    ) -> ConsultingOrder:
        """The order a `snapshot()` describes; it never resends the confirmation email.

        Anything that is not a snapshot this library wrote is refused with `invalid_snapshot`.
        """
        if isinstance(data, dict):
            ConsultingChart.check_state_name(data.get("state"))
        record = structure(data, OrderRecord, "consulting order")
        if problems := inconsistencies(record, org):
            raise invalid(
                Reason.INVALID_SNAPSHOT,
                "V2",
                "not a consulting order snapshot this library wrote: " + "; ".join(problems),
            )
        return cls(record, org, clock=clock, outbox=outbox)

    # -- reading (T7: each read first applies what has come due) ------------------------------

    @property
    def order_id(self) -> str:
        return self._record.order_id

    @property
    def state(self) -> OrderState:
        return self._observed().state

    @property
    def units(self) -> UnitBalance:
        return self._observed().units

    @property
    def expires_at(self) -> pendulum.DateTime | None:
        return self._observed().expires_at

    @property
    def purchased_at(self) -> pendulum.DateTime | None:
        return self._observed().purchased_at

    @property
    def hours_per_unit(self) -> int:
        return self._record.hours_per_unit

    @property
    def sessions(self) -> tuple[Session, ...]:
        return self._observed().sessions

    @property
    def history(self) -> tuple[OrderEvent, ...]:
        return self._observed().history

    def snapshot(self) -> dict[str, Any]:
        """A JSON-serialisable dict; `ConsultingOrder.restore` turns it back into this order."""
        return unstructure(self._observed())

    def __repr__(self) -> str:
        r = self._record
        return f"ConsultingOrder({r.order_id!r}, state={r.state.value!r}, units={r.units!r})"

    # -- acting -------------------------------------------------------------------------------

    def apply_due(self) -> tuple[OrderEvent, ...]:
        """Apply the expiry if it has come (F6), at its recorded instant; return what it applied."""
        record = self._record
        if not g.expiry_due(record.expires_at, record.validity_ended, record.state, self._now()):
            return ()
        assert record.expires_at is not None
        event = OrderEvent(
            record.expires_at, OrderAction.EXPIRE, record.units.available, None, None
        )
        after = record.then(event, units=record.units.expire(), validity_ended=True)
        self._commit("expire", after, now=record.expires_at)
        return (event,)

    def confirm(self) -> None:
        """Checkout -> purchased, sending the one confirmation email (F1, F3).

        Past checkout it does nothing. The email is sent before the order changes: if the outbox
        raises, the order stays in checkout and a later `confirm()` sends it once.
        """
        record = self._observed()
        if record.state is not OrderState.CHECKOUT:
            return
        now = self._now()
        after = record.purchase(now, self._org.billing_timezone)
        self._outbox.send(confirmation(after, self._org.billing_timezone))
        self._commit("confirm", after, now=now)

    def schedule(self, *, start: dt.datetime, hours: int, actor: Member) -> Session:
        """Book a session of whole units (F0, F4, F6).

        Checks, in order: the order is active (alone), then malformed input (naive start T1,
        hours F4), then member (F0), start after now (F4), end by expiry (F6), units (F4).
        """
        record = self._observed()
        _raise_if([g.order_not_active(record.state)])
        _check_member(actor, "the actor")
        malformed: list[Violation | None] = []
        try:
            begin = instant(start, "session start")
        except InvalidInput as error:
            malformed.extend(error.reasons)
        malformed.append(g.hours_not_whole_units(hours, record.hours_per_unit))
        _raise_if(malformed)
        now = self._now()
        _raise_if(
            [
                g.not_org_member(actor, self._org),
                g.session_in_past(begin, now),
                g.session_after_expiry(begin, hours, record.expires_at),
                g.insufficient_units(hours, record.hours_per_unit, record.units.available),
            ]
        )
        units = hours // record.hours_per_unit
        session = Session(
            session_id=f"s-{len(record.sessions) + 1}",
            start=begin,
            hours=hours,
            units=units,
            status=SessionStatus.SCHEDULED,
            booked_at=now,
            booked_by=actor.user_id,
            closed_at=None,
            closed_by=None,
        )
        event = OrderEvent(now, OrderAction.SCHEDULE, units, session.session_id, actor.user_id)
        after = record.then(
            event, units=record.units.book(units), sessions=(*record.sessions, session)
        )
        self._commit(
            "schedule",
            after,
            actor=actor,
            org=self._org,
            start=begin,
            hours=hours,
            hours_per_unit=record.hours_per_unit,
            expires_at=record.expires_at,
            available=record.units.available,
            now=now,
        )
        return session

    def cancel_session(self, session_id: str, *, actor: Member | None = None) -> Session:
        """Cancel a booked session before it starts; its units return to available (F5).

        Checks, in order: the order is active (alone), then member (F0, when an actor is given),
        known session (F5), still booked (V3), not yet started (F5).
        """
        return self._close(
            "cancel_session", g.session_already_started, SessionStatus.CANCELLED, session_id, actor
        )

    def deliver(self, session_id: str, *, actor: Member | None = None) -> Session:
        """Record a booked session as delivered, at or after its start, consuming its units (F5).

        Checks, in order: the order is active (alone), then member (F0, when an actor is given),
        known session (F5), still booked (V3), started (F5). Delivery is recorded at the clock's
        now when called.
        """
        return self._close(
            "deliver", g.session_not_started, SessionStatus.DELIVERED, session_id, actor
        )

    # -- internals ----------------------------------------------------------------------------

    def _now(self) -> pendulum.DateTime:
        return instant(self._clock.now())

    def _observed(self) -> OrderRecord:
        self.apply_due()
        return self._record

    def _close(
        self,
        event: str,
        timing: Callable[[Session | None, pendulum.DateTime], Violation | None],
        status: SessionStatus,
        session_id: str,
        actor: Member | None,
    ) -> Session:
        record = self._observed()
        _raise_if([g.order_not_active(record.state)])
        _check_member(actor, "the actor")
        now = self._now()
        session = record.session(session_id)
        _raise_if(
            [
                g.not_org_member(actor, self._org),
                g.unknown_session(session_id, session),
                g.session_not_booked(session),
                timing(session, now),
            ]
        )
        assert session is not None
        closed = attrs.evolve(session, status=status, closed_at=now, closed_by=_user(actor))
        if status is SessionStatus.DELIVERED:
            units = record.units.consume(session.units)
            action = OrderAction.DELIVER
        else:
            units = record.units.release(session.units, validity_ended=record.validity_ended)
            action = OrderAction.CANCEL_SESSION
        entry = OrderEvent(now, action, session.units, session.session_id, _user(actor))
        after = record.then(entry, units=units, sessions=record.replace_session(closed))
        self._commit(
            event,
            after,
            actor=actor,
            org=self._org,
            session_id=session_id,
            session=session,
            now=now,
        )
        return closed

    def _commit(self, event: str, after: OrderRecord, **facts: Any) -> None:
        self._chart.fire(event, after=after.units, **facts)
        self._record = attrs.evolve(after, state=OrderState(self._chart.state_name))


def _quantity_checks(
    units: object, hours_per_unit: object, validity_months: object
) -> list[Violation | None]:
    return [
        g.units_not_whole(units),
        g.hours_per_unit_not_whole(hours_per_unit),
        g.validity_not_whole(validity_months),
    ]
