"""Support requests and case creation (RULES.md C1-C7, V1, V3): `CaseFlow` walks the case chart
(`case_chart`) step by step.

`check_case` evaluates the guards of the chart's ``submit`` edge for the scope asked about, and
`check_channel` those of the project ``submit`` edge for "any project" (C1), both without running
a flow; `open_case` refuses with exactly `check_case`'s reasons, then walks a `CaseFlow`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from support_flows.clock import Clock, read_clock
from support_flows.errors import Decision, Reason, describe, invalid
from support_flows.guards.case import CaseFacts
from support_flows.guards.common import not_org_member
from support_flows.inputs import attribute, has_method, identifier, of_type, text
from support_flows.machines.base_object import ObjectBase
from support_flows.machines.case_chart import (
    COMPILED,
    SUPPORT_PAGE,
    Draft,
    SupportCase,
)
from support_flows.machines.engine import engine_for
from support_flows.values import (
    Channel,
    Member,
    Organization,
    PlanState,
    Role,
    Scope,
    Severity,
    parse,
)
from support_flows.values.events import CaseEvent
from support_flows.values.policy import ATLAS, ATLAS_POLICY, Catalog, Policy

__all__ = [
    "CaseFlow",
    "SupportCase",
    "check_case",
    "check_channel",
    "open_case",
]


class HasPlanState(Protocol):
    """Anything that exposes a plan state name, such as a `SupportPlan`."""

    @property
    def state(self) -> str: ...


PlanStateInput = PlanState | str | HasPlanState
CaseIdSource = str | Callable[[], str] | None


def plan_state_of(plan: object) -> PlanState:
    """The plan state named by `plan`, or by its current ``.state``; unknown names are V1."""
    value = plan if type(plan) in (str, PlanState) else attribute(plan, "state", plan)
    return parse(PlanState, value, "plan state")


def _target(scope: object, project_id: object) -> str | None:
    """The case's project (None at organization scope); a project id that does not fit the
    scope is refused (V1, V5)."""
    if parse(Scope, scope, "scope") is Scope.PROJECT:
        return identifier(project_id, "a project-level case's project_id")
    if project_id is not None:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"an organization-level case takes no project_id, got {describe(project_id)}",
        )
    return None


def _random_case_id() -> str:
    return f"case-{uuid.uuid4().hex}"


def _case_ids(source: object) -> Callable[[], str]:
    if source is None:
        return _random_case_id
    if type(source) is str:
        fixed = identifier(source, "case_id")
        return lambda: fixed
    if callable(source):
        return source
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"case_id must be a non-empty string or a factory, got {describe(source)}",
    )


def _catalog(catalog: object) -> Catalog:
    if type(catalog) is not Catalog:
        raise invalid(
            Reason.INVALID_VALUE, "V5", f"catalog must be a Catalog, got {describe(catalog)}"
        )
    return catalog


def _policy(catalog: object, clock: object, call: str) -> Policy:
    """K3: the version in force at the clock's now. A catalog of one version needs no instant
    (the clock is not read); one of several needs a clock, since no rule reads the system time
    (T6)."""
    checked = _catalog(catalog)
    versions = checked.versions
    reader = None if clock is None else has_method(clock, "now", "clock")
    if len(versions) == 1:
        return versions[0]
    if reader is None:
        raise invalid(
            Reason.INVALID_VALUE,
            "K2",
            f"{call} with a catalog of {len(versions)} versions needs clock= to tell which "
            "version is in force",
        )
    return checked.at(read_clock(reader))


_ORG_PAGE, _PROJECT_PAGE = SUPPORT_PAGE[Scope.ORGANIZATION], SUPPORT_PAGE[Scope.PROJECT]


class CaseFlow(ObjectBase[Draft]):
    """The step-by-step flow behind `open_case`. A refused or out-of-order step changes nothing.

    Given a `SupportPlan` (anything with ``.state``), each step reads its state then, so a flow
    left open sees the plan as it is when the step is taken (P16, T7). Every public call holds
    the flow's lock (V6) and refuses a call from inside itself (V7): from its clock, its case id
    factory or its plan's ``.state``. A memento holds the whole draft: any flow can rewind to it.
    """

    __slots__ = ("_new_case_id", "catalog", "member", "org", "plan")

    def __init__(
        self,
        org: Organization,
        plan_state: PlanStateInput,
        member: Member,
        *,
        clock: Clock,
        case_id: CaseIdSource = None,
        engine: str = "table",
        catalog: Catalog = ATLAS,
    ) -> None:
        self.org = of_type(org, Organization, "org")
        plan_state_of(plan_state)
        self.plan = plan_state
        self.member = of_type(member, Member, "member")
        clock = has_method(clock, "now", "clock")
        self._new_case_id = _case_ids(case_id)
        self.catalog = _catalog(catalog)
        self._setup(
            Draft(),
            engine_for(COMPILED, engine),
            clock,
            f"the case flow of user {self.member.user_id!r} in organization {self.org.org_id!r}",
        )

    @property
    def state(self) -> str:
        with self._lock:
            return self._book.state

    @property
    def case(self) -> SupportCase | None:
        with self._lock:
            return self._book.case

    @property
    def scope(self) -> Scope | None:
        """None until the flow has chosen between the organization and a project."""
        with self._lock:
            if self._book.project_id is not None:
                return Scope.PROJECT
            if self._book.state in ("start", "organization_chosen"):
                return None
            return Scope.ORGANIZATION

    @property
    def project_id(self) -> str | None:
        with self._lock:
            return self._book.project_id

    @property
    def plan_state(self) -> PlanState:
        with self._lock:
            return plan_state_of(self.plan)

    def _takes_from(self, other: object) -> bool:
        """A memento holds the whole draft: a flow of the same organization can rewind to it."""
        return type(other) is type(self) and other.org == self.org

    def _facts(self, project_id: str | None = None, **more: Any) -> CaseFacts:
        """The step's facts, decided under the version in force at its clock reading (K3): the
        submit's own reading; another step reads the clock only when the catalog has several
        versions."""
        chosen = self._book.project_id if project_id is None else project_id
        catalog = self.catalog
        if len(catalog) == 1:
            policy = catalog.versions[0]
        else:
            policy = catalog.at(more.get("now") or self._now())
        state = plan_state_of(self.plan)
        return CaseFacts(self.org, state, self.member, chosen, policy=policy, **more)

    def enabled_events(self, project_id: str | None = None) -> list[str]:
        """The steps that would pass from here, guards included; ``choose_project`` is listed
        only when asked about a `project_id` of the organization."""
        asked = None if project_id is None else identifier(project_id, "project_id")
        with self._lock:
            facts = self._facts(asked)
            state = self._book.state
            return [
                event
                for event in COMPILED.events
                if (event != CaseEvent.CHOOSE_PROJECT or project_id is not None)
                and COMPILED.select(state, event, facts) is not None
                and not COMPILED.decide(state, event, facts)
            ]

    def _step(self, event: str, facts: Callable[[], CaseFacts]) -> SupportCase | None:
        """Take `event` with the facts read under the lock, or change nothing; the case, once
        submitted."""
        with self._lock:
            self._atomic(lambda: self._engine.run(self._book, event, facts()))
            return self._book.case

    def choose_organization(self) -> None:
        self._call(
            "choose_organization",
            {},
            lambda: self._step(CaseEvent.CHOOSE_ORGANIZATION, self._facts),
        )

    def open_organization_support(self) -> None:
        self._call(
            "open_organization_support",
            {},
            lambda: self._step(CaseEvent.OPEN_ORGANIZATION_SUPPORT, self._facts),
        )

    def choose_project(self, project_id: str) -> None:
        self._call("choose_project", {"project_id": project_id}, lambda: self._choose(project_id))

    def _choose(self, project_id: str) -> None:
        chosen = identifier(project_id, "project_id")
        self._step(CaseEvent.CHOOSE_PROJECT, lambda: self._facts(chosen))

    def open_project_support(self) -> None:
        self._call(
            "open_project_support",
            {},
            lambda: self._step(CaseEvent.OPEN_PROJECT_SUPPORT, self._facts),
        )

    def submit(self, *, title: str, severity: Severity | str = Severity.S3) -> SupportCase:
        """Open the case where the flow stands (C7); refused with every failing check (C6)."""
        return self._call(
            "submit",
            {"title": title, "severity": severity},
            lambda: self._submit(title, severity),
        )

    def _submit(self, title: str, severity: Severity | str) -> SupportCase:
        named = text(title, "a case title")
        level = parse(Severity, severity, "severity")
        case = self._step(
            CaseEvent.SUBMIT,
            lambda: self._facts(
                title=named,
                severity=level,
                now=self._now(),
                new_case_id=self._new_case_id,
            ),
        )
        assert case is not None
        return case


def _request(
    org: object, plan_state: object, member: object
) -> tuple[Organization, PlanState, Member]:
    return (
        of_type(org, Organization, "org"),
        plan_state_of(plan_state),
        of_type(member, Member, "member"),
    )


def check_channel(
    org: Organization,
    plan_state: PlanStateInput,
    member: Member,
    channel: Channel | str,
    *,
    catalog: Catalog = ATLAS,
    clock: Clock | None = None,
) -> Decision:
    """C1: may `member` use `channel`? For ``support_case``: can a case be opened at some scope
    right now (the ``submit`` guards at the organization scope or for any project).

    Decided under the catalog's version in force at `clock`'s now (K3); `clock` may be left out
    when the catalog has one version."""
    organization, state, actor = _request(org, plan_state, member)
    which = parse(Channel, channel, "channel")
    policy = (
        ATLAS_POLICY
        if catalog is ATLAS and clock is None
        else _policy(catalog, clock, "check_channel")
    )
    facts = CaseFacts(organization, state, actor, None, None, None, None, None, policy)
    if (refused := not_org_member(facts)) is not None:
        return Decision((refused,))
    if which is not Channel.SUPPORT_CASE:
        return Decision()
    project = COMPILED.decide(_PROJECT_PAGE, CaseEvent.SUBMIT, facts)
    if not project or policy.org_case_roles == _OWNER_ONLY:
        return Decision(project)  # whoever passes C3 as an owner passes C5: nothing to add
    organization_wide = COMPILED.decide(_ORG_PAGE, CaseEvent.SUBMIT, facts)
    if not organization_wide:
        return Decision()
    if all(v.code != Reason.ORG_OWNER_REQUIRED for v in organization_wide):
        project = tuple(v for v in project if v.code != Reason.PROJECT_ROLE_REQUIRED)
    return Decision(project)


_OWNER_ONLY = frozenset({Role.ORG_OWNER})


def check_case(
    org: Organization,
    plan_state: PlanStateInput,
    member: Member,
    *,
    scope: Scope | str,
    project_id: str | None = None,
    catalog: Catalog = ATLAS,
    clock: Clock | None = None,
) -> Decision:
    """C2-C6: may `member` open a case here? The guards of the ``submit`` edge for that scope,
    every failing one in C6 order; never raises for a business refusal.

    Decided under the catalog's version in force at `clock`'s now (K3); `clock` may be left out
    when the catalog has one version."""
    organization, state, actor = _request(org, plan_state, member)
    target = _target(scope, project_id)
    where = _ORG_PAGE if target is None else _PROJECT_PAGE
    policy = (
        ATLAS_POLICY
        if catalog is ATLAS and clock is None
        else _policy(catalog, clock, "check_case")
    )
    facts = CaseFacts(organization, state, actor, target, None, None, None, None, policy)
    return Decision(COMPILED.decide(where, CaseEvent.SUBMIT, facts))


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
    catalog: Catalog = ATLAS,
) -> SupportCase:
    """Open a case in one call (C1-C7), or raise `Refused` with the reasons `check_case` gives.

    `case_id` is a fixed id or a factory called once on success; by default a random one. The
    case is decided under the catalog's version in force at the clock's now (K3).
    """
    flow = CaseFlow(org, plan_state, member, clock=clock, case_id=case_id, catalog=catalog)
    target = _target(scope, project_id)
    text(title, "a case title")
    parse(Severity, severity, "severity")
    where = Scope.ORGANIZATION if target is None else Scope.PROJECT
    check_case(
        org, plan_state, member, scope=where, project_id=target, catalog=catalog, clock=clock
    ).raise_if_refused()
    flow.choose_organization()
    if target is None:
        flow.open_organization_support()
    else:
        flow.choose_project(target)
        flow.open_project_support()
    return flow.submit(title=title, severity=severity)
