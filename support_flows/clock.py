"""Clocks: the only place that reads real time (RULES.md T6)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import pendulum

from support_flows.errors import Reason, invalid
from support_flows.localtime import instant, next_month_start

__all__ = ["Clock", "FrozenClock", "SystemClock", "next_month_start"]


@runtime_checkable
class Clock(Protocol):
    """Anything with `now()` returning an aware datetime."""

    def now(self) -> pendulum.DateTime: ...


class SystemClock:
    """Real time, in UTC."""

    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")

    def __repr__(self) -> str:
        return "SystemClock()"


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
        try:
            step = pendulum.duration(**duration)
        except TypeError as error:
            raise invalid(
                Reason.INVALID_VALUE, "T6", f"bad duration {duration!r}: {error}"
            ) from None
        return self.set(self._now + step)

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"
