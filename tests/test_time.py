"""Example tests for time (RULES.md T1-T5, F6's wall-month arithmetic) and the clocks (T6)."""

import datetime as dt
import zoneinfo
from typing import Any

import pendulum
import pytest

from support_flows import (
    Clock,
    FrozenClock,
    InvalidInput,
    Organization,
    Reason,
    SystemClock,
    next_month_start,
)
from support_flows.localtime import (
    add_wall_days,
    add_wall_months_clamped,
    in_zone,
    instant,
    is_month_start,
    is_next_month_start,
    start_of_local_day,
    zone,
)

UTC = dt.UTC
MICRO = dt.timedelta(microseconds=1)


def utc(*fields: int) -> dt.datetime:
    """An instant given by its UTC wall fields."""
    return dt.datetime(*fields, tzinfo=UTC)


def local(tz: str, *fields: int, fold: int = 0) -> dt.datetime:
    """An instant given by its local wall fields in `tz`."""
    return dt.datetime(*fields, tzinfo=zoneinfo.ZoneInfo(tz), fold=fold)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC.

    Instants are compared in UTC on purpose: PEP 495 makes `==` between two zones False whenever
    one side sits in a repeated (ambiguous) hour, even for the same instant.
    """
    return moment.astimezone(UTC)


def wall(moment: dt.datetime, tz: str) -> dt.datetime:
    """The naive local wall time of `moment` in `tz`."""
    return moment.astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None)


NAIVE = dt.datetime(2026, 3, 14, 10, 0)


# T1: every instant is aware


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: next_month_start(NAIVE), id="next_month_start"),
        pytest.param(lambda: next_month_start(NAIVE, "Europe/Berlin"), id="next_month_start-tz"),
        pytest.param(lambda: add_wall_days(NAIVE, 30, "UTC"), id="add_wall_days"),
        pytest.param(lambda: add_wall_months_clamped(NAIVE, 12, "UTC"), id="add_wall_months"),
        pytest.param(lambda: is_month_start(NAIVE, "UTC"), id="is_month_start"),
        pytest.param(lambda: in_zone(NAIVE, "UTC"), id="in_zone"),
        pytest.param(lambda: FrozenClock(NAIVE), id="FrozenClock"),
        pytest.param(lambda: FrozenClock(utc(2026, 1, 1)).set(NAIVE), id="FrozenClock.set"),
    ],
)
def test_t1_naive_datetime_is_refused(call):
    """T1: every entry point taking an instant refuses a naive datetime with naive_datetime."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code == Reason.NAIVE_DATETIME == "naive_datetime"
    assert caught.value.rule == "T1"
    assert NAIVE.isoformat() in caught.value.message


def test_t1_naive_refusal_is_a_value_error():
    """T1: a naive datetime is malformed input, so hosts can catch it as ValueError."""
    with pytest.raises(ValueError, match="naive_datetime"):
        next_month_start(NAIVE)


def test_t1_tzinfo_without_offset_counts_as_naive():
    """T1: a tzinfo whose utcoffset() is None does not make a datetime aware."""

    class NoOffset(dt.tzinfo):
        def utcoffset(self, moment):
            return None

    with pytest.raises(InvalidInput) as caught:
        next_month_start(dt.datetime(2026, 3, 14, tzinfo=NoOffset()))
    assert caught.value.code == "naive_datetime"


def test_t1_a_date_is_not_an_instant():
    """T1: a plain date is refused as malformed input, not silently taken as midnight."""
    with pytest.raises(InvalidInput):
        next_month_start(dt.date(2026, 3, 14))


def test_t1_any_aware_datetime_is_the_same_instant():
    """T1: fixed offsets, ZoneInfo and pendulum inputs naming one instant give one UTC instant."""
    expected = utc(2026, 3, 14, 4, 30)
    inputs = [
        dt.datetime(2026, 3, 14, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        local("Asia/Kolkata", 2026, 3, 14, 10, 0),
        pendulum.datetime(2026, 3, 14, 10, 0, tz="Asia/Kolkata"),
        expected,
    ]
    for moment in inputs:
        result = instant(moment)
        assert isinstance(result, pendulum.DateTime)
        assert as_utc(result) == expected


# T2: billing timezone


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe/Berln", "", "UTC+1", None, 5])
def test_t2_unknown_timezone_is_refused(name):
    """T2: a name that is not an IANA zone is refused with unknown_timezone."""
    with pytest.raises(InvalidInput) as caught:
        zone(name)
    assert caught.value.code == Reason.UNKNOWN_TIMEZONE == "unknown_timezone"
    assert caught.value.rule == "T2"
    assert repr(name) in caught.value.message


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: next_month_start(utc(2026, 1, 1), "Mars/Olympus_Mons"), id="nms"),
        pytest.param(lambda: add_wall_days(utc(2026, 1, 1), 30, "Mars/Olympus_Mons"), id="days"),
        pytest.param(
            lambda: add_wall_months_clamped(utc(2026, 1, 1), 1, "Mars/Olympus_Mons"), id="months"
        ),
        pytest.param(lambda: is_month_start(utc(2026, 1, 1), "Mars/Olympus_Mons"), id="is_start"),
        pytest.param(lambda: Organization("org-1", billing_timezone="Mars/Olympus_Mons"), id="org"),
    ],
)
def test_t2_every_entry_point_refuses_an_unknown_timezone(call):
    """T2: functions and Organization taking a billing timezone refuse an unknown name."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code == "unknown_timezone"


def test_t2_organization_billing_timezone_defaults_to_utc():
    """T2: an organization without a billing timezone bills in UTC."""
    assert Organization("org-1").billing_timezone == "UTC"


def test_t2_next_month_start_defaults_to_utc():
    """T2: next_month_start without a timezone uses UTC."""
    assert as_utc(next_month_start(utc(2026, 1, 31, 23))) == utc(2026, 2, 1)


def test_t2_unhashable_timezone_is_refused_as_unknown_timezone():
    """T2: a timezone given as a list is malformed input (unknown_timezone), not a TypeError."""
    with pytest.raises(InvalidInput) as caught:
        Organization("org-1", billing_timezone=["UTC"])
    assert caught.value.code == "unknown_timezone"


# T3 / T4: first day of the next month


def test_t3_last_microsecond_of_a_month_moves_to_the_next_month():
    """T3: 23:59:59.999999 on the last day of a month gives the 1st of the next month."""
    assert as_utc(next_month_start(utc(2026, 1, 31, 23, 59, 59, 999999))) == utc(2026, 2, 1)


def test_t3_last_microsecond_of_a_local_month():
    """T3: the last local microsecond of March in Berlin gives local April 1st 00:00 (CEST)."""
    result = next_month_start(
        local("Europe/Berlin", 2026, 3, 31, 23, 59, 59, 999999), "Europe/Berlin"
    )
    assert as_utc(result) == utc(2026, 3, 31, 22)


def test_t4_exactly_midnight_on_the_first_belongs_to_that_month():
    """T4: a request at exactly 00:00:00 on the 1st starts the following month, one month later."""
    assert as_utc(next_month_start(utc(2026, 3, 1))) == utc(2026, 4, 1)


def test_t4_exactly_local_midnight_on_the_first_in_a_billing_timezone():
    """T4: local 00:00 on March 1st in Berlin gives local April 1st 00:00, not March 1st."""
    result = next_month_start(local("Europe/Berlin", 2026, 3, 1), "Europe/Berlin")
    assert as_utc(result) == utc(2026, 3, 31, 22)


def test_t4_one_microsecond_after_midnight_still_gives_next_month():
    """T4: 00:00:00.000001 on the 1st gives the same answer as 00:00 itself."""
    assert as_utc(next_month_start(utc(2026, 3, 1, 0, 0, 0, 1))) == utc(2026, 4, 1)


def test_t3_year_end_rolls_into_january():
    """T3: any instant in December gives January 1st of the next year."""
    assert as_utc(next_month_start(utc(2026, 12, 31, 23, 59, 59, 999999))) == utc(2027, 1, 1)
    assert as_utc(next_month_start(utc(2026, 12, 1))) == utc(2027, 1, 1)


def test_t3_year_end_in_a_zone_ahead_of_utc():
    """T3: local Dec 31 23:00 in Tokyo gives local Jan 1st 00:00 (Dec 31 15:00 UTC)."""
    result = next_month_start(local("Asia/Tokyo", 2026, 12, 31, 23), "Asia/Tokyo")
    assert as_utc(result) == utc(2026, 12, 31, 15)


def test_t3_leap_day_gives_march_first():
    """T3: Feb 29 in a leap year gives March 1st, in UTC and in New York."""
    assert as_utc(next_month_start(utc(2028, 2, 29, 12))) == utc(2028, 3, 1)
    result = next_month_start(local("America/New_York", 2024, 2, 29, 23, 30), "America/New_York")
    assert as_utc(result) == utc(2024, 3, 1, 5)


def test_t3_kiritimati_local_month_is_ahead_of_utc():
    """T3: Jan 31 12:00 UTC is Feb 1st in Kiritimati (+14), so the answer is local March 1st."""
    result = next_month_start(utc(2026, 1, 31, 12), "Pacific/Kiritimati")
    assert as_utc(result) == utc(2026, 2, 28, 10)
    assert wall(result, "Pacific/Kiritimati") == dt.datetime(2026, 3, 1)


def test_t3_auckland_in_summer_time():
    """T3: Jan 31 12:00 UTC is Feb 1st in Auckland (+13), so the answer is local March 1st."""
    result = next_month_start(utc(2026, 1, 31, 12), "Pacific/Auckland")
    assert as_utc(result) == utc(2026, 2, 28, 11)


def test_t3_auckland_in_standard_time():
    """T3: Jun 30 13:00 UTC is Jul 1st in Auckland (+12), so the answer is local Aug 1st."""
    result = next_month_start(utc(2026, 6, 30, 13), "Pacific/Auckland")
    assert as_utc(result) == utc(2026, 7, 31, 12)


def test_t3_pago_pago_local_month_is_behind_utc():
    """T3: Feb 1st 05:00 UTC is still Jan 31 in Pago Pago (-11): the answer is local Feb 1st."""
    result = next_month_start(utc(2026, 2, 1, 5), "Pacific/Pago_Pago")
    assert as_utc(result) == utc(2026, 2, 1, 11)
    assert wall(result, "Pacific/Pago_Pago") == dt.datetime(2026, 2, 1)


def test_t3_dst_gap_at_midnight_gives_first_existing_instant():
    """T3: Asuncion skips 00:00-01:00 on 2023-10-01; the month starts at 01:00 local, 04:00 UTC."""
    result = next_month_start(utc(2023, 9, 15, 12), "America/Asuncion")
    assert as_utc(result) == utc(2023, 10, 1, 4)
    assert wall(result, "America/Asuncion") == dt.datetime(2023, 10, 1, 1)
    assert wall(result - MICRO, "America/Asuncion").date() == dt.date(2023, 9, 30)


def test_t3_ambiguous_midnight_gives_the_earlier_instant():
    """T3: Havana repeats 00:00-01:00 on 2026-11-01; the month starts at the first 00:00, 04:00Z."""
    result = next_month_start(utc(2026, 10, 15, 12), "America/Havana")
    assert as_utc(result) == utc(2026, 11, 1, 4)
    havana = zoneinfo.ZoneInfo("America/Havana")
    assert result.astimezone(havana).utcoffset() == dt.timedelta(hours=-4)  # the summer midnight
    assert wall(result - MICRO, "America/Havana").date() == dt.date(2026, 10, 31)


def test_t3_a_skipped_day_before_the_first_does_not_matter():
    """T3: Apia skipped 2011-12-30; from Dec 29 the answer is local Jan 1st 00:00 (+14)."""
    result = next_month_start(local("Pacific/Apia", 2011, 12, 29, 12), "Pacific/Apia")
    assert as_utc(result) == utc(2011, 12, 31, 10)


def test_t3_a_skipped_last_day_of_the_month():
    """T3: Kiritimati skipped 1994-12-31 entirely; from Dec 30 the answer is local Jan 1st 00:00."""
    result = next_month_start(local("Pacific/Kiritimati", 1994, 12, 30, 12), "Pacific/Kiritimati")
    assert as_utc(result) == utc(1994, 12, 31, 10)
    assert wall(result - MICRO, "Pacific/Kiritimati") == dt.datetime(
        1994, 12, 30, 23, 59, 59, 999999
    )


def test_t3_clocks_set_back_across_midnight_never_name_a_past_instant():
    """T3: St John's set clocks back from Nov 1st 00:01 to Oct 31 23:01 (2009): the second Nov 1st.

    02:45 UTC is local Oct 31 23:15 (the second pass through that hour), so its local month is
    October. The first pass of Nov 1st 00:00 NDT (02:30 UTC) is already past; T3 takes the earliest
    instant *after* the request whose local date is Nov 1st: 00:00 NST = 03:30 UTC.
    """
    result = next_month_start(utc(2009, 11, 1, 2, 45), "America/St_Johns")
    assert as_utc(result) == utc(2009, 11, 1, 3, 30)
    assert is_month_start(result, "America/St_Johns")
    before = next_month_start(utc(2009, 11, 1, 2, 0), "America/St_Johns")
    assert as_utc(before) == utc(2009, 11, 1, 2, 30)


def test_t3_result_is_a_pendulum_instant_at_local_midnight():
    """T3: next_month_start returns a pendulum DateTime that shows 00:00 on the 1st locally."""
    result = next_month_start(utc(2026, 3, 14, 10), "Europe/Berlin")
    assert isinstance(result, pendulum.DateTime)
    shown = result.in_timezone("Europe/Berlin")
    assert (shown.year, shown.month, shown.day, shown.hour, shown.minute) == (2026, 4, 1, 0, 0)


def test_t3_result_equals_the_same_instant_in_utc():
    """T3: the returned instant == the same instant in UTC, even on an ambiguous midnight.

    PEP 495 makes a local time in a repeated hour unequal (==) to the same instant in any other
    zone, so an instant shown in the billing zone would break `==` for hosts.
    """
    result = next_month_start(utc(2026, 10, 15, 12), "America/Havana")
    assert result == pendulum.datetime(2026, 11, 1, 4, tz="UTC")


def test_t5_result_equals_the_same_instant_in_utc():
    """T5: add_wall_days' result == the same instant in UTC, even in a repeated hour."""
    result = add_wall_days(local("America/New_York", 2026, 10, 2, 1, 30), 30, "America/New_York")
    assert result == pendulum.datetime(2026, 11, 1, 5, 30, tz="UTC")


# is_month_start and start_of_local_day (the P20 boundary invariant)


def test_is_month_start_only_at_the_first_instant():
    """P20: only the first instant of the 1st counts as a month start."""
    assert is_month_start(utc(2026, 3, 1), "UTC")
    assert not is_month_start(utc(2026, 3, 1) + MICRO, "UTC")
    assert not is_month_start(utc(2026, 3, 1) - MICRO, "UTC")
    assert not is_month_start(utc(2026, 3, 2), "UTC")


def test_is_month_start_is_judged_in_the_given_timezone():
    """P20: midnight UTC on the 1st is not a month start in Berlin; local midnight is."""
    assert not is_month_start(utc(2026, 3, 1), "Europe/Berlin")
    assert is_month_start(utc(2026, 2, 28, 23), "Europe/Berlin")


def test_is_month_start_in_a_dst_gap_and_an_ambiguous_midnight():
    """P20: month starts follow T3 in a gap (Asuncion) and on a repeated midnight (Havana)."""
    assert is_month_start(utc(2023, 10, 1, 4), "America/Asuncion")
    assert not is_month_start(utc(2023, 10, 1, 3), "America/Asuncion")
    assert is_month_start(utc(2026, 11, 1, 4), "America/Havana")
    assert not is_month_start(utc(2026, 11, 1, 5), "America/Havana")  # the second 00:00


def test_start_of_local_day_in_a_gap_an_overlap_and_a_plain_day():
    """T3: a local day starts at its first existing instant, the earlier one if midnight repeats."""
    assert as_utc(start_of_local_day(dt.date(2026, 3, 14), "UTC")) == utc(2026, 3, 14)
    assert as_utc(start_of_local_day(dt.date(2023, 10, 1), "America/Asuncion")) == utc(
        2023, 10, 1, 4
    )
    assert as_utc(start_of_local_day(dt.date(2026, 11, 1), "America/Havana")) == utc(2026, 11, 1, 4)


# T5: trial length in wall days


def test_t5_thirty_days_keeps_the_wall_time():
    """T5: 30 days after 10:00 UTC on Mar 14 is 10:00 UTC on Apr 13."""
    result = add_wall_days(utc(2026, 3, 14, 10), 30, "UTC")
    assert as_utc(result) == utc(2026, 4, 13, 10)
    assert isinstance(result, pendulum.DateTime)


@pytest.mark.parametrize(
    ("tz", "start", "end_wall", "end_utc"),
    [
        pytest.param(
            "Europe/Berlin",
            (2026, 3, 14, 10),
            (2026, 4, 13, 10),
            (2026, 4, 13, 8),
            id="berlin-spring",
        ),
        pytest.param(
            "Europe/Berlin",
            (2026, 10, 10, 10),
            (2026, 11, 9, 10),
            (2026, 11, 9, 9),
            id="berlin-fall",
        ),
        pytest.param(
            "America/New_York",
            (2026, 2, 20, 9),
            (2026, 3, 22, 9),
            (2026, 3, 22, 13),
            id="ny-spring",
        ),
        pytest.param(
            "America/New_York",
            (2026, 10, 15, 9),
            (2026, 11, 14, 9),
            (2026, 11, 14, 14),
            id="ny-fall",
        ),
    ],
)
def test_t5_crossing_a_dst_change_keeps_the_local_wall_time(tz, start, end_wall, end_utc):
    """T5: across a DST change the trial ends at the same local wall time, not after 720 hours."""
    result = add_wall_days(local(tz, *start), 30, tz)
    assert wall(result, tz) == dt.datetime(*end_wall)
    assert as_utc(result) == utc(*end_utc)


@pytest.mark.parametrize(
    ("tz", "start", "end_utc", "end_wall"),
    [
        pytest.param(
            "America/New_York",
            (2026, 2, 6, 2, 30),
            (2026, 3, 8, 7, 30),
            (2026, 3, 8, 3, 30),
            id="ny-02:30-missing",
        ),
        pytest.param(
            "Europe/Berlin",
            (2026, 2, 27, 2, 30),
            (2026, 3, 29, 1, 30),
            (2026, 3, 29, 3, 30),
            id="berlin-02:30-missing",
        ),
    ],
)
def test_t5_wall_time_in_a_gap_is_shifted_forward_by_the_gap(tz, start, end_utc, end_wall):
    """T5: a trial ending at 02:30 on a spring-forward day ends at 03:30 (shifted by the hour)."""
    result = add_wall_days(local(tz, *start), 30, tz)
    assert as_utc(result) == utc(*end_utc)
    assert wall(result, tz) == dt.datetime(*end_wall)


@pytest.mark.parametrize(
    ("tz", "start", "end_utc"),
    [
        pytest.param(
            "America/New_York", (2026, 10, 2, 1, 30), (2026, 11, 1, 5, 30), id="ny-01:30-twice"
        ),
        pytest.param(
            "Europe/Berlin", (2026, 9, 25, 2, 30), (2026, 10, 25, 0, 30), id="berlin-02:30-twice"
        ),
    ],
)
def test_t5_wall_time_that_occurs_twice_takes_the_earlier_instant(tz, start, end_utc):
    """T5: a trial ending at a wall time that repeats ends at its first occurrence (summer time)."""
    result = add_wall_days(local(tz, *start), 30, tz)
    assert as_utc(result) == utc(*end_utc)


def test_t5_start_in_the_second_pass_of_a_repeated_hour_keeps_the_wall_time():
    """T5: a trial started at the later 01:30 of a fall-back night ends at 01:30 30 days later."""
    start = local("America/New_York", 2026, 11, 1, 1, 30, fold=1)
    assert as_utc(start) == utc(2026, 11, 1, 6, 30)
    result = add_wall_days(start, 30, "America/New_York")
    assert as_utc(result) == utc(2026, 12, 1, 6, 30)


def test_t5_wall_time_on_a_skipped_day_is_shifted_by_the_whole_day():
    """T5: Apia skipped 2011-12-30; a trial ending Dec 30 12:00 local ends Dec 31 12:00 local."""
    result = add_wall_days(local("Pacific/Apia", 2011, 11, 30, 12), 30, "Pacific/Apia")
    assert wall(result, "Pacific/Apia") == dt.datetime(2011, 12, 31, 12)
    assert as_utc(result) == utc(2011, 12, 30, 22)


def test_t5_negative_days_count_back_in_wall_days():
    """P15: add_wall_days also counts back (90 days back across Berlin's spring change)."""
    result = add_wall_days(local("Europe/Berlin", 2026, 6, 1, 12), -90, "Europe/Berlin")
    assert wall(result, "Europe/Berlin") == dt.datetime(2026, 3, 3, 12)
    assert as_utc(result) == utc(2026, 3, 3, 11)


# F6: validity months, clamped to the month's end


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        pytest.param((2028, 2, 29, 9, 15), 12, (2029, 2, 28, 9, 15), id="feb29+12"),
        pytest.param((2026, 1, 31, 9, 15), 1, (2026, 2, 28, 9, 15), id="jan31+1"),
        pytest.param((2028, 1, 31, 9, 15), 1, (2028, 2, 29, 9, 15), id="jan31+1-leap"),
        pytest.param((2026, 8, 31, 9, 15), 1, (2026, 9, 30, 9, 15), id="aug31+1"),
        pytest.param((2026, 3, 15, 9, 15), 12, (2027, 3, 15, 9, 15), id="mid-month+12"),
        pytest.param((2026, 12, 31, 9, 15), 2, (2027, 2, 28, 9, 15), id="dec31+2"),
        pytest.param((2026, 2, 28, 9, 15), 1, (2026, 3, 28, 9, 15), id="no-growth-to-month-end"),
    ],
)
def test_f6_months_keep_the_day_or_clamp_to_month_end(start, months, end):
    """F6: validity ends on the same day of month at the same wall time, clamped to month end."""
    result = add_wall_months_clamped(utc(*start), months, "UTC")
    assert as_utc(result) == utc(*end)
    assert isinstance(result, pendulum.DateTime)


def test_f6_clamping_uses_the_local_date():
    """F6: Jan 31 08:00 in Tokyo (Jan 30 in UTC) plus one month is Feb 28 08:00 Tokyo."""
    result = add_wall_months_clamped(local("Asia/Tokyo", 2026, 1, 31, 8), 1, "Asia/Tokyo")
    assert wall(result, "Asia/Tokyo") == dt.datetime(2026, 2, 28, 8)
    assert as_utc(result) == utc(2026, 2, 27, 23)


def test_f6_months_across_dst_keep_the_wall_time():
    """F6: 6 months from a January noon in Berlin is a July noon in Berlin (CEST)."""
    result = add_wall_months_clamped(local("Europe/Berlin", 2026, 1, 15, 12), 6, "Europe/Berlin")
    assert as_utc(result) == utc(2026, 7, 15, 10)


# Clocks (T6)


def test_t6_frozen_clock_returns_its_start_as_pendulum_utc():
    """T6: a FrozenClock's now() is its start instant, as an aware pendulum DateTime."""
    clock = FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    now = clock.now()
    assert isinstance(now, pendulum.DateTime)
    assert now.utcoffset() == dt.timedelta(0)
    assert now == utc(2026, 3, 14, 10)
    assert clock.now() == now  # frozen: reading does not move it


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(local("Europe/Berlin", 2026, 3, 14, 11), id="zoneinfo"),
        pytest.param(
            dt.datetime(2026, 3, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))), id="fixed"
        ),
        pytest.param(pendulum.datetime(2026, 3, 14, 19, tz="Asia/Tokyo"), id="pendulum"),
    ],
)
def test_t6_frozen_clock_accepts_any_aware_datetime(start):
    """T6: FrozenClock takes any aware datetime and reports the same instant."""
    now = FrozenClock(start).now()
    assert isinstance(now, pendulum.DateTime)
    assert now == utc(2026, 3, 14, 10)


def test_t6_frozen_clock_advance_moves_forward_by_a_duration():
    """T6: advance(days=30, hours=1) moves now forward and returns the new now."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    returned = clock.advance(days=30, hours=1)
    assert returned == clock.now() == utc(2026, 4, 13, 11)
    assert isinstance(returned, pendulum.DateTime)


def test_t6_frozen_clock_advance_by_zero_is_allowed():
    """T6: advancing by nothing keeps the clock where it is."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    assert clock.advance(seconds=0) == utc(2026, 3, 14, 10)


def test_t6_frozen_clock_set_moves_to_an_instant():
    """T6: set(at) moves the clock to `at` (any aware datetime) and returns the new now."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    returned = clock.set(local("Asia/Tokyo", 2026, 3, 15, 9))
    assert returned == clock.now() == utc(2026, 3, 15, 0)
    assert isinstance(clock.now(), pendulum.DateTime)


def test_t6_frozen_clock_set_to_now_is_allowed():
    """T6: setting the clock to the instant it already shows is not going back."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    assert clock.set(utc(2026, 3, 14, 10)) == utc(2026, 3, 14, 10)


def test_t6_frozen_clock_set_never_goes_back():
    """T6: set() to an earlier instant is refused with invalid_value naming both instants."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    with pytest.raises(InvalidInput) as caught:
        clock.set(utc(2026, 3, 13, 9, 30))
    assert caught.value.code == Reason.INVALID_VALUE
    assert "2026-03-14T10:00:00" in caught.value.message
    assert "2026-03-13T09:30:00" in caught.value.message
    assert clock.now() == utc(2026, 3, 14, 10)


def test_t6_frozen_clock_set_back_by_a_microsecond_is_refused():
    """T6: even one microsecond back is refused."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    with pytest.raises(InvalidInput, match="invalid_value"):
        clock.set(utc(2026, 3, 14, 10) - MICRO)


def test_t6_frozen_clock_advance_never_goes_back():
    """T6: advance() by a negative duration is refused with invalid_value and changes nothing."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    with pytest.raises(InvalidInput) as caught:
        clock.advance(hours=-1)
    assert caught.value.code == "invalid_value"
    assert "2026-03-14T10:00:00" in caught.value.message
    assert "2026-03-14T09:00:00" in caught.value.message
    assert clock.now() == utc(2026, 3, 14, 10)


def test_t6_frozen_clock_advance_refuses_an_unknown_unit():
    """T6: advance() with a keyword pendulum does not know is refused with invalid_value."""
    clock = FrozenClock(utc(2026, 3, 14, 10))
    with pytest.raises(InvalidInput) as caught:
        clock.advance(fortnights=1)
    assert caught.value.code == "invalid_value"
    assert clock.now() == utc(2026, 3, 14, 10)


def test_t6_system_clock_returns_aware_utc_now():
    """T6: SystemClock.now() is the real current instant, as an aware pendulum DateTime in UTC;
    micros() is real time as whole microseconds since 1970."""
    before = dt.datetime.now(UTC)
    now = SystemClock().now()
    after = dt.datetime.now(UTC)
    assert isinstance(now, pendulum.DateTime)
    assert now.tzinfo is pendulum.UTC
    assert before <= now <= after
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    micros = SystemClock().micros()
    assert (after - epoch) // dt.timedelta(microseconds=1) <= micros
    assert micros <= (dt.datetime.now(UTC) - epoch) // dt.timedelta(microseconds=1)


def test_t6_both_clocks_satisfy_the_clock_protocol():
    """T6: SystemClock and FrozenClock are Clocks (anything with now())."""
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FrozenClock(utc(2026, 1, 1)), Clock)


@pytest.mark.parametrize(
    ("tz", "moment"),
    [
        ("UTC", utc(2026, 3, 14, 10)),
        ("Europe/Berlin", utc(2026, 3, 31, 22, 30)),
        ("America/St_Johns", utc(2009, 11, 1, 2, 45)),
        ("America/St_Johns", utc(2009, 11, 1, 2, 0)),
        ("America/St_Johns", utc(2009, 10, 15)),
        ("America/St_Johns", utc(2009, 11, 15)),
        ("America/Asuncion", utc(2023, 9, 30, 12)),
        ("Pacific/Kiritimati", utc(2026, 3, 31, 12)),
    ],
)
def test_t3_is_next_month_start_agrees_with_next_month_start(tz: str, moment: Any) -> None:
    """T3: the quick check answers exactly as computing the next month's start does, also where
    a month begins twice (St John's, 2009)."""
    start = next_month_start(moment, tz)
    assert is_next_month_start(start, moment, tz)
    assert not is_next_month_start(start.add(hours=1), moment, tz)
    assert not is_next_month_start(next_month_start(start, tz), moment, tz)
