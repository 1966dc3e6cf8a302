"""P20's two invariants of a billing timeline, stated once: restore (V2), the verifier and the
tests check them through these functions.

First: every boundary of a billing period is the first instant of a month in the billing
timezone, except a trial's end (P6, and the premium start P8 moves up to it), a retroactive start
(P15) and a catch-up start (P21). Second (P21): every stretch in which premium is in force
overlaps, or is followed without a gap by, a premium billing period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable, Sequence

from support_flows.localtime import is_month_start
from support_flows.values import PlanState

__all__ = [
    "boundary_allowed",
    "premium_stretches",
    "stray_boundaries",
    "unbilled_stretch",
]

Span = tuple[dt.datetime, dt.datetime | None]
"""A stretch of time or a billing period: its start, and its end (None: still open)."""


def boundary_allowed(boundary: dt.datetime, tz: str, exceptions: Container[dt.datetime]) -> bool:
    """P20's first invariant for one boundary: a month start in `tz`, or one of `exceptions` (the
    trial's end, the retroactive and catch-up starts)."""
    return is_month_start(boundary, tz) or boundary in exceptions


def stray_boundaries(
    periods: Iterable[Span], tz: str, exceptions: Container[dt.datetime]
) -> list[dt.datetime]:
    """Every start and end of `periods`, in order, that breaks P20's first invariant."""
    return [
        b
        for starts, ends in periods
        for b in (starts, ends)
        if b is not None and not boundary_allowed(b, tz, exceptions)
    ]


def premium_stretches(
    steps: Iterable[tuple[dt.datetime, str, str]], pending_effective_at: dt.datetime | None
) -> list[Span]:
    """The stretches in which premium was in force, from a history's (instant, source, target)
    steps: the last still in force ends where the pending change takes effect (None: open)."""
    stretches: list[Span] = []
    start: dt.datetime | None = None
    for at, source, target in steps:
        if target == PlanState.PREMIUM and source != PlanState.PREMIUM:
            start = at
        elif source == PlanState.PREMIUM and target != PlanState.PREMIUM and start is not None:
            stretches.append((start, at))
            start = None
    if start is not None:
        stretches.append((start, pending_effective_at))
    return stretches


def unbilled_stretch(premium_periods: Sequence[Span], stretches: Iterable[Span]) -> Span | None:
    """The first stretch in premium that no premium billing period overlaps or follows without
    a gap (P20's second invariant), or None."""
    for begins, ends in stretches:
        if not any(
            (ends is None or starts <= ends) and (period_end is None or period_end > begins)
            for starts, period_end in premium_periods
        ):
            return (begins, ends)
    return None
