"""Frozen records of a Flex Consulting order: its history and the record its snapshot holds (V2)."""

from __future__ import annotations

import enum
from typing import Any

import attrs
import pendulum

from support_flows.consulting_values import OrderState, Session, SessionStatus, UnitBalance
from support_flows.guards import consulting as g
from support_flows.values import Organization


class OrderAction(enum.StrEnum):
    """What an `OrderEvent` records."""

    CHECKOUT = "checkout"
    PURCHASE = "purchase"
    SCHEDULE = "schedule"
    CANCEL_SESSION = "cancel_session"
    DELIVER = "deliver"
    EXPIRE = "expire"


class OrderChannel(enum.StrEnum):
    """Where the units were bought (F1)."""

    CONSOLE = "console"
    REPRESENTATIVE = "representative"


@attrs.frozen
class OrderEvent:
    """One entry of an order's history: what happened, when, to how many units, by whom."""

    at: pendulum.DateTime
    action: OrderAction
    units: int
    session_id: str | None
    actor: str | None


@attrs.frozen
class OrderRecord:
    """Everything an order knows; also its snapshot (no defaults: a missing field is refused)."""

    order_id: str
    org_id: str
    state: OrderState
    channel: OrderChannel
    buyer_email: str
    requested_by: str | None
    sales_reference: str | None
    hours_per_unit: int
    validity_months: int | None
    created_at: pendulum.DateTime
    purchased_at: pendulum.DateTime | None
    expires_at: pendulum.DateTime | None
    validity_ended: bool
    units: UnitBalance
    sessions: tuple[Session, ...]
    history: tuple[OrderEvent, ...]

    @classmethod
    def checkout(
        cls,
        order_id: str,
        org_id: str,
        channel: OrderChannel,
        now: pendulum.DateTime,
        *,
        buyer_email: str,
        requested_by: str | None,
        sales_reference: str | None,
        units: int,
        hours_per_unit: int,
        validity_months: int | None,
    ) -> OrderRecord:
        """A new order in checkout: nothing purchased, booked or expired, no history yet."""
        return cls(
            order_id=order_id,
            org_id=org_id,
            state=OrderState.CHECKOUT,
            channel=channel,
            buyer_email=buyer_email,
            requested_by=requested_by,
            sales_reference=sales_reference,
            hours_per_unit=hours_per_unit,
            validity_months=validity_months,
            created_at=now,
            purchased_at=None,
            expires_at=None,
            validity_ended=False,
            units=UnitBalance.bought(units),
            sessions=(),
            history=(),
        )

    def then(self, event: OrderEvent, **changes: Any) -> OrderRecord:
        """This record with `changes` applied and `event` added to its history."""
        return attrs.evolve(self, history=(*self.history, event), **changes)

    def purchase(self, now: pendulum.DateTime, tz: str) -> OrderRecord:
        """The order as it becomes `purchased` at `now`, its expiry fixed (F1, F6)."""
        event = OrderEvent(now, OrderAction.PURCHASE, self.units.purchased, None, self.requested_by)
        return self.then(
            event,
            state=OrderState.PURCHASED,
            purchased_at=now,
            expires_at=g.expiry_for(now, self.validity_months, tz),
        )

    def session(self, session_id: object) -> Session | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)

    def replace_session(self, session: Session) -> tuple[Session, ...]:
        return tuple(session if s.session_id == session.session_id else s for s in self.sessions)


def inconsistencies(record: OrderRecord, org: Organization) -> list[str]:
    """What makes a well-typed record one this library could not have written."""
    problems = []
    booked = sum(s.units for s in record.sessions if s.is_booked)
    delivered = sum(s.units for s in record.sessions if s.status is SessionStatus.DELIVERED)
    checkout = record.state is OrderState.CHECKOUT
    if record.org_id != org.org_id:
        problems.append(f"it belongs to organization {record.org_id!r}, not {org.org_id!r}")
    if not record.units.holds:
        problems.append(f"its unit balance {record.units!r} does not add up (F7)")
    elif not checkout and record.state is not g.state_for(record.units):
        problems.append(f"state {record.state.value!r} does not match {record.units!r}")
    if checkout and (record.purchased_at is not None or record.sessions or record.units.expired):
        problems.append("an order in checkout has no purchase, sessions or expired units")
    if not checkout and record.purchased_at is None:
        problems.append("a purchased order has a purchase instant")
    if (record.expires_at is None) != (checkout or record.validity_months is None):
        problems.append("its expiry does not match its validity")
    if (booked, delivered) != (record.units.scheduled, record.units.consumed):
        problems.append("its sessions do not match its scheduled and consumed units")
    if [s.session_id for s in record.sessions] != [
        f"s-{n}" for n in range(1, len(record.sessions) + 1)
    ]:
        problems.append("its session ids are not s-1, s-2, ...")
    if record.units.expired and not record.validity_ended:
        problems.append("it has expired units but its validity has not ended")
    if g.hours_per_unit_not_whole(record.hours_per_unit) is not None or any(
        s.units * record.hours_per_unit != s.hours for s in record.sessions
    ):
        problems.append("its sessions are not whole units")
    return problems
