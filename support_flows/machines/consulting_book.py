"""The order chart's model: the record that the chart's actions change (F1-F7).

The balance changes, bookings, the purchase with its one email, and the expiry are actions the
transitions run; the facade never computes the new record itself. Lists only grow (a closed
session is replaced in place, the old value kept for an undo), so an action costs the same
however long the history is.
"""

from __future__ import annotations

import operator
from typing import Any

import attrs
import pendulum

from support_flows.guards.consulting import OrderFacts
from support_flows.machines.engine import action
from support_flows.snapshots.consulting import (
    KIND,
    SNAPSHOT_VERSION,
    OrderAction,
    OrderChannel,
    OrderEvent,
    OrderSnapshot,
)
from support_flows.values.consulting import (
    OrderState,
    Session,
    SessionStatus,
    UnitBalance,
    expiry_for,
    units_for,
)

__all__ = ["OrderBook", "OrderTerms"]


@attrs.frozen
class OrderTerms:
    """What an order is, fixed when it is opened."""

    order_id: str
    org_id: str
    timezone: str
    channel: OrderChannel
    buyer_email: str | None
    """None only for a console checkout that F3 refuses (a buyer without an e-mail)."""
    requested_by: str | None
    sales_reference: str | None
    hours_per_unit: int
    validity_months: int | None
    created_at: pendulum.DateTime
    policy: str
    """The id of the catalog version that decided the opening, whose terms these are (K3, K4)."""


_FIELDS = ("state", "purchased_at", "expires_at", "validity_ended", "units", "recorded_at")
_SAVED = operator.attrgetter(*_FIELDS)


class OrderBook:
    """An order's record; only the chart's actions change it."""

    __slots__ = (
        "_index",
        "_replaced",
        "history",
        "history_complete",
        "confirmations_due",
        "sessions",
        "terms",
        *_FIELDS,
    )
    state_of = str

    def __init__(
        self,
        terms: OrderTerms,
        units: UnitBalance,
        state: str = "new",
        purchased_at: pendulum.DateTime | None = None,
        expires_at: pendulum.DateTime | None = None,
        validity_ended: bool = False,
        sessions: list[Session] | None = None,
        history: list[OrderEvent] | None = None,
        recorded_at: pendulum.DateTime | None = None,
    ) -> None:
        self.terms = terms
        self.recorded_at = recorded_at
        self.units = units
        self.state = state
        self.purchased_at = purchased_at
        self.expires_at = expires_at
        self.validity_ended = validity_ended
        self.sessions: list[Session] = [] if sessions is None else sessions
        self.history: list[OrderEvent] = [] if history is None else history
        self._index = {s.session_id: n for n, s in enumerate(self.sessions)}
        self._replaced: list[tuple[int, Session]] = []
        self.confirmations_due = 0
        """The confirmations the step in progress queued (one, by its purchase): the order composes
        and sends them once the step is complete; a history's replay (V2) sends none."""
        self.history_complete = True

    def commit(self) -> None:
        """The step succeeded and its emails were sent: forget what would undo it."""
        self._replaced.clear()
        self.confirmations_due = 0

    def save(self) -> tuple[Any, ...]:
        return (_SAVED(self), len(self.sessions), len(self.history), len(self._replaced))

    def restore(self, saved: tuple[Any, ...]) -> None:
        fields, sessions, history, replaced = saved
        for name, value in zip(_FIELDS, fields, strict=True):
            setattr(self, name, value)
        while len(self._replaced) > replaced:
            index, old = self._replaced.pop()
            self.sessions[index] = old
        for session in self.sessions[sessions:]:
            del self._index[session.session_id]
        del self.sessions[sessions:]
        del self.history[history:]
        self.confirmations_due = 0

    def session(self, session_id: object) -> Session | None:
        index = self._index.get(session_id) if isinstance(session_id, str) else None
        return None if index is None else self.sessions[index]

    def last_instant(self) -> pendulum.DateTime | None:
        """The instant of the latest history entry (T8: readings never go before it)."""
        return self.recorded_at

    def expiry_due(self, now: pendulum.DateTime) -> bool:
        """F6/T7: an active order's validity ends once the clock reaches its expiry."""
        return (
            self.expires_at is not None
            and not self.validity_ended
            and self.state in (OrderState.PURCHASED, OrderState.SCHEDULED)
            and now >= self.expires_at
        )

    def next_due_at(self) -> pendulum.DateTime | None:
        """When the clock next applies something (the expiry, F6), or None."""
        if self.validity_ended or self.state not in (OrderState.PURCHASED, OrderState.SCHEDULED):
            return None
        return self.expires_at

    def view(self) -> dict[str, Any]:
        """The order as a host shows it: JSON-safe, instants as ISO 8601 UTC."""
        terms, purchased, expires = self.terms, self.purchased_at, self.expires_at
        return {
            "order_id": terms.order_id,
            "org_id": terms.org_id,
            "state": self.state,
            "units": self.units.to_dict(),
            "hours_per_unit": terms.hours_per_unit,
            "purchased_at": None if purchased is None else purchased.isoformat(),
            "expires_at": None if expires is None else expires.isoformat(),
            "sessions": [s.to_dict() for s in self.sessions],
        }

    def snapshot(self, *, history: bool = True) -> OrderSnapshot:
        t = self.terms
        assert t.buyer_email is not None
        return OrderSnapshot(
            KIND,
            SNAPSHOT_VERSION,
            t.policy,
            t.order_id,
            t.org_id,
            t.timezone,
            OrderState(self.state),
            t.channel,
            t.buyer_email,
            t.requested_by,
            t.sales_reference,
            t.hours_per_unit,
            t.validity_months,
            t.created_at,
            self.purchased_at,
            self.expires_at,
            self.validity_ended,
            self.recorded_at,
            self.units,
            tuple(self.sessions),
            tuple(self.history) if history and self.history_complete else None,
        )

    def _log(self, f: OrderFacts, what: OrderAction, units: int, session: str | None) -> None:
        self._append(OrderEvent(f.now, what, units, session, f.actor_id, f.policy.version))

    def _append(self, event: OrderEvent) -> None:
        self.history.append(event)
        self.recorded_at = event.at

    # Actions, run by the chart's edges.

    @action("F1", "in checkout until confirmed")
    def open_order(self, facts: OrderFacts) -> None:
        self._log(facts, OrderAction.CHECKOUT, self.units.purchased, None)

    @action("F1", "purchased now; validity runs from now (F6)")
    def purchase(self, facts: OrderFacts) -> None:
        self.purchased_at = facts.now
        self.expires_at = expiry_for(facts.now, self.terms.validity_months, self.terms.timezone)
        actor = self.terms.requested_by
        purchased = self.units.purchased
        version = facts.policy.version
        self._append(OrderEvent(facts.now, OrderAction.PURCHASE, purchased, None, actor, version))

    @action("F3", "one confirmation email, queued once the purchase is complete")
    def send_confirmation(self, facts: OrderFacts) -> None:
        self.confirmations_due += 1

    @action("F4", "the session's units are booked now")
    def book_session(self, facts: OrderFacts) -> None:
        assert facts.start is not None
        assert facts.hours is not None
        assert facts.actor_id is not None
        units = units_for(facts.hours, self.terms.hours_per_unit)
        session = Session(
            session_id=f"s-{len(self.sessions) + 1}",
            start=facts.start,
            hours=facts.hours,
            units=units,
            status=SessionStatus.SCHEDULED,
            booked_at=facts.now,
            booked_by=facts.actor_id,
            closed_at=None,
            closed_by=None,
        )
        self._index[session.session_id] = len(self.sessions)
        self.sessions.append(session)
        self.units = self.units.book(units)
        self._log(facts, OrderAction.SCHEDULE, units, session.session_id)

    @action("F5", "the units return to available now (to expired after the expiry)")
    def release_session(self, facts: OrderFacts) -> None:
        session = self._close(facts, SessionStatus.CANCELLED)
        self.units = self.units.release(session.units, validity_ended=self.validity_ended)
        self._log(facts, OrderAction.CANCEL_SESSION, session.units, session.session_id)

    @action("F5", "the units are consumed now")
    def consume_session(self, facts: OrderFacts) -> None:
        session = self._close(facts, SessionStatus.DELIVERED)
        self.units = self.units.consume(session.units)
        self._log(facts, OrderAction.DELIVER, session.units, session.session_id)

    @action("F6", "at the expiry instant; unused units expire")
    def expire_units(self, facts: OrderFacts) -> None:
        expiring = self.units.available
        self.units = self.units.expire()
        self.validity_ended = True
        self._log(facts, OrderAction.EXPIRE, expiring, None)

    def _close(self, f: OrderFacts, status: SessionStatus) -> Session:
        assert f.session is not None
        index = self._index[f.session.session_id]
        old = self.sessions[index]
        self._replaced.append((index, old))
        closed = attrs.evolve(old, status=status, closed_at=f.now, closed_by=f.actor_id)
        self.sessions[index] = closed
        return old
