"""The public calls a plan step names, made on live plans: one call, a replay, a plan at a point."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.machines.plan import SupportPlan
from support_flows.values import Member, Organization
from support_flows.verify.common import Actor, HostClock, Outcome, Recorder, Verdict, attempt
from support_flows.verify.model import Step, edge_name
from support_flows.verify.plan_roots import CROSS_ORG, PlanNode, PlanRoot
from support_flows.verify.policy import catalog

__all__ = ["ROLE_SETS", "Pair", "call", "open_at", "prepared", "replay", "with_cross_org"]


def _actor(name: str, *org_roles: str, project: tuple[str, ...] = ()) -> Actor:
    projects = (("p-1", project),) if project else ()
    return Actor(name, org_roles, projects, email=f"{name}@example.com")


ROLE_SETS: tuple[Actor, ...] = (
    _actor("owner", "ORG_OWNER"),
    _actor("billing-admin", "ORG_BILLING_ADMIN"),
    _actor("billing-reader", "ORG_BILLING_READ_ONLY"),
    _actor("org-reader", "ORG_READ_ONLY"),
    _actor("org-member", "ORG_MEMBER"),
    _actor("project-creator", "ORG_PROJECT_CREATOR"),
    _actor("project-owner", project=("PROJECT_OWNER",)),
    _actor("project-reader", project=("PROJECT_READ_ONLY", "PROJECT_DATA_ACCESS_READ_ONLY")),
    _actor("nobody"),
    _actor("owner-and-billing-admin", "ORG_OWNER", "ORG_BILLING_ADMIN"),
    _actor("billing-admin-and-reader", "ORG_BILLING_ADMIN", "ORG_BILLING_READ_ONLY"),
    _actor("billing-reader-and-member", "ORG_BILLING_READ_ONLY", "ORG_MEMBER"),
    _actor("owner-and-project-owner", "ORG_OWNER", project=("PROJECT_OWNER",)),
)
"""Every role set P1 tells apart: each organization role alone, project roles only, no role at
all, and the pairs around the billing roles (both; one with Billing Read Only; Billing Read Only
with a plain member role; a billing role with a project role)."""


def with_cross_org(org: Organization, joined: bool) -> Organization:
    """The organization as a host holds it after it joins (or leaves) cross-org billing."""
    return attrs.evolve(org, cross_org_billing=joined)


def call(plan: SupportPlan, step: Step, members: dict[str, Member] | None = None) -> Any:
    """Make the public call `step` names on `plan` (its clock already at `step.at`)."""
    args = step.args
    if step.call == "apply_due":
        return plan.apply_due()
    data = args["actor"]
    actor = (members or {}).get(data["id"]) or Actor.from_arg(data).member()
    if step.call == "change":
        return plan.change(args["tier"], actor=actor)
    if step.call == "cancel":
        return plan.cancel(actor=actor)
    if step.call == "revoke_pending":
        return plan.revoke_pending(actor=actor)
    raise ValueError(f"no plan call named {step.call!r}")


def replay(
    root: PlanRoot, steps: tuple[Step, ...], engine: str = "table"
) -> tuple[SupportPlan, HostClock]:
    """The plan after `steps` from `root`, refusals included (they change nothing)."""
    clock = HostClock(root.start)
    org = root.org()
    plan = SupportPlan(org, clock=clock, engine=engine, catalog=catalog())
    for step in steps:
        clock.at = instant(pendulum.parse(step.at))
        if step.call == CROSS_ORG:
            org = with_cross_org(org, step.args["cross_org_billing"])
            plan = SupportPlan.restore(
                plan.snapshot(), org, clock=clock, engine=engine, catalog=catalog()
            )
        else:
            attempt(functools.partial(call, plan, step))
    return plan, clock


def prepared(root: PlanRoot) -> tuple[SupportPlan, tuple[Step, ...]]:
    """The plan after `root`'s prefix, and the prefix with what each step gave and took."""
    clock = HostClock(root.start)
    plan = SupportPlan(root.org(), clock=clock, catalog=catalog())
    recorder = Recorder()
    plan.listen(recorder)
    done = []
    for step in root.prefix:
        clock.at = instant(pendulum.parse(step.at))
        recorder.taken.clear()
        outcome = attempt(functools.partial(call, plan, step))
        taken = tuple(edge_name(*e) for e in recorder.taken)
        done.append(attrs.evolve(step, outcome=outcome.describe(), takes=taken))
    return plan, tuple(done)


def open_at(node: PlanNode, engine: str) -> tuple[SupportPlan, HostClock]:
    """The plan of `node` on `engine`, restored from its snapshot (replayed if that fails)."""
    clock = HostClock(node.now)
    try:
        return SupportPlan.restore(
            node.snapshot, node.org, clock=clock, engine=engine, catalog=catalog()
        ), clock
    except Exception:  # reported where the snapshot was written; replay instead
        plan, clock = replay(node.root, node.steps, engine)
        clock.at = node.now
        return plan, clock


@attrs.frozen
class Pair:
    """The plan on the table engine (recording its edges) and its twin on python-statemachine's
    engine, both rewound to the same node."""

    base: SupportPlan
    twin: SupportPlan
    recorder: Recorder

    def done(self, step: Step, outcome: str) -> Step:
        taken = tuple(edge_name(*e) for e in self.recorder.taken)
        return attrs.evolve(step, outcome=outcome, takes=taken)

    def engines_agree(
        self, step: Step, outcome: Outcome, rule: str, members: dict[str, Member]
    ) -> Verdict:
        """The same step on python-statemachine's engine gives the same answer and record."""
        twin = attempt(lambda: call(self.twin, step, members))
        same = twin.same_as(outcome) and self.twin.snapshot() == self.base.snapshot()
        return Verdict(
            rule,
            "the table engine equals the chart engine",
            same,
            f"python-statemachine's engine gave {twin.describe()} and a different record",
        )
