"""Clocks: the only place that reads real time (RULES.md T6)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol, runtime_checkable

import pendulum

from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import choice, finite_number
from support_flows.localtime import instant, next_month_start

__all__ = ["Clock", "FrozenClock", "SystemClock", "next_month_start", "not_before", "read_clock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with `now()` returning an aware datetime."""

    def now(self) -> pendulum.DateTime: ...


def read_clock(clock: Clock, floor: dt.datetime | None = None) -> pendulum.DateTime:
    """`clock.now()` as a UTC instant, checked (T1, V4), and never before `floor` (T8)."""
    return not_before(instant(clock.now(), "the clock's reading"), floor)


def not_before(now: pendulum.DateTime, floor: dt.datetime | None) -> pendulum.DateTime:
    """T8: a reading earlier than the last recorded instant counts as that instant."""
    if floor is not None and now < floor:
        return instant(floor)
    return now


class SystemClock:
    """Real time, in UTC."""

    def now(self) -> pendulum.DateTime:
        n = dt.datetime.now(dt.UTC)  # built field by field: half of pendulum.now's cost
        return pendulum.DateTime(
            n.year, n.month, n.day, n.hour, n.minute, n.second, n.microsecond, tzinfo=pendulum.UTC
        )

    def micros(self) -> int:
        """Real time as whole microseconds since 1970 UTC: what `now()` reads, without building
        an instant (a store's column format)."""
        return time.time_ns() // 1000

    def __repr__(self) -> str:
        return "SystemClock()"


DURATION_UNITS = (
    "years",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
    "microseconds",
)


class FrozenClock:
    """A clock that moves only when told to, and never backwards."""

    __slots__ = ("_now",)

    def __init__(self, at: dt.datetime) -> None:
        self._now = instant(at, "clock start")

    def now(self) -> pendulum.DateTime:
        return self._now

    def set(self, at: dt.datetime) -> pendulum.DateTime:
        """Move to `at`; moving backwards is refused with `invalid_value`."""
        target = instant(at, "clock time")
        if target < self._now:
            raise invalid(
                Reason.INVALID_VALUE,
                "T6",
                f"a FrozenClock never goes back: it is at {self._now.isoformat()}, "
                f"asked for {target.isoformat()}",
            )
        self._now = target
        return self._now

    def advance(self, **duration: float) -> pendulum.DateTime:
        """Move forward by a pendulum duration, e.g. `advance(days=30, hours=1)`."""
        for unit, amount in duration.items():
            choice(unit, DURATION_UNITS, "duration unit")
            finite_number(amount, f"advance({unit}=...)")
        try:
            step = pendulum.duration(**duration)
            target = self._now + step
        except (OverflowError, ValueError, TypeError):
            raise invalid(
                Reason.INVALID_VALUE,
                "V4",
                f"advancing {self._now.isoformat()} by {describe(duration)} leaves the years "
                "1970-2999",
            ) from None
        return self.set(target)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
