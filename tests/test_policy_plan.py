"""The support plan under a catalog (RULES.md K1, K3, K4): each tuned value changes what its rule
says, terms stay those of the version that made them, and records name that version."""

from __future__ import annotations

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import support_flows as sf
from support_flows.testing import policies
from tests.plan_helpers import BILLING_ADMIN, OWNER, READER, utc

NEW_YORK = "America/New_York"
SWITCH = utc(2027, 1, 1)
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone="UTC")


def catalog(**changes: object) -> sf.Catalog:
    """Atlas's policy, then from 2027-01-01 a version "2027" with `changes`."""
    return sf.Catalog(
        [sf.Policy(), sf.Policy(version="2027", effective_from=SWITCH, **changes)]  # type: ignore[arg-type]
    )


def plan_at(
    at: pendulum.DateTime, versions: sf.Catalog, tz: str = "UTC"
) -> tuple[sf.SupportPlan, sf.FrozenClock]:
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone=tz)
    clock = sf.FrozenClock(at)
    return sf.SupportPlan(org, clock=clock, catalog=versions), clock


def refused(call: object, code: str, *words: str) -> sf.SupportFlowsError:
    with pytest.raises(sf.SupportFlowsError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.code == code, caught.value
    for word in words:
        assert word in caught.value.message, caught.value.message
    return caught.value


@pytest.mark.parametrize(("days", "ends"), [(14, utc(2027, 1, 15)), (365, utc(2028, 1, 1))])
def test_k1_trial_days_set_the_trial_length(days: int, ends: pendulum.DateTime) -> None:
    """K1 (T5, P4): a trial begun under a version lasts that version's trial_days."""
    plan, _ = plan_at(SWITCH, catalog(trial_days=days))
    plan.change("developer", OWNER)
    assert plan.trial == sf.Trial(SWITCH, ends, "2027")


def test_k1_trial_days_count_wall_days_across_dst() -> None:
    """K1 (T5): 14 wall days across New York's spring change end at the same local time."""
    start = pendulum.datetime(2027, 3, 1, 9, tz=NEW_YORK)
    plan, _ = plan_at(start, catalog(trial_days=14), NEW_YORK)
    plan.change("developer", OWNER)
    assert plan.trial is not None
    assert plan.trial.ends_at == pendulum.datetime(2027, 3, 15, 9, tz=NEW_YORK)
    assert plan.trial.ends_at - start == pendulum.duration(days=14) - pendulum.duration(hours=1)


@pytest.mark.parametrize(
    ("days", "starts"),
    [(0, utc(2027, 5, 10)), (30, utc(2027, 4, 10)), (365, utc(2027, 2, 1))],
)
def test_k1_retroactive_days_cap_the_reactivation(days: int, starts: pendulum.DateTime) -> None:
    """K1 (P15): a reactivation bills back to the end, at most retroactive_days; 0 bills from
    now, still flagged retroactive."""
    plan, clock = plan_at(SWITCH, catalog(retroactive_days=days))
    plan.change("premium", OWNER)
    plan.cancel(OWNER)
    clock.set(utc(2027, 5, 10))
    assert plan.state is sf.PlanState.CANCELLED
    plan.change("developer", OWNER)
    assert plan.billing[-1] == sf.BillingPeriod(sf.Tier.DEVELOPER, starts, None, True)
    assert plan.history[-1].policy == "2027"


def test_k1_upgrade_billing_immediately_bills_from_the_request() -> None:
    """K1 (P5, P8): under `immediately`, premium is billed from the request instant; from a
    trial, from the request too (earlier than the trial's end)."""
    at = utc(2027, 3, 14, 10)
    plan, _ = plan_at(at, catalog(upgrade_billing="immediately"))
    plan.change("premium", OWNER)
    assert plan.billing == (sf.BillingPeriod(sf.Tier.PREMIUM, at),)
    trial, clock = plan_at(at, catalog(upgrade_billing="immediately"))
    trial.change("developer", OWNER)
    clock.set(at.add(days=3))
    trial.change("premium", OWNER)
    assert trial.billing == (sf.BillingPeriod(sf.Tier.PREMIUM, at.add(days=3)),)


def test_k1_upgrade_billing_immediately_from_developer_closes_developer_at_the_request() -> None:
    """K1 (P8): developer's open period ends at the upgrade instant, premium starts there."""
    plan, clock = plan_at(SWITCH, catalog(upgrade_billing="immediately", trial_days=1))
    plan.change("developer", OWNER)
    clock.set(utc(2027, 1, 20, 12))
    plan.change("premium", OWNER)
    assert plan.billing == (
        sf.BillingPeriod(sf.Tier.DEVELOPER, utc(2027, 1, 2), utc(2027, 1, 20, 12)),
        sf.BillingPeriod(sf.Tier.PREMIUM, utc(2027, 1, 20, 12)),
    )


def test_k1_billing_roles_decide_who_changes_the_plan() -> None:
    """K1 (P1): with billing_roles {ORG_BILLING_READ_ONLY} the reader may subscribe and the
    owner may not, the refusal naming the role asked for."""
    versions = catalog(billing_roles={"ORG_BILLING_READ_ONLY"})
    plan, _ = plan_at(SWITCH, versions)
    refused(lambda: plan.change("premium", OWNER), "billing_role_required", "ORG_BILLING_READ_ONLY")
    assert plan.check("change", BILLING_ADMIN, "premium").reasons[0].rule == "P1"
    plan.change("premium", READER)
    assert plan.state is sf.PlanState.PREMIUM


def test_k1_atlas_billing_roles_message_is_unchanged() -> None:
    """K1: under Atlas's policy P1's refusal names ORG_OWNER or ORG_BILLING_ADMIN as before."""
    plan, _ = plan_at(SWITCH, sf.ATLAS)
    refused(
        lambda: plan.change("premium", READER),
        "billing_role_required",
        "ORG_OWNER or ORG_BILLING_ADMIN",
    )


@pytest.mark.parametrize("states", [set(), {"premium"}])
def test_k1_case_states_decide_the_entitlements(states: set[str]) -> None:
    """K1 (P17): only states in case_states entitle to support cases; the read follows the
    version in force at the clock's now."""
    plan, clock = plan_at(SWITCH.subtract(days=1), catalog(case_states=states))
    plan.change("developer", OWNER)
    assert sf.Channel.SUPPORT_CASE in plan.entitlements
    clock.set(SWITCH)
    assert (sf.Channel.SUPPORT_CASE in plan.entitlements) is ("trial" in states)
    assert ("support_case" in plan.to_dict()["entitlements"]) is ("trial" in states)


def test_k1_no_trial_subscribes_developer_at_once() -> None:
    """K1 (P4, P5): with trial_days 0, developer from basic is in force now, billed from the
    1st of next month; no trial is recorded and restore accepts the record."""
    versions = catalog(trial_days=0)
    at = utc(2027, 1, 14, 10)
    plan, clock = plan_at(at, versions)
    plan.change("developer", OWNER)
    assert (plan.state, plan.trial) == (sf.PlanState.DEVELOPER, None)
    assert plan.billing == (sf.BillingPeriod(sf.Tier.DEVELOPER, utc(2027, 2, 1)),)
    assert plan.history[-1].policy == "2027"
    for history in (True, False):
        snap = plan.snapshot(history=history)
        assert (
            sf.SupportPlan.restore(snap, ORG, clock=clock, catalog=versions).snapshot(
                history=history
            )
            == snap
        )


def test_k1_no_trial_then_cancel_before_billing_catches_up() -> None:
    """K1 with P21: developer subscribed without a trial and cancelled before its billing began
    is billed for the stretch it was in force."""
    versions = catalog(trial_days=0)
    plan, clock = plan_at(utc(2027, 1, 14), versions)
    plan.change("developer", OWNER)
    plan.cancel(OWNER)
    clock.set(utc(2027, 2, 1))
    assert plan.state is sf.PlanState.CANCELLED
    assert plan.billing == (
        sf.BillingPeriod(sf.Tier.DEVELOPER, utc(2027, 1, 14), utc(2027, 2, 1), True),
    )


def test_k1_a_trial_begun_before_a_no_trial_version_still_runs_and_cancels() -> None:
    """K1, K3: a trial begun under atlas can still be cancelled or upgraded after a version
    without trials comes into force, and converts at its recorded end."""
    versions = catalog(trial_days=0)
    plan, clock = plan_at(utc(2026, 12, 20), versions)
    plan.change("developer", OWNER)
    clock.set(SWITCH.add(days=2))
    assert plan.check("cancel", OWNER).allowed
    clock.set(utc(2027, 1, 19))
    assert plan.state is sf.PlanState.DEVELOPER
    assert plan.history[-1].policy == "atlas"


@pytest.mark.parametrize(
    ("zone", "at"),
    [
        ("UTC", utc(2027, 3, 1)),  # exactly a month start
        (NEW_YORK, pendulum.datetime(2027, 3, 14, 3, 30, tz=NEW_YORK)),  # just after the gap
        ("Pacific/Kiritimati", pendulum.datetime(2027, 3, 20, 23, 59, 59, tz="Pacific/Kiritimati")),
    ],
)
def test_k1_immediately_a_downgrade_is_in_force_at_the_request(
    zone: str, at: pendulum.DateTime
) -> None:
    """K1 (P9, P21): under change_timing immediately a downgrade takes effect at the request:
    premium never billed is caught up to that instant, developer billed from it; nothing
    pending, so revoking is refused no_pending_change."""
    versions = catalog(change_timing="immediately")
    begun = pendulum.instance(at).subtract(days=3)
    plan, clock = plan_at(begun, versions, zone)
    plan.change("premium", OWNER)
    clock.set(at)
    plan.change("developer", OWNER)
    assert (plan.state, plan.pending) == (sf.PlanState.DEVELOPER, None)
    assert plan.billing[-1] == sf.BillingPeriod(sf.Tier.DEVELOPER, at)
    assert sf.BillingPeriod(sf.Tier.PREMIUM, begun, at, True) in plan.billing
    refused(lambda: plan.revoke_pending(OWNER), "no_pending_change")
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone=zone)
    for history in (True, False):
        snap = plan.snapshot(history=history)
        again = sf.SupportPlan.restore(snap, org, clock=clock, catalog=versions)
        assert again.snapshot(history=history) == snap


def test_k1_immediately_a_cancel_during_billing_ends_it_at_the_request() -> None:
    """K1 (P9): a cancel under immediately ends developer's billing at the request and leaves
    the plan cancelled, reactivatable with P15's retroactive billing."""
    versions = catalog(change_timing="immediately", trial_days=1)
    plan, clock = plan_at(SWITCH, versions)
    plan.change("developer", OWNER)
    clock.set(utc(2027, 1, 20, 12))
    plan.cancel(OWNER)
    assert plan.state is sf.PlanState.CANCELLED
    assert plan.billing == (
        sf.BillingPeriod(sf.Tier.DEVELOPER, utc(2027, 1, 2), utc(2027, 1, 20, 12)),
    )
    clock.set(utc(2027, 2, 5))
    plan.change("developer", OWNER)
    assert plan.billing[-1] == sf.BillingPeriod(sf.Tier.DEVELOPER, utc(2027, 1, 20, 12), None, True)


@pytest.mark.parametrize("zone", ["UTC", NEW_YORK, "Pacific/Kiritimati"])
def test_k1_immediately_during_a_trial_p7_then_p6_and_p9_at_its_end(zone: str) -> None:
    """K1 (P7, P6, P9): under change_timing immediately, a cancel a microsecond before the
    trial's end is P7's (nothing billed); exactly at its end the trial has converted (P6) and the
    cancel is in force at once, developer billed for no time; a trial ending in New York's DST
    gap (begun 2027-02-28 02:30, 14 wall days) ends an hour later, as T5 says."""
    versions = catalog(change_timing="immediately", trial_days=14)
    begun = pendulum.datetime(2027, 2, 28, 2, 30, tz=zone)
    for delta, events in ((-1, ["subscribe", "cancel"]), (0, ["subscribe", "end_trial", "cancel"])):
        plan, clock = plan_at(begun, versions, zone)
        plan.change("developer", OWNER)
        assert plan.trial is not None
        end = plan.trial.ends_at
        clock.set(end.add(microseconds=delta))
        plan.cancel(OWNER)
        assert (plan.state, plan.billing, plan.pending) == (sf.PlanState.CANCELLED, (), None)
        assert [h.event for h in plan.history] == events
        assert {h.policy for h in plan.history} == {"2027"}
    if zone == NEW_YORK:
        assert end == pendulum.datetime(2027, 3, 14, 3, 30, tz=zone)


def test_k3_a_pending_change_from_before_immediately_still_applies_on_the_1st() -> None:
    """K3: a cancel pending under atlas keeps its 1st-of-month instant after a version with
    immediate changes begins, and can still be revoked."""
    versions = catalog(change_timing="immediately")
    plan, clock = plan_at(utc(2026, 12, 10), versions)
    plan.change("premium", OWNER)
    plan.cancel(OWNER)
    clock.set(SWITCH.subtract(microseconds=1))
    plan.change("premium", OWNER)  # re-choosing revokes (P11)
    plan.cancel(OWNER)
    clock.set(SWITCH.add(hours=1))
    assert plan.state is sf.PlanState.CANCELLED
    assert plan.history[-1].policy == "atlas"


def test_k3_a_trial_keeps_its_length_across_a_version_boundary() -> None:
    """K3: a 30-day trial begun a microsecond before a 14-day version still ends 30 days later;
    one begun exactly at the version's instant lasts 14 days."""
    versions = catalog(trial_days=14)
    before, clock = plan_at(SWITCH.subtract(microseconds=1), versions)
    before.change("developer", OWNER)
    clock.set(SWITCH.add(days=20))
    assert before.state is sf.PlanState.TRIAL
    assert before.trial is not None
    assert before.trial.policy == "atlas"
    clock.set(SWITCH.add(days=30))
    assert before.state is sf.PlanState.DEVELOPER
    assert before.history[-1].policy == "atlas"  # the clock applied it under atlas's terms
    at, _ = plan_at(SWITCH, versions)
    at.change("developer", OWNER)
    assert at.trial == sf.Trial(SWITCH, SWITCH.add(days=14), "2027")


def test_k3_a_pending_change_and_billing_start_keep_their_terms() -> None:
    """K3: a downgrade requested under atlas stays pending to the 1st and keeps its version when
    a version billing upgrades at once comes into force; billing scheduled stays as it was."""
    versions = catalog(upgrade_billing="immediately")
    plan, clock = plan_at(utc(2026, 12, 14), versions)
    plan.change("premium", OWNER)
    assert plan.billing == (sf.BillingPeriod(sf.Tier.PREMIUM, SWITCH),)
    clock.set(utc(2026, 12, 31, 23, 59))
    plan.change("developer", OWNER)
    assert plan.pending is not None
    assert (plan.pending.policy, plan.pending.effective_at) == ("atlas", SWITCH)
    clock.set(SWITCH)
    assert plan.state is sf.PlanState.DEVELOPER
    assert plan.history[-1].policy == "atlas"
    assert plan.billing[0] == sf.BillingPeriod(
        sf.Tier.PREMIUM, SWITCH.subtract(days=18), SWITCH, True
    )


def test_k3_a_request_exactly_at_the_effective_instant_takes_the_new_terms() -> None:
    """K3 (K2): a request at the new version's instant is decided by it; a microsecond earlier,
    by the version before."""
    versions = catalog(upgrade_billing="immediately")
    early, _ = plan_at(SWITCH.subtract(microseconds=1), versions)
    early.change("premium", OWNER)
    assert early.billing[0].starts_at == SWITCH
    assert early.history[-1].policy == "atlas"
    exact, _ = plan_at(SWITCH, versions)
    exact.change("premium", OWNER)
    assert exact.billing[0].starts_at == SWITCH
    assert exact.history[-1].policy == "2027"
    later, _ = plan_at(SWITCH.add(hours=1), versions)
    later.change("premium", OWNER)
    assert later.billing[0].starts_at == SWITCH.add(hours=1)


def test_k4_records_name_the_deciding_version() -> None:
    """K4: the trial, the pending change and every history entry record the version id, and the
    snapshot carries them."""
    versions = catalog(trial_days=14)
    plan, clock = plan_at(SWITCH, versions)
    plan.change("developer", OWNER)
    clock.set(utc(2027, 2, 3))
    plan.change("premium", OWNER)
    plan.cancel(OWNER)
    snap = plan.snapshot()
    assert snap["version"] == 3
    assert snap["pending"]["policy"] == "2027"
    assert [e["policy"] for e in snap["history"]] == ["2027", "2027", "2027", "2027"]
    again = sf.SupportPlan.restore(snap, ORG, clock=clock, catalog=versions)
    assert again.snapshot() == snap


def _trial_snapshot(versions: sf.Catalog) -> dict[str, object]:
    plan, _ = plan_at(SWITCH, versions)
    plan.change("developer", OWNER)
    return plan.snapshot()


@pytest.mark.parametrize("history", [True, False])
def test_k4_restore_refuses_a_version_the_catalog_lacks(history: bool) -> None:
    """K4: a record naming a version the catalog lacks is refused invalid_snapshot, naming it."""
    snap = _trial_snapshot(catalog(trial_days=14))
    if not history:
        snap["history"] = None
    clock = sf.FrozenClock(SWITCH)
    refused(
        lambda: sf.SupportPlan.restore(snap, ORG, clock=clock, catalog=sf.ATLAS),
        "invalid_snapshot",
        "'2027'",
    )


@pytest.mark.parametrize("history", [True, False])
def test_k4_restore_refuses_facts_its_version_does_not_give(history: bool) -> None:
    """K4: a 14-day trial recorded under a version whose trial lasts 30 days is refused, with or
    without its history."""
    snap = _trial_snapshot(catalog(trial_days=14))
    if not history:
        snap["history"] = None
    other = catalog(trial_days=30, retroactive_days=10)
    clock = sf.FrozenClock(SWITCH)
    refused(
        lambda: sf.SupportPlan.restore(snap, ORG, clock=clock, catalog=other),
        "invalid_snapshot",
    )


def _version_2(snapshot: dict[str, object]) -> dict[str, object]:
    """`snapshot` as the library wrote it before policies: version 2, no policy ids."""
    old = dict(snapshot, version=2)
    for field in ("trial", "pending"):
        if isinstance(old[field], dict):
            old[field] = {k: v for k, v in old[field].items() if k != "policy"}  # type: ignore[attr-defined]
    if isinstance(old["history"], list):
        old["history"] = [{k: v for k, v in e.items() if k != "policy"} for e in old["history"]]
    return old


def test_k4_a_version_2_snapshot_is_read_as_atlas() -> None:
    """K4: a snapshot written before policies is restored as decided under atlas, and written
    back as version 3."""
    plan, clock = plan_at(utc(2026, 6, 14), sf.ATLAS)
    plan.change("developer", OWNER)
    clock.set(utc(2026, 8, 2))
    plan.change("premium", OWNER)
    plan.cancel(BILLING_ADMIN)
    current = plan.snapshot()
    for history in (True, False):
        old = _version_2(current)
        if not history:
            old["history"] = None
        again = sf.SupportPlan.restore(old, ORG, clock=clock)
        assert again.snapshot(history=history) == (
            current if history else dict(current, history=None)
        )


def test_k4_a_version_2_snapshot_needs_atlas_in_the_catalog() -> None:
    """K4: read as atlas, a version-2 snapshot is refused by a catalog without atlas."""
    plan, clock = plan_at(utc(2026, 6, 14), sf.ATLAS)
    plan.change("developer", OWNER)
    no_atlas = sf.Catalog([sf.Policy(version="house", trial_days=14)])
    refused(
        lambda: sf.SupportPlan.restore(
            _version_2(plan.snapshot()), ORG, clock=clock, catalog=no_atlas
        ),
        "invalid_snapshot",
        "'atlas'",
    )


def test_k4_a_version_2_snapshot_naming_a_policy_is_refused() -> None:
    """K4 (V2): version 2 never named a policy: such a record is refused as the version it
    claims, not upgraded."""
    plan, clock = plan_at(utc(2026, 6, 14), sf.ATLAS)
    plan.change("developer", OWNER)
    snap = dict(plan.snapshot(), version=2)
    refused(lambda: sf.SupportPlan.restore(snap, ORG, clock=clock), "invalid_snapshot", "version 2")


ACTIONS = st.sampled_from(
    [
        ("change", "developer"),
        ("change", "premium"),
        ("change", "basic"),
        ("cancel", None),
        ("revoke_pending", None),
    ]
)


@settings(deadline=None)
@given(
    policy=policies(version="house"),
    switch_days=st.integers(0, 60),
    steps=st.lists(st.tuples(st.integers(0, 40 * 24), ACTIONS), max_size=8),
    zone=st.sampled_from(["UTC", NEW_YORK, "Pacific/Kiritimati", "Australia/Lord_Howe"]),
)
def test_k4_every_record_a_policy_writes_restores_equal(
    policy: sf.Policy,
    switch_days: int,
    steps: list[tuple[int, tuple[str, str | None]]],
    zone: str,
) -> None:
    """K4 (V2): under any policy of K1's space, coming into force after Atlas's, every record
    the plan writes, with or without its history, is restored by that catalog as it was."""
    start = utc(2026, 12, 1)
    versions = sf.Catalog(
        [sf.Policy(), attrs.evolve(policy, effective_from=start.add(days=switch_days))]
    )
    plan, clock = plan_at(start, versions, zone)
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone=zone)
    owner = sf.Member("u-owner", org_roles=set(policy.billing_roles) | {sf.Role.ORG_OWNER})
    for hours, (action, tier) in steps:
        clock.set(clock.now().add(hours=hours))
        try:
            if action == "change":
                plan.change(tier, owner)  # type: ignore[arg-type]
            else:
                getattr(plan, action)(owner)
        except sf.Refused:
            pass
        for history in (True, False):
            snap = plan.snapshot(history=history)
            again = sf.SupportPlan.restore(snap, org, clock=clock, catalog=versions)
            assert again.snapshot(history=history) == snap


def test_k3_a_retroactive_start_takes_the_terms_of_the_reactivation_instant() -> None:
    """K3 (P15): a premium plan cancelled under atlas and reactivated as developer a microsecond
    before a version with retroactive_days 0 is billed back to its end; reactivated exactly at
    that version's instant, it is billed from the request, still flagged retroactive."""
    versions = catalog(retroactive_days=0)
    for at, starts, version in (
        (SWITCH.subtract(microseconds=1), utc(2026, 12, 1), "atlas"),
        (SWITCH, SWITCH, "2027"),
    ):
        plan, clock = plan_at(utc(2026, 11, 10), versions)
        plan.change("premium", OWNER)
        plan.cancel(OWNER)
        clock.set(at)
        assert plan.state is sf.PlanState.CANCELLED
        plan.change("developer", OWNER)
        assert plan.history[-1].policy == version
        assert plan.billing[-1] == sf.BillingPeriod(sf.Tier.DEVELOPER, starts, None, True)
