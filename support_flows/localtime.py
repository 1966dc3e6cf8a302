"""Instants and wall-clock arithmetic in a billing timezone (RULES.md T1-T5, F6).

Arithmetic is done on stdlib datetimes with `fold` set explicitly, because pendulum resolves an
ambiguous wall time to the later instant and the rules want the earlier one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from functools import lru_cache

import pendulum

from support_flows.errors import InvalidInput, Reason, describe, invalid

UTC = dt.UTC
_MICRO = dt.timedelta(microseconds=1)


EXCLUDED_ZONES = frozenset({"localtime", "posixrules", "Factory"})
FIRST_YEAR, LAST_YEAR = 1970, 2999
"""V4: the instants the product holds, given or computed."""
_DATETIME, _PENDULUM_UTC = pendulum.DateTime, pendulum.UTC  # read once: instant() runs often


@lru_cache(maxsize=1)
def _canonical_zones() -> dict[str, str]:
    """Every canonical IANA name, keyed by its case-folded spelling (V5)."""
    names = (
        n
        for n in zoneinfo.available_timezones()
        if n not in EXCLUDED_ZONES and not n.startswith(("posix/", "right/"))
    )
    return {n.casefold(): n for n in names}


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone called `name`; anything else is refused with `unknown_timezone` (T2, V5)."""
    if type(name) is not str or not name:
        raise invalid(
            Reason.UNKNOWN_TIMEZONE, "T2", f"timezone {describe(name)} is not an IANA zone name"
        )
    return _load_zone(name)


@lru_cache(maxsize=1024)
def _load_zone(name: str) -> zoneinfo.ZoneInfo:
    canonical = _canonical_zones().get(name.casefold())
    if canonical == name:
        return zoneinfo.ZoneInfo(name)
    if canonical is not None:
        raise invalid(
            Reason.UNKNOWN_TIMEZONE,
            "V5",
            f"timezone {describe(name)} is not spelt as in the IANA database; use {canonical!r}",
        )
    raise invalid(
        Reason.UNKNOWN_TIMEZONE,
        "V5" if name in EXCLUDED_ZONES or name.startswith(("posix/", "right/")) else "T2",
        f"timezone {describe(name)} is not a canonical IANA zone name",
    )


@lru_cache(maxsize=512)
def _pendulum_zone(name: str) -> pendulum.Timezone | pendulum.FixedTimezone:
    zone(name)
    return pendulum.timezone(name)


_FIELDS = (
    *(vars(dt.date)[name] for name in ("year", "month", "day")),
    *(vars(dt.datetime)[name] for name in ("hour", "minute", "second", "microsecond", "tzinfo")),
)
_FOLD = vars(dt.datetime)["fold"]
"""The datetime type's own field readers: a subclass's overrides of them are never called."""


def _stdlib(moment: object, what: str) -> dt.datetime:
    """`moment` as a plain stdlib datetime; a subclass (pendulum's, a test library's) is read
    through the datetime type's own fields. Anything else is refused (T1)."""
    kind = type(moment)
    if kind is dt.datetime:
        return moment  # type: ignore[return-value]
    if not issubclass(kind, dt.datetime):
        raise invalid(
            Reason.INVALID_VALUE, "T1", f"{what} must be an aware datetime, got {describe(moment)}"
        )
    return dt.datetime(*[field.__get__(moment) for field in _FIELDS], fold=_FOLD.__get__(moment))


def _utc(moment: object, what: str) -> dt.datetime:
    """`moment` as a stdlib UTC datetime: aware (T1), its year within reach of 1970-2999 (V4)."""
    plain = _stdlib(moment, what)
    try:
        offset = plain.utcoffset()
    except Exception:  # a foreign tzinfo may raise anything
        offset = None
    if plain.tzinfo is None or offset is None:
        raise invalid(
            Reason.NAIVE_DATETIME,
            "T1",
            f"{what} {describe(moment)} has no timezone; pass an aware datetime",
        )
    if not FIRST_YEAR - 1 <= plain.year <= LAST_YEAR + 1:
        raise _out_of_range(moment, what)
    return plain.replace(tzinfo=UTC) - offset


def _out_of_range(moment: object, what: str) -> InvalidInput:
    return invalid(
        Reason.INVALID_VALUE,
        "V4",
        f"{what} {describe(moment)} is outside the years {FIRST_YEAR}-{LAST_YEAR}",
    )


def _from_utc(utc: dt.datetime, what: str = "instant") -> pendulum.DateTime:
    if not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise _out_of_range(utc, what)
    return pendulum.DateTime(
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond,
        tzinfo=pendulum.UTC,
    )


def instant(moment: object, what: str = "moment") -> pendulum.DateTime:
    """`moment` as a UTC pendulum instant; a naive one is refused with `naive_datetime` (T1), one
    outside the years 1970-2999 with `invalid_value` (V4).

    Instants are kept in UTC: Python never compares a fold-dependent local time (an ambiguous
    hour) equal to the same instant in another zone (PEP 495), and UTC has no folds.
    """
    if type(moment) is _DATETIME and moment.tzinfo is _PENDULUM_UTC:
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise _out_of_range(moment, what)
        return moment
    return _from_utc(_utc(moment, what), what)


def parse_instant(text: object) -> pendulum.DateTime:
    """An ISO 8601 instant with an offset ("2026-03-01T00:00:00+01:00", or "Z") as a UTC instant;
    naive text is refused with `naive_datetime` (T1), anything else with `invalid_value`."""
    if type(text) is not str or len(text) > 64:
        raise invalid(
            Reason.INVALID_VALUE, "T1", f"an instant must be ISO 8601 text, got {describe(text)}"
        )
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid(
            Reason.INVALID_VALUE, "T1", f"{describe(text)} is not an ISO 8601 instant"
        ) from None
    return instant(parsed, f"instant {describe(text)}")


def in_zone(moment: dt.datetime, tz: str) -> pendulum.DateTime:
    """The same instant, shown in `tz`."""
    return instant(moment).in_timezone(_pendulum_zone(tz))


def _wall(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The naive local wall time of `moment` in `tz`, as a plain stdlib datetime."""
    local = _utc(moment, "moment").astimezone(tz)
    return dt.datetime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
    )


def _resolve_earliest(wall: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The instant of a local wall time: the earlier of two, shifted forward by a gap (T5)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _exists(wall: dt.datetime, utc: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    return utc.astimezone(tz).replace(tzinfo=None, fold=0) == wall


@lru_cache(maxsize=4096)
def _day_starts(day: dt.date, tz_name: str) -> tuple[pendulum.DateTime, ...]:
    """The instants at which local date `day` begins in `tz_name`, earliest first: one, or two
    where the clocks go back across midnight and the day begins again (T3)."""
    tz = zone(tz_name)
    midnight = dt.datetime(day.year, day.month, day.day)
    earlier = midnight.replace(tzinfo=tz, fold=0).astimezone(UTC)
    later = midnight.replace(tzinfo=tz, fold=1).astimezone(UTC)
    existing = sorted({u for u in (earlier, later) if _exists(midnight, u, tz)})
    if existing:
        # A second midnight begins the day again only if the clocks went back across midnight,
        # so that the instant before it shows the day before (not a repeated hour of the 1st).
        again = [u for u in existing[1:] if (u - _MICRO).astimezone(tz).date() < day]
        return tuple(_from_utc(u) for u in (existing[0], *again))
    # Midnight falls in a gap: the day starts at the transition, a whole second between the two.
    low, high = min(earlier, later), max(earlier, later)
    lo_s, hi_s = int(low.timestamp()), int(high.timestamp())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if dt.datetime.fromtimestamp(mid, tz).date() >= day:
            hi_s = mid
        else:
            lo_s = mid + 1
    return (_from_utc(dt.datetime.fromtimestamp(lo_s, UTC)),)


def start_of_local_day(day: dt.date, tz_name: str) -> pendulum.DateTime:
    """The earliest instant whose local date in `tz_name` is `day` (T3's DST gap and overlap)."""
    return _day_starts(day, tz_name)[0]


def next_month_start(moment: dt.datetime, tz: str = "UTC") -> pendulum.DateTime:
    """The earliest instant after `moment` whose local date in `tz` is the 1st of the month after
    `moment`'s local month (T3, T4).

    A moment at exactly local 00:00 on the 1st belongs to that month, so the answer is one month
    later. Where the clocks go back across midnight of the 1st, a moment in the repeated hour of
    the last day gets the second beginning of the 1st, never one already past. The result is in
    UTC; `.in_timezone(tz)` shows it locally.
    """
    return _next_month_start(instant(moment), _zone_name(tz))


def _zone_name(tz: str) -> str:
    """`tz` as the key of a remembered calendar answer; anything but a str is refused by zone()."""
    if type(tz) is not str:
        zone(tz)
    return tz


@lru_cache(maxsize=65_536)
def _next_month_start(at: pendulum.DateTime, tz: str) -> pendulum.DateTime:
    local = _wall(at, zone(tz))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    starts = _day_starts(dt.date(year, month, 1), tz)
    return next((s for s in starts if s > at), starts[-1])


def hours_later(at: dt.datetime, hours: int) -> pendulum.DateTime:
    """The instant `hours` of elapsed time after `at` (a session's end, F4)."""
    return _hours_later(instant(at), hours)


@lru_cache(maxsize=65_536)  # a session's end is checked again on every restore of its order
def _hours_later(at: pendulum.DateTime, hours: int) -> pendulum.DateTime:
    # The stdlib's arithmetic: pendulum's own `add` costs ten times as much.
    return instant(dt.datetime.__add__(at, dt.timedelta(0, hours * 3600)))


def add_wall_days(moment: dt.datetime, days: int, tz: str) -> pendulum.DateTime:
    """The same local wall time `days` calendar days later (or earlier) in `tz` (T5, P15)."""
    return _add_wall_days(instant(moment), days, _zone_name(tz))


@lru_cache(maxsize=65_536)  # a trial's end is checked again on every restore of its plan
def _add_wall_days(at: pendulum.DateTime, days: int, tz: str) -> pendulum.DateTime:
    tz_info = zone(tz)
    local = _wall(at, tz_info)
    wall = local + dt.timedelta(days=days)
    return instant(_resolve_earliest(wall, tz_info))


def add_wall_months_clamped(moment: dt.datetime, months: int, tz: str) -> pendulum.DateTime:
    """The same local wall time `months` later, the day clamped to the month's end (F6)."""
    return _add_wall_months_clamped(instant(moment), months, _zone_name(tz))


@lru_cache(maxsize=65_536)  # an order's expiry is checked again on every restore of the order
def _add_wall_months_clamped(at: pendulum.DateTime, months: int, tz: str) -> pendulum.DateTime:
    tz_info = zone(tz)
    local = _wall(at, tz_info)
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall = local.replace(year=year, month=month, day=day)
    return instant(_resolve_earliest(wall, tz_info))


def is_next_month_start(effective: dt.datetime, moment: dt.datetime, tz: str) -> bool:
    """Whether `effective` is `next_month_start(moment, tz)` (T3), answered from two cached month
    starts when neither month begins twice (the usual case), by computing it otherwise."""
    at, target = instant(moment), instant(effective)
    previous = _previous_month_start(target, tz)
    if previous is None:
        return next_month_start(at, tz) == target
    return previous <= at < target


@lru_cache(maxsize=65_536)
def _previous_month_start(target: pendulum.DateTime, tz: str) -> pendulum.DateTime | None:
    """The start of the month before `target`'s, if `target` is a month start and neither of the
    two months begins twice; None otherwise (the caller computes exactly)."""
    if not _is_month_start(target, tz):
        return None
    local = _wall(target, zone(tz))
    year, month = (local.year - 1, 12) if local.month == 1 else (local.year, local.month - 1)
    this = _day_starts(local.date(), tz)
    before = _day_starts(dt.date(year, month, 1), tz)
    if len(this) > 1 or len(before) > 1:
        return None
    return before[0]


def is_month_start(moment: dt.datetime, tz: str) -> bool:
    """Whether `moment` is the first instant of a month in `tz` (the P20 boundary invariant)."""
    return _is_month_start(instant(moment), tz)


@lru_cache(maxsize=65_536)
def _is_month_start(moment: pendulum.DateTime, tz: str) -> bool:
    local = _wall(moment, zone(tz))
    if local.day != 1:
        return False
    return instant(moment) in _day_starts(local.date(), tz)
