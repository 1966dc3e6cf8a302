"""Names and frozen values: roles, tiers, states, scopes, channels, organizations, members (in
`values.core`); a plan's and an order's values (`values.plan`, `values.consulting`); the events'
one declaration (`values.events`)."""

from __future__ import annotations

from support_flows.values.core import (
    BILLING_ROLES,
    ORG_ROLES,
    PROJECT_ROLES,
    Channel,
    Member,
    Organization,
    PlanState,
    Project,
    ProjectRoles,
    Role,
    RoleInput,
    Scope,
    Severity,
    Tier,
    parse,
)

__all__ = [
    "BILLING_ROLES",
    "ORG_ROLES",
    "PROJECT_ROLES",
    "Channel",
    "Member",
    "Organization",
    "PlanState",
    "Project",
    "ProjectRoles",
    "Role",
    "RoleInput",
    "Scope",
    "Severity",
    "Tier",
    "parse",
]
