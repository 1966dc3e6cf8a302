"""Support requests and case creation (RULES.md C1-C7, V1, V3): the seed's navigation as a chart.

`check_channel` and `check_case` answer from the pure guards without building a chart;
`open_case` drives a `CaseFlow`, whose chart carries the same guards, so both always agree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import pendulum
from statemachine import State

from support_flows.clock import Clock
from support_flows.errors import Decision, Reason, Refused, invalid
from support_flows.guards.case import (
    case_violations,
    channel_violations,
    org_has_no_projects,
    org_owner_required,
    plan_excludes_cases,
    project_not_found,
    project_role_required,
)
from support_flows.localtime import instant
from support_flows.machines._base import BaseChart
from support_flows.values import Channel, Member, Organization, PlanState, Scope, Severity, parse

__all__ = ["CaseChart", "CaseFlow", "SupportCase", "check_case", "check_channel", "open_case"]


class HasPlanState(Protocol):
    """Anything that exposes a plan state name, such as a `SupportPlan`."""

    @property
    def state(self) -> str: ...


PlanStateInput = PlanState | str | HasPlanState
CaseIdSource = str | Callable[[], str] | None


def plan_state_of(plan: PlanStateInput) -> PlanState:
    """The plan state named by `plan`, or by its current ``.state``; unknown names are V1."""
    value = plan if isinstance(plan, str) else getattr(plan, "state", plan)
    return parse(PlanState, value, "plan state")


def _project_id(project_id: object) -> str:
    if not isinstance(project_id, str) or not project_id:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"a project-level case needs a non-empty project_id, got {project_id!r}",
        )
    return project_id


def _target(scope: Scope | str, project_id: str | None) -> str | None:
    """The case's project (None at organization scope); a project id that does not fit the
    scope is refused (V1)."""
    if parse(Scope, scope, "scope") is Scope.PROJECT:
        return _project_id(project_id)
    if project_id is not None:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"an organization-level case takes no project_id, got {project_id!r}",
        )
    return None


def _title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise invalid(Reason.INVALID_VALUE, "V1", f"a case needs a non-empty title, got {title!r}")
    return title


def _random_case_id() -> str:
    return f"case-{uuid.uuid4().hex}"


def _case_ids(source: CaseIdSource) -> Callable[[], str]:
    if source is None:
        return _random_case_id
    if callable(source):
        return source
    if isinstance(source, str) and source:
        fixed = source
        return lambda: fixed
    raise invalid(
        Reason.INVALID_VALUE,
        "V1",
        f"case_id must be a non-empty string or a factory, got {source!r}",
    )


def _scope(value: Scope | str) -> Scope:
    return parse(Scope, value, "scope")


def _severity(value: Severity | str) -> Severity:
    return parse(Severity, value, "severity")


def _opened_at(value: dt.datetime) -> pendulum.DateTime:
    return instant(value, "opened_at")


@attrs.frozen
class SupportCase:
    """An opened support case (C7)."""

    case_id: str
    org_id: str
    scope: Scope = attrs.field(converter=_scope)
    project_id: str | None
    requester: str
    opened_at: pendulum.DateTime = attrs.field(converter=_opened_at)
    title: str
    severity: Severity = attrs.field(default=Severity.S3, converter=_severity)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "case_id": self.case_id,
            "org_id": self.org_id,
            "scope": self.scope.value,
            "project_id": self.project_id,
            "requester": self.requester,
            "opened_at": self.opened_at.isoformat(),
            "title": self.title,
            "severity": self.severity.value,
        }


# Validators: each runs before its transition's guards and, when one of them fails, refuses with
# every failing check of the case (C6), exactly as `check_case` answers.


def refuse_unknown_project(
    org: Organization, plan_state: PlanState, member: Member, project_id: str
) -> None:
    if project_not_found(org, project_id) is not None:
        raise Refused(case_violations(org, plan_state, member, Scope.PROJECT, project_id))


def refuse_organization_case(org: Organization, plan_state: PlanState, member: Member) -> None:
    if found := case_violations(org, plan_state, member, Scope.ORGANIZATION, None):
        raise Refused(found)


def refuse_project_case(
    org: Organization, plan_state: PlanState, member: Member, project_id: str
) -> None:
    if found := case_violations(org, plan_state, member, Scope.PROJECT, project_id):
        raise Refused(found)


@attrs.define
class _Draft:
    """The chart's model: where the case is being opened."""

    state: str | None = None
    project_id: str | None = None


class CaseChart(BaseChart):
    """The seed's navigation: choose the organization, then its Support page or a project and
    Project Support, then submit the case."""

    start = State(initial=True)
    organization_chosen = State()
    organization_support = State()
    project_chosen = State()
    project_support = State()
    submitted = State(final=True)

    choose_organization = start.to(organization_chosen)
    open_organization_support = organization_chosen.to(organization_support)
    choose_project = organization_chosen.to(
        project_chosen, unless=[project_not_found], validators=[refuse_unknown_project]
    )
    open_project_support = project_chosen.to(project_support)
    submit = organization_support.to(
        submitted,
        unless=[org_owner_required, org_has_no_projects, plan_excludes_cases],
        validators=[refuse_organization_case],
    ) | project_support.to(
        submitted,
        unless=[project_role_required, org_has_no_projects, plan_excludes_cases],
        validators=[refuse_project_case],
    )

    def on_choose_project(self, project_id: str) -> None:
        self.model.project_id = project_id


class CaseFlow:
    """The step-by-step flow behind `open_case`. A refused or out-of-order step changes nothing.

    Given a `SupportPlan` (anything with ``.state``), each step reads its state then, so a flow
    left open sees the plan as it is when the step is taken (P16, T7).
    """

    def __init__(
        self,
        org: Organization,
        plan_state: PlanStateInput,
        member: Member,
        *,
        clock: Clock,
        case_id: CaseIdSource = None,
    ) -> None:
        plan_state_of(plan_state)
        self.org = org
        self.plan = plan_state
        self.member = member
        self.clock = clock
        self.case: SupportCase | None = None
        self._new_case_id = _case_ids(case_id)
        self._draft = _Draft()
        self.chart = CaseChart(self._draft, clock=clock)

    @property
    def state(self) -> str:
        return self.chart.state_name

    @property
    def scope(self) -> Scope | None:
        """None until the flow has chosen between the organization and a project."""
        if self._draft.project_id is not None:
            return Scope.PROJECT
        if self.state in (CaseChart.start.id, CaseChart.organization_chosen.id):
            return None
        return Scope.ORGANIZATION

    @property
    def project_id(self) -> str | None:
        return self._draft.project_id

    @property
    def plan_state(self) -> PlanState:
        return plan_state_of(self.plan)

    def _facts(self, project_id: str | None = None) -> dict[str, Any]:
        return {
            "org": self.org,
            "plan_state": self.plan_state,
            "member": self.member,
            "project_id": self._draft.project_id if project_id is None else project_id,
        }

    def enabled_events(self, project_id: str | None = None) -> list[str]:
        """The steps that would pass from here, guards included; ``choose_project`` is listed
        only when asked about a `project_id` of the organization."""
        facts = self._facts(project_id)
        return [str(event.id) for event in self.chart.enabled_events(**facts)]

    def choose_organization(self) -> None:
        self.chart.fire("choose_organization", **self._facts())

    def open_organization_support(self) -> None:
        self.chart.fire("open_organization_support", **self._facts())

    def choose_project(self, project_id: str) -> None:
        self.chart.fire("choose_project", **self._facts(_project_id(project_id)))

    def open_project_support(self) -> None:
        self.chart.fire("open_project_support", **self._facts())

    def submit(self, *, title: str, severity: Severity | str = Severity.S3) -> SupportCase:
        """Open the case where the flow stands (C7); refused with every failing check (C6)."""
        title = _title(title)
        level = parse(Severity, severity, "severity")
        now = self.clock.now()
        self.chart.fire("submit", now=now, **self._facts())
        self.case = SupportCase(
            case_id=self._new_case_id(),
            org_id=self.org.org_id,
            scope=Scope.ORGANIZATION if self._draft.project_id is None else Scope.PROJECT,
            project_id=self._draft.project_id,
            requester=self.member.user_id,
            opened_at=now,
            title=title,
            severity=level,
        )
        return self.case


def check_channel(
    org: Organization, plan_state: PlanStateInput, member: Member, channel: Channel | str
) -> Decision:
    """C1: may `member` use `channel`? For ``support_case``: membership and plan (C1, C2)."""
    which = parse(Channel, channel, "channel")
    return Decision(channel_violations(org, plan_state_of(plan_state), member, which))


def check_case(
    org: Organization,
    plan_state: PlanStateInput,
    member: Member,
    *,
    scope: Scope | str,
    project_id: str | None = None,
) -> Decision:
    """C2-C6: may `member` open a case here? Every failing check, in C6 order; never raises for
    a business refusal (malformed input raises `InvalidInput`)."""
    target = _target(scope, project_id)
    where = Scope.ORGANIZATION if target is None else Scope.PROJECT
    return Decision(case_violations(org, plan_state_of(plan_state), member, where, target))


def open_case(
    org: Organization,
    plan_state: PlanStateInput,
    member: Member,
    *,
    scope: Scope | str,
    project_id: str | None = None,
    title: str,
    severity: Severity | str = Severity.S3,
    clock: Clock,
    case_id: CaseIdSource = None,
) -> SupportCase:
    """Open a case in one call (C1-C7), or raise `Refused` with the reasons `check_case` gives.

    `case_id` is a fixed id or a factory called once on success; by default a random one.
    """
    target = _target(scope, project_id)
    title = _title(title)
    level = parse(Severity, severity, "severity")
    flow = CaseFlow(org, plan_state, member, clock=clock, case_id=case_id)
    flow.choose_organization()
    if target is None:
        flow.open_organization_support()
    else:
        flow.choose_project(target)
        flow.open_project_support()
    return flow.submit(title=title, severity=level)
