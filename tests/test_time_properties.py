"""Properties of wall-clock arithmetic for any instant in any IANA zone (T3, T4, T5, F6).

The reference model below uses only the standard library's zoneinfo, never support_flows.
"""

import calendar
import datetime as dt
import functools
import zoneinfo

from hypothesis import example, given
from hypothesis import strategies as st

from support_flows import next_month_start
from support_flows.localtime import add_wall_days, add_wall_months_clamped, is_month_start

UTC = dt.UTC
MICRO = dt.timedelta(microseconds=1)


def _loadable(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return name not in ("localtime", "posixrules", "Factory")


# The "posix/" and "right/" prefixed copies are left out: "posix/X" is the same rules as "X", and
# "right/X" counts leap seconds in its transition times, which Python datetimes cannot represent,
# so nobody can use it as a billing timezone.
ZONES = st.timezone_keys(allow_prefix=False).filter(_loadable)
INSTANTS = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2100, 12, 31, 23, 59, 59, 999999),
    timezones=st.just(UTC),
)


LOW = dt.datetime(1970, 1, 1, tzinfo=UTC)
HIGH = dt.datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def offset_changes(tz: str, year: int) -> tuple[dt.datetime, ...]:
    """The instants in `year` at which `tz` changes its UTC offset (to the second)."""
    z = zoneinfo.ZoneInfo(tz)
    step = dt.timedelta(days=1)  # offsets never change twice within a day in 1970-2100
    found = []
    at = dt.datetime(year, 1, 1, tzinfo=UTC)
    while at.year == year:
        if at.astimezone(z).utcoffset() != (at + step).astimezone(z).utcoffset():
            lo, hi = at, at + step  # the change is in (lo, hi]
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(z).utcoffset() == lo.astimezone(z).utcoffset():
                    lo = mid
                else:
                    hi = mid
            found.append(hi)
        at += step
    return tuple(found)


@st.composite
def instants_near_changes(draw: st.DrawFn, tz: str) -> dt.datetime:
    """An instant close to where `tz` changes offset or starts a local month.

    Sometimes moved back 30 days or some months, so that T5's and F6's targets land on the change.
    """
    year = draw(st.integers(min_value=1970, max_value=2100))
    month_starts = [
        dt.datetime(year, month, 1, tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC)
        for month in range(1, 13)
    ]
    anchor = draw(st.sampled_from(offset_changes(tz, year) + tuple(month_starts)))
    back = draw(st.sampled_from([dt.timedelta(0), dt.timedelta(days=30), dt.timedelta(days=365)]))
    jitter = draw(
        st.one_of(
            st.integers(min_value=-2, max_value=2),
            st.integers(min_value=-3_600_000_000, max_value=3_600_000_000),
            st.integers(min_value=-172_800_000_000, max_value=172_800_000_000),
        )
    )
    return min(max(anchor - back + dt.timedelta(microseconds=jitter), LOW), HIGH)


@st.composite
def cases(draw: st.DrawFn) -> tuple[dt.datetime, str]:
    """A zone, and an instant anywhere in 1970-2100 or close to one of that zone's changes."""
    tz = draw(ZONES)
    if draw(st.booleans()):
        return draw(instants_near_changes(tz)), tz
    return draw(INSTANTS), tz


CASES = cases()


def to_utc(moment: dt.datetime) -> dt.datetime:
    """`moment` as a plain stdlib UTC datetime (so comparisons never hit PEP 495 fold rules)."""
    u = moment.astimezone(UTC)
    return dt.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=UTC
    )


def wall(moment: dt.datetime, tz: str) -> dt.datetime:
    """The naive local wall time of `moment` in `tz`."""
    return to_utc(moment).astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None, fold=0)


def offset(moment: dt.datetime, tz: str) -> dt.timedelta:
    """The UTC offset in force in `tz` at `moment`."""
    result = to_utc(moment).astimezone(zoneinfo.ZoneInfo(tz)).utcoffset()
    assert result is not None
    return result


def instants_showing(target: dt.datetime, tz: str) -> list[dt.datetime]:
    """Every instant whose local wall time in `tz` is `target`, earliest first (brute force).

    The candidates are `target - o` for every offset `o` in force within 30 hours of `target`,
    which covers every offset a zone has ever used around then.
    """
    as_if_utc = target.replace(tzinfo=UTC)
    offsets = {offset(as_if_utc + dt.timedelta(hours=h), tz) for h in range(-30, 31)}
    return sorted({u for o in offsets if wall(u := as_if_utc - o, tz) == target})


def assert_resolves(result: dt.datetime, target: dt.datetime, tz: str) -> bool:
    """`result` is the earliest instant showing `target`; with none, `target` shifted by the gap.

    Returns whether `target` exists as a wall time in `tz`.
    """
    found = instants_showing(target, tz)
    if found:
        assert to_utc(result) == found[0]
        assert wall(result, tz) == target
        return True
    # `target` falls in a gap: it is read with the offset before the gap, which shows it `gap`
    # later than asked, where `gap` is the jump in offset between just before and at `result`.
    shift = wall(result, tz) - target
    assert dt.timedelta(0) < shift <= dt.timedelta(days=1, hours=2)
    assert offset(result, tz) - offset(to_utc(result) - shift, tz) == shift
    return False


def month_after(day: dt.datetime) -> dt.date:
    """The 1st of the month after `day`'s month."""
    if day.month == 12:
        return dt.date(day.year + 1, 1, 1)
    return dt.date(day.year, day.month + 1, 1)


def utc(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=UTC)


@given(case=CASES)
@example(case=(utc(2023, 9, 30, 12), "America/Asuncion"))  # DST gap at midnight on the 1st
@example(case=(utc(2026, 10, 31, 12), "America/Havana"))  # midnight on the 1st occurs twice
@example(case=(utc(2011, 12, 29, 12), "Pacific/Apia"))  # Dec 30 2011 skipped
@example(case=(utc(1994, 12, 30, 12), "Pacific/Kiritimati"))  # Dec 31 1994 skipped
@example(case=(utc(1993, 8, 20, 12), "Pacific/Kwajalein"))  # Aug 21 1993 skipped
@example(case=(utc(2026, 1, 31, 23, 59, 59, 999999), "Pacific/Pago_Pago"))
@example(case=(utc(2009, 11, 1, 2, 45), "America/St_Johns"))  # clocks back across midnight
@example(case=(utc(2009, 11, 1, 3, 45), "America/Goose_Bay"))  # clocks back across midnight
def test_t3_next_month_start_is_the_first_instant_of_the_next_local_month(case):
    """T3: the result's local date is the 1st after t's local month, and the instant before is not.

    Zones that skip whole days (Apia 2011-12-30, Kwajalein 1993-08-21, Kiritimati 1994-12-31)
    never skip a 1st between 1970 and 2100, so T3 always has an answer here and it is tested.
    """
    t, tz = case
    first = month_after(wall(t, tz))
    start = to_utc(next_month_start(t, tz))
    assert wall(start, tz).date() == first
    assert wall(start - MICRO, tz).date() < first
    assert start > t


@given(case=CASES)
@example(case=(utc(2023, 9, 30, 12), "America/Asuncion"))
@example(case=(utc(2026, 10, 31, 12), "America/Havana"))
def test_p20_next_month_start_is_a_month_start(case):
    """P20: every next_month_start is a month start, and one microsecond later is not."""
    t, tz = case
    start = to_utc(next_month_start(t, tz))
    assert is_month_start(start, tz)
    assert not is_month_start(start + MICRO, tz)


@given(case=CASES)
@example(case=(utc(2023, 9, 30, 12), "America/Asuncion"))
@example(case=(utc(2026, 10, 31, 12), "America/Havana"))
def test_t4_a_month_start_belongs_to_its_own_month(case):
    """T4: applied to a month start, next_month_start gives the month after, never itself."""
    t, tz = case
    start = to_utc(next_month_start(t, tz))
    following = to_utc(next_month_start(start, tz))
    assert following > start
    assert wall(following, tz).date() == month_after(wall(start, tz))


@given(case=CASES)
@example(case=(utc(2026, 2, 6, 7, 30), "America/New_York"))  # ends in the spring-forward gap
@example(case=(utc(2026, 10, 2, 5, 30), "America/New_York"))  # ends in the repeated hour
@example(case=(utc(2011, 11, 30, 22), "Pacific/Apia"))  # ends on the skipped Dec 30 2011
def test_t5_thirty_wall_days_later(case):
    """T5: add_wall_days(t, 30) is later than t and shows t's wall time 30 local days later.

    When that wall time does not exist (a gap) the result is shifted forward by the gap, so its
    local date can then be the day after (Apia's skipped Dec 30 2011); that is T5's own exception.
    """
    t, tz = case
    target = wall(t, tz) + dt.timedelta(days=30)
    end = add_wall_days(t, 30, tz)
    assert to_utc(end) > t
    if assert_resolves(end, target, tz):
        assert wall(end, tz).date() == wall(t, tz).date() + dt.timedelta(days=30)


@given(case=CASES, months=st.integers(min_value=1, max_value=36))
@example(case=(utc(2028, 2, 29, 12), "UTC"), months=12)
@example(case=(utc(2026, 1, 31, 12), "UTC"), months=1)
@example(case=(utc(2026, 8, 31, 12), "UTC"), months=1)
def test_f6_months_keep_the_day_or_clamp_to_month_end(case, months):
    """F6: add_wall_months_clamped keeps t's day of month (or the last day) and wall time."""
    t, tz = case
    start = wall(t, tz)
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    target = start.replace(year=year, month=month0 + 1, day=min(start.day, last_day))
    end = add_wall_months_clamped(t, months, tz)
    assert to_utc(end) > t
    if assert_resolves(end, target, tz):
        shown = wall(end, tz)
        assert (shown.year, shown.month) == (year, month0 + 1)
        assert shown.day == start.day or (shown.day == last_day < start.day)
