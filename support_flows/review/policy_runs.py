"""A plan story run under a chosen catalog (K5): the steps of `support_flows.timeline`, on a plan
decided under that catalog, so a story can be computed under the version in force and under a
proposed one and read side by side."""

from __future__ import annotations

import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import Refused
from support_flows.localtime import parse_instant
from support_flows.machines.plan import SupportPlan
from support_flows.timeline import Frame, PlanTimeline, Step, actor_with, parse_step
from support_flows.values import Member, Organization, Project, Role
from support_flows.values.events import PlanRequest
from support_flows.values.policy import Catalog, Policy

__all__ = ["only", "run_under"]


def only(policy: Policy) -> Catalog:
    """A catalog holding `policy` alone, in force from the beginning: a story's instants then
    all fall under it, whatever its effective instant says."""
    return Catalog([policy])


def _act(plan: SupportPlan, step: Step, actor: Member) -> None:
    if step.action == PlanRequest.CANCEL:
        plan.cancel(actor=actor)
    elif step.action == PlanRequest.REVOKE_PENDING:
        plan.revoke_pending(actor=actor)
    elif step.action != "observe":
        assert step.tier is not None
        plan.change(step.tier, actor=actor)


def run_under(
    steps: tuple[str, ...], *, start: str, tz: str, catalog: Catalog, org_id: str = "org-1"
) -> PlanTimeline:
    """`steps` run in order on a new plan decided under `catalog` whose clock starts at `start`,
    as `timeline.run_plan` runs them (an organization owner acts; a refused step is kept)."""
    begins: pendulum.DateTime = parse_instant(start)
    org = Organization(org_id, projects=(Project("p-1"),), billing_timezone=tz)
    actor = actor_with((Role.ORG_OWNER,), org)
    clock = FrozenClock(begins)
    plan = SupportPlan(org, clock=clock, catalog=catalog)
    frames = []
    seen = 0
    for step in map(parse_step, steps):
        clock.set(step.at)
        refused = None
        try:
            _act(plan, step, actor)
        except Refused as error:
            refused = error
        history = plan.history
        added = history[seen:]
        frames.append(
            Frame(step, refused, added, plan.state, plan.pending, plan.trial, plan.billing)
        )
        seen = len(history)
    return PlanTimeline(org, begins, tuple(frames))
