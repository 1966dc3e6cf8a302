"""Counterexamples print what the reference expected beside what happened: the explorers'
agreement checks (plan and order) state both values, printed as dated lines in the billing zone,
instead of raw tuples in the message alone."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

import support_flows.machines.plan_book as plan_book
import support_flows.values.consulting as consulting_values
from support_flows import verify
from support_flows.localtime import instant
from support_flows.verify.consulting_checks import OrderView
from support_flows.verify.consulting_checks import agreement as order_agreement
from support_flows.verify.dated import lines
from support_flows.verify.reference.consulting import RefOrder


def _named(report: verify.Report, rule: str, part: str) -> verify.Finding:
    found = [v for v in report.violations if v.rule == rule and part in v.invariant]
    assert found, [(v.rule, v.invariant) for v in report.violations]
    return found[0]


def test_p9_a_late_pending_change_prints_the_expected_and_the_actual_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P9: with effective dates a day late, the pending-change finding shows the change the rules
    expect and the one the plan holds, each a dated line, a day apart."""
    on_time = plan_book.next_month_start
    monkeypatch.setattr(plan_book, "next_month_start", lambda now, tz: on_time(now, tz).add(days=1))
    finding = _named(verify.run("plan", depth=3), "P9", "pending change")
    assert len(finding.expected) == len(finding.actual) == 1
    assert finding.expected != finding.actual
    zone = finding.counterexample.setup.zone
    assert f"({zone})" in finding.expected[0]
    text = finding.describe()
    assert "expected (the rules):" in text
    assert "happened:" in text


def test_f6_an_unclamped_expiry_prints_the_expected_and_the_actual_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F6: an expiry overflowing past the month's end is shown beside the clamped one the rules
    expect, as dated lines."""

    def unclamped(moment: dt.datetime, months: int, tz: str) -> pendulum.DateTime:
        local = instant(moment).in_tz(tz)
        first = local.set(day=1).add(months=months)
        return instant(first.add(days=local.day - 1))

    monkeypatch.setattr(consulting_values, "add_wall_months_clamped", unclamped)
    finding = _named(verify.run("consulting", depth=1), "F6", "expiry")
    assert finding.expected[0].startswith("2024-02-29")
    assert finding.actual[0].startswith("2024-03-02")


def test_order_sessions_print_one_line_each() -> None:
    """An order's sessions that differ print one dated line each; parts that agree state no
    values."""
    start = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    ref = RefOrder("UTC", 2, 1, None, state="scheduled", available=1, scheduled=1)
    booked = (("s-1", start, 1, 1, "scheduled"),)
    seen = OrderView("scheduled", ref.balance, None, None, booked, ())
    verdicts = {v.invariant: v for v in order_agreement(seen, ref, "F4")}
    sessions = verdicts["agrees with the rules (sessions)"]
    assert not sessions.ok
    assert lines(sessions.actual, "UTC") == ("('s-1', 2026-03-02 10:00 (UTC), 1, 1, 'scheduled')",)
    assert lines(sessions.expected, "UTC") == ("(none)",)
    assert verdicts["agrees with the rules (state)"].ok
    assert verdicts["agrees with the rules (state)"].expected is None
