"""Example tests for support requests and cases (RULES.md C1-C7, V1), one rule at a time."""

from __future__ import annotations

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.case import SupportCase, check_case, check_channel, open_case
from support_flows.values.plan import BASIC_CHANNELS, PAID_CHANNELS

ORG = sf.Organization("org-1", projects=("p-1", "p-2"))
EMPTY_ORG = sf.Organization("org-empty")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER})
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY})
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_READ_ONLY}})
STRANGER = sf.Member("u-stranger")
OUTSIDER = sf.Member("u-outsider", project_roles={"p-elsewhere": {sf.Role.PROJECT_OWNER}})

FREE_STATES = ("basic", "cancelled")
CASE_STATES = ("trial", "developer", "premium")
NON_OWNER_ORG_ROLES = sorted(sf.Role(r) for r in sf.Role if r.is_org_role and r != "ORG_OWNER")
PROJECT_ROLES = sorted(sf.Role(r) for r in sf.Role if not r.is_org_role)


def codes(decision: sf.Decision) -> list[str]:
    return [str(r) for r in decision.reasons]


@pytest.fixture
def clock() -> sf.FrozenClock:
    return sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))


@pytest.mark.parametrize("state", FREE_STATES + CASE_STATES)
@pytest.mark.parametrize("channel", ["chat", sf.Channel.DEVELOPER_RESOURCES])
@pytest.mark.parametrize("member", [OWNER, READER, DEV], ids=lambda m: m.user_id)
def test_c1_chat_and_resources_open_to_any_member(
    state: str, channel: str, member: sf.Member
) -> None:
    """Chat and Developer Resources are allowed to any organization or project member, any plan."""
    assert check_channel(ORG, state, member, channel).allowed


@pytest.mark.parametrize("member", [STRANGER, OUTSIDER], ids=lambda m: m.user_id)
def test_c1_non_member_is_refused_chat(member: sf.Member) -> None:
    """Someone without a role in the organization or its projects gets not_org_member (C1)."""
    decision = check_channel(ORG, "premium", member, sf.Channel.CHAT)
    assert codes(decision) == ["not_org_member"]
    assert decision.reasons[0].rule == "C1"
    assert member.user_id in decision.reasons[0].message
    assert "org-1" in decision.reasons[0].message


def test_c1_support_case_channel_asks_whether_some_scope_would_pass() -> None:
    """Asking about support_case: membership alone for a non-member (C1), otherwise the reasons
    that hold at every scope (C5 role, C4 projects, C2 plan)."""
    assert check_channel(ORG, "premium", DEV, "support_case").allowed
    assert codes(check_channel(ORG, "basic", DEV, "support_case")) == ["plan_excludes_cases"]
    assert codes(check_channel(ORG, "cancelled", STRANGER, "support_case")) == ["not_org_member"]
    assert codes(check_channel(ORG, "trial", OUTSIDER, "support_case")) == ["not_org_member"]
    reader = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY})
    assert codes(check_channel(ORG, "premium", reader, "support_case")) == ["project_role_required"]
    empty = sf.Organization("org-empty")
    assert codes(check_channel(empty, "premium", OWNER, "support_case")) == ["org_has_no_projects"]


def test_c1_unknown_channel_is_invalid_input() -> None:
    """An unknown channel name is malformed input naming the value (V1)."""
    with pytest.raises(sf.InvalidInput, match="'phone'") as caught:
        check_channel(ORG, "premium", OWNER, "phone")
    assert caught.value.code == "invalid_value"
    assert caught.value.rule == "V1"


@pytest.mark.parametrize("state", FREE_STATES)
def test_c2_plan_without_cases_is_refused(state: str) -> None:
    """basic and cancelled do not include cases: plan_excludes_cases (C2), naming the state."""
    decision = check_case(ORG, state, OWNER, scope="organization")
    assert codes(decision) == ["plan_excludes_cases"]
    assert decision.reasons[0].rule == "C2"
    assert f"'{state}'" in decision.reasons[0].message
    assert "org-1" in decision.reasons[0].message


@pytest.mark.parametrize("state", CASE_STATES)
def test_c2_plans_with_cases_allow_them(state: str) -> None:
    """trial, developer and premium include cases (P17), at either scope."""
    assert check_case(ORG, state, OWNER, scope="organization").allowed
    assert check_case(ORG, sf.PlanState(state), DEV, scope="project", project_id="p-1").allowed


def test_c2_plan_state_can_be_a_support_plan(clock: sf.FrozenClock) -> None:
    """A SupportPlan is accepted for the plan state, and its current state is used."""
    plan = sf.SupportPlan(ORG, clock=clock)
    assert codes(check_case(ORG, plan, OWNER, scope="organization")) == ["plan_excludes_cases"]
    plan.change("premium", actor=OWNER)
    assert check_case(ORG, plan, OWNER, scope="organization").allowed
    case = open_case(ORG, plan, OWNER, scope="organization", title="Help", clock=clock)
    assert case.scope == "organization"


def test_c2_plan_state_can_be_anything_with_a_state() -> None:
    """Any object with a .state is read by duck typing (machines never import each other)."""

    class Plan:
        state = "developer"

    assert check_case(ORG, Plan(), OWNER, scope="organization").allowed


ENTITLEMENTS = {
    sf.PlanState.BASIC: BASIC_CHANNELS,
    sf.PlanState.TRIAL: PAID_CHANNELS,
    sf.PlanState.DEVELOPER: PAID_CHANNELS,
    sf.PlanState.PREMIUM: PAID_CHANNELS,
    sf.PlanState.CANCELLED: BASIC_CHANNELS,
}
"""P17's table as RULES.md writes it: the reference Atlas's policy is checked against."""


def test_c2_reads_the_policys_p17_states() -> None:
    """C2 reads the policy's case_states (K1), not a copy: Atlas's policy gives the P17 table
    (ENTITLEMENTS), and a policy without developer refuses developer's cases."""
    for state, channels in ENTITLEMENTS.items():
        assert sf.Policy().entitlements(state) == channels
    premium_only = sf.Catalog([sf.Policy(case_states={"premium"})])
    assert check_case(ORG, "premium", OWNER, scope="organization", catalog=premium_only).allowed
    refused = check_case(ORG, "developer", OWNER, scope="organization", catalog=premium_only)
    assert codes(refused) == ["plan_excludes_cases"]
    assert not check_channel(ORG, "developer", OWNER, "support_case", catalog=premium_only).allowed
    assert ENTITLEMENTS[sf.PlanState.PREMIUM] == PAID_CHANNELS


def test_c2_unknown_plan_state_is_invalid_input() -> None:
    """An unknown plan state name is malformed input naming the value and the accepted ones."""
    with pytest.raises(sf.InvalidInput, match=r"'gold'.*basic, trial") as caught:
        check_case(ORG, "gold", OWNER, scope="organization")
    assert caught.value.code == "invalid_value"


def test_c3_org_scope_needs_owner() -> None:
    """Only the Organization Owner may open an organization-level case (C3)."""
    assert check_case(ORG, "premium", OWNER, scope="organization").allowed
    for role in NON_OWNER_ORG_ROLES:
        member = sf.Member("u-1", org_roles={role})
        decision = check_case(ORG, "premium", member, scope="organization")
        assert codes(decision) == ["org_owner_required"], role
        assert decision.reasons[0].rule == "C3"
        assert "'u-1'" in decision.reasons[0].message


def test_c3_project_owner_cannot_open_an_org_case() -> None:
    """A project role, even Project Owner, does not allow an organization-level case."""
    member = sf.Member("u-p", project_roles={"p-1": {"PROJECT_OWNER"}, "p-2": {"PROJECT_OWNER"}})
    assert codes(check_case(ORG, "premium", member, scope="organization")) == ["org_owner_required"]


@pytest.mark.parametrize(
    ("scope", "project_id"), [("organization", None), ("project", "p-1")], ids=["org", "project"]
)
def test_c4_org_without_projects_cannot_open_a_case(scope: str, project_id: str | None) -> None:
    """An organization with no projects is refused at any scope: org_has_no_projects (C4)."""
    decision = check_case(EMPTY_ORG, "premium", OWNER, scope=scope, project_id=project_id)
    assert "org_has_no_projects" in codes(decision)
    violation = next(r for r in decision.reasons if r == "org_has_no_projects")
    assert violation.rule == "C4"
    assert "org-empty" in violation.message


def test_c5_project_must_belong_to_the_org() -> None:
    """A project-level case for a project outside the organization: project_not_found (C5)."""
    decision = check_case(ORG, "premium", OWNER, scope="project", project_id="p-9")
    assert codes(decision) == ["project_not_found"]
    assert decision.reasons[0].rule == "C5"
    assert "'p-9'" in decision.reasons[0].message
    assert "'org-1'" in decision.reasons[0].message


@pytest.mark.parametrize("role", PROJECT_ROLES)
def test_c5_any_role_in_the_project_suffices(role: sf.Role) -> None:
    """Any project role in that project allows a project-level case (C5)."""
    member = sf.Member("u-1", project_roles={"p-2": {role}})
    assert check_case(ORG, "developer", member, scope="project", project_id="p-2").allowed


def test_c5_org_owner_needs_no_project_role() -> None:
    """The Organization Owner may open a case for any project of the organization (C5)."""
    assert check_case(ORG, "developer", OWNER, scope="project", project_id="p-2").allowed


@pytest.mark.parametrize("member", [DEV, READER, STRANGER], ids=lambda m: m.user_id)
def test_c5_no_role_in_that_project_is_refused(member: sf.Member) -> None:
    """A role in another project, or only a non-owner org role, is project_role_required (C5)."""
    decision = check_case(ORG, "developer", member, scope="project", project_id="p-2")
    assert codes(decision) == ["project_role_required"]
    assert decision.reasons[0].rule == "C5"
    assert f"'{member.user_id}'" in decision.reasons[0].message
    assert "'p-2'" in decision.reasons[0].message


def test_c5_unknown_project_also_fails_the_role_check_unless_owner() -> None:
    """For a project outside the org, roles held under that id do not count; only Owner passes."""
    assert codes(
        check_case(ORG, "premium", OUTSIDER, scope="project", project_id="p-elsewhere")
    ) == [
        "project_not_found",
        "project_role_required",
    ]
    assert codes(check_case(ORG, "premium", OWNER, scope="project", project_id="p-elsewhere")) == [
        "project_not_found"
    ]


def test_c6_every_failing_check_in_fixed_order() -> None:
    """All failing checks are listed: target, role, projects, plan; the first is primary (C6)."""
    decision = check_case(EMPTY_ORG, "basic", DEV, scope="project", project_id="p-1")
    assert codes(decision) == [
        "project_not_found",
        "project_role_required",
        "org_has_no_projects",
        "plan_excludes_cases",
    ]
    assert [r.rule for r in decision.reasons] == ["C5", "C5", "C4", "C2"]
    assert decision.code == "project_not_found"
    assert not decision


def test_c6_org_scope_order_is_role_projects_plan() -> None:
    """At organization scope the order is role, projects, plan (C6)."""
    decision = check_case(EMPTY_ORG, "cancelled", READER, scope="organization")
    assert codes(decision) == ["org_owner_required", "org_has_no_projects", "plan_excludes_cases"]


def test_c6_not_org_member_is_not_a_case_reason() -> None:
    """A non-member asking for a case fails the role check, never not_org_member (C6)."""
    for scope, project_id in (("organization", None), ("project", "p-1")):
        decision = check_case(ORG, "premium", STRANGER, scope=scope, project_id=project_id)
        assert "not_org_member" not in codes(decision)
        assert len(codes(decision)) == 1


def test_c6_open_case_refusal_carries_the_same_reasons(clock: sf.FrozenClock) -> None:
    """A refused open_case raises Refused with exactly the reasons check_case lists (C6)."""
    decision = check_case(EMPTY_ORG, "basic", DEV, scope="project", project_id="p-1")
    with pytest.raises(sf.Refused) as caught:
        open_case(
            EMPTY_ORG, "basic", DEV, scope="project", project_id="p-1", title="t", clock=clock
        )
    assert caught.value.to_dict()["reasons"] == decision.to_dict()["reasons"]
    assert caught.value.code == "project_not_found"
    assert caught.value.rule == "C5"


def test_c7_case_records_what_was_opened(clock: sf.FrozenClock) -> None:
    """An opened case records org, scope, project, requester, clock instant, title, severity."""
    clock.advance(hours=5)
    case = open_case(
        ORG,
        "premium",
        DEV,
        scope="project",
        project_id="p-1",
        title="Slow queries",
        severity="S2",
        clock=clock,
        case_id="case-42",
    )
    assert case == SupportCase(
        "case-42", "org-1", "project", "p-1", "u-dev", clock.now(), "Slow queries", "S2"
    )
    assert case.scope is sf.Scope.PROJECT
    assert case.severity is sf.Severity.S2
    assert case.opened_at == pendulum.datetime(2026, 3, 14, 15, tz="UTC")


def test_c7_org_case_has_no_project_and_severity_defaults_to_s3(clock: sf.FrozenClock) -> None:
    """An organization-level case has no project, and severity S3 unless told otherwise."""
    case = open_case(ORG, "trial", OWNER, scope=sf.Scope.ORGANIZATION, title="Billing", clock=clock)
    assert case.project_id is None
    assert case.severity == "S3"
    assert case.requester == "u-owner"
    assert case.case_id.startswith("case-")


def test_c7_case_ids_come_from_the_factory_once(clock: sf.FrozenClock) -> None:
    """A case id factory is called once per opened case; random ids differ between cases."""
    issued = iter(["c-1", "c-2"])
    first = open_case(
        ORG,
        "premium",
        OWNER,
        scope="organization",
        title="a",
        clock=clock,
        case_id=lambda: next(issued),
    )
    assert first.case_id == "c-1"
    a = open_case(ORG, "premium", OWNER, scope="organization", title="a", clock=clock)
    b = open_case(ORG, "premium", OWNER, scope="organization", title="a", clock=clock)
    assert a.case_id != b.case_id


def test_c7_case_is_frozen_and_serialisable(clock: sf.FrozenClock) -> None:
    """A SupportCase cannot be changed and turns into a JSON-ready dict."""
    case = open_case(
        ORG, "premium", OWNER, scope="organization", title="t", clock=clock, case_id="c-1"
    )
    with pytest.raises(AttributeError):
        case.title = "other"  # type: ignore[misc]
    assert case.to_dict() == {
        "case_id": "c-1",
        "org_id": "org-1",
        "scope": "organization",
        "project_id": None,
        "requester": "u-owner",
        "opened_at": "2026-03-14T10:00:00+00:00",
        "title": "t",
        "severity": "S3",
    }


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"scope": "team"}, "'team'"),
        ({"scope": "project"}, "None"),
        ({"scope": "project", "project_id": ""}, "''"),
        ({"scope": "organization", "project_id": "p-1"}, "'p-1'"),
        ({"scope": "organization", "severity": "S5"}, "'S5'"),
        ({"scope": "organization", "title": "  "}, "'  '"),
    ],
    ids=["scope", "no-project", "empty-project", "org-with-project", "severity", "title"],
)
def test_v1_malformed_case_requests_are_invalid_input(
    kwargs: dict[str, str], named: str, clock: sf.FrozenClock
) -> None:
    """Malformed requests raise InvalidInput (a ValueError) naming the bad value: unknown names
    are V1, malformed identifiers and text V5."""
    request = {"title": "Help", **kwargs}
    with pytest.raises(sf.InvalidInput) as caught:
        open_case(ORG, "basic", STRANGER, clock=clock, **request)
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == "invalid_value"
    assert caught.value.rule in ("V1", "V5")
    assert named in caught.value.message


@pytest.mark.parametrize(
    ("scope", "project_id"), [("team", None), ("project", None), ("organization", "p-1")]
)
def test_v1_check_case_refuses_malformed_input_too(scope: str, project_id: str | None) -> None:
    """check_case answers business refusals but raises InvalidInput for malformed input (V1)."""
    with pytest.raises(sf.InvalidInput):
        check_case(ORG, "premium", OWNER, scope=scope, project_id=project_id)
