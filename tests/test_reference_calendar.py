"""The verifier's own calendar (verify.reference.calendar) against RULES.md's edges and against the
library's (localtime), in every IANA zone the library accepts (T3, T4, T5, F6, P15, P20)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support_flows import localtime
from support_flows.errors import InvalidInput
from support_flows.testing import instants
from support_flows.verify.reference import calendar

UTC = dt.UTC
MICRO = dt.timedelta(microseconds=1)


def _accepted(name: str) -> bool:
    try:
        localtime.zone(name)
    except InvalidInput:
        return False
    return True


ZONES = tuple(sorted(z for z in zoneinfo.available_timezones() if _accepted(z)))
"""Every zone of the IANA database the library accepts as a billing timezone (T2, V5)."""


def _utc(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=UTC)


@st.composite
def zoned_instants(draw: st.DrawFn) -> tuple[str, dt.datetime]:
    """A zone, and an instant of one year in it that favours its edges: local month starts, leap
    days and its own offset changes (give or take a microsecond or an hour), or any instant."""
    zone = draw(st.sampled_from(ZONES))
    # Most years hold the database's transitions; later ones run on each zone's standing rule.
    year = draw(st.one_of(st.integers(1971, 2040), st.integers(2041, 2980)))
    return zone, draw(instants((zone,), first_year=year, last_year=year))


@given(zoned_instants(), st.integers(-3, 3), st.integers(1, 120))
def test_reference_calendar_agrees_with_localtime_in_every_zone(
    where: tuple[str, dt.datetime], days: int, months: int
) -> None:
    """T3, T4, T5, F6, P15, P20: the reference's month start, wall days (30, 90 back, a few) and
    clamped wall months, and its month-start test, give the library's answers in any zone."""
    tz, at = where
    month_start = calendar.next_month_start(at, tz)
    assert month_start == localtime.next_month_start(at, tz)
    assert calendar.is_month_start(at, tz) == localtime.is_month_start(at, tz)
    assert calendar.is_month_start(month_start, tz) is localtime.is_month_start(month_start, tz)
    assert calendar.is_month_start(month_start - MICRO, tz) is False
    for n in (30, -90, days):
        assert calendar.add_wall_days(at, n, tz) == localtime.add_wall_days(at, n, tz)
    expiry = calendar.add_wall_months_clamped(at, months, tz)
    assert expiry == localtime.add_wall_months_clamped(at, months, tz)


def test_answers_are_utc_instants_equal_to_the_librarys() -> None:
    """The reference answers in UTC, and equal answers hash alike, so the verifier may compare,
    sort and key on either side's instants."""
    at = localtime.instant(_utc(2026, 3, 14, 10))
    ours, theirs = (
        calendar.next_month_start(at, "Europe/Berlin"),
        localtime.next_month_start(at, "Europe/Berlin"),
    )
    assert ours.utcoffset() == dt.timedelta(0)
    assert ours == theirs
    assert hash(ours) == hash(theirs)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (_utc(2026, 1, 31, 23, 59, 59, 999_999), _utc(2026, 2, 1)),
        (_utc(2026, 2, 1), _utc(2026, 3, 1)),
        (_utc(2026, 12, 31, 12), _utc(2027, 1, 1)),
        (_utc(2028, 2, 29, 12), _utc(2028, 3, 1)),
    ],
)
def test_t3_t4_month_start_in_utc(at: dt.datetime, expected: dt.datetime) -> None:
    """T3: the next 1st at local midnight; T4: exactly 00:00 on the 1st belongs to that month."""
    assert calendar.next_month_start(at, "UTC") == expected
    assert localtime.next_month_start(at, "UTC") == expected
    assert calendar.is_month_start(expected, "UTC")
    assert not calendar.is_month_start(expected + MICRO, "UTC")


def test_t3_dst_gap_on_the_first() -> None:
    """T3: Havana skipped 2012-04-01 00:00 (clocks went to 01:00 -04:00): April begins at the
    first instant that exists that day, 05:00 UTC, and that instant is a month start (P20)."""
    begins = _utc(2012, 4, 1, 5)
    assert calendar.next_month_start(_utc(2012, 3, 15), "America/Havana") == begins
    assert localtime.next_month_start(_utc(2012, 3, 15), "America/Havana") == begins
    assert calendar.is_month_start(begins, "America/Havana")
    assert not calendar.is_month_start(begins - MICRO, "America/Havana")


def test_t3_clocks_back_across_midnight_of_the_first() -> None:
    """T3's example: St John's went back at 00:01 on 2009-11-01 to 23:01 on Oct 31. Late in the
    first pass of Oct 31 the 1st begins at its first midnight; in the repeated hour, at its
    second one, never one already past. Both are month starts."""
    tz = "America/St_Johns"
    first, second = _utc(2009, 11, 1, 2, 30), _utc(2009, 11, 1, 3, 30)
    assert calendar.next_month_start(_utc(2009, 11, 1, 2), tz) == first  # Oct 31 23:30 -02:30
    assert calendar.next_month_start(_utc(2009, 11, 1, 3), tz) == second  # Oct 31 23:30 -03:30
    assert localtime.next_month_start(_utc(2009, 11, 1, 3), tz) == second
    assert calendar.is_month_start(first, tz)
    assert calendar.is_month_start(second, tz)


def test_t3_repeated_first_hour_begins_the_month_once() -> None:
    """T3: Havana went back from 01:00 to 00:00 on 2026-11-01: midnight occurs twice, the month
    begins at the earlier one, and the second pass is inside November (not a month start)."""
    tz = "America/Havana"
    earlier, repeated = _utc(2026, 11, 1, 4), _utc(2026, 11, 1, 5)
    assert calendar.next_month_start(_utc(2026, 10, 20), tz) == earlier
    assert calendar.is_month_start(earlier, tz)
    assert not calendar.is_month_start(repeated, tz)
    assert localtime.is_month_start(repeated, tz) is False


@pytest.mark.parametrize(
    ("tz", "at", "expected"),
    [
        # +14: 2026-03-31 10:00 UTC is 00:00 on April 1 there (T4): May 1 is the next start.
        ("Pacific/Kiritimati", _utc(2026, 3, 31, 10), _utc(2026, 4, 30, 10)),
        ("Pacific/Kiritimati", _utc(2026, 3, 31, 9, 59), _utc(2026, 3, 31, 10)),
        # -11: 2026-03-01 05:00 UTC is still Feb 28 18:00 there.
        ("Pacific/Pago_Pago", _utc(2026, 3, 1, 5), _utc(2026, 3, 1, 11)),
        ("Pacific/Pago_Pago", _utc(2026, 3, 1, 11), _utc(2026, 4, 1, 11)),
    ],
)
def test_t3_t4_zones_far_from_utc(tz: str, at: dt.datetime, expected: dt.datetime) -> None:
    """T3/T4 read the local month, a day away from UTC's in zones at +14 and -11."""
    assert calendar.next_month_start(at, tz) == expected
    assert localtime.next_month_start(at, tz) == expected


def test_t5_trial_days_across_leap_day_gap_and_fold() -> None:
    """T5: 30 wall days later, across Feb 29; into a gap shifted forward by it (Havana 2012-04-01
    00:30 does not exist: 01:30 -04:00); into a repeated hour the earlier pass (Havana
    2026-11-01 00:30 at -04:00)."""
    cases = [
        ("UTC", _utc(2028, 1, 30, 12), _utc(2028, 2, 29, 12)),
        ("America/Havana", _utc(2012, 3, 2, 5, 30), _utc(2012, 4, 1, 5, 30)),
        ("America/Havana", _utc(2026, 10, 2, 4, 30), _utc(2026, 11, 1, 4, 30)),
    ]
    for tz, start, ends in cases:
        assert calendar.add_wall_days(start, 30, tz) == ends
        assert localtime.add_wall_days(start, 30, tz) == ends


def test_p15_ninety_wall_days_back() -> None:
    """P15: 90 calendar days back in the billing timezone keep the local wall time across a DST
    change (Berlin: 2026-06-25 12:00 +02:00 back to 2026-03-27 12:00 +01:00)."""
    now = _utc(2026, 6, 25, 10)
    assert calendar.add_wall_days(now, -90, "Europe/Berlin") == _utc(2026, 3, 27, 11)
    assert localtime.add_wall_days(now, -90, "Europe/Berlin") == _utc(2026, 3, 27, 11)


@pytest.mark.parametrize(
    ("tz", "purchase", "months", "expires"),
    [
        ("UTC", _utc(2028, 2, 29, 10), 12, _utc(2029, 2, 28, 10)),
        ("UTC", _utc(2028, 2, 29, 10), 1, _utc(2028, 3, 29, 10)),
        ("UTC", _utc(2026, 1, 31, 10), 1, _utc(2026, 2, 28, 10)),
        ("UTC", _utc(2028, 1, 31, 10), 1, _utc(2028, 2, 29, 10)),
        ("UTC", _utc(2026, 8, 31, 23, 59), 1, _utc(2026, 9, 30, 23, 59)),
        # Asuncion skipped 2017-10-01 00:00-01:00: 00:30 is shifted forward to 01:30 -03:00.
        ("America/Asuncion", _utc(2017, 9, 1, 4, 30), 1, _utc(2017, 10, 1, 4, 30)),
    ],
)
def test_f6_months_clamped_to_the_month_end(
    tz: str, purchase: dt.datetime, months: int, expires: dt.datetime
) -> None:
    """F6: the same wall time and day of month, clamped to the month's end (29 Feb + 12 months is
    28 Feb, 31 Jan + 1 month is the last of February); a skipped wall time moves past the gap."""
    assert calendar.add_wall_months_clamped(purchase, months, tz) == expires
    assert localtime.add_wall_months_clamped(purchase, months, tz) == expires


def test_any_aware_datetime_is_read_by_its_instant() -> None:
    """T1: an instant given in another zone, or as pendulum's DateTime, gets the same answer; a
    naive datetime has no instant and is refused."""
    berlin = dt.datetime(2026, 3, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    assert calendar.next_month_start(berlin, "UTC") == _utc(2026, 3, 1)
    assert calendar.next_month_start(localtime.instant(berlin), "UTC") == _utc(2026, 3, 1)
    with pytest.raises(ValueError, match="T1"):
        calendar.next_month_start(dt.datetime(2026, 3, 1), "UTC")
