"""V4 at the edges of the years the product holds (`verify.plan_bounds`): a plan's clock read at
the first and last instants of 1970-2999 and a microsecond outside, in UTC and at offsets that
show another year; the unplanted library passes, and a bound moved by a year is found."""

from __future__ import annotations

import datetime as dt

import pytest

import support_flows.localtime as localtime
from support_flows.machines.plan_chart import COMPILED
from support_flows.verify.explore import Tracker
from support_flows.verify.plan_bounds import EDGES, bounds
from support_flows.verify.reference.malformed import FIRST_INSTANT, LAST_INSTANT, outside


def _tracked() -> Tracker:
    tracker = Tracker("plan", COMPILED, ("P", "T"))
    bounds(tracker)
    return tracker


def test_v4_reference_bounds_are_the_utc_years_1970_to_2999() -> None:
    """V4: an instant is outside by its own year in UTC, whatever offset it is read at."""
    plus_one = dt.timezone(dt.timedelta(hours=1))
    minus_five = dt.timezone(dt.timedelta(hours=-5))
    assert not outside(dt.datetime(1969, 12, 31, 19, tzinfo=minus_five))
    assert outside(dt.datetime(1970, 1, 1, 0, 59, 59, 999_999, tzinfo=plus_one))
    assert not outside(dt.datetime(3000, 1, 1, 0, 59, 59, 999_999, tzinfo=plus_one))
    assert outside(dt.datetime(2999, 12, 31, 19, tzinfo=minus_five))
    assert not outside(FIRST_INSTANT)
    assert not outside(LAST_INSTANT)


def test_v4_the_library_answers_the_bounds_as_the_rules_say() -> None:
    """V4: at each edge every call is accepted or refused invalid_value as the reference says,
    and both answers are seen (instants on each side of both bounds)."""
    tracker = _tracked()
    report = tracker.report(1, 0.0)
    assert report.violations == (), [v.describe() for v in report.violations]
    assert "invalid_value" in tracker.reasons
    assert "V4" in tracker.rules
    assert tracker.sequences == len(EDGES) * 4
    assert any(not outside(at) for at, _, _ in EDGES)
    assert any(outside(at) for at, _, _ in EDGES)


@pytest.mark.parametrize(("name", "value"), [("FIRST_YEAR", 1971), ("LAST_YEAR", 2998)])
def test_v4_a_bound_a_year_short_is_found(
    monkeypatch: pytest.MonkeyPatch, name: str, value: int
) -> None:
    """V4: a library holding one year fewer at either end refuses an instant the rules accept:
    found as V4, its counterexample showing what the clock read."""
    monkeypatch.setattr(localtime, name, value)
    report = _tracked().report(1, 0.0)
    found = [v for v in report.violations if v.rule == "V4"]
    assert found, [v.describe() for v in report.violations]
    assert "the clock reads" in found[0].counterexample.setup.options["why"]
