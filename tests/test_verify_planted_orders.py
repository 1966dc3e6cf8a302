"""The verifier finds what the tests find for orders and cases: each test plants one bug in the
library for its duration (patching what the library calls at run time, never the verifier) and
asserts that `verify.run` reports it, at a small depth, naming the rule it breaks."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pendulum
import pytest

import support_flows.machines.base_object as base_object
import support_flows.machines.case as case_machine
import support_flows.machines.consulting_open as consulting_open
import support_flows.values.consulting as consulting_values
import support_flows.values.core as core
from support_flows import verify
from support_flows.localtime import instant
from support_flows.values import Role
from support_flows.verify.consulting_roots import SEED, generated
from support_flows.verify.reference.calendar import add_wall_months_clamped


def _found(report: verify.Report, rule: str) -> verify.Finding:
    """The first violation of `rule`, checked to carry a replayable, JSON-safe counterexample."""
    named = [v for v in report.violations if v.rule == rule]
    assert named, f"no {rule} violation among {[(v.rule, v.invariant) for v in report.violations]}"
    finding = named[0]
    assert finding.counterexample.steps
    data = finding.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert finding.message
    return finding


def test_billing_read_only_counted_as_a_billing_role_breaks_f1_for_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F1: with Organization Billing Read Only counted as a billing role, its console order is
    found (every role set opens an order, not a rotation)."""
    held = core.Member.holds_any
    extra = frozenset({Role.ORG_BILLING_READ_ONLY})
    monkeypatch.setattr(core.Member, "holds_any", lambda self, roles: held(self, roles | extra))
    report = verify.run("consulting", depth=1)
    finding = _found(report, "F1")
    step = finding.counterexample.steps[-1]
    assert step.call == "start_checkout"
    assert step.args["actor"]["org_roles"] == ["ORG_BILLING_READ_ONLY"]


def test_an_order_clock_that_is_not_floored_breaks_t8(monkeypatch: pytest.MonkeyPatch) -> None:
    """T8: an order reading a host clock behind its last entry as it is (not floored) is found,
    and T8 is the rule named first."""
    monkeypatch.setattr(base_object, "read_clock", lambda clock, floor=None: instant(clock.now()))
    report = verify.run("consulting", depth=2)
    finding = _found(report, "T8")
    assert report.violations[0].rule == "T8"
    steps = finding.counterexample.steps
    assert pendulum.parse(steps[-1].at) < pendulum.parse(steps[-2].at)


def test_a_bool_accepted_as_a_quantity_breaks_v4(monkeypatch: pytest.MonkeyPatch) -> None:
    """V4: an order of `units=True` accepted as one unit is found, with the value shown."""
    checked = consulting_open.quantity

    def lenient(value: object, name: str, **how: str) -> int:
        return checked(int(value) if isinstance(value, bool) else value, name, **how)

    monkeypatch.setattr(consulting_open, "quantity", lenient)
    report = verify.run("consulting", depth=1)
    finding = _found(report, "V4")
    assert finding.counterexample.steps[-1].args["units"] is True


def test_a_default_severity_of_s4_breaks_c7(monkeypatch: pytest.MonkeyPatch) -> None:
    """C7: a case opened without a severity that records S4 instead of S3 is found."""
    for opener in (case_machine.open_case, case_machine.CaseFlow.submit):
        defaults = dict(opener.__kwdefaults__ or {}) | {"severity": "S4"}
        monkeypatch.setattr(opener, "__kwdefaults__", defaults)
    report = verify.run("case", depth=1)
    finding = _found(report, "C7")
    assert "severity" not in finding.counterexample.steps[-1].args
    assert "'S3'" in finding.message


def test_an_expiry_not_clamped_to_the_month_end_breaks_f6(monkeypatch: pytest.MonkeyPatch) -> None:
    """F6: Jan 31 plus one month overflowing into March instead of ending on Feb 29 is found."""

    def unclamped(moment: dt.datetime, months: int, tz: str) -> pendulum.DateTime:
        local = instant(moment).in_tz(tz)
        first = local.set(day=1).add(months=months)
        return instant(first.add(days=local.day - 1))

    monkeypatch.setattr(consulting_values, "add_wall_months_clamped", unclamped)
    report = verify.run("consulting", depth=1)
    finding = _found(report, "F6")
    assert finding.counterexample.setup.start.startswith("2024-01-31")


def test_generated_order_roots_are_reproducible_name_their_seed_and_reach_f6_clamping() -> None:
    """F6: the generated starting points are drawn again alike from their seed, each shows the
    seed in its setup, and some purchases late in a month expire in a shorter month."""
    drawn = generated()
    assert drawn == generated(SEED)
    assert drawn != generated(SEED + 1)
    assert all(f"seed {SEED}" in root.setup().options["why"] for root in drawn)
    clamped = [
        root
        for root in drawn
        if root.validity_months is not None
        and add_wall_months_clamped(root.start, root.validity_months, root.zone)
        .astimezone(ZoneInfo(root.zone))
        .day
        < root.start.astimezone(ZoneInfo(root.zone)).day
    ]
    assert clamped
    assert any(not root.given for root in drawn)
