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
from support_flows.verify.common import attempt
from support_flows.verify.reference.case import expected_case, expected_channel, expected_step

__all__ = ["CaseRules"]


class CaseRules(RuleBasedStateMachine):
    """Support requests and the case flow under random members, scopes and steps (C1-C7, V3).

    Set `plan_states` and `max_projects` to your configuration.
    """

    plan_states: ClassVar[Sequence[str]] = ("basic", "trial", "developer", "premium", "cancelled")
    max_projects: ClassVar[int] = 3

    @initialize(data=st.data())
    def start(self, data: st.DataObject) -> None:
        """An organization, a plan state and a member, at the start of the navigation."""
        self.org = data.draw(organizations(max_projects=self.max_projects), label="org")
        self.plan_state = data.draw(st.sampled_from(tuple(self.plan_states)), label="plan")
        ids = sorted(self.org.project_ids)
        self.member = data.draw(members((*ids, "p-1")), label="member")
        self.clock = FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
        self.flow = CaseFlow(self.org, self.plan_state, self.member, clock=self.clock)
        self.where: tuple[str, str | None] = ("start", None)

    def _roles(self) -> tuple[list[str], dict[str, list[str]]]:
        org_roles = [r.value for r in self.member.org_roles]
        projects = {p: [r.value for r in rs] for p, rs in self.member.project_roles.items()}
        return org_roles, projects

    @rule(project=st.sampled_from((None, "p-1", "p-2", "p-3", "p-9")))
    def ask(self, project: str | None) -> None:
        """check_case at one scope gives every failing check in C6 order."""
        org_roles, projects = self._roles()
        want = expected_case(self.plan_state, org_roles, projects, self.org.project_ids, project)
        scope = "organization" if project is None else "project"
        got = check_case(self.org, self.plan_state, self.member, scope=scope, project_id=project)
        assert codes_of(got) == want

    @rule(channel=st.sampled_from(("chat", "developer_resources", "support_case")))
    def channel(self, channel: str) -> None:
        """check_channel answers as C1 says."""
        org_roles, projects = self._roles()
        want = expected_channel(self.plan_state, org_roles, projects, self.org.project_ids, channel)
        assert codes_of(check_channel(self.org, self.plan_state, self.member, channel)) == want

    @rule(steps=case_steps(max_size=1))
    def navigate(self, steps: list[Action]) -> None:
        """One navigation step, taken or refused as C7's navigation and C2-C6 say (V3)."""
        if not steps:
            return
        action = steps[0]
        org_roles, projects = self._roles()
        project = action.args.get("project_id") or self.where[1]
        target, want = expected_step(
            self.where[0],
            action.call,
            self.plan_state,
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
