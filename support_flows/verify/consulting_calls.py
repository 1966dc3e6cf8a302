"""The public calls a consulting step names, made on live orders opened or rewound at a point."""

from __future__ import annotations

import functools
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.machines.base_object import Memento
from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.verify.common import Actor, HostClock, Outcome, attempt
from support_flows.verify.consulting_roots import BUYER, ORDER_ID, OrderNode, OrderRoot
from support_flows.verify.model import Step
from support_flows.verify.policy import catalog

__all__ = ["Live", "call", "live_at", "make", "replay", "reset"]


def _member(args: Any) -> Any:
    return None if args is None else Actor.from_arg(args).member()


def call(
    order: ConsultingOrder | None,
    step: Step,
    root: OrderRoot,
    clock: Any,
    outbox: Any,
    engine: str = "table",
) -> Any:
    """Make the public call `step` names (the clock already at `step.at`); the two calls that
    open an order return it."""
    a = step.args
    terms = {
        "units": root.units,
        "clock": clock,
        "outbox": outbox,
        "order_id": ORDER_ID,
        "engine": engine,
    }
    if root.given:
        terms |= {"hours_per_unit": root.hours_per_unit, "validity_months": root.validity_months}
    if step.call == "start_checkout":
        return ConsultingOrder.start_checkout(
            root.org(), actor=_member(a["actor"]), **terms, catalog=catalog()
        )
    if step.call == "from_representative":
        reference = a["sales_reference"]
        return ConsultingOrder.from_representative(
            root.org(), sales_reference=reference, email=BUYER, **terms, catalog=catalog()
        )
    if order is None:
        raise ValueError(f"{step.call} needs an order")
    if step.call == "confirm":
        return order.confirm()
    if step.call == "schedule":
        start = instant(pendulum.parse(a["start"]))
        return order.schedule(start=start, hours=a["hours"], actor=_member(a["actor"]))
    if step.call == "cancel_session":
        return order.cancel_session(a["session_id"], actor=_member(a["actor"]))
    if step.call == "deliver":
        return order.deliver(a["session_id"], actor=_member(a["actor"]))
    if step.call == "apply_due":
        return order.apply_due()
    raise ValueError(f"no consulting call named {step.call!r}")


def replay(
    root: OrderRoot, steps: tuple[Step, ...], engine: str = "table"
) -> tuple[ConsultingOrder | None, InMemoryOutbox, HostClock]:
    """The order after `steps` from `root`, refusals included (they change nothing)."""
    clock, outbox = HostClock(root.start), InMemoryOutbox()
    order: ConsultingOrder | None = None
    for step in steps:
        clock.at = instant(pendulum.parse(step.at))
        outcome = attempt(functools.partial(call, order, step, root, clock, outbox, engine))
        if isinstance(outcome.result, ConsultingOrder):
            order = outcome.result
    return order, outbox, clock


@attrs.frozen
class Live:
    """An order opened at a node: the object, its clock and its outbox."""

    order: ConsultingOrder
    clock: HostClock
    outbox: InMemoryOutbox


def live_at(node: OrderNode, engine: str) -> Live:
    """The order of `node` on `engine`, restored from its snapshot (replayed if that fails)."""
    outbox, clock = InMemoryOutbox(), HostClock(node.now)
    assert node.snapshot is not None
    try:
        order = ConsultingOrder.restore(
            node.snapshot, node.org, clock=clock, outbox=outbox, engine=engine, catalog=catalog()
        )
    except Exception:  # reported where the snapshot was written; replay instead
        replayed, outbox, clock = replay(node.root, node.steps, engine)
        assert replayed is not None
        order = replayed
        clock.at = node.now
        outbox.sent.clear()
    return Live(order, clock, outbox)


def reset(live: Live, mark: Memento, at: pendulum.DateTime) -> None:
    """`live` rewound to `mark`, its outbox emptied, its clock at `at`."""
    live.order.rewind(mark)
    live.outbox.sent.clear()
    live.clock.at = at


def make(node: OrderNode, step: Step, engine: str) -> tuple[Live | None, Outcome]:
    """The order `step` opens at `node` on `engine`, and what the call gave (an empty outcome
    when it opened one)."""
    clock, outbox = HostClock(node.now), InMemoryOutbox()
    outcome = attempt(functools.partial(call, None, step, node.root, clock, outbox, engine))
    if isinstance(outcome.result, ConsultingOrder):
        return Live(outcome.result, clock, outbox), Outcome()
    return None, outcome
