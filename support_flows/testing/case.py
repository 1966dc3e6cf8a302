"""`CaseRules`: support requests and the case flow under random members, scopes and steps,
against the verifier's reference (RULES.md C1-C7, V3)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import ClassVar

import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from support_flows.clock import FrozenClock
from support_flows.machines.case import CaseFlow, check_case, check_channel
from support_flows.testing.actions import Action, case_steps
from support_flows.testing.checks import codes_of
from support_flows.testing.strategies import members, organizations
from support_flows.values import Role
from support_flows.values.policy import ATLAS, Catalog, Policy
from support_flows.verify.common import attempt
from support_flows.verify.reference.case import expected_case, expected_channel, expected_step

__all__ = ["CaseRules"]


class CaseRules(RuleBasedStateMachine):
    """Support requests and the case flow under random members, scopes and steps (C1-C7, V3).

    Set `plan_states`, `max_projects` and `catalog` to your configuration: every check and flow
    is decided under the catalog's version in force at the test's clock, and judged by the
    rules as that version tunes them (case_states for C2, org_case_roles for C3).
    """

    plan_states: ClassVar[Sequence[str]] = ("basic", "trial", "developer", "premium", "cancelled")
    max_projects: ClassVar[int] = 3
    catalog: ClassVar[Catalog] = ATLAS

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """An organization, a plan state and a member, at the start of the navigation."""
        self.org = data.draw(organizations(max_projects=self.max_projects), label="org")
        self.plan_state = data.draw(st.sampled_from(tuple(self.plan_states)), label="plan")
        ids = sorted(self.org.project_ids)
        self.member = data.draw(members((*ids, "p-1")), label="member")
        self.clock = FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
        self.flow = CaseFlow(
            self.org, self.plan_state, self.member, clock=self.clock, catalog=self.catalog
        )
        self.where: tuple[str, str | None] = ("start", None)

    def _roles(self, scope: str = "project") -> tuple[list[str], dict[str, list[str]]]:
        """The member's roles as the reference (Atlas's rules, where the Organization Owner
        alone passes C3) judges them under the policy in force: at the organization scope the
        owner role stands for the policy's org_case_roles; for the support_case channel it is
        added by them (either scope may open the case, C1)."""
        held = set(self.member.org_roles)
        passes_c3 = not held.isdisjoint(self._policy().org_case_roles)
        if scope == "organization":
            held.discard(Role.ORG_OWNER)
        if passes_c3 and scope != "project":
            held.add(Role.ORG_OWNER)
        projects = {p: [r.value for r in rs] for p, rs in self.member.project_roles.items()}
        return [r.value for r in held], projects

    def _policy(self) -> Policy:
        return self.catalog.at(self.clock.now())

    def _state(self) -> str:
        """The plan state as the reference judges it: one with cases (P17) when the policy's
        case_states hold it, one without otherwise."""
        return "developer" if self.plan_state in self._policy().case_states else "basic"

    @rule(project=st.sampled_from((None, "p-1", "p-2", "p-3", "p-9")))
    def ask(self, project: str | None) -> None:
        """check_case at one scope gives every failing check in C6 order."""
        scope = "organization" if project is None else "project"
        org_roles, projects = self._roles(scope)
        want = expected_case(self._state(), org_roles, projects, self.org.project_ids, project)
        got = check_case(
            self.org,
            self.plan_state,
            self.member,
            scope=scope,
            project_id=project,
            catalog=self.catalog,
            clock=self.clock,
        )
        assert codes_of(got) == want

    @rule(channel=st.sampled_from(("chat", "developer_resources", "support_case")))
    def channel(self, channel: str) -> None:
        """check_channel answers as C1 says."""
        org_roles, projects = self._roles("channel")
        want = expected_channel(self._state(), org_roles, projects, self.org.project_ids, channel)
        got = check_channel(
            self.org, self.plan_state, self.member, channel, catalog=self.catalog, clock=self.clock
        )
        assert codes_of(got) == want

    @rule(steps=case_steps(max_size=1))
    def navigate(self, steps: list[Action]) -> None:
        """One navigation step, taken or refused as C7's navigation and C2-C6 say (V3)."""
        if not steps:
            return
        action = steps[0]
        at_organization = self.where[0] == "organization_support"
        org_roles, projects = self._roles("organization" if at_organization else "project")
        project = action.args.get("project_id") or self.where[1]
        target, want = expected_step(
            self.where[0],
            action.call,
            self._state(),
            org_roles,
            projects,
            self.org.project_ids,
            project,
        )
        outcome = attempt(functools.partial(action.perform, self.flow, self.clock))
        assert outcome.crash is None, f"{action.call} crashed: {outcome.crash!r}"
        assert outcome.reasons == want, f"{action.call}: {outcome.describe()}"
        if outcome.refused:
            assert self.flow.state == self.where[0], "a refusal moved the flow"
            return
        assert self.flow.state == target
        self.where = (
            self.flow.state,
            project if action.call == "choose_project" else self.where[1],
        )
