"""What a Flex Consulting order is made of (RULES.md F5, F7): states, unit balance, sessions.

Plain frozen values with no rules attached, so the pure guards and the order chart can share them.
"""

from __future__ import annotations

import enum

import attrs
import pendulum

from support_flows.localtime import hours_later
from support_flows.records import Record

__all__ = ["FINAL_STATES", "OrderState", "Session", "SessionStatus", "UnitBalance"]


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
