"""Exhaustive tables: every plan state x requester x projects x target, against a reference.

The reference functions below restate RULES.md C1-C6 from scratch, with plain strings; they share
nothing with the guards.
"""

from __future__ import annotations

import itertools

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.case import check_case, check_channel, open_case

PLAN_STATES = ("basic", "trial", "developer", "premium", "cancelled")
ORG_ROLES = (
    "ORG_OWNER",
    "ORG_PROJECT_CREATOR",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_READ_ONLY",
    "ORG_MEMBER",
)
HOLDERS = ("no role", *ORG_ROLES, "role in p-1", "role in p-2")
PROJECTS = ("none", "some")
TARGETS = ("organization", "p-1", "p-9")
CHANNELS = ("chat", "developer_resources", "support_case")


def organization(projects: str) -> sf.Organization:
    return sf.Organization("org-1", projects=("p-1", "p-2") if projects == "some" else ())


def member(holder: str) -> sf.Member:
    if holder in ORG_ROLES:
        return sf.Member("u-1", org_roles={holder})
    if holder == "role in p-1":
        return sf.Member("u-1", project_roles={"p-1": {"PROJECT_READ_ONLY"}})
    if holder == "role in p-2":
        return sf.Member("u-1", project_roles={"p-2": {"PROJECT_OWNER"}})
    return sf.Member("u-1")


def expected_case(state: str, holder: str, projects: str, target: str) -> list[tuple[str, str]]:
    """C2-C6 by hand: (code, rule) of every failing check, target, role, projects, plan."""
    owner = holder == "ORG_OWNER"
    reasons = []
    if target == "organization":
        if not owner:
            reasons.append(("org_owner_required", "C3"))
    else:
        exists = projects == "some" and target in ("p-1", "p-2")
        if not exists:
            reasons.append(("project_not_found", "C5"))
        if not owner and not (exists and holder == f"role in {target}"):
            reasons.append(("project_role_required", "C5"))
    if projects == "none":
        reasons.append(("org_has_no_projects", "C4"))
    if state not in ("trial", "developer", "premium"):
        reasons.append(("plan_excludes_cases", "C2"))
    return reasons


def expected_channel(state: str, holder: str, projects: str, channel: str) -> list[tuple[str, str]]:
    """C1 by hand: membership for every channel; for support_case, the reasons that hold at every
    scope: a role nowhere, no projects, a plan without cases."""
    in_a_project = holder.startswith("role in") and projects == "some"
    if not (holder in ORG_ROLES or in_a_project):
        return [("not_org_member", "C1")]
    if channel != "support_case":
        return []
    reasons = []
    if holder != "ORG_OWNER" and not in_a_project:
        reasons.append(("project_role_required", "C5"))
    if projects == "none":
        reasons.append(("org_has_no_projects", "C4"))
    if state in ("basic", "cancelled"):
        reasons.append(("plan_excludes_cases", "C2"))
    return reasons


def pairs(reasons: tuple[sf.Violation, ...]) -> list[tuple[str, str]]:
    return [(str(r), r.rule) for r in reasons]


CASES = list(itertools.product(PLAN_STATES, HOLDERS, PROJECTS, TARGETS))


@pytest.mark.parametrize(("state", "holder", "projects", "target"), CASES)
def test_c6_case_table(state: str, holder: str, projects: str, target: str) -> None:
    """check_case and open_case both give exactly the reference reasons, in C6 order."""
    org, requester = organization(projects), member(holder)
    scope, project_id = ("organization", None) if target == "organization" else ("project", target)
    want = expected_case(state, holder, projects, target)

    decision = check_case(org, state, requester, scope=scope, project_id=project_id)
    assert pairs(decision.reasons) == want
    assert decision.allowed == (not want)

    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    if want:
        with pytest.raises(sf.Refused) as caught:
            open_case(
                org, state, requester, scope=scope, project_id=project_id, title="t", clock=clock
            )
        assert pairs(caught.value.reasons) == want
    else:
        case = open_case(
            org, state, requester, scope=scope, project_id=project_id, title="t", clock=clock
        )
        assert (case.scope, case.project_id) == (scope, project_id)


@pytest.mark.parametrize(
    ("state", "holder", "projects", "channel"),
    list(itertools.product(PLAN_STATES, HOLDERS, PROJECTS, CHANNELS)),
)
def test_c1_channel_table(state: str, holder: str, projects: str, channel: str) -> None:
    """check_channel gives exactly the reference reasons for every channel (C1, C2)."""
    decision = check_channel(organization(projects), state, member(holder), channel)
    assert pairs(decision.reasons) == expected_channel(state, holder, projects, channel)


@pytest.mark.parametrize(
    ("state", "holder", "projects"), list(itertools.product(PLAN_STATES, HOLDERS, PROJECTS))
)
def test_c1_support_case_is_allowed_exactly_where_some_scope_passes(
    state: str, holder: str, projects: str
) -> None:
    """C1: check_channel(support_case) allows exactly when check_case allows the organization
    scope or one of the organization's projects."""
    org, requester = organization(projects), member(holder)
    scopes = [check_case(org, state, requester, scope="organization")] + [
        check_case(org, state, requester, scope="project", project_id=p) for p in org.project_ids
    ]
    decision = check_channel(org, state, requester, "support_case")
    assert decision.allowed == any(d.allowed for d in scopes)


def test_c1_support_case_costs_linear_time_in_roles_and_projects() -> None:
    """C1 with N project roles against N projects answers quickly (linear, not quadratic)."""
    n = 20_000
    org = sf.Organization("org-big", projects=[f"p-{i}" for i in range(n)])
    roles = {f"elsewhere-{i}": {"PROJECT_OWNER"} for i in range(n)}
    requester = sf.Member("u-big", project_roles=roles, org_roles={"ORG_MEMBER"})
    decision = check_channel(org, "premium", requester, "support_case")
    assert [str(r) for r in decision.reasons] == ["project_role_required"]


def test_c6_case_table_covers_the_whole_domain() -> None:
    """The table is the full product: 5 states x 9 requesters x 2 project sets x 3 targets."""
    assert len(CASES) == 5 * 9 * 2 * 3
    assert len(HOLDERS) == 1 + len([r for r in sf.Role if r.is_org_role]) + 2
