"""Support requests and cases under a catalog, rule by rule (RULES.md K1, K3 with C1-C3, P17)."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import support_flows as sf
from support_flows import testing

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"), sf.Project("p-2")))
EMPTY = sf.Organization("org-1")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER})
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY})
MEMBER = sf.Member("u-member", org_roles={sf.Role.ORG_MEMBER})
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_READ_ONLY}})
STATES = ("basic", "trial", "developer", "premium", "cancelled")
BOUNDARY = pendulum.datetime(2027, 1, 1, tz="UTC")
JUST_BEFORE = BOUNDARY.subtract(microseconds=1)
READERS = {sf.Role.ORG_OWNER, sf.Role.ORG_READ_ONLY}
CATALOG = sf.Catalog(
    [
        sf.Policy(),
        sf.Policy(
            version="2027",
            effective_from=BOUNDARY,
            org_case_roles=READERS,
            case_states={sf.PlanState.PREMIUM},
        ),
    ]
)


def one(**fields: Any) -> sf.Catalog:
    """A catalog of one version with these K1 values."""
    return sf.Catalog([sf.Policy(version="own", **fields)])


def codes(decision: sf.Decision) -> list[str]:
    return [str(r) for r in decision.reasons]


class Unread:
    """A clock that must not be read."""

    def now(self) -> pendulum.DateTime:
        raise AssertionError("the clock was read")


# -- K1: org_case_roles (C3) --------------------------------------------------------------------


def test_k1_c3_org_case_roles_including_read_only_open_organization_cases() -> None:
    """C3 under org_case_roles {ORG_OWNER, ORG_READ_ONLY}: a read-only member opens an
    organization-level case; the owner still does."""
    catalog = one(org_case_roles=READERS)
    for who in (READER, OWNER):
        assert check_org(who, "developer", catalog).allowed
    clock = sf.FrozenClock(BOUNDARY)
    case = sf.open_case(
        ORG, "developer", READER, scope="organization", title="Help", clock=clock, catalog=catalog
    )
    assert (case.scope, case.requester) == ("organization", "u-reader")
    flow = sf.CaseFlow(ORG, "developer", READER, clock=clock, catalog=catalog)
    flow.choose_organization()
    flow.open_organization_support()
    assert flow.submit(title="Again").requester == "u-reader"


def test_k1_c3_refusal_names_the_policys_roles() -> None:
    """C3 refused under a non-Atlas policy names the roles that would pass."""
    decision = check_org(MEMBER, "developer", one(org_case_roles=READERS))
    assert codes(decision) == ["org_owner_required"]
    assert decision.reasons[0].rule == "C3"
    message = decision.reasons[0].message
    assert "only a member holding ORG_OWNER or ORG_READ_ONLY" in message
    assert "'u-member' holds none of them" in message


def test_k1_c3_atlas_wording_is_unchanged() -> None:
    """C3 under Atlas's policy says what it always said."""
    decision = check_org(READER, "developer", sf.ATLAS)
    assert decision.reasons[0].message == (
        "only an Organization Owner can open an organization-level case for 'org-1'; "
        "user 'u-reader' is not one"
    )


def test_k1_c3_org_case_roles_tune_c3_only() -> None:
    """Without the owner in org_case_roles, an owner cannot open an organization-level case but
    still opens project cases: C5's owner clause is not C3's field."""
    catalog = one(org_case_roles={sf.Role.ORG_READ_ONLY})
    assert codes(check_org(OWNER, "premium", catalog)) == ["org_owner_required"]
    project = sf.check_case(
        ORG, "premium", OWNER, scope="project", project_id="p-1", catalog=catalog
    )
    assert project.allowed
    assert sf.check_channel(ORG, "premium", OWNER, "support_case", catalog=catalog).allowed


def test_k1_c1_support_case_channel_opens_at_the_organization_scope_too() -> None:
    """C1: a read-only member with no project role can open a case at the organization scope
    under org_case_roles with ORG_READ_ONLY, so the support_case channel is allowed; under
    Atlas's it is refused for the role."""
    catalog = one(org_case_roles=READERS)
    assert sf.check_channel(ORG, "developer", READER, "support_case", catalog=catalog).allowed
    atlas = sf.check_channel(ORG, "developer", READER, "support_case")
    assert codes(atlas) == ["project_role_required"]


def test_k1_c1_support_case_channel_lists_only_reasons_holding_at_every_scope() -> None:
    """C1: refused, the channel lists the reasons that hold at every scope: the role passes at
    the organization scope, so only the projects and the plan are named."""
    catalog = one(org_case_roles=READERS)
    refused = sf.check_channel(EMPTY, "basic", READER, "support_case", catalog=catalog)
    assert codes(refused) == ["org_has_no_projects", "plan_excludes_cases"]
    member = sf.check_channel(EMPTY, "basic", MEMBER, "support_case", catalog=catalog)
    assert codes(member) == ["project_role_required", "org_has_no_projects", "plan_excludes_cases"]
    assert codes(sf.check_channel(ORG, "premium", READER, "support_case", catalog=catalog)) == []


def check_org(member: sf.Member, state: str, catalog: sf.Catalog) -> sf.Decision:
    return sf.check_case(ORG, state, member, scope="organization", catalog=catalog)


# -- K1: case_states (P17, C2) ------------------------------------------------------------------


@pytest.mark.parametrize("state", STATES)
def test_k1_c2_no_case_states_no_cases(state: str) -> None:
    """C2 with case_states empty: no plan state opens a case, at either scope, nor is the
    support_case channel open; chat and the developer resources stay open."""
    catalog = one(case_states=set())
    decision = check_org(OWNER, state, catalog)
    assert codes(decision) == ["plan_excludes_cases"]
    assert "no plan state includes them" in decision.reasons[0].message
    project = sf.check_case(ORG, state, DEV, scope="project", project_id="p-1", catalog=catalog)
    assert codes(project) == ["plan_excludes_cases"]
    channel = sf.check_channel(ORG, state, DEV, "support_case", catalog=catalog)
    assert codes(channel) == ["plan_excludes_cases"]
    for open_channel in ("chat", "developer_resources"):
        assert sf.check_channel(ORG, state, DEV, open_channel, catalog=catalog).allowed


@pytest.mark.parametrize("state", STATES)
def test_k1_c2_premium_only(state: str) -> None:
    """C2 with case_states {premium}: only a premium plan opens cases; a refusal names it."""
    catalog = one(case_states={"premium"})
    decision = sf.check_case(ORG, state, DEV, scope="project", project_id="p-1", catalog=catalog)
    assert decision.allowed is (state == "premium")
    if state != "premium":
        assert "'premium' does" in decision.reasons[0].message


@pytest.mark.parametrize("state", STATES)
def test_k1_c2_atlas_case_states_and_wording(state: str) -> None:
    """C2 under Atlas's policy: the trial, developer and premium open cases (P17), and the
    refusal says so as it always did."""
    decision = check_org(OWNER, state, sf.ATLAS)
    assert decision.allowed is (state in ("trial", "developer", "premium"))
    if not decision.allowed:
        assert decision.reasons[0].message.endswith(
            "which does not include support cases; a developer or premium plan (or the trial) does"
        )


# -- K3: the version in force at the request decides it -----------------------------------------


def test_k3_check_case_reads_the_version_in_force_at_the_clocks_now() -> None:
    """A developer plan may open a case a microsecond before 2027 takes effect (Atlas's case
    states), not at its effective instant (premium only)."""
    before = sf.FrozenClock(JUST_BEFORE)
    at = sf.FrozenClock(BOUNDARY)
    ask: dict[str, Any] = {"scope": "project", "project_id": "p-1", "catalog": CATALOG}
    assert sf.check_case(ORG, "developer", DEV, clock=before, **ask).allowed
    assert codes(sf.check_case(ORG, "developer", DEV, clock=at, **ask)) == ["plan_excludes_cases"]
    assert sf.check_channel(ORG, "developer", DEV, "support_case", catalog=CATALOG, clock=before)
    refused = sf.check_channel(ORG, "developer", DEV, "support_case", catalog=CATALOG, clock=at)
    assert codes(refused) == ["plan_excludes_cases"]


def test_k3_open_case_at_the_versions_instant_follows_it() -> None:
    """open_case decides with the version in force at its clock's now: at 2027's instant a
    read-only member opens an organization case on premium, a microsecond before it cannot."""
    ask: dict[str, Any] = {"scope": "organization", "title": "Help", "catalog": CATALOG}
    case = sf.open_case(ORG, "premium", READER, clock=sf.FrozenClock(BOUNDARY), **ask)
    assert case.opened_at == BOUNDARY
    with pytest.raises(sf.Refused) as error:
        sf.open_case(ORG, "premium", READER, clock=sf.FrozenClock(JUST_BEFORE), **ask)
    assert error.value.code == "org_owner_required"


def test_k3_case_flow_submit_is_decided_when_it_is_submitted() -> None:
    """A flow walked before the boundary and submitted after it is decided by the version in
    force at the submit: the request is the submit."""
    clock = sf.FrozenClock(JUST_BEFORE)
    flow = sf.CaseFlow(ORG, "developer", DEV, clock=clock, catalog=CATALOG)
    flow.choose_organization()
    flow.choose_project("p-1")
    flow.open_project_support()
    assert "submit" in flow.enabled_events()
    clock.set(BOUNDARY)
    assert "submit" not in flow.enabled_events()
    with pytest.raises(sf.Refused) as error:
        flow.submit(title="Too late")
    assert error.value.code == "plan_excludes_cases"
    assert flow.state == "project_support"


def test_k3_several_versions_need_a_clock_to_check() -> None:
    """Without a clock, a check under a catalog of several versions cannot tell which is in
    force (no rule reads the system time, T6): malformed input naming clock=."""
    for call in (
        lambda: sf.check_case(ORG, "premium", OWNER, scope="organization", catalog=CATALOG),
        lambda: sf.check_channel(ORG, "premium", OWNER, "chat", catalog=CATALOG),
    ):
        with pytest.raises(sf.InvalidInput) as error:
            call()
        assert (error.value.code, error.value.rule) == ("invalid_value", "K2")
        assert "clock=" in error.value.message


def test_k3_one_version_needs_no_instant() -> None:
    """A catalog of one version decides without reading any clock, given or not."""
    catalog = one(case_states={"premium"})
    assert check_org(OWNER, "premium", catalog).allowed
    assert sf.check_case(
        ORG, "premium", OWNER, scope="organization", catalog=catalog, clock=Unread()
    ).allowed
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=Unread(), catalog=catalog)
    flow.choose_organization()
    assert flow.enabled_events() == ["open_organization_support"]


def test_k1_case_calls_refuse_a_catalog_that_is_not_one() -> None:
    """V5: a policy or None where a catalog is expected is malformed input."""
    for wrong in (sf.Policy(), None):
        with pytest.raises(sf.InvalidInput):
            sf.check_case(ORG, "premium", OWNER, scope="organization", catalog=wrong)
        with pytest.raises(sf.InvalidInput):
            sf.CaseFlow(ORG, "premium", OWNER, clock=sf.FrozenClock(BOUNDARY), catalog=wrong)


QUICK = settings(max_examples=15, stateful_step_count=12, deadline=None, derandomize=True)


class _CasesUnderAPolicy(testing.CaseRules):
    catalog = one(org_case_roles=READERS, case_states={"premium"})


class _CasesWithoutTheOwner(testing.CaseRules):
    catalog = one(org_case_roles={sf.Role.ORG_READ_ONLY, sf.Role.ORG_MEMBER}, case_states=set())


@pytest.mark.parametrize("machine", [_CasesUnderAPolicy, _CasesWithoutTheOwner])
def test_k1_case_rules_run_under_a_catalog(machine: type[testing.CaseRules]) -> None:
    """The kit's CaseRules decides its checks and flows under its catalog and judges them by
    the rules as its version tunes them (org_case_roles, case_states)."""
    run_state_machine_as_test(machine, settings=QUICK)
