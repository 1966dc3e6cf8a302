"""support_flows.testing, the kit host applications test their configuration with: strategies
that favour the calendar's edges, and stateful tests a host subclasses."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import zoneinfo
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

import support_flows as sf
import support_flows.machines.plan_billing as billing
import support_flows.machines.plan_book as plan_book
from support_flows import testing
from support_flows.localtime import in_zone, is_month_start
from support_flows.values import PlanState, Tier
from support_flows.values.plan import BillingPeriod

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "host_testing" / "test_my_plans.py"
QUICK = settings(max_examples=15, stateful_step_count=12, deadline=None, derandomize=True)


def _offset_changes(moment: pendulum.DateTime, zone: str) -> bool:
    tz = zoneinfo.ZoneInfo(zone)
    before = (moment - dt.timedelta(seconds=1)).astimezone(tz).utcoffset()
    return before != moment.astimezone(tz).utcoffset()


@given(testing.instants(("America/Havana", "Pacific/Auckland")))
def test_instants_are_aware_utc_instants(moment: pendulum.DateTime) -> None:
    """T1: every instant drawn is aware (UTC), within the years asked for."""
    assert moment.tzinfo is not None
    assert moment.utcoffset() == dt.timedelta(0)
    assert 2022 <= moment.year <= 2031


@pytest.mark.parametrize(
    ("what", "zone", "found"),
    [
        ("a local month start", "America/Havana", lambda t: is_month_start(t, "America/Havana")),
        ("a leap day", "Pacific/Auckland", lambda t: in_zone(t, "Pacific/Auckland").day == 29),
        ("a DST change", "America/Asuncion", lambda t: _offset_changes(t, "America/Asuncion")),
    ],
)
def test_instants_favour_the_calendar_edges(what: str, zone: str, found: Any) -> None:
    """T3-T5: month starts, leap days and DST changes of the zone are drawn directly."""
    settings_ = settings(max_examples=60, database=None, phases=[Phase.generate])
    assert find(testing.instants((zone,)), found, settings=settings_), what


@given(testing.organizations(), testing.members(("p-1", "p-2")))
def test_organizations_and_members_are_valid_values(
    org: sf.Organization, member: sf.Member
) -> None:
    """T2/V5: organizations bill in known zones; members carry role sets, some in no project
    of the organization."""
    assert org.billing_timezone in testing.ZONES
    assert all(p.project_id.startswith("p-") for p in org.projects)
    assert member.email == "u-1@example.com"
    assert set(member.project_roles) <= {"p-1", "p-2", "p-elsewhere"}


@given(testing.plan_actions(), testing.instants(("Europe/Berlin",)))
def test_plan_action_sequences_only_ever_refuse_with_coded_errors(
    actions: list[testing.Action], start: pendulum.DateTime
) -> None:
    """Any plan action sequence: each step is taken or refused with a coded error (P, V3)."""
    clock = sf.FrozenClock(start)
    plan = sf.SupportPlan(sf.Organization("org-1", billing_timezone="Europe/Berlin"), clock=clock)
    for action in actions:
        with contextlib.suppress(sf.SupportFlowsError):
            action.perform(plan, clock)


@given(testing.order_actions(hours_per_unit=2))
def test_order_action_sequences_keep_the_balance(actions: list[testing.Action]) -> None:
    """F7: any order action sequence keeps the unit balance; refusals are coded errors."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    order = sf.ConsultingOrder.from_representative(
        sf.Organization("org-1", projects=("p-1",)),
        units=3,
        sales_reference="SO-1",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        hours_per_unit=2,
        validity_months=1,
    )
    for action in actions:
        with contextlib.suppress(sf.SupportFlowsError):
            action.perform(order, clock)
        u = order.units
        assert u.available + u.scheduled + u.consumed + u.expired == u.purchased


@given(testing.case_steps())
def test_case_step_sequences_move_only_along_the_navigation(
    steps: list[testing.Action],
) -> None:
    """C7/V3: any step sequence leaves the flow in one of the navigation's places."""
    flow = sf.CaseFlow(
        sf.Organization("org-1", projects=("p-1",)),
        "premium",
        sf.Member("u-1", org_roles={"ORG_OWNER"}),
        clock=sf.FrozenClock(pendulum.datetime(2026, 3, 14, tz="UTC")),
    )
    for step in steps:
        with contextlib.suppress(sf.SupportFlowsError):
            step.perform(flow, sf.FrozenClock(pendulum.datetime(2026, 3, 14, tz="UTC")))
    assert flow.state in (
        "start",
        "organization_chosen",
        "organization_support",
        "project_chosen",
        "project_support",
        "submitted",
    )


@pytest.mark.parametrize("machine", [testing.PlanRules, testing.CaseRules, testing.ConsultingRules])
def test_ready_machines_pass_on_the_library(machine: Any) -> None:
    """P, C, F: the ready stateful tests pass against the library as it is."""
    run_state_machine_as_test(machine, settings=QUICK)


def test_a_host_configuration_and_persistence_hook_are_used() -> None:
    """A host's zones, catalog and persist() are what the machine runs with."""
    seen: dict[str, set[Any]] = {"zones": set(), "per_unit": set(), "persisted": set()}

    class HostOrders(testing.ConsultingRules):
        zones = ("Asia/Kolkata",)
        hours_per_unit = (3,)
        validity_months = (6,)

        def persist(self, order: sf.ConsultingOrder) -> sf.ConsultingOrder:
            seen["zones"].add(self.org.billing_timezone)
            seen["per_unit"].add(order.hours_per_unit)
            seen["persisted"].add(True)
            return super().persist(order)

    run_state_machine_as_test(HostOrders, settings=QUICK)
    assert seen == {"zones": {"Asia/Kolkata"}, "per_unit": {3}, "persisted": {True}}


class _PlansStoredWithoutHistory(testing.PlanRules):
    """A host whose store keeps the history in an audit log, not in the plan's record."""

    keeps_history = False

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        return sf.SupportPlan.restore(plan.snapshot(history=False), self.org, clock=self.clock)


class _OrdersStoredWithoutHistory(testing.ConsultingRules):
    """The same host's orders."""

    keeps_history = False

    def persist(self, order: sf.ConsultingOrder) -> sf.ConsultingOrder:
        data = order.snapshot(history=False)
        return sf.ConsultingOrder.restore(data, self.org, clock=self.clock, outbox=self.outbox)


@pytest.mark.parametrize("machine", [_PlansStoredWithoutHistory, _OrdersStoredWithoutHistory])
def test_hosts_that_store_no_history_set_keeps_history_false(machine: Any) -> None:
    """V2: objects reloaded without their history still keep every other rule."""
    run_state_machine_as_test(machine, settings=QUICK)


def _no_catch_up(
    periods: tuple[BillingPeriod, ...], pending: Any, tier: Tier, since: Any
) -> tuple[BillingPeriod, ...]:
    periods = billing.close_open(periods, pending.effective_at)
    if pending.target is PlanState.DEVELOPER:
        periods = (*periods, BillingPeriod(Tier.DEVELOPER, pending.effective_at))
    return periods


class _InMemoryPlans(testing.PlanRules):
    """A host that keeps its plan objects in memory: nothing to save or reload."""

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        return plan


def test_plan_rules_catch_p21_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """P21: with the catch-up switched off, a host's PlanRules fails and names the rule (the
    default persist would stop earlier: restore refuses such a timeline, V2)."""
    monkeypatch.setattr(plan_book, "after_pending", _no_catch_up)
    hunting = settings(
        max_examples=200,
        stateful_step_count=12,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
    )
    with pytest.raises(AssertionError, match="P21"):
        run_state_machine_as_test(_InMemoryPlans, settings=hunting)


def test_importing_the_kit_without_hypothesis_names_the_test_extra() -> None:
    """Without hypothesis, importing support_flows.testing says to install the test extra."""
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "try:\n    import support_flows.testing\n"
        "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'support-flows[test]'" in result.stdout


def test_the_host_example_passes_under_pytest() -> None:
    """examples/host_testing/test_my_plans.py, a host's own test file, passes when run."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_given_strategies_compose_with_st_data() -> None:
    """The strategies are plain hypothesis strategies (usable with st.data() and given)."""
    assert isinstance(testing.billing_timezones(), st.SearchStrategy)
    assert isinstance(testing.instants(), st.SearchStrategy)
