"""The support case chart (RULES.md C1-C7): the console path from choosing the organization to
submitting a case, the draft it fills in, and the opened case (C7)."""

from __future__ import annotations

import attrs
import pendulum
from statemachine import Event, State

from support_flows.guards.case import (
    CASE,
    CaseFacts,
    org_has_no_projects,
    org_owner_required,
    plan_excludes_cases,
    project_not_found,
    project_role_required,
)
from support_flows.inputs import identifier
from support_flows.localtime import instant
from support_flows.machines.chart import BaseChart, edge
from support_flows.machines.engine import action, compile_chart
from support_flows.values import Scope, Severity, parse
from support_flows.values.events import CaseEvent

__all__ = ["COMPILED", "SUPPORT_PAGE", "CaseChart", "Draft", "SupportCase"]


def _scope(value: Scope | str) -> Scope:
    return parse(Scope, value, "scope")


def _severity(value: Severity | str) -> Severity:
    return parse(Severity, value, "severity")


def _opened_at(value: object) -> pendulum.DateTime:
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


class Draft:
    """The chart's model: where the case is being opened, and the case once submitted."""

    __slots__ = ("case", "project_id", "state")
    state_of = str
    recorded_at = None
    """A draft records no instant: a flow's clock readings have no floor (T8)."""

    def __init__(self) -> None:
        self.state: str = "start"
        self.project_id: str | None = None
        self.case: SupportCase | None = None

    def save(self) -> tuple[str, str | None, SupportCase | None]:
        return (self.state, self.project_id, self.case)

    def restore(self, saved: tuple[str, str | None, SupportCase | None]) -> None:
        self.state, self.project_id, self.case = saved

    @action("C5", "the project the case will be opened for")
    def remember_project(self, facts: CaseFacts) -> None:
        self.project_id = facts.project_id

    @action("C7", "the case is opened now")
    def file_case(self, facts: CaseFacts) -> None:
        assert facts.new_case_id is not None
        assert facts.now is not None
        assert facts.title is not None
        case_id = identifier(facts.new_case_id(), "the case id the case_id factory returned")
        self.case = SupportCase(
            case_id=case_id,
            org_id=facts.org.org_id,
            scope=Scope.ORGANIZATION if facts.project_id is None else Scope.PROJECT,
            project_id=facts.project_id,
            requester=facts.actor.user_id,
            opened_at=facts.now,
            title=facts.title,
            severity=facts.severity or Severity.S3,
        )


PROJECT_CASE = [project_not_found, project_role_required, org_has_no_projects, plan_excludes_cases]
ORGANIZATION_CASE = [org_owner_required, org_has_no_projects, plan_excludes_cases]


class CaseChart(BaseChart):
    """The path through the Atlas console that the Support docs page describes: choose the
    organization, then its Support page or a project and Project Support, then submit the case."""

    registry = CASE
    named_by = CaseEvent
    model_class = Draft

    start = State(initial=True)
    organization_chosen = State()
    organization_support = State()
    project_chosen = State()
    project_support = State()
    submitted = State(final=True)

    choose_organization = Event(
        edge(start, organization_chosen),
        name="Choose the organization",
    )
    open_organization_support = Event(
        edge(organization_chosen, organization_support),
        name="Open the organization's Support page",
    )
    choose_project = Event(
        edge(
            organization_chosen, project_chosen, unless=[project_not_found], on="remember_project"
        ),
        name="Choose a project",
    )
    open_project_support = Event(
        edge(project_chosen, project_support),
        name="Open Project Support",
    )
    submit = Event(
        edge(organization_support, submitted, unless=ORGANIZATION_CASE, on="file_case")
        | edge(project_support, submitted, unless=PROJECT_CASE, on="file_case"),
        name="Submit the case",
    )


COMPILED = compile_chart(CaseChart)
SUPPORT_PAGE = {Scope.ORGANIZATION: "organization_support", Scope.PROJECT: "project_support"}
