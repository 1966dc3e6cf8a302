"""The verifier checks any policy (RULES.md K6): a bounded verification of policies drawn from the
whole K1 space finds nothing; bugs that only show under a non-default policy are caught under it
and not under Atlas's; coverage counts what exists under the policy."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import support_flows as sf
import support_flows.machines.plan_book as plan_book
from support_flows import verify
from support_flows.cli import main
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.testing import policies
from support_flows.values.core import BILLING_ROLES, Member
from support_flows.values.policy import ATLAS_POLICY
from support_flows.verify.scope import scope

CI = os.environ.get("HYPOTHESIS_PROFILE") == "ci"
EXAMPLES = 20 if CI else 4
DEPTHS = {"plan": 2, "case": 2, "consulting": 2}

FOURTEEN_DAY_IMMEDIATE = sf.Policy(
    version="verify-14-day-immediate",
    trial_days=14,
    retroactive_days=0,
    change_timing="immediately",
)


def _rules(report: verify.Report) -> set[str]:
    return {v.rule for v in report.violations}


@settings(max_examples=EXAMPLES, deadline=None)
@given(policy=policies(effective_from=None), machine=st.sampled_from(sorted(DEPTHS)))
def test_k6_policies_from_the_whole_k1_space_verify_without_violation(
    policy: sf.Policy, machine: str
) -> None:
    """K6: a bounded verification of any policy K1 allows finds the library agreeing with the
    reference, which reads the same K1 values from the policy's data."""
    report = verify.run(machine, depth=DEPTHS[machine], policy=policy)
    assert not report.violations, report.describe()


NOW_POLICY = sf.Policy(version="now", change_timing="immediately")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OWNER = sf.Member("owner", org_roles={sf.Role.ORG_OWNER})


def _plan(clock: Any) -> sf.SupportPlan:
    return sf.SupportPlan(ORG, clock=clock, catalog=sf.Catalog([NOW_POLICY]))


def test_k6_library_restores_a_premium_downgraded_at_the_instant_it_began() -> None:
    """V2 under K1's immediate changes (found by the K6 property test): premium chosen and
    downgraded at the same instant bills developer first (premium's catch-up has no length,
    P20); restore must take that record."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    plan = _plan(clock)
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    again = sf.SupportPlan.restore(
        plan.snapshot(), ORG, clock=clock, catalog=sf.Catalog([NOW_POLICY])
    )
    assert again.snapshot() == plan.snapshot()


def test_k6_library_refuses_premium_billed_from_its_own_start() -> None:
    """V2, P5 under K1's immediate changes (upgrade billing at the 1st): premium is never billed
    from the instant it came into force unless retroactively; restore must refuse that record."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    plan = _plan(clock)
    plan.change("premium", actor=OWNER)
    record = plan.snapshot(history=False)
    record["periods"][0]["starts_at"] = record["since"]
    with pytest.raises(sf.SupportFlowsError):
        sf.SupportPlan.restore(record, ORG, clock=clock, catalog=sf.Catalog([NOW_POLICY]))


def test_k6_atlas_is_the_default_policy() -> None:
    """K6: run() without a policy verifies Atlas's, and reports the same as with it."""
    default = verify.run("case", depth=2)
    atlas = verify.run("case", depth=2, policy=ATLAS_POLICY)
    assert default.coverage == atlas.coverage
    assert default.sequences == atlas.sequences


def test_k6_a_policy_that_is_not_one_is_refused() -> None:
    """K6: policy= takes a Policy; anything else is invalid_value."""
    with pytest.raises(sf.InvalidInput) as refused:
        verify.run("case", depth=1, policy="atlas")  # type: ignore[arg-type]
    assert refused.value.code == sf.Reason.INVALID_VALUE


def test_k6_coverage_counts_what_exists_under_the_policy() -> None:
    """K6: under no trial and immediate changes, the trial, the pending change and what only
    they bring about (T5, P4, P6, P7, P10, P16, change_already_effective) are not counted."""
    policy = sf.Policy(version="bare", trial_days=0, change_timing="immediately")
    under = scope(PLAN_CHART, policy)
    assert "trial" not in under.states
    assert not any(e.event in ("end_trial", "apply_pending", "revoke") for e in under.edges)
    assert {"T5", "P4", "P6", "P7", "P10", "P16", "change_already_effective"} == set(under.excluded)
    assert not scope(PLAN_CHART, ATLAS_POLICY).excluded


def _trial_of_thirty(add: Callable[..., Any]) -> Callable[..., Any]:
    def planted(moment: Any, days: int, tz: str) -> Any:
        return add(moment, 30 if days > 0 else days, tz)

    return planted


def test_k6_a_trial_length_read_from_a_constant_is_caught_under_a_14_day_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """K6, T5: a trial of 30 days whatever the policy says passes under Atlas and is caught
    under a 14-day policy."""
    monkeypatch.setattr(plan_book, "add_wall_days", _trial_of_thirty(plan_book.add_wall_days))
    assert not verify.run("plan", depth=1).violations
    assert "T5" in _rules(verify.run("plan", depth=1, policy=FOURTEEN_DAY_IMMEDIATE))


def _cap_of_ninety(add: Callable[..., Any]) -> Callable[..., Any]:
    def planted(moment: Any, days: int, tz: str) -> Any:
        return add(moment, -90 if days == 0 else days, tz)

    return planted


def test_k6_a_retroactive_cap_read_as_90_is_caught_under_a_0_day_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """K6, P15: a reactivation billed back up to 90 days whatever the policy says passes under
    Atlas and is caught under a policy with no retroactive billing."""
    monkeypatch.setattr(plan_book, "add_wall_days", _cap_of_ninety(plan_book.add_wall_days))
    assert not verify.run("plan", depth=4).violations
    caught = verify.run("plan", depth=4, policy=sf.Policy(version="now", retroactive_days=0))
    assert "P15" in _rules(caught)


MEMBERS_BILL = sf.Policy(version="members-bill", billing_roles=["ORG_MEMBER"])


@pytest.mark.parametrize(("machine", "rule"), [("plan", "P1"), ("consulting", "F1")])
def test_k6_billing_roles_read_as_atlas_are_caught_under_another_set(
    monkeypatch: pytest.MonkeyPatch, machine: str, rule: str
) -> None:
    """K6, P1, F1: billing roles read as Atlas's whatever the policy names pass under Atlas and
    are caught under a policy whose billing role is Organization Member."""
    holds_any = Member.holds_any
    asked = MEMBERS_BILL.billing_roles

    def planted(self: Member, roles: frozenset[Any]) -> bool:
        return holds_any(self, BILLING_ROLES if roles == asked else roles)

    monkeypatch.setattr(Member, "holds_any", planted)
    assert not verify.run(machine, depth=1).violations
    assert rule in _rules(verify.run(machine, depth=1, policy=MEMBERS_BILL))


def test_k6_an_immediate_downgrade_that_stays_pending_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """K6, P9: a downgrade that stays pending until the 1st under `change_timing = immediately`
    passes under Atlas (which never runs it) and is caught under an immediate policy."""
    monkeypatch.setattr(plan_book.PlanBook, "downgrade_now", plan_book.PlanBook.schedule_downgrade)
    assert not verify.run("plan", depth=2).violations
    assert "P9" in _rules(verify.run("plan", depth=2, policy=FOURTEEN_DAY_IMMEDIATE))


def test_k6_verify_policy_file_reports_each_version_as_its_own_policy(tmp_path: Path) -> None:
    """K6, U1: `verify --policy FILE` runs each version of the catalog as a policy of its own,
    its tables headed by the version's id, in JSON too."""
    catalog = tmp_path / "policy.toml"
    catalog.write_text(
        '[[version]]\nid = "atlas"\n\n[[version]]\nid = "short"\n'
        "effective_from = 2027-01-01T00:00:00Z\ntrial_days = 14\n",
        encoding="utf-8",
    )
    args = ["verify", "--machine", "case", "--depth", "4", "--policy", str(catalog)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("policy atlas\ncase (depth 4")
    assert "\npolicy short\ncase (depth 4" in result.output
    shown = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert [(r["policy"], r["machine"]) for r in shown] == [("atlas", "case"), ("short", "case")]


@pytest.mark.parametrize(
    ("text", "rule"), [("not toml [", "K2"), ('[[version]]\nid = "x"\ntrial_days = 400\n', "K2")]
)
def test_k6_verify_refuses_a_bad_policy_file_in_one_line(
    tmp_path: Path, text: str, rule: str
) -> None:
    """K2, U1: a file that is not a catalog is one line `error: [invalid_value, ...]`, exit 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["verify", "--policy", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: [invalid_value, {rule}] --policy: ")
