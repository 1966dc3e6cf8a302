"""The points of the case product (plan state x roles x projects) and the flows started there."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable
from typing import Any

import attrs
import pendulum

from support_flows.machines.base_object import Memento
from support_flows.machines.case import CaseFlow
from support_flows.values import Organization, Project
from support_flows.verify.common import Actor, HostClock, attempt, iso
from support_flows.verify.model import Counterexample, Setup, Step
from support_flows.verify.policy import catalog

__all__ = [
    "CASE_ID",
    "NOW",
    "ROLE_SETS",
    "TITLE",
    "Combo",
    "FlowNode",
    "combos",
    "flow_call",
    "new_flow",
    "replay",
]

NOW = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
CASE_ID = "case-1"
TITLE = "Slow queries"
PLAN_STATES = ("premium", "developer", "trial", "basic", "cancelled")
PROJECT_SETS = (("p-1", "p-2"), ("p-1",), ())
ORG_ROLES = (
    "ORG_OWNER",
    "ORG_PROJECT_CREATOR",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_READ_ONLY",
    "ORG_MEMBER",
)
PROJECT_ROLES = (
    "PROJECT_OWNER",
    "PROJECT_CLUSTER_MANAGER",
    "PROJECT_DATA_ACCESS_ADMIN",
    "PROJECT_DATA_ACCESS_READ_WRITE",
    "PROJECT_DATA_ACCESS_READ_ONLY",
    "PROJECT_READ_ONLY",
)
ROLE_SETS = (
    *(Actor(f"u-{r.lower().replace('_', '-')}", (r,)) for r in ORG_ROLES),
    *(
        Actor(f"u-{r.lower().replace('_', '-')}-p1", project_roles=(("p-1", (r,)),))
        for r in PROJECT_ROLES
    ),
    Actor("u-project-owner-p2", project_roles=(("p-2", ("PROJECT_OWNER",)),)),
    Actor("u-elsewhere", project_roles=(("p-elsewhere", ("PROJECT_OWNER",)),)),
    Actor("u-org-owner-p1", ("ORG_OWNER",), (("p-1", ("PROJECT_READ_ONLY",)),)),
    Actor("u-org-member-p2", ("ORG_MEMBER",), (("p-2", ("PROJECT_READ_ONLY",)),)),
    Actor("u-no-role"),
)
"""Every organization role alone; every project role alone in p-1; a role in p-2, in another
organization's project; an owner who also holds a project role, a member with one; no role."""


@attrs.frozen
class Combo:
    """One point of the product: the plan state, who asks, and the organization's projects."""

    plan_state: str
    actor: Actor
    projects: tuple[str, ...]

    def org(self) -> Organization:
        return Organization("org-1", projects=tuple(Project(p) for p in self.projects))

    def setup(self) -> Setup:
        return Setup(
            "case",
            "UTC",
            iso(NOW),
            {"org_id": "org-1", "projects": list(self.projects)},
            {"plan_state": self.plan_state, "member": self.actor.as_arg()},
        )

    def where(self, *steps: Step) -> Callable[[], Counterexample]:
        return functools.partial(Counterexample, self.setup(), steps)


def combos() -> list[Combo]:
    """Every point of the product, plan state first."""
    return [
        Combo(state, actor, projects)
        for state, projects, actor in itertools.product(PLAN_STATES, PROJECT_SETS, ROLE_SETS)
    ]


@attrs.frozen(eq=False)
class FlowNode:
    """A flow part-way through the navigation: its draft (a memento of the flow: its place,
    project and case) and the project it chose."""

    combo: Combo
    draft: Memento
    project: str | None
    steps: tuple[Step, ...]
    key: Hashable


def flow_call(flow: CaseFlow, step: Step) -> Any:
    """Make the flow step `step` names ("CaseFlow.<method>")."""
    name = step.call.removeprefix("CaseFlow.")
    if name == "choose_project":
        return flow.choose_project(step.args["project_id"])
    if name == "submit" and "severity" not in step.args:
        return flow.submit(title=step.args["title"])
    if name == "submit":
        return flow.submit(title=step.args["title"], severity=step.args["severity"])
    return getattr(flow, name)()


def new_flow(combo: Combo, engine: str) -> CaseFlow:
    """A fresh flow for `combo` on `engine`."""
    return CaseFlow(
        combo.org(),
        combo.plan_state,
        combo.actor.member(),
        clock=HostClock(NOW),
        case_id=CASE_ID,
        engine=engine,
        catalog=catalog(),
    )


def replay(combo: Combo, steps: tuple[Step, ...], engine: str = "table") -> CaseFlow:
    """The flow after `steps` for `combo`, refusals included (they change nothing)."""
    flow = new_flow(combo, engine)
    for step in steps:
        attempt(functools.partial(flow_call, flow, step))
    return flow
