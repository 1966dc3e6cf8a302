"""What a Flex Consulting order is made of (RULES.md F4-F7): states, unit balance, sessions, and
the arithmetic of units, states and expiry that the guards, the order's book and restore share.
"""

from __future__ import annotations

import datetime as dt
import enum

import attrs
import pendulum

from support_flows.codec import Record
from support_flows.localtime import add_wall_months_clamped, hours_later

__all__ = [
    "FINAL_STATES",
    "OrderState",
    "Session",
    "SessionStatus",
    "UnitBalance",
    "books_whole_units",
    "expiry_for",
    "state_for",
    "units_for",
]


class OrderState(enum.StrEnum):
    """States of a Flex Consulting order (F)."""

    CHECKOUT = "checkout"
    PURCHASED = "purchased"
    SCHEDULED = "scheduled"
    CONSUMED = "consumed"
    EXPIRED = "expired"


FINAL_STATES = frozenset({OrderState.CONSUMED, OrderState.EXPIRED})


class SessionStatus(enum.StrEnum):
    """Lifecycle of a consulting session (F5)."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    DELIVERED = "delivered"


_SCHEDULED = SessionStatus.SCHEDULED  # Python 3.11 reads an enum's members slowly by class


@attrs.frozen
class UnitBalance(Record):
    """Where an order's units are (F7): purchased = available + scheduled + consumed + expired."""

    purchased: int
    available: int
    scheduled: int
    consumed: int
    expired: int

    @classmethod
    def bought(cls, units: int) -> UnitBalance:
        return cls(units, units, 0, 0, 0)

    def book(self, units: int) -> UnitBalance:
        return self._moved(available=-units, scheduled=units)

    def release(self, units: int, *, validity_ended: bool) -> UnitBalance:
        """A cancelled session's units: back to available, or expired once validity has ended."""
        if validity_ended:
            return self._moved(scheduled=-units, expired=units)
        return self._moved(scheduled=-units, available=units)

    def consume(self, units: int) -> UnitBalance:
        return self._moved(scheduled=-units, consumed=units)

    def expire(self) -> UnitBalance:
        return self._moved(available=-self.available, expired=self.available)

    def _moved(
        self, *, available: int = 0, scheduled: int = 0, consumed: int = 0, expired: int = 0
    ) -> UnitBalance:
        """The balance with units moved between its parts (attrs.evolve costs ten times this)."""
        return UnitBalance(
            self.purchased,
            self.available + available,
            self.scheduled + scheduled,
            self.consumed + consumed,
            self.expired + expired,
        )

    @property
    def holds(self) -> bool:
        """The F7 invariant: the parts add up to what was bought and none is negative."""
        parts = (self.available, self.scheduled, self.consumed, self.expired)
        return min(parts) >= 0 and sum(parts) == self.purchased >= 1


@attrs.frozen
class Session(Record):
    """A booked consulting session; `closed_at`/`closed_by` say when and by whom it was
    cancelled or delivered."""

    session_id: str
    start: pendulum.DateTime
    hours: int
    units: int
    status: SessionStatus
    booked_at: pendulum.DateTime
    booked_by: str
    closed_at: pendulum.DateTime | None
    closed_by: str | None

    @property
    def end(self) -> pendulum.DateTime:
        return hours_later(self.start, self.hours)

    @property
    def is_booked(self) -> bool:
        return self.status is _SCHEDULED


def books_whole_units(hours: int, hours_per_unit: int) -> bool:
    """F4: whether `hours` are a whole number of units."""
    return hours % hours_per_unit == 0


def units_for(hours: int, hours_per_unit: int) -> int:
    """F4: the whole units a session of `hours` books (the one place this is computed)."""
    return hours // hours_per_unit


def state_for(balance: UnitBalance) -> OrderState:
    """The state a purchased order's balance means (F's state definitions)."""
    if balance.scheduled > 0:
        return OrderState.SCHEDULED
    if balance.consumed == balance.purchased:
        return OrderState.CONSUMED
    if balance.available > 0:
        return OrderState.PURCHASED
    return OrderState.EXPIRED


def expiry_for(
    purchased_at: dt.datetime, validity_months: int | None, tz: str
) -> pendulum.DateTime | None:
    """F6: the purchase's local wall time `validity_months` later, clamped to the month's end."""
    if validity_months is None:
        return None
    return add_wall_months_clamped(purchased_at, validity_months, tz)
