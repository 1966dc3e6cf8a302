"""The testing kit's `PlanRules` under a catalog (RULES.md K): a host runs the kit's stateful rules
under its own policy; what the Atlas-only reference cannot stand for is refused when the host's
class is defined."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pendulum
import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

import support_flows as sf
import support_flows.machines.plan_book as plan_book
from support_flows import testing
from support_flows.localtime import add_wall_days

RUNS = settings(max_examples=25, stateful_step_count=20, deadline=None, derandomize=True)
LONG_RUNS = settings(max_examples=80, stateful_step_count=30, deadline=None, derandomize=True)
"""Enough steps to cancel and reactivate (P15) a few times."""

SHORT = sf.Policy(
    version="short",
    trial_days=14,
    retroactive_days=0,
    billing_roles={sf.Role.ORG_BILLING_READ_ONLY},
    case_states={sf.PlanState.PREMIUM},
)


class _Seen:
    """What a host's persist() saw of the plans it saved."""

    trials: ClassVar[set[tuple[str, int]]] = set()
    reactivations: ClassVar[list[tuple[pendulum.DateTime, sf.BillingPeriod]]] = []
    states: ClassVar[set[str]] = set()

    @classmethod
    def record(cls, plan: sf.SupportPlan) -> None:
        if plan.trial is not None:
            days = (plan.trial.ends_at - plan.trial.started_at).in_days()
            cls.trials.add((plan.trial.policy, days))
        last = plan.history[-1] if plan.history else None
        if last is not None and last.event == "reactivate":
            cls.reactivations.append((last.at, plan.billing[-1]))
        cls.states.add(plan.state.value)


class _ShortTrialPlans(testing.PlanRules):
    """A host on a 14-day trial, no retroactive billing, read-only billing roles and cases on
    premium only."""

    zones = ("UTC", "Europe/Berlin")
    catalog = sf.Catalog([SHORT])

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        _Seen.record(plan)
        return super().persist(plan)


def test_k1_plan_rules_run_green_under_a_14_day_trial_without_retroactive_billing() -> None:
    """K1: PlanRules creates, decides and restores its plans under the host's catalog and judges
    them by the rules as that policy tunes them: 14-day trials, reactivations billed from now
    (still flagged retroactive, P15), the policy's billing roles (requests are accepted)."""
    _Seen.trials.clear()
    _Seen.reactivations.clear()
    _Seen.states.clear()
    run_state_machine_as_test(_ShortTrialPlans, settings=LONG_RUNS)
    assert {("short", 14)} <= _Seen.trials
    assert {days for _, days in _Seen.trials} <= {13, 14, 15}  # wall days across a DST change
    assert _Seen.states >= {"trial", "premium", "cancelled"}
    billed_back = [(at, p) for at, p in _Seen.reactivations if p.retroactive]
    assert all(p.starts_at == at for at, p in billed_back)
    # The same rule on one plan, whether or not the run happened to reactivate one (P15).
    reader = sf.Member("u-r", org_roles={sf.Role.ORG_BILLING_READ_ONLY})
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, tz="UTC"))
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),))
    plan = sf.SupportPlan(org, clock=clock, catalog=_ShortTrialPlans.catalog)
    plan.change("premium", reader)
    plan.cancel(reader)
    clock.set(pendulum.datetime(2026, 5, 20, tz="UTC"))
    plan.change("developer", reader)
    assert plan.billing[-1] == sf.BillingPeriod(sf.Tier.DEVELOPER, clock.now(), None, True)


ATLAS_THEN_SHORT = sf.Catalog(
    [
        sf.Policy(),
        sf.Policy(
            version="2027",
            effective_from=pendulum.datetime(2027, 1, 1, tz="UTC"),
            trial_days=14,
            retroactive_days=0,
        ),
    ]
)


class _VersionedPlans(testing.PlanRules):
    """A host whose policy changes on 2027-01-01 (the kit draws instants from 2022 to 2031)."""

    catalog = ATLAS_THEN_SHORT
    cross_org_billing = (False,)


def test_k3_plan_rules_run_green_across_a_version_boundary() -> None:
    """K3: each request is judged by the version in force at its instant; a trial keeps the
    length of the version that granted it across the boundary."""
    run_state_machine_as_test(_VersionedPlans, settings=RUNS)


def test_k1_plan_rules_under_atlas_are_unchanged() -> None:
    """K: the kit's default catalog is sf.ATLAS, and a host naming it explicitly runs green."""
    assert testing.PlanRules.catalog is sf.ATLAS

    class ExplicitAtlas(testing.PlanRules):
        catalog = sf.ATLAS

    run_state_machine_as_test(ExplicitAtlas, settings=RUNS)


@pytest.mark.parametrize(
    ("terms", "named"),
    [
        ({"trial_days": 0}, "trial_days = 0"),
        ({"upgrade_billing": "immediately"}, "upgrade_billing = immediately"),
        ({"change_timing": "immediately"}, "change_timing = immediately"),
    ],
)
def test_k6_plan_rules_refuse_a_catalog_reshaping_the_chart(
    terms: dict[str, Any], named: str
) -> None:
    """K6: a catalog choosing what the Atlas-only reference does not draw is refused when the
    host's class is defined, naming the version and the choice."""
    later = sf.Policy(
        version="later", effective_from=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), **terms
    )
    with pytest.raises(sf.InvalidInput, match=f"version 'later' chooses {named}") as refused:

        class Reshaped(testing.PlanRules):
            catalog = sf.Catalog([sf.Policy(), later])

    assert refused.value.rule == "K6"


def test_k6_plan_rules_refuse_a_catalog_that_is_not_one() -> None:
    """K6: PlanRules.catalog must be a Catalog (a Policy alone is not)."""
    with pytest.raises(sf.InvalidInput, match="must be a Catalog"):

        class NotACatalog(testing.PlanRules):
            catalog = SHORT  # type: ignore[assignment]


class _InMemoryShortTrials(testing.PlanRules):
    """A host keeping its plans in memory (restore would refuse the planted trial, K4)."""

    catalog = sf.Catalog([SHORT])

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        return plan


def test_k1_plan_rules_catch_a_trial_length_read_from_a_constant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """T5 under K1: with the library's trial planted back at 30 days, the kit under a 14-day
    catalog fails and names the trial."""

    def thirty_days(moment: Any, days: int, tz: str) -> Any:
        return add_wall_days(moment, 30 if days == 14 else days, tz)

    monkeypatch.setattr(plan_book, "add_wall_days", thirty_days)
    hunting = settings(
        max_examples=100,
        stateful_step_count=8,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
    )
    with pytest.raises(AssertionError, match="the trial is"):
        run_state_machine_as_test(_InMemoryShortTrials, settings=hunting)
