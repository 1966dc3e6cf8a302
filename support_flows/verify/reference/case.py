"""An executable reference of support requests and cases, written from RULES.md (C1-C7, V3) alone.

A decision table over plain strings: who asks (their organization and project roles), in which
plan state, in an organization with which projects, about which scope. It shares nothing with
the case chart or its guards.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from support_flows.verify.reference.terms import current

__all__ = [
    "CASE_STATES",
    "DEFAULT_SEVERITY",
    "FLOW",
    "SCOPES",
    "SEVERITIES",
    "Refusal",
    "expected_case",
    "expected_channel",
    "expected_step",
    "named",
]

Refusal = tuple[str, str]
"""(reason code, rule id)."""

SEVERITIES = ("S1", "S2", "S3", "S4")
DEFAULT_SEVERITY = "S3"
"""C7: a case's severity when none is given."""
SCOPES = ("organization", "project")

CASE_STATES = frozenset({"trial", "developer", "premium"})
"""P17/C2: the plan states whose entitlements include support cases under Atlas's policy (a
policy's `case_states` replace them, K1)."""

FLOW: Mapping[tuple[str, str], str] = {
    ("start", "choose_organization"): "organization_chosen",
    ("organization_chosen", "open_organization_support"): "organization_support",
    ("organization_chosen", "choose_project"): "project_chosen",
    ("project_chosen", "open_project_support"): "project_support",
    ("organization_support", "submit"): "submitted",
    ("project_support", "submit"): "submitted",
}
"""C7's navigation: choose the organization, then its Support page or a project and Project
Support, then submit. Any other step is V3's event_not_allowed."""


def _owner(org_roles: Collection[str]) -> bool:
    return "ORG_OWNER" in org_roles


def _opens_org_cases(org_roles: Collection[str]) -> bool:
    """C3 under K1: a role of the policy's `org_case_roles`."""
    return bool(current().org_case_roles & set(org_roles))


def _in_some_project(
    project_roles: Mapping[str, Collection[str]], projects: Collection[str]
) -> bool:
    return any(roles and p in projects for p, roles in project_roles.items())


def expected_case(
    plan_state: str,
    org_roles: Collection[str],
    project_roles: Mapping[str, Collection[str]],
    projects: Collection[str],
    project_id: str | None,
) -> tuple[Refusal, ...]:
    """C2-C6: every failing check of a case at organization scope (`project_id` None) or for
    `project_id`, in the fixed order target, role, projects, plan."""
    reasons: list[Refusal] = []
    if project_id is None:
        if not _opens_org_cases(org_roles):
            reasons.append(("org_owner_required", "C3"))
    else:
        exists = project_id in projects
        if not exists:
            reasons.append(("project_not_found", "C5"))
        in_it = exists and bool(project_roles.get(project_id))
        if not (_owner(org_roles) or in_it):
            reasons.append(("project_role_required", "C5"))
    if not projects:
        reasons.append(("org_has_no_projects", "C4"))
    if plan_state not in current().case_states:
        reasons.append(("plan_excludes_cases", "C2"))
    return tuple(reasons)


def expected_channel(
    plan_state: str,
    org_roles: Collection[str],
    project_roles: Mapping[str, Collection[str]],
    projects: Collection[str],
    channel: str,
) -> tuple[Refusal, ...]:
    """C1: members only; for `support_case`, the reasons that hold at every scope."""
    if not (org_roles or _in_some_project(project_roles, projects)):
        return (("not_org_member", "C1"),)
    if channel != "support_case":
        return ()
    reasons: list[Refusal] = []
    in_some = _owner(org_roles) or _in_some_project(project_roles, projects)
    if not (in_some or _opens_org_cases(org_roles)):
        reasons.append(("project_role_required", "C5"))
    if not projects:
        reasons.append(("org_has_no_projects", "C4"))
    if plan_state not in current().case_states:
        reasons.append(("plan_excludes_cases", "C2"))
    return tuple(reasons)


def expected_step(
    at: str,
    event: str,
    plan_state: str,
    org_roles: Collection[str],
    project_roles: Mapping[str, Collection[str]],
    projects: Collection[str],
    project_id: str | None,
) -> tuple[str | None, tuple[Refusal, ...]]:
    """One step of the flow from `at`: (the next place, no reasons) or (None, the reasons).

    `project_id` is the project the step names (choose_project) or the one already chosen."""
    target = FLOW.get((at, event))
    if target is None:
        return None, (("event_not_allowed", "V3"),)
    if event == "choose_project" and project_id not in projects:
        return None, (("project_not_found", "C5"),)
    if event == "submit":
        where = project_id if at == "project_support" else None
        refused = expected_case(plan_state, org_roles, project_roles, projects, where)
        if refused:
            return None, refused
    return target, ()


def named(value: object, accepted: Collection[str]) -> Refusal | None:
    """V1: an unknown name (a severity, a scope) is malformed input; V5: so is a value that is
    not a name at all (None, a number, a bool)."""
    if isinstance(value, str):
        return None if value in accepted else ("invalid_value", "V1")
    return ("invalid_value", "V5")
