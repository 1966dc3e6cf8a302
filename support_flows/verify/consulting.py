"""Systematic verification of Flex Consulting orders (RULES.md F): every sequence of purchases,
confirmations, bookings, cancellations, deliveries and clock moves up to a depth, each request
by every role set, and with the host clock behind the order's last entry (T8), for small unit
counts, with and without validity, with more than one hour per unit, with the terms left to
their defaults; from fixed starting points and from orders drawn with a seeded
`random.Random` (explored less deep); checked after every step against the reference
(`verify.reference.consulting`) and the order invariants. Malformed values at every entry point
(T1, V4, V5) are checked once, against `verify.reference.malformed`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.machines.consulting_chart import COMPILED
from support_flows.values.events import ConsultingEvent
from support_flows.verify.common import Actor, Recorder, Verdict, attempt, crashed, rule_of
from support_flows.verify.consulting_actions import OrderActions
from support_flows.verify.consulting_answers import (
    answered,
    applied,
    engines,
    expected_of,
    probes,
)
from support_flows.verify.consulting_calls import Live, call, live_at, make, reset
from support_flows.verify.consulting_checks import agreement, balance, round_trip, view
from support_flows.verify.consulting_emails import one_confirmation
from support_flows.verify.consulting_malformed import malformed
from support_flows.verify.consulting_roots import (
    ROOTS,
    OrderNode,
    OrderRoot,
    generated,
    node_key,
)
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Counterexample, Step, edge_name
from support_flows.verify.reference.consulting import (
    RefOrder,
    floor,
    observe,
    open_console,
    open_representative,
)
from support_flows.verify.restore import order_restores

__all__ = ["DEPTH", "GENERATED_DEPTH", "OrderExplorer", "explore"]

DEPTH = 5
GENERATED_DEPTH = 3
"""How deep the generated starting points (`consulting_roots.generated`) are explored."""
CREATED = {
    "start_checkout": (ConsultingEvent.START_CHECKOUT, "new", "checkout"),
    "from_representative": (ConsultingEvent.BUY_FROM_REPRESENTATIVE, "new", "purchased"),
}

Progress = Callable[[str], None]


class OrderExplorer:
    """Expands order nodes: every request and clock move from each, checked as it is taken."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.actions = OrderActions()
        self.restored: set[Hashable] = set()

    def roots(self) -> list[OrderNode]:
        """The fixed starting points (the generated ones are `started(generated())`)."""
        return self.started(ROOTS)

    def started(self, roots: tuple[OrderRoot, ...]) -> list[OrderNode]:
        nodes = []
        for root in roots:
            ref = root.ref()
            key = node_key(root, None, ref, root.start, 0)
            nodes.append(OrderNode(root, root.org(), None, ref, root.start, 0, (), key))
        return nodes

    def expand(self, node: OrderNode) -> Iterator[OrderNode]:
        if self.check:
            order_restores(self.tracker, node)
        if node.snapshot is None:
            for step, _ in self.actions(node):
                self.tracker.sequences += 1
                child = self._open(node, step)
                if child is not None:
                    yield child
            return
        try:
            base = live_at(node, "table")
            twin = live_at(node, "statechart")
        except Exception as error:  # reported; this point is not explored further
            where = functools.partial(Counterexample, node.root.setup(), node.steps)
            self.tracker.expect(crashed(error, "T7"), where)
            return
        recorder = Recorder()
        base.order.listen(recorder)
        mark, twin_mark = base.order.memento(), twin.order.memento()
        for step, at in self.actions(node):
            reset(base, mark, at)
            if twin.order.memento().state in COMPILED.finals:  # python-statemachine ends a chart
                twin = live_at(node, "statechart")
                twin_mark = twin.order.memento()
            reset(twin, twin_mark, at)
            recorder.taken.clear()
            self.tracker.sequences += 1
            try:
                child = self._step(node, step, at, base, twin, recorder)
            except Exception as error:  # reported; the run goes on with the next step
                self.tracker.expect(crashed(error, "T7"), node.where(step))
                child = None
            if child is not None:
                yield child

    def _child(
        self, node: OrderNode, live: Live, ref: RefOrder, now: pendulum.DateTime, done: Step
    ) -> OrderNode:
        snapshot = live.order.snapshot()
        emails = node.emails + len(live.outbox.sent)
        key = node_key(node.root, snapshot, ref, now, emails)
        return OrderNode(node.root, node.org, snapshot, ref, now, emails, (*node.steps, done), key)

    # Opening the order: in the console (F1) or from a representative (F1, F3).

    def _open(self, node: OrderNode, step: Step) -> OrderNode | None:
        t, ref, now = self.tracker, node.ref, node.now
        made = [make(node, step, engine) for engine in ("table", "statechart")]
        live, outcome = made[0]
        if step.call == "start_checkout":
            actor = Actor.from_arg(step.args["actor"])
            after, expected = open_console(
                ref, actor.org_roles, actor.name, now, has_email=actor.email is not None
            )
            rules: tuple[str, ...] = ("F1", "F2")
        else:
            after, expected = open_representative(ref, step.args["sales_reference"], now)
            rules = ("F1", "F2", "F3", "F6")
        edge = CREATED[step.call]
        done = attrs.evolve(
            step, outcome=outcome.describe(), takes=(edge_name(*edge),) if live else ()
        )
        where = node.where(done)
        t.produced(outcome.reasons)
        t.exercised(r for _, r in expected)
        if live is not None:
            t.took((edge,), node.root.setup(), (*node.steps, done))
        if self.check:
            t.expect(answered(step, expected, outcome, rules[0]), where)
            twin, twin_outcome = made[1]
            same = twin_outcome.same_as(outcome)
            if live is not None and twin is not None:
                same = same and twin.order.snapshot() == live.order.snapshot()
                same = same and twin.outbox.sent == live.outbox.sent
            t.expect(engines(rules[0], same, twin_outcome), where)
        if live is None or expected:
            return None
        t.exercised(rules)
        child = self._child(node, live, after, now, done)
        ok = self._after(node, live, after, rules[0], where, child.key) if self.check else True
        return child if ok else None

    # Every other step.

    def _step(
        self,
        node: OrderNode,
        step: Step,
        at: pendulum.DateTime,
        base: Live,
        twin: Live,
        recorder: Recorder,
    ) -> OrderNode | None:
        t = self.tracker
        now = instant(floor(node.ref, at))
        ref, expired = observe(node.ref, now)
        after, expected, rules = expected_of(node, ref, step, now)
        rules = (("T8",) if now != at else ()) + (("F6", "T7") if expired else ()) + rules
        outcome = attempt(
            functools.partial(call, base.order, step, node.root, base.clock, base.outbox)
        )
        note = outcome.describe()
        if step.call == "apply_due" and outcome.crash is None:
            shown = ", ".join(f"{e.action.value} at {e.at.isoformat()}" for e in outcome.result)
            note = f"applied {shown or 'nothing'}"
        done = attrs.evolve(step, outcome=note, takes=tuple(edge_name(*e) for e in recorder.taken))
        where = node.where(done)
        t.produced(outcome.reasons)
        t.exercised(r for _, r in expected)
        t.took(recorder.taken, node.root.setup(), (*node.steps, done))
        refused = outcome.refused or outcome.crash is not None
        if not refused and not expected:
            t.exercised(rules)
        if not self.check:
            return None if refused or expected else self._child(node, base, after, now, done)
        verdicts = [answered(step, expected, outcome, rules[0])]
        if step.call == "apply_due":
            verdicts += applied(node, now, outcome, after if expired else None, base)
        if refused:
            unchanged = base.order.snapshot() == node.snapshot and not base.outbox.sent
            verdicts.append(
                Verdict(
                    rule_of(expected, outcome.reasons, rules[0]),
                    "a refusal changes nothing",
                    unchanged,
                    "the refused request changed the order or sent an email",
                )
            )
        ok = t.expect_all(verdicts, where)
        twin_outcome = attempt(
            functools.partial(call, twin.order, step, node.root, twin.clock, twin.outbox)
        )
        same = (
            twin_outcome.same_as(outcome)
            and twin.order.snapshot() == base.order.snapshot()
            and twin.outbox.sent == base.outbox.sent
        )
        t.expect(engines(rules[0], same, twin_outcome), where)
        if refused or expected:
            return None
        child = self._child(node, base, after, now, done)
        ok &= self._after(node, base, after, rules[0], where, child.key)
        return child if ok else None

    def _after(
        self,
        node: OrderNode,
        live: Live,
        ref: RefOrder,
        rule: str,
        where: Callable[[], Counterexample],
        key: Hashable,
    ) -> bool:
        """After an accepted step: the order is the reference's, F7's balance holds, one email
        per purchase, and its snapshot round-trips (once per equivalent point `key`: the same
        record reached by another actor is not restored again). False when it left the
        reference."""
        t = self.tracker
        seen = view(live.order)
        t.states.add(seen.state)
        t.exercised(("F7",))
        sent = node.emails + len(live.outbox.sent)
        matches = t.expect_all(agreement(seen, ref, rule), where)
        verdicts = [
            balance(seen),
            Verdict(
                "F3",
                "at most one email per purchase",
                sent == ref.emails <= 1 and all(e.to for e in live.outbox.sent),
                f"{sent} confirmation emails sent; the rules say {ref.emails}",
            ),
        ]
        if key not in self.restored:
            self.restored.add(key)
            verdicts += round_trip(live.order, node.org, live.clock)
        t.expect_all(verdicts, where)
        return matches


def explore(
    depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
) -> Tracker:
    """Every order sequence up to `depth` steps, checked when `check` (else only covered)."""
    tracker = Tracker("consulting", COMPILED, ("F",))
    explorer = OrderExplorer(tracker, check=check)
    if check:
        probes(tracker)
        malformed(tracker)
        one_confirmation(tracker)
    stop = tracker.covered if until_covered else None
    breadth_first(explorer.roots(), explorer.expand, depth, progress, "consulting", tracker, stop)
    if check:
        drawn = explorer.started(generated())
        shallow = min(depth, GENERATED_DEPTH)
        breadth_first(drawn, explorer.expand, shallow, progress, "consulting", tracker, stop)
    return tracker
