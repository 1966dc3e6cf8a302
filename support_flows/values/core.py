"""Roles, tiers, states, scopes, channels, organizations, members: the core names and values."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import attrs

from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import email, flag, identifier, items, of_type
from support_flows.localtime import zone


class Role(enum.StrEnum):
    """Organization and project roles (Atlas names)."""

    ORG_OWNER = "ORG_OWNER"
    ORG_PROJECT_CREATOR = "ORG_PROJECT_CREATOR"
    ORG_BILLING_ADMIN = "ORG_BILLING_ADMIN"
    ORG_BILLING_READ_ONLY = "ORG_BILLING_READ_ONLY"
    ORG_READ_ONLY = "ORG_READ_ONLY"
    ORG_MEMBER = "ORG_MEMBER"
    PROJECT_OWNER = "PROJECT_OWNER"
    PROJECT_CLUSTER_MANAGER = "PROJECT_CLUSTER_MANAGER"
    PROJECT_DATA_ACCESS_ADMIN = "PROJECT_DATA_ACCESS_ADMIN"
    PROJECT_DATA_ACCESS_READ_WRITE = "PROJECT_DATA_ACCESS_READ_WRITE"
    PROJECT_DATA_ACCESS_READ_ONLY = "PROJECT_DATA_ACCESS_READ_ONLY"
    PROJECT_READ_ONLY = "PROJECT_READ_ONLY"

    @property
    def is_org_role(self) -> bool:
        return self.value.startswith("ORG_")


ORG_ROLES = frozenset(r for r in Role if r.is_org_role)
PROJECT_ROLES = frozenset(r for r in Role if not r.is_org_role)
BILLING_ROLES = frozenset({Role.ORG_OWNER, Role.ORG_BILLING_ADMIN})


class Tier(enum.StrEnum):
    """Plans a user can name (P)."""

    BASIC = "basic"
    DEVELOPER = "developer"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"


class PlanState(enum.StrEnum):
    """States of the support plan lifecycle (P)."""

    BASIC = "basic"
    TRIAL = "trial"
    DEVELOPER = "developer"
    PREMIUM = "premium"
    CANCELLED = "cancelled"


class Scope(enum.StrEnum):
    """Where a support case is opened (C)."""

    ORGANIZATION = "organization"
    PROJECT = "project"


class Channel(enum.StrEnum):
    """Ways to get support (C, P17)."""

    CHAT = "chat"
    DEVELOPER_RESOURCES = "developer_resources"
    SUPPORT_CASE = "support_case"


class Severity(enum.StrEnum):
    """Severity of a support case (C7)."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"


E = TypeVar("E", bound=enum.Enum)


def parse(kind: type[E], value: object, what: str | None = None) -> E:
    """`value` as a member of `kind`; an unknown name is refused with `invalid_value` (V1)."""
    if type(value) is kind:
        return value
    if type(value) is str:
        member = kind._value2member_map_.get(value)
        if member is not None:
            return member  # type: ignore[return-value]
    accepted = ", ".join(str(m.value) for m in kind)
    label = what or kind.__name__.lower()
    raise invalid(
        Reason.INVALID_VALUE, "V1", f"unknown {label} {describe(value)}; accepted: {accepted}"
    )


RoleInput = Iterable[Role | str] | Role | str | None


def _roles_of(kind: frozenset[Role], label: str, values: object) -> frozenset[Role]:
    if values is None:
        return frozenset()
    if type(values) is str or type(values) is Role:
        values = (values,)
    given = items(values, f"roles held as {label}", "a set of role names")
    roles = frozenset(parse(Role, v, "role") for v in given)
    if wrong := sorted(roles - kind):
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"{', '.join(wrong)} cannot be held as {label}; accepted: " + ", ".join(sorted(kind)),
        )
    return roles


def _org_roles(values: RoleInput) -> frozenset[Role]:
    return _roles_of(ORG_ROLES, "an organization role", values)


class ProjectRoles(Mapping[str, frozenset[Role]]):
    """A read-only, hashable mapping of project id to the roles held there."""

    __slots__ = ("_roles",)

    def __init__(self, roles: Mapping[str, frozenset[Role]]) -> None:
        self._roles = dict(roles)

    def __getitem__(self, project_id: str) -> frozenset[Role]:
        return self._roles[project_id]

    def get(self, project_id: str, default: Any = None) -> Any:
        return self._roles.get(project_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._roles)

    def __len__(self) -> int:
        return len(self._roles)

    def __hash__(self) -> int:
        return hash(frozenset(self._roles.items()))

    def __repr__(self) -> str:
        return repr(self._roles)


def _project_roles(
    values: Mapping[str, RoleInput] | None,
) -> Mapping[str, frozenset[Role]]:
    if values is None:
        return ProjectRoles({})
    held = {
        identifier(p, "a project id in project_roles"): _roles_of(
            PROJECT_ROLES, "a project role", r
        )
        for p, r in _pairs(values)
    }
    return ProjectRoles({project: roles for project, roles in held.items() if roles})


def _pairs(values: object) -> tuple[tuple[object, object], ...]:
    """The (project id, roles) pairs of a mapping, read once; V5 if it is none or reading fails."""
    if type(values) is dict:
        return tuple(values.items())
    if issubclass(type(values), Mapping):
        try:
            return tuple((key, value) for key, value in values.items())  # type: ignore[attr-defined]
        except Exception:  # a mapping of the host's own whose reading raises
            pass
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"project_roles must map project ids to roles, got {describe(values)}",
    )


def _required_id(kind: str) -> Callable[[object, attrs.Attribute[str], object], None]:
    def check(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
        identifier(value, f"{kind} id")

    return check


def _flag(name: str) -> Callable[[object, attrs.Attribute[bool], object], None]:
    def check(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
        flag(value, name)

    return check


def _timezone(name: str) -> str:
    zone(name)
    return name


def _email(value: object) -> str | None:
    return None if value is None else email(value, "a member's email")


@attrs.frozen
class Project:
    """A project of an organization."""

    project_id: str = attrs.field(validator=_required_id("project"))


def _projects(values: object) -> tuple[Project, ...]:
    if type(values) is tuple and not values:
        return ()
    if type(values) is str or issubclass(type(values), Project):
        values = (values,)
    given = items(values, "projects", "a sequence of Project or project ids")
    projects = tuple(
        of_type(v, Project, "a project") if issubclass(type(v), Project) else Project(v)  # type: ignore[arg-type]
        for v in given
    )
    if len({p.project_id for p in projects}) != len(projects):
        twice = sorted(i for i, n in Counter(p.project_id for p in projects).items() if n > 1)
        raise invalid(
            Reason.INVALID_VALUE,
            "V5",
            f"projects must have distinct ids; repeated: {describe(twice)}",
        )
    return projects


@attrs.frozen
class Organization:
    """An organization: its projects, billing timezone (T2) and cross-org billing flag (P3)."""

    org_id: str = attrs.field(validator=_required_id("organization"))
    projects: tuple[Project, ...] = attrs.field(default=(), converter=_projects)
    billing_timezone: str = attrs.field(default="UTC", converter=_timezone)
    cross_org_billing: bool = attrs.field(default=False, validator=_flag("cross_org_billing"))
    project_ids: frozenset[str] = attrs.field(init=False, repr=False, eq=False, hash=False)
    """The ids of `projects`, as a set."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "project_ids", frozenset(p.project_id for p in self.projects))

    def has_project(self, project_id: object) -> bool:
        return type(project_id) is str and project_id in self.project_ids


@attrs.frozen
class Member:
    """One person's roles in the organization being acted on (project roles keyed by project id)."""

    user_id: str = attrs.field(validator=_required_id("user"))
    org_roles: frozenset[Role] = attrs.field(default=frozenset(), converter=_org_roles)
    project_roles: Mapping[str, frozenset[Role]] = attrs.field(
        factory=dict, converter=_project_roles
    )
    email: str | None = attrs.field(default=None, converter=_email)
    is_org_owner: bool = attrs.field(init=False, eq=False, repr=False)
    """Holds the Organization Owner role (C3, P1)."""
    has_billing_role: bool = attrs.field(init=False, eq=False, repr=False)
    """Holds Organization Owner or Organization Billing Admin (P1, F1 under Atlas's policy)."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "is_org_owner", Role.ORG_OWNER in self.org_roles)
        object.__setattr__(self, "has_billing_role", bool(self.org_roles & BILLING_ROLES))

    def holds_any(self, roles: frozenset[Role]) -> bool:
        """Holds one of the organization roles `roles` (a policy's billing or case roles, K1)."""
        return not self.org_roles.isdisjoint(roles)

    def roles_in_project(self, project_id: str) -> frozenset[Role]:
        if type(project_id) is not str:
            return frozenset()
        return self.project_roles.get(project_id, frozenset())

    def is_member_of(self, org: Organization) -> bool:
        """Holds an organization role, or a role in one of the organization's projects (C1)."""
        return bool(self.org_roles) or self.in_some_project_of(of_type(org, Organization, "org"))

    def in_some_project_of(self, org: Organization) -> bool:
        """Holds a role in at least one of the organization's projects (linear in the roles)."""
        ids = of_type(org, Organization, "org").project_ids
        return any(p in ids for p in self.project_roles)
