"""What the rules say one consulting step does, the checks on its answer, and the F2 probe."""

from __future__ import annotations

import functools

import pendulum

from support_flows.localtime import instant
from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.verify.common import Actor, HostClock, Outcome, Verdict, attempt, iso, rule_of
from support_flows.verify.consulting_calls import Live, live_at
from support_flows.verify.consulting_roots import BUYER, ROOTS, OrderNode
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.policy import catalog
from support_flows.verify.reference.consulting import (
    RefOrder,
    Refusal,
    cancel_or_deliver,
    confirm,
    schedule,
)

__all__ = ["answered", "applied", "engines", "expected_of", "probes"]


def expected_of(
    node: OrderNode, ref: RefOrder, step: Step, at: pendulum.DateTime
) -> tuple[RefOrder, tuple[Refusal, ...], tuple[str, ...]]:
    """What the rules say `step` does from `ref` (observed at `at`): the order after it, the
    reasons it is refused, and the rules it applies."""
    a, projects = step.args, node.org.project_ids
    if step.call == "confirm":
        return confirm(ref, at), (), ("F1", "F3") if ref.state == "checkout" else ("F3",)
    if step.call == "apply_due":
        return ref, (), ("F6",)
    who = a["actor"]
    actor = None if who is None else Actor.from_arg(who)
    member = None if actor is None else (actor.org_roles, dict(actor.project_roles), projects)
    name = None if actor is None else actor.name
    if step.call == "schedule":
        assert member is not None
        assert name is not None
        start = instant(pendulum.parse(a["start"]))
        after, refused = schedule(ref, member, name, start, a["hours"], at)
        return after, refused, ("F4", "F0")
    deliver = step.call == "deliver"
    after, refused = cancel_or_deliver(ref, deliver, member, name, a["session_id"], at)
    return after, refused, ("F5", "F0")


def applied(
    node: OrderNode,
    at: pendulum.DateTime,
    outcome: Outcome,
    after: RefOrder | None,
    late: Live,
) -> list[Verdict]:
    """F6/T7: apply_due applies the expiry at its instant, once; read at the expiry on the
    way, the order ends up as the late one."""
    got = [(e.at, e.action.value, e.units) for e in outcome.result or ()]
    want = [after.history[-1][:3]] if after is not None else []
    again = attempt(late.order.apply_due)
    verdicts = [
        Verdict(
            "F6",
            "apply_due applies the expiry, at its recorded instant",
            got == want and again.result == (),
            f"apply_due() applied {got}, then {again.describe()}; the rules say {want}",
        )
    ]
    if after is not None and node.ref.expires_at is not None:
        walker = live_at(node, "table")
        for when in (node.ref.expires_at, at):
            walker.clock.at = instant(when)
            walker.order.state  # noqa: B018  (reading is what applies what is due)
        verdicts.append(
            Verdict(
                "F6",
                "late apply_due equals on time",
                walker.order.snapshot() == late.order.snapshot(),
                "apply_due() after the expiry gives another record than reading the order at it",
            )
        )
    return verdicts


def answered(step: Step, expected: tuple[Refusal, ...], outcome: Outcome, default: str) -> Verdict:
    args = ", ".join(f"{k}={v['id'] if isinstance(v, dict) else v!r}" for k, v in step.args.items())
    said = f"refused with {list(expected)}" if expected else "accepted"
    return Verdict(
        rule_of(expected, outcome.reasons, default),
        "the request is accepted or refused as the rules say",
        outcome.crash is None and outcome.reasons == expected,
        f"{step.call}({args}) was {outcome.describe()}; the rules say {said}",
    )


def engines(rule: str, same: bool, twin: Outcome) -> Verdict:
    return Verdict(
        rule,
        "the table engine equals the chart engine",
        same,
        f"python-statemachine's engine gave {twin.describe()} and a different record",
    )


def probes(tracker: Tracker) -> None:
    """F2, once: an order of no units is refused with invalid_quantity."""
    root = ROOTS[0]
    outcome = attempt(
        lambda: ConsultingOrder.from_representative(
            root.org(),
            units=0,
            sales_reference="SO-1",
            email=BUYER,
            clock=HostClock(root.start),
            outbox=InMemoryOutbox(),
            catalog=catalog(),
        )
    )
    tracker.produced(outcome.reasons)
    tracker.exercised(("F2",))
    args = {"units": 0, "sales_reference": "SO-1"}
    done = Step(iso(root.start), "from_representative", args, outcome=outcome.describe())
    verdict = Verdict(
        "F2",
        "malformed input is refused with its reason",
        [code for code, _ in outcome.reasons][:1] == ["invalid_quantity"],
        f"gave {outcome.describe()}; the rules say invalid_quantity",
    )
    tracker.expect(verdict, functools.partial(Counterexample, root.setup(), (done,)))
