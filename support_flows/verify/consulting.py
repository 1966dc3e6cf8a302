"""Systematic verification of Flex Consulting orders (RULES.md F): every sequence of purchases,
confirmations, bookings, cancellations, deliveries and clock moves up to a depth, for small unit
counts, with and without validity, with more than one hour per unit, checked after every step
against the reference (`verify.reference.consulting`) and the order invariants."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.machines.base_object import Memento
from support_flows.machines.consulting import COMPILED, ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.values import Organization, Project
from support_flows.values.events import ConsultingEvent
from support_flows.verify.common import (
    ACTORS,
    Actor,
    HostClock,
    Outcome,
    Recorder,
    Verdict,
    attempt,
    crashed,
    iso,
    rule_of,
)
from support_flows.verify.consulting_checks import agreement, balance, round_trip, view
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Counterexample, Setup, Step, edge_name
from support_flows.verify.reference.consulting import (
    RefOrder,
    Refusal,
    cancel_or_deliver,
    confirm,
    observe,
    open_console,
    open_representative,
    schedule,
)

__all__ = ["DEPTH", "ROOTS", "OrderExplorer", "OrderRoot", "call", "explore", "moves", "replay"]

DEPTH = 5
MICROSECOND = pendulum.duration(microseconds=1)
ORDER_ID = "co-1"
BUYER = "buyer@example.com"
BILLING = ("owner", "billing-admin")
NOT_BILLING = tuple(n for n in ACTORS if n not in BILLING)
WITHOUT_EMAIL = {
    a.name: a
    for a in (
        Actor("billing-admin-no-email", ("ORG_BILLING_ADMIN",)),
        Actor("org-reader-no-email", ("ORG_READ_ONLY",)),
    )
}
"""Console buyers with no e-mail address (F3), one with a billing role and one without (F1)."""
MEMBERS = ("billing-admin", "billing-reader", "org-reader", "project-creator", "project-member")
STRANGERS = ("outsider", "nobody")
CREATED = {
    "start_checkout": (ConsultingEvent.START_CHECKOUT, "new", "checkout"),
    "from_representative": (ConsultingEvent.BUY_FROM_REPRESENTATIVE, "new", "purchased"),
}

Progress = Callable[[str], None]


@attrs.frozen
class OrderRoot:
    """Where sequences start: no order yet, in `zone` at `start`, with these terms."""

    zone: str
    start: pendulum.DateTime
    units: int
    hours_per_unit: int
    validity_months: int | None
    note: str = ""

    def org(self) -> Organization:
        return Organization("org-1", projects=(Project("p-1"),), billing_timezone=self.zone)

    def setup(self) -> Setup:
        return Setup(
            "consulting",
            self.zone,
            iso(self.start),
            {"org_id": "org-1", "projects": ["p-1"], "cross_org_billing": False},
            {
                "units": self.units,
                "hours_per_unit": self.hours_per_unit,
                "validity_months": self.validity_months,
                "order_id": ORDER_ID,
                "why": self.note,
            },
        )


def _local(zone: str, year: int, month: int, day: int, hour: int) -> pendulum.DateTime:
    return instant(pendulum.datetime(year, month, day, hour, tz=zone))


ROOTS = (
    OrderRoot("UTC", _local("UTC", 2024, 1, 31, 10), 2, 1, 1, "a month's validity ends on Feb 29"),
    OrderRoot(
        "Pacific/Auckland",
        _local("Pacific/Auckland", 2026, 3, 14, 10),
        2,
        2,
        1,
        "2 hours per unit; DST ends before the expiry",
    ),
    OrderRoot(
        "America/Havana", _local("America/Havana", 2026, 10, 31, 10), 1, 1, None, "no validity"
    ),
)


@attrs.frozen(eq=False)
class OrderNode:
    """An explored order (None before it is opened) and the reference, as of `now`; `emails`
    counts the confirmations sent so far."""

    root: OrderRoot
    org: Organization
    snapshot: dict[str, Any] | None
    ref: RefOrder
    now: pendulum.DateTime
    emails: int
    steps: tuple[Step, ...]
    key: Hashable

    def where(self, done: Step) -> Callable[[], Counterexample]:
        return lambda: Counterexample(self.root.setup(), (*self.steps, done))


def _key(
    root: OrderRoot, snapshot: dict[str, Any] | None, ref: RefOrder, now: Any, emails: int
) -> Hashable:
    """Orders that behave alike from here: equal records but for the history and who acted."""
    record = None
    if snapshot is not None:
        record = {k: v for k, v in snapshot.items() if k not in ("history", "requested_by")}
        record["sessions"] = [
            {k: v for k, v in s.items() if k not in ("booked_by", "closed_by")}
            for s in snapshot["sessions"]
        ]
    ref = attrs.evolve(ref, history=(), requested_by=None)
    return (root, now, json.dumps(record, sort_keys=True), ref, emails)


def moves(ref: RefOrder, now: pendulum.DateTime) -> list[tuple[pendulum.DateTime, str]]:
    """Instants worth moving the clock to: just before and at each booked session's start and
    at the expiry."""
    marks = [
        (s.start, f"the start of {s.session_id}") for s in ref.sessions if s.status == "scheduled"
    ]
    if ref.expires_at is not None and not ref.validity_ended:
        marks.append((ref.expires_at, "the expiry"))
    found: dict[pendulum.DateTime, str] = {}
    for at, what in marks:
        for moved, word in ((instant(at - MICROSECOND), "just before"), (instant(at), "at")):
            if moved > now:
                found.setdefault(moved, f"{word} {what}")
    return sorted(found.items())


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
        "hours_per_unit": root.hours_per_unit,
        "validity_months": root.validity_months,
        "order_id": ORDER_ID,
        "engine": engine,
    }
    if step.call == "start_checkout":
        return ConsultingOrder.start_checkout(root.org(), actor=_member(a["actor"]), **terms)
    if step.call == "from_representative":
        reference = a["sales_reference"]
        return ConsultingOrder.from_representative(
            root.org(), sales_reference=reference, email=BUYER, **terms
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
class _Live:
    """An order opened at a node: the object, its clock and its outbox."""

    order: ConsultingOrder
    clock: HostClock
    outbox: InMemoryOutbox


class OrderExplorer:
    """Expands order nodes: every request and clock move from each, checked as it is taken."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.args = {n: a.as_arg() for n, a in (*ACTORS.items(), *WITHOUT_EMAIL.items())}
        self.turn = 0

    def _rotate(self, names: tuple[str, ...]) -> str:
        return names[self.turn % len(names)]

    def roots(self) -> list[OrderNode]:
        nodes = []
        for root in ROOTS:
            ref = RefOrder(root.zone, root.units, root.hours_per_unit, root.validity_months)
            key = _key(root, None, ref, root.start, 0)
            nodes.append(OrderNode(root, root.org(), None, ref, root.start, 0, (), key))
        return nodes

    # What to try from a node.

    def actions(self, node: OrderNode) -> list[tuple[Step, pendulum.DateTime]]:
        """Opening the order (console as billing roles, another actor and buyers without an
        e-mail address, representative with and without a reference); then confirm, bookings,
        cancels and deliveries of every session (and an unknown one) as the owner, the host, a
        member and a stranger, and apply_due at each instant worth moving the clock to."""
        self.turn += 1
        now, ref, at = node.now, node.ref, iso(node.now)
        if node.snapshot is None:
            found = [
                Step(at, "start_checkout", {"actor": self.args[who]})
                for who in (*BILLING, self._rotate(NOT_BILLING), *WITHOUT_EMAIL)
            ]
            found += [Step(at, "from_representative", {"sales_reference": r}) for r in ("SO-1", "")]
            return [(s, now) for s in found]
        found = [Step(at, "confirm"), *self._schedules(node)]
        sessions = [s.session_id for s in ref.sessions] + ["s-9"]
        booked = [s.session_id for s in ref.sessions if s.status == "scheduled"][:1]
        for name in ("cancel_session", "deliver"):
            for session in sessions:
                args = {"session_id": session, "actor": self.args["owner"]}
                found.append(Step(at, name, args))
            for session in booked:
                for who in (self._rotate(MEMBERS), self._rotate(STRANGERS)):
                    found.append(Step(at, name, {"session_id": session, "actor": self.args[who]}))
                found.append(Step(at, name, {"session_id": session, "actor": None}))
        actions = [(s, now) for s in found]
        for moved, note in moves(ref, now):
            actions.append((Step(iso(moved), "apply_due", {}, note=note), moved))
        return actions

    def _schedules(self, node: OrderNode) -> list[Step]:
        ref, now, at = node.ref, node.now, iso(node.now)
        per, spare = ref.hours_per_unit, max(ref.available, 1)
        soon = now.add(days=1)
        tries: list[tuple[pendulum.DateTime, int, str, str]] = [
            (soon, per, "owner", "one unit tomorrow"),
            (soon, per * (spare + 1), "owner", "more units than are available"),
            (now, per, "owner", "starting now, not after it"),
            (soon, per, self._rotate(MEMBERS), "one unit tomorrow"),
            (soon, per, self._rotate(STRANGERS), "one unit tomorrow"),
        ]
        if spare > 1:
            tries.append((soon, per * spare, "owner", "every available unit tomorrow"))
        if per > 1:
            tries.append((soon, per + 1, "owner", "hours that are not whole units"))
        if ref.expires_at is not None and not ref.validity_ended:
            last = instant(ref.expires_at).subtract(hours=per)
            tries.append((last, per, "owner", "ending at the expiry"))
            tries.append((last + MICROSECOND, per, "owner", "ending just after the expiry"))
        return [
            Step(at, "schedule", {"start": iso(s), "hours": h, "actor": self.args[who]}, note)
            for s, h, who, note in tries
            if s >= now
        ]

    # Opening a node's order, and resetting it between steps.

    def _live(self, node: OrderNode, engine: str) -> _Live:
        outbox, clock = InMemoryOutbox(), HostClock(node.now)
        assert node.snapshot is not None
        try:
            order = ConsultingOrder.restore(
                node.snapshot, node.org, clock=clock, outbox=outbox, engine=engine
            )
        except Exception:  # reported where the snapshot was written; replay instead
            replayed, outbox, clock = replay(node.root, node.steps, engine)
            assert replayed is not None
            order = replayed
            clock.at = node.now
            outbox.sent.clear()
        return _Live(order, clock, outbox)

    @staticmethod
    def _reset(live: _Live, mark: Memento, at: pendulum.DateTime) -> None:
        """`live` rewound to `mark`, its outbox emptied, its clock at `at`."""
        live.order.rewind(mark)
        live.outbox.sent.clear()
        live.clock.at = at

    def expand(self, node: OrderNode) -> Iterator[OrderNode]:
        if node.snapshot is None:
            for step, _ in self.actions(node):
                self.tracker.sequences += 1
                child = self._open(node, step)
                if child is not None:
                    yield child
            return
        try:
            base = self._live(node, "table")
            twin = self._live(node, "statechart")
        except Exception as error:  # reported; this point is not explored further
            where = functools.partial(Counterexample, node.root.setup(), node.steps)
            self.tracker.expect(crashed(error, "T7"), where)
            return
        recorder = Recorder()
        base.order.listen(recorder)
        mark, twin_mark = base.order.memento(), twin.order.memento()
        for step, at in self.actions(node):
            self._reset(base, mark, at)
            if twin.order.memento().state in COMPILED.finals:  # python-statemachine ends a chart
                twin = self._live(node, "statechart")
                twin_mark = twin.order.memento()
            self._reset(twin, twin_mark, at)
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
        self, node: OrderNode, live: _Live, ref: RefOrder, now: pendulum.DateTime, done: Step
    ) -> OrderNode:
        snapshot = live.order.snapshot()
        emails = node.emails + len(live.outbox.sent)
        key = _key(node.root, snapshot, ref, now, emails)
        return OrderNode(node.root, node.org, snapshot, ref, now, emails, (*node.steps, done), key)

    # Opening the order: in the console (F1) or from a representative (F1, F3).

    def _open(self, node: OrderNode, step: Step) -> OrderNode | None:
        t, ref, now = self.tracker, node.ref, node.now
        made = [self._make(node, step, engine) for engine in ("table", "statechart")]
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
            t.expect(_answered(step, expected, outcome, rules[0]), where)
            twin, twin_outcome = made[1]
            same = twin_outcome.same_as(outcome)
            if live is not None and twin is not None:
                same = same and twin.order.snapshot() == live.order.snapshot()
                same = same and twin.outbox.sent == live.outbox.sent
            t.expect(_engines(rules[0], same, twin_outcome), where)
        if live is None or expected:
            return None
        t.exercised(rules)
        ok = self._after(node, live, after, rules[0], where) if self.check else True
        child = self._child(node, live, after, now, done)
        return child if ok else None

    def _make(self, node: OrderNode, step: Step, engine: str) -> tuple[_Live | None, Outcome]:
        clock, outbox = HostClock(node.now), InMemoryOutbox()
        outcome = attempt(functools.partial(call, None, step, node.root, clock, outbox, engine))
        if isinstance(outcome.result, ConsultingOrder):
            return _Live(outcome.result, clock, outbox), Outcome()
        return None, outcome

    # Every other step.

    def _step(
        self,
        node: OrderNode,
        step: Step,
        at: pendulum.DateTime,
        base: _Live,
        twin: _Live,
        recorder: Recorder,
    ) -> OrderNode | None:
        t = self.tracker
        ref, expired = observe(node.ref, at)
        after, expected, rules = self._expected(node, ref, step, at)
        rules = (("F6", "T7") if expired else ()) + rules
        outcome = attempt(
            functools.partial(call, base.order, step, node.root, base.clock, base.outbox)
        )
        note = outcome.describe()
        if step.call == "apply_due" and outcome.crash is None:
            applied = ", ".join(f"{e.action.value} at {e.at.isoformat()}" for e in outcome.result)
            note = f"applied {applied or 'nothing'}"
        done = attrs.evolve(step, outcome=note, takes=tuple(edge_name(*e) for e in recorder.taken))
        where = node.where(done)
        t.produced(outcome.reasons)
        t.exercised(r for _, r in expected)
        t.took(recorder.taken, node.root.setup(), (*node.steps, done))
        refused = outcome.refused or outcome.crash is not None
        if not refused and not expected:
            t.exercised(rules)
        if not self.check:
            return None if refused or expected else self._child(node, base, after, at, done)
        verdicts = [_answered(step, expected, outcome, rules[0])]
        if step.call == "apply_due":
            verdicts += self._applied(node, at, outcome, after if expired else None, base)
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
        t.expect(_engines(rules[0], same, twin_outcome), where)
        if refused or expected:
            return None
        ok &= self._after(node, base, after, rules[0], where)
        child = self._child(node, base, after, at, done)
        return child if ok else None

    def _expected(
        self, node: OrderNode, ref: RefOrder, step: Step, at: pendulum.DateTime
    ) -> tuple[RefOrder, tuple[Refusal, ...], tuple[str, ...]]:
        """What the rules say `step` does from `ref` (observed at `at`): the order after it, the
        reasons it is refused, and the rules it applies."""
        a, projects = step.args, node.org.project_ids
        if step.call == "confirm":
            return confirm(ref, at), (), ("F1", "F3") if ref.state == "checkout" else ("F3",)
        if step.call == "apply_due":
            return ref, (), ("F6",)
        who = a["actor"]
        actor = None if who is None else ACTORS[who["id"]]
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

    def _applied(
        self,
        node: OrderNode,
        at: pendulum.DateTime,
        outcome: Outcome,
        after: RefOrder | None,
        late: _Live,
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
            walker = self._live(node, "table")
            for when in (node.ref.expires_at, at):
                walker.clock.at = instant(when)
                walker.order.state  # noqa: B018  (reading is what applies what is due)
            verdicts.append(
                Verdict(
                    "F6",
                    "late apply_due equals on time",
                    walker.order.snapshot() == late.order.snapshot(),
                    "apply_due() after the expiry gives another record than reading the order "
                    "at it",
                )
            )
        return verdicts

    def _after(
        self,
        node: OrderNode,
        live: _Live,
        ref: RefOrder,
        rule: str,
        where: Callable[[], Counterexample],
    ) -> bool:
        """After an accepted step: the order is the reference's, F7's balance holds, one email
        per purchase, and its snapshot round-trips. False when it left the reference."""
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
            *round_trip(live.order, node.org, live.clock),
        ]
        t.expect_all(verdicts, where)
        return matches


def _answered(step: Step, expected: tuple[Refusal, ...], outcome: Outcome, default: str) -> Verdict:
    args = ", ".join(f"{k}={v['id'] if isinstance(v, dict) else v!r}" for k, v in step.args.items())
    said = f"refused with {list(expected)}" if expected else "accepted"
    return Verdict(
        rule_of(expected, outcome.reasons, default),
        "the request is accepted or refused as the rules say",
        outcome.crash is None and outcome.reasons == expected,
        f"{step.call}({args}) was {outcome.describe()}; the rules say {said}",
    )


def _engines(rule: str, same: bool, twin: Outcome) -> Verdict:
    return Verdict(
        rule,
        "the table engine equals the chart engine",
        same,
        f"python-statemachine's engine gave {twin.describe()} and a different record",
    )


def explore(
    depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
) -> Tracker:
    """Every order sequence up to `depth` steps, checked when `check` (else only covered)."""
    tracker = Tracker("consulting", COMPILED, ("F",))
    explorer = OrderExplorer(tracker, check=check)
    if check:
        probes(tracker)
    stop = tracker.covered if until_covered else None
    breadth_first(explorer.roots(), explorer.expand, depth, progress, "consulting", tracker, stop)
    return tracker


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
