"""The plan explorer finds what the tests find: each test plants one bug in the library for its
duration (patching what the library calls at run time, never the verifier) and asserts that
`verify.run("plan")` names the rule it breaks, the most specific rule first."""

from __future__ import annotations

import datetime as dt
import inspect
import zoneinfo
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

import support_flows.guards.plan as plan_guards
import support_flows.machines.plan_book as plan_book
import support_flows.values.core as core
from support_flows import localtime, verify
from support_flows.values import Role


def _first(report: verify.Report) -> verify.Finding:
    assert report.violations, "the planted bug went unseen"
    return report.violations[0]


def _named(report: verify.Report, rule: str) -> verify.Finding:
    named = [v for v in report.violations if v.rule == rule]
    assert named, f"no {rule} violation among {[(v.rule, v.invariant) for v in report.violations]}"
    assert named[0].counterexample.steps
    return named[0]


def _later_in_a_repeated_hour(add: Callable[..., Any]) -> Callable[..., Any]:
    def later(moment: Any, days: int, tz: str) -> Any:
        found = add(moment, days, tz)
        zone = zoneinfo.ZoneInfo(tz)
        wall = found.astimezone(zone).replace(tzinfo=None)
        second = wall.replace(tzinfo=zone, fold=1)
        if second.utcoffset() != wall.replace(tzinfo=zone, fold=0).utcoffset():
            return localtime.instant(second)
        return found

    return later


def test_a_trial_ending_at_the_later_of_two_instants_breaks_t5(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """T5: a trial that ends in New York's repeated hour at the later instant is named T5 first."""
    monkeypatch.setattr(
        plan_book, "add_wall_days", _later_in_a_repeated_hour(plan_book.add_wall_days)
    )
    report = verify.run("plan", depth=1)
    first = _first(report)
    assert first.rule == "T5"
    assert first.counterexample.setup.zone == "America/New_York"
    assert first.counterexample.steps[0].args["tier"] == "developer"


def test_a_month_start_an_hour_late_in_a_dst_gap_breaks_t3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """T3: where the 1st's midnight does not exist, a month start an hour after the first instant
    that does is named T3 first, not P20 or P9."""
    on_time = plan_book.next_month_start

    def late(moment: Any, tz: str) -> Any:
        found = on_time(moment, tz)
        local = found.astimezone(zoneinfo.ZoneInfo(tz))
        return found.add(hours=1) if local.time() != dt.time() else found

    monkeypatch.setattr(plan_book, "next_month_start", late)
    report = verify.run("plan", depth=1)
    first = _first(report)
    assert first.rule == "T3"
    assert first.counterexample.setup.zone in ("America/Asuncion", "America/Havana")


def test_a_month_start_that_is_not_after_t_breaks_t3(monkeypatch: pytest.MonkeyPatch) -> None:
    """T3 ("after t"): next_month_start(t) giving t itself at a month start is named T3 first."""
    on_time = plan_book.next_month_start

    def same(moment: Any, tz: str) -> Any:
        return moment if localtime.is_month_start(moment, tz) else on_time(moment, tz)

    monkeypatch.setattr(plan_book, "next_month_start", same)
    report = verify.run("plan", depth=2)
    first = _first(report)
    assert first.rule == "T3"
    assert "the 1st" in first.counterexample.steps[0].note


def _refuses_only_from_free(f: Any) -> str | None:
    """cross_org_billing as if P3 spoke of subscribing and reactivating only."""
    if not f.org.cross_org_billing or f.state.value not in ("basic", "cancelled"):
        return None
    return "cross-org billing"


def test_an_upgrade_allowed_for_a_cross_org_organization_breaks_p3(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P3: an organization that joins cross-org billing after it paid, then upgrades, is found."""
    body = inspect.getclosurevars(plan_guards.cross_org_billing).nonlocals["body"]
    monkeypatch.setattr(body, "__code__", _refuses_only_from_free.__code__)
    report = verify.run("plan", depth=3)
    finding = _named(report, "P3")
    calls = [s.call for s in finding.counterexample.steps]
    assert "cross_org_billing" in calls
    assert finding.counterexample.steps[-1].args.get("tier") == "premium"


def test_billing_read_only_counted_as_a_billing_role_breaks_p1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P1: Organization Billing Read Only allowed to change the plan is found, by that role."""
    held = core.Member.holds_any
    extra = frozenset({Role.ORG_BILLING_READ_ONLY})
    monkeypatch.setattr(core.Member, "holds_any", lambda self, roles: held(self, roles | extra))
    report = verify.run("plan", depth=1)
    finding = _named(report, "P1")
    actor = finding.counterexample.steps[-1].args["actor"]
    assert "ORG_BILLING_READ_ONLY" in actor["org_roles"]
    assert not {"ORG_OWNER", "ORG_BILLING_ADMIN"} & set(actor["org_roles"])


def test_a_retroactive_cap_of_89_days_breaks_p15(monkeypatch: pytest.MonkeyPatch) -> None:
    """P15: reactivating just before 90 days after the plan ended, billed from 89 days back (91
    is pinned in test_verify_planted.py), is found."""
    wall = plan_book.add_wall_days
    monkeypatch.setattr(
        plan_book, "add_wall_days", lambda at, days, tz: wall(at, days + (days == -90), tz)
    )
    report = verify.run("plan", depth=4)
    finding = _named(report, "P15")
    assert "90 days after the plan ended" in " ".join(s.note for s in finding.counterexample.steps)


def test_ninety_absolute_days_across_a_dst_change_breaks_p15(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P15: the 90 days counted as 90 x 24 hours (not wall days) across a DST change is found."""
    wall = plan_book.add_wall_days

    def absolute(moment: Any, days: int, tz: str) -> Any:
        if days == -90:
            return pendulum.instance(moment).subtract(hours=24 * 90)
        return wall(moment, days, tz)

    monkeypatch.setattr(plan_book, "add_wall_days", absolute)
    report = verify.run("plan", depth=4)
    assert _named(report, "P15")
