"""The verifier can fail: each test plants one bug in the library for its duration (patching what
the library calls at run time, never the verifier) and asserts that `verify.run` reports it with
a counterexample naming the rule it breaks."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import pytest

import support_flows.guards.case as case_guards
import support_flows.machines.plan_billing as billing
import support_flows.machines.plan_book as plan_book
from support_flows import verify
from support_flows.machines.consulting_book import OrderBook
from support_flows.values import PlanState, Tier
from support_flows.values.plan import BillingPeriod


def _found(report: verify.Report, rule: str) -> verify.Finding:
    """The violation of `rule`, checked to carry a replayable, JSON-safe counterexample."""
    named = [v for v in report.violations if v.rule == rule]
    assert named, f"no {rule} violation among {[(v.rule, v.invariant) for v in report.violations]}"
    finding = named[0]
    steps = finding.counterexample.steps
    assert steps, "a counterexample has at least one step"
    assert all(step.at and step.call for step in steps)
    data = finding.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["counterexample"]["zone"]
    assert finding.message
    return finding


def _body(check: Callable[..., Any]) -> Any:
    """The function a registered check wraps (what the chart's edges call)."""
    return inspect.getclosurevars(check).nonlocals["body"]


def _never_refuses(facts: Any) -> None:
    return None


def test_a_guard_letting_non_owners_open_organization_cases_breaks_c3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """C3: with org_owner_required never refusing, a non-owner's organization case is found."""
    monkeypatch.setattr(_body(case_guards.org_owner_required), "__code__", _never_refuses.__code__)
    report = verify.run("case", depth=1)
    finding = _found(report, "C3")
    assert finding.counterexample.steps[0].args["scope"] == "organization"
    assert "ORG_OWNER" not in finding.counterexample.setup.options["member"]["org_roles"]


def test_an_effective_date_one_day_late_breaks_p9(monkeypatch: pytest.MonkeyPatch) -> None:
    """P9/T3: a pending change taking effect a day after the 1st is found, with its request."""
    on_time = plan_book.next_month_start
    monkeypatch.setattr(plan_book, "next_month_start", lambda now, tz: on_time(now, tz).add(days=1))
    report = verify.run("plan", depth=3)
    finding = _found(report, "P9")
    assert "pending change" in finding.invariant
    assert any(s.call in ("change", "cancel") for s in finding.counterexample.steps)
    assert _found(report, "P20")  # the billing boundary is no longer a month start


def test_a_trial_of_31_days_breaks_t5(monkeypatch: pytest.MonkeyPatch) -> None:
    """T5: a trial one day too long is found by subscribing to developer."""
    wall = plan_book.add_wall_days
    monkeypatch.setattr(
        plan_book, "add_wall_days", lambda at, days, tz: wall(at, days + (days == 30), tz)
    )
    report = verify.run("plan", depth=1)
    finding = _found(report, "T5")
    assert finding.counterexample.steps[0].args["tier"] == "developer"


def test_a_retroactive_cap_of_91_days_breaks_p15(monkeypatch: pytest.MonkeyPatch) -> None:
    """P15: reactivating just after 90 days and billing from further back is found."""
    wall = plan_book.add_wall_days
    monkeypatch.setattr(
        plan_book, "add_wall_days", lambda at, days, tz: wall(at, days - (days == -90), tz)
    )
    report = verify.run("plan", depth=4)
    finding = _found(report, "P15")
    steps = finding.counterexample.steps
    assert len(steps) == 4
    assert "90 days after the plan ended" in " ".join(s.note for s in steps)


def test_a_confirm_that_sends_two_emails_breaks_f3(monkeypatch: pytest.MonkeyPatch) -> None:
    """F3: confirming a console order that queues two emails is found."""
    once = OrderBook.send_confirmation

    def twice(self: OrderBook, facts: Any) -> None:
        once(self, facts)
        if self.terms.channel == "console":
            once(self, facts)

    monkeypatch.setattr(OrderBook, "send_confirmation", twice)
    report = verify.run("consulting", depth=2)
    finding = _found(report, "F3")
    assert [s.call for s in finding.counterexample.steps] == ["start_checkout", "confirm"]


def _no_catch_up(
    periods: tuple[BillingPeriod, ...], pending: Any, tier: Tier, since: Any
) -> tuple[BillingPeriod, ...]:
    """after_pending as P9 alone says it: the tier's billing ends at the effective instant."""
    periods = billing.close_open(periods, pending.effective_at)
    if pending.target is PlanState.DEVELOPER:
        periods = (*periods, BillingPeriod(Tier.DEVELOPER, pending.effective_at))
    return periods


def test_p21_switched_off_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """P21: premium subscribed and downgraded before its billing starts, never billed, is found
    by the reference and by P20's second invariant."""
    monkeypatch.setattr(plan_book, "after_pending", _no_catch_up)
    report = verify.run("plan", depth=2)
    finding = _found(report, "P21")
    calls = [(s.call, s.args.get("tier")) for s in finding.counterexample.steps]
    assert calls[0] == ("change", "premium")
    invariants = {v.invariant for v in report.violations if v.rule == "P21"}
    assert "premium is never held unbilled" in invariants


def test_a_read_that_crashes_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    """T7: a plan whose billing read raises an uncoded error is a finding; the run goes on."""

    def broken(self: Any) -> Any:
        raise RuntimeError("the timeline broke")

    monkeypatch.setattr(plan_book.PlanBook, "timeline", broken)
    report = verify.run("plan", depth=2)
    finding = _found(report, "T7")
    assert "the timeline broke" in finding.message
