"""Pure checks of support requests and cases (RULES.md C1-C6): facts in, violation or None out.

Each check is named after the reason it reports, so a chart that carries it as ``unless=`` reads
"unless <reason>" and its diagram label is the reason code.
"""

from __future__ import annotations

from support_flows.errors import Reason, Violation
from support_flows.guards.plan import ENTITLEMENTS
from support_flows.values import Channel, Member, Organization, PlanState, Scope


def not_org_member(org: Organization, member: Member) -> Violation | None:
    """C1: chat, Developer Resources and the case channel are for members of the organization."""
    if member.is_member_of(org):
        return None
    return Violation(
        Reason.NOT_ORG_MEMBER,
        "C1",
        f"user {member.user_id!r} holds no role in organization {org.org_id!r} "
        "or in any of its projects",
    )


def plan_excludes_cases(org: Organization, plan_state: PlanState) -> Violation | None:
    """C2: a case needs a plan state whose entitlements (the P17 table) include support cases."""
    if Channel.SUPPORT_CASE in ENTITLEMENTS[plan_state]:
        return None
    return Violation(
        Reason.PLAN_EXCLUDES_CASES,
        "C2",
        f"organization {org.org_id!r} is on the {plan_state.value!r} support plan, "
        "which does not include support cases; a developer or premium plan (or the trial) does",
    )


def org_owner_required(org: Organization, member: Member) -> Violation | None:
    """C3: an organization-level case needs the Organization Owner role."""
    if member.is_org_owner:
        return None
    return Violation(
        Reason.ORG_OWNER_REQUIRED,
        "C3",
        f"only an Organization Owner can open an organization-level case for {org.org_id!r}; "
        f"user {member.user_id!r} is not one",
    )


def org_has_no_projects(org: Organization) -> Violation | None:
    """C4: an organization without projects cannot open a case at any level."""
    if org.projects:
        return None
    return Violation(
        Reason.ORG_HAS_NO_PROJECTS,
        "C4",
        f"organization {org.org_id!r} has no projects, so it cannot open a support case",
    )


def project_not_found(org: Organization, project_id: str) -> Violation | None:
    """C5: a project-level case needs a project that belongs to the organization."""
    if org.has_project(project_id):
        return None
    return Violation(
        Reason.PROJECT_NOT_FOUND,
        "C5",
        f"project {project_id!r} does not belong to organization {org.org_id!r}",
    )


def project_role_required(org: Organization, member: Member, project_id: str) -> Violation | None:
    """C5: a project-level case needs any role in that project, or the Organization Owner role.

    A role only counts in a project of the organization: when the project is not found, the
    requester passes only as Organization Owner, and anyone else is also reported here (C6 lists
    every failing check), whatever roles they hold under that id elsewhere.
    """
    if member.is_org_owner or (org.has_project(project_id) and member.roles_in_project(project_id)):
        return None
    return Violation(
        Reason.PROJECT_ROLE_REQUIRED,
        "C5",
        f"user {member.user_id!r} holds no role in project {project_id!r} of organization "
        f"{org.org_id!r} and is not its Organization Owner",
    )


def case_violations(
    org: Organization,
    plan_state: PlanState,
    member: Member,
    scope: Scope,
    project_id: str | None,
) -> tuple[Violation, ...]:
    """C6: every failing check of a case, in order: target, role, projects, plan.

    Membership (C1) is not a case check: a non-member fails the role check instead.
    """
    if scope is Scope.ORGANIZATION:
        found = [org_owner_required(org, member)]
    else:
        target = project_id or ""
        found = [project_not_found(org, target), project_role_required(org, member, target)]
    found += [org_has_no_projects(org), plan_excludes_cases(org, plan_state)]
    return tuple(v for v in found if v is not None)


def channel_violations(
    org: Organization, plan_state: PlanState, member: Member, channel: Channel
) -> tuple[Violation, ...]:
    """C1: membership for every channel; for ``support_case`` also the plan (C2)."""
    found = [not_org_member(org, member)]
    if channel is Channel.SUPPORT_CASE:
        found.append(plan_excludes_cases(org, plan_state))
    return tuple(v for v in found if v is not None)
