"""Checks of support requests and cases (RULES.md C1-C6): one facts object in, a violation or
None out, each named after the reason it reports."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import ClassVar, NamedTuple

import pendulum

from support_flows.errors import Reason, describe
from support_flows.guards.common import not_org_member
from support_flows.guards.registry import Registry
from support_flows.values import Member, Organization, PlanState, Role, Severity
from support_flows.values.policy import ATLAS_POLICY, CASE_STATES, Policy

__all__ = ["CASE", "CaseFacts"]


class _CaseFields(NamedTuple):
    org: Organization
    plan_state: PlanState
    actor: Member
    project_id: str | None = None
    now: pendulum.DateTime | None = None
    title: str | None = None
    severity: Severity | None = None
    new_case_id: Callable[[], str] | None = None
    policy: Policy = ATLAS_POLICY


class CaseFacts(_CaseFields):
    """What a case check reads: who asks, in which organization and plan, about which project.

    `project_id` None at project scope means "any project of the organization" (C1's question
    whether a case can be opened somewhere). The rest is what the submitted case records (C7).
    A named tuple: immutable, and built on every request at a tuple's cost.
    """

    __slots__ = ()
    section: ClassVar[str] = "C"
    purpose: ClassVar[str] = "open a support case"


CASE = Registry("case", "C")
CASE.add(not_org_member)


@CASE.check(Reason.PROJECT_NOT_FOUND, "C5")
def project_not_found(f: CaseFacts) -> str | None:
    """C5: a project-level case needs a project that belongs to the organization."""
    if f.project_id is None or f.org.has_project(f.project_id):
        return None
    return f"project {describe(f.project_id)} does not belong to organization {f.org.org_id!r}"


@CASE.check(Reason.ORG_OWNER_REQUIRED, "C3")
def org_owner_required(f: CaseFacts) -> str | None:
    """C3: an organization-level case needs one of the policy's organization case roles,
    Organization Owner under Atlas's (K1)."""
    roles = f.policy.org_case_roles
    if not f.actor.org_roles.isdisjoint(roles):
        return None
    if roles == _OWNER_ONLY:
        return (
            f"only an Organization Owner can open an organization-level case for "
            f"{f.org.org_id!r}; user {f.actor.user_id!r} is not one"
        )
    return (
        f"only a member holding {_either(roles)} can open an organization-level case for "
        f"{f.org.org_id!r}; user {f.actor.user_id!r} holds none of them"
    )


_OWNER_ONLY = frozenset({Role.ORG_OWNER})


@lru_cache(maxsize=64)
def _either(roles: frozenset[Role]) -> str:
    """The roles a check asks for, in Role's own order ("ORG_OWNER or ORG_READ_ONLY")."""
    return " or ".join(role.value for role in Role if role in roles)


@CASE.check(Reason.PROJECT_ROLE_REQUIRED, "C5")
def project_role_required(f: CaseFacts) -> str | None:
    """C5: a project-level case needs any role in that project, or the Organization Owner role.

    A role counts only in a project of the organization: for an unknown project only an
    Organization Owner passes (C6 then lists both reasons).
    """
    actor, org = f.actor, f.org
    if actor.is_org_owner:
        return None
    if f.project_id is None:
        if actor.in_some_project_of(org):
            return None
        return (
            f"user {actor.user_id!r} holds no role in any project of organization "
            f"{org.org_id!r} and is not its Organization Owner"
        )
    if org.has_project(f.project_id) and actor.roles_in_project(f.project_id):
        return None
    return (
        f"user {actor.user_id!r} holds no role in project {describe(f.project_id)} of organization "
        f"{org.org_id!r} and is not its Organization Owner"
    )


@CASE.check(Reason.ORG_HAS_NO_PROJECTS, "C4")
def org_has_no_projects(f: CaseFacts) -> str | None:
    """C4: an organization without projects cannot open a case at any level."""
    if f.org.projects:
        return None
    return f"organization {f.org.org_id!r} has no projects, so it cannot open a support case"


@CASE.check(Reason.PLAN_EXCLUDES_CASES, "C2")
def plan_excludes_cases(f: CaseFacts) -> str | None:
    """C2: a case needs a plan state whose entitlements include support cases: one of the
    policy's case states (P17 under K1: trial, developer and premium under Atlas's)."""
    if f.plan_state in f.policy.case_states:
        return None
    return (
        f"organization {f.org.org_id!r} is on the {f.plan_state.value!r} support plan, "
        f"which does not include support cases; {_which_do(f.policy.case_states)}"
    )


@lru_cache(maxsize=16)
def _which_do(states: frozenset[PlanState]) -> str:
    """The plan states that include cases, as a refusal names them."""
    if states == CASE_STATES:
        return "a developer or premium plan (or the trial) does"
    if not states:
        return "no plan state includes them under the policy in force"
    return " or ".join(repr(s.value) for s in PlanState if s in states) + " does"
