"""The public calls a plan step names, made on live plans: one call, a replay, a plan at a point."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.machines.plan import SupportPlan
from support_flows.values import Member
from support_flows.verify.common import Actor, HostClock, Outcome, Recorder, Verdict, attempt
from support_flows.verify.model import Step, edge_name
from support_flows.verify.plan_roots import PlanNode, PlanRoot

__all__ = ["Pair", "call", "open_at", "replay"]


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
    plan = SupportPlan(root.org(), clock=clock, engine=engine)
    for step in steps:
        clock.at = instant(pendulum.parse(step.at))
        attempt(functools.partial(call, plan, step))
    return plan, clock


def open_at(node: PlanNode, engine: str) -> tuple[SupportPlan, HostClock]:
    """The plan of `node` on `engine`, restored from its snapshot (replayed if that fails)."""
    clock = HostClock(node.now)
    try:
        return SupportPlan.restore(node.snapshot, node.org, clock=clock, engine=engine), clock
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
