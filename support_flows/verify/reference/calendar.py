"""The references' own calendar: wall-clock arithmetic in a billing timezone, written from RULES.md
T3-T5 and F6 alone, on the standard library (`zoneinfo`, `datetime`).

It shares no code with `support_flows.localtime`, which it checks. It takes any aware datetime
(pendulum's included) and answers with a plain UTC datetime, which compares equal, and hashes
alike, to the library's answer for the same instant.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache, lru_cache

__all__ = [
    "add_wall_days",
    "add_wall_months_clamped",
    "is_month_start",
    "next_month_start",
    "same_wall_time",
]

UTC = dt.UTC
MICROSECOND = dt.timedelta(microseconds=1)
"""The finest step between two instants."""


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def _utc(moment: dt.datetime) -> dt.datetime:
    """`moment` as a plain datetime in UTC; a naive one has no instant (T1)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{moment!r} has no timezone (T1)")
    fields = (moment.hour, moment.minute, moment.second, moment.microsecond)
    return dt.datetime(moment.year, moment.month, moment.day, *fields, tzinfo=UTC) - offset


def _wall(utc: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The local wall time a clock in `zone` shows at instant `utc` (naive)."""
    return utc.astimezone(zone).replace(tzinfo=None, fold=0)


def _instants_showing(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> list[dt.datetime]:
    """Every instant at which a clock in `zone` shows `wall`, earliest first: one; two where the
    clocks go back over it (a repeated hour); none where they jump over it (a DST gap)."""
    found = set()
    for fold in (0, 1):
        utc = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if _wall(utc, zone) == wall:
            found.add(utc)
    return sorted(found)


def same_wall_time(moment: dt.datetime, tz: str) -> list[dt.datetime]:
    """The other instants at which a clock in `tz` shows the wall time it shows at `moment`: the
    other pass of a repeated hour, or none."""
    zone, at = _zone(tz), _utc(moment)
    return [other for other in _instants_showing(_wall(at, zone), zone) if other != at]


def _offsets_across(
    wall: dt.datetime, zone: zoneinfo.ZoneInfo
) -> tuple[dt.timedelta, dt.timedelta]:
    """The UTC offsets in force before and after a gap that skips `wall` (the clocks jumped
    forward, so the offset grew)."""
    offsets = [wall.replace(tzinfo=zone, fold=fold).utcoffset() for fold in (0, 1)]
    known = [o for o in offsets if o is not None]
    return min(known), max(known)


def _resolve(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant of a local wall time by T5's rule: where it occurs twice, the earlier instant;
    where it does not exist, the wall time shifted forward by the gap."""
    shown = _instants_showing(wall, zone)
    if shown:
        return shown[0]
    before, after = _offsets_across(wall, zone)
    shifted = wall + (after - before)  # read at the offset after the gap
    return (shifted - after).replace(tzinfo=UTC)


def _first_instant_from(
    day: dt.date, low: dt.datetime, high: dt.datetime, zone: zoneinfo.ZoneInfo
) -> dt.datetime:
    """The first instant in (`low`, `high`] whose local date is `day` or later, to the
    microsecond: at `low` the clock shows an earlier date, at `high` it shows `day`."""
    while high - low > MICROSECOND:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).date() >= day:
            high = middle
        else:
            low = middle
    return high


@lru_cache(maxsize=4096)
def _day_begins(day: dt.date, tz: str) -> tuple[dt.datetime, ...]:
    """T3: the instants at which the local date `day` may begin in `tz`, earliest first: each
    instant its clocks show 00:00 that day (twice where they go back over midnight); where a DST
    gap skips midnight, the first instant that exists that day."""
    zone = _zone(tz)
    midnight = dt.datetime.combine(day, dt.time())
    shown = _instants_showing(midnight, zone)
    if shown:
        return tuple(shown)
    before, after = _offsets_across(midnight, zone)
    # Read at the offset before the gap, midnight would come at `midnight - before`; at the offset
    # after it, at `midnight - after`: the jump over midnight lies between the two.
    low = (midnight - after).replace(tzinfo=UTC)
    high = (midnight - before).replace(tzinfo=UTC)
    return (_first_instant_from(day, low, high, zone),)


def next_month_start(moment: dt.datetime, tz: str) -> dt.datetime:
    """T3: the earliest instant after `moment` whose local date in `tz` is the 1st of the month
    after `moment`'s local month. T4 follows: at exactly 00:00 on the 1st the local month is the
    1st's own, so the answer is a month later."""
    return _next_month_start(_utc(moment), tz)


@lru_cache(maxsize=65_536)
def _next_month_start(at: dt.datetime, tz: str) -> dt.datetime:
    local = at.astimezone(_zone(tz))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    first = dt.date(year, month, 1)
    # At `at` the local date is still before `first`, so the earliest later instant showing
    # `first` is one where that date begins. One at or before `at` is a 1st the clocks went back
    # from (T3's America/St_Johns example): it begins again at its second midnight.
    later = [begin for begin in _day_begins(first, tz) if begin > at]
    if not later:
        raise ValueError(f"T3 gives no first of the month after {at} in {tz}")
    return later[0]


def is_month_start(moment: dt.datetime, tz: str) -> bool:
    """P20's boundary: whether `moment` is an instant at which a month begins in `tz`, that is its
    local date is a 1st and a microsecond earlier the clock showed an earlier date (T3)."""
    return _is_month_start(_utc(moment), tz)


@lru_cache(maxsize=65_536)
def _is_month_start(at: dt.datetime, tz: str) -> bool:
    zone = _zone(tz)
    today = at.astimezone(zone).date()
    return today.day == 1 and (at - MICROSECOND).astimezone(zone).date() < today


def add_wall_days(moment: dt.datetime, days: int, tz: str) -> dt.datetime:
    """T5: the same local wall time `days` calendar days later in `tz` (earlier when negative: P15's
    90 days back). A wall time that occurs twice takes the earlier instant; one that does not
    exist is shifted forward by the gap. (P15 names no rule of its own for gaps and repeated
    hours; T5's is the one RULES.md gives for wall days.)"""
    return _add_wall_days(_utc(moment), days, tz)


@lru_cache(maxsize=65_536)
def _add_wall_days(at: dt.datetime, days: int, tz: str) -> dt.datetime:
    zone = _zone(tz)
    return _resolve(_wall(at, zone) + dt.timedelta(days=days), zone)


def _days_in_month(year: int, month: int) -> int:
    first = dt.date(year, month, 1)
    following = dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)
    return (following - first).days


def add_wall_months_clamped(moment: dt.datetime, months: int, tz: str) -> dt.datetime:
    """F6: the same local wall time in `tz` `months` later, on the same day of the month clamped
    to that month's last day (Feb 29 plus 12 months is Feb 28). F6 names no rule for gaps and
    repeated hours; T5's is applied."""
    return _add_wall_months_clamped(_utc(moment), months, tz)


@lru_cache(maxsize=65_536)
def _add_wall_months_clamped(at: dt.datetime, months: int, tz: str) -> dt.datetime:
    zone = _zone(tz)
    wall = _wall(at, zone)
    year, month0 = divmod(wall.year * 12 + wall.month - 1 + months, 12)
    day = min(wall.day, _days_in_month(year, month0 + 1))
    return _resolve(wall.replace(year=year, month=month0 + 1, day=day), zone)
