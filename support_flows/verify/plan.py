"""Systematic verification of the support plan (RULES.md P, T): every sequence of requests and
clock moves up to a depth, in several billing zones, with every kind of actor, checked after every
step against the reference (`verify.reference.plan`) and the plan invariants."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs
import pendulum

from support_flows.errors import SupportFlowsError
from support_flows.localtime import add_wall_days, instant
from support_flows.machines.plan import COMPILED, SupportPlan
from support_flows.values import Member, Organization, Project
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
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Counterexample, Setup, Step, edge_name
from support_flows.verify.plan_checks import (
    agreement,
    premium_billed,
    round_trip,
    timeline,
    view,
)
from support_flows.verify.reference.plan import TIERS, RefPlan, decide, due, observe, perform

__all__ = ["DEPTH", "ROOTS", "PlanExplorer", "PlanRoot", "call", "explore", "moves", "replay"]

DEPTH = 5
MICROSECOND = pendulum.duration(microseconds=1)
BILLING = ("owner", "billing-admin")
OTHERS = tuple(name for name in ACTORS if name not in BILLING)
OFFSETS = {-1: "just before", 0: "at", 1: "just after"}

Progress = Callable[[str], None]


@attrs.frozen
class PlanRoot:
    """Where sequences start: a fresh plan on `basic`, in `zone`, at `start`."""

    zone: str
    start: pendulum.DateTime
    cross_org: bool = False
    note: str = ""

    def org(self) -> Organization:
        return Organization(
            "org-1",
            projects=(Project("p-1"),),
            billing_timezone=self.zone,
            cross_org_billing=self.cross_org,
        )

    def setup(self) -> Setup:
        org = {"org_id": "org-1", "projects": ["p-1"], "cross_org_billing": self.cross_org}
        return Setup("plan", self.zone, iso(self.start), org, {"why": self.note})


def _local(zone: str, year: int, month: int, day: int, hour: int) -> pendulum.DateTime:
    return instant(pendulum.datetime(year, month, day, hour, tz=zone))


ROOTS = (
    PlanRoot("UTC", _local("UTC", 2026, 1, 1, 12), note="a trial that ends before the next 1st"),
    PlanRoot(
        "Pacific/Auckland", _local("Pacific/Auckland", 2026, 3, 14, 10), note="DST ends in April"
    ),
    PlanRoot("Pacific/Kiritimati", _local("Pacific/Kiritimati", 2026, 3, 31, 14), note="UTC+14"),
    PlanRoot("Pacific/Pago_Pago", _local("Pacific/Pago_Pago", 2026, 3, 31, 9), note="UTC-11"),
    PlanRoot(
        "America/Asuncion",
        _local("America/Asuncion", 2023, 9, 14, 10),
        note="Oct 1 2023 begins at 01:00 (DST gap at midnight)",
    ),
    PlanRoot(
        "America/Havana",
        _local("America/Havana", 2026, 10, 14, 10),
        note="Nov 1 2026 begins twice (DST ends at 01:00)",
    ),
    PlanRoot(
        "America/St_Johns",
        instant(pendulum.datetime(2009, 11, 1, 3, tz="UTC")),
        note="Oct 31 2009 23:30, in the repeated hour: Nov 1 has begun once already (T3)",
    ),
    PlanRoot("UTC", _local("UTC", 2028, 1, 30, 12), note="a trial that ends on Feb 29"),
    PlanRoot("UTC", _local("UTC", 2026, 3, 14, 10), cross_org=True, note="cross-org billing"),
)


@attrs.frozen(eq=False)
class PlanNode:
    """An explored plan: its snapshot and the reference, as of `now`."""

    root: PlanRoot
    org: Organization
    snapshot: dict[str, Any]
    ref: RefPlan
    now: pendulum.DateTime
    steps: tuple[Step, ...]
    key: Hashable

    def where(self, done: Step) -> Callable[[], Counterexample]:
        return lambda: Counterexample(self.root.setup(), (*self.steps, done))


def _key(root: PlanRoot, snapshot: dict[str, Any], ref: RefPlan, now: Any) -> Hashable:
    """Plans that behave alike from here: equal records but for the history and who asked."""
    record = {k: v for k, v in snapshot.items() if k != "history"}
    if record.get("pending"):
        record["pending"] = {**record["pending"], "requested_by": ""}
    pending = None if ref.pending is None else attrs.evolve(ref.pending, requested_by="")
    return (
        root,
        now,
        json.dumps(record, sort_keys=True),
        attrs.evolve(ref, history=(), pending=pending),
    )


def moves(ref: RefPlan, now: pendulum.DateTime) -> list[tuple[pendulum.DateTime, str]]:
    """Instants worth moving the clock to: just before and at the next month start and whatever
    comes due (the trial's end, the pending change); around 90 days after the plan ended (P15)."""
    marks: list[tuple[Any, str, tuple[int, ...]]] = [
        (ref.month_after(now), "the 1st of next month", (-1, 0))
    ]
    if (at := due(ref)) is not None:
        marks.append((at, "the trial's end" if ref.trial else "the pending change", (-1, 0)))
    if ref.state == "cancelled" and ref.last_end is not None:
        ninety = add_wall_days(ref.last_end[1], 90, ref.tz)
        marks.append((ninety, "90 days after the plan ended", (-1, 0, 1)))
    found: dict[pendulum.DateTime, str] = {}
    for at, what, offsets in marks:
        for offset in offsets:
            moved = instant(at + MICROSECOND * offset)
            if moved > now:
                found.setdefault(moved, f"{OFFSETS[offset]} {what}")
    return sorted(found.items())


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


class PlanExplorer:
    """Expands plan nodes: every request and clock move from each, checked as it is taken."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.members = {name: actor.member() for name, actor in ACTORS.items()}
        self.args = {name: actor.as_arg() for name, actor in ACTORS.items()}
        self.turn = 0
        self.twins: dict[PlanRoot, tuple[SupportPlan, HostClock]] = {}
        self.probed: set[Hashable] = set()

    def roots(self) -> list[PlanNode]:
        nodes = []
        for root in ROOTS:
            org = root.org()
            snapshot = SupportPlan(org, clock=HostClock(root.start)).snapshot()
            ref = RefPlan(root.zone, root.cross_org)
            key = _key(root, snapshot, ref, root.start)
            nodes.append(PlanNode(root, org, snapshot, ref, root.start, (), key))
        self.tracker.states.add(COMPILED.initial)
        return nodes

    def actions(self, node: PlanNode) -> list[tuple[Step, pendulum.DateTime]]:
        """Every tier, cancel and revoke as both billing roles and one other kind of actor (in
        turn), then apply_due at each instant worth moving the clock to."""
        at = iso(node.now)
        self.turn += 1
        found = []
        for who in (*BILLING, OTHERS[self.turn % len(OTHERS)]):
            actor = self.args[who]
            found += [Step(at, "change", {"tier": tier, "actor": actor}) for tier in TIERS]
            found.append(Step(at, "cancel", {"actor": actor}))
            found.append(Step(at, "revoke_pending", {"actor": actor}))
        actions = [(step, node.now) for step in found]
        for moved, note in moves(node.ref, node.now):
            actions.append((Step(iso(moved), "apply_due", {}, note=note), moved))
        return actions

    # Opening a node's plan, and rewinding it between steps.

    def _open(self, node: PlanNode, engine: str) -> tuple[SupportPlan, HostClock]:
        clock = HostClock(node.now)
        try:
            return SupportPlan.restore(node.snapshot, node.org, clock=clock, engine=engine), clock
        except Exception:  # reported where the snapshot was written; replay instead
            plan, clock = replay(node.root, node.steps, engine)
            clock.at = node.now
            return plan, clock

    def _twin(self, node: PlanNode) -> tuple[SupportPlan, HostClock]:
        """The plan on python-statemachine's engine, at `node`: one per root, rewound to each
        point, so its chart is built once rather than at every point."""
        twin = self.twins.get(node.root)
        if twin is None:
            twin = self.twins[node.root] = self._open(node, "statechart")
        twin[0].rewind(self._open(node, "table")[0].memento())
        twin[1].at = node.now
        return twin

    def expand(self, node: PlanNode) -> Iterator[PlanNode]:
        try:
            base, base_clock = self._open(node, "table")
            twin, twin_clock = self._twin(node)
        except Exception as error:  # reported; this point is not explored further
            where = functools.partial(Counterexample, node.root.setup(), node.steps)
            self.tracker.expect(crashed(error, "T7"), where)
            return
        recorder = Recorder()
        base.listen(recorder)
        saved = (base.memento(), twin.memento())
        for step, at in self.actions(node):
            base.rewind(saved[0])
            twin.rewind(saved[1])
            base_clock.at = twin_clock.at = at
            recorder.taken.clear()
            self.tracker.sequences += 1
            pair = _Pair(base, twin, recorder)
            try:
                if step.call == "apply_due":
                    child = self._apply(node, step, at, pair)
                else:
                    child = self._request(node, step, pair)
            except Exception as error:  # reported; the run goes on with the next step
                self.tracker.expect(crashed(error, "T7"), node.where(step))
                child = None
            if child is not None:
                yield child

    def _child(
        self, node: PlanNode, plan: SupportPlan, ref: RefPlan, now: pendulum.DateTime, done: Step
    ) -> PlanNode:
        snapshot = plan.snapshot()
        key = _key(node.root, snapshot, ref, now)
        return PlanNode(node.root, node.org, snapshot, ref, now, (*node.steps, done), key)

    # A request: change, cancel or revoke.

    def _request(self, node: PlanNode, step: Step, pair: _Pair) -> PlanNode | None:
        t, ref, base = self.tracker, node.ref, pair.base
        actor = self.members[step.args["actor"]["id"]]
        tier = step.args.get("tier")
        expected = decide(ref, step.call, [r.value for r in actor.org_roles], tier)
        asked = (
            attempt(lambda: base.check(step.call, actor=actor, tier=tier)) if self.check else None
        )
        outcome = attempt(lambda: call(base, step, self.members))
        done = pair.done(step, outcome.describe())
        where = node.where(done)
        t.produced(outcome.reasons)
        t.exercised(("T6", *(rule for _, rule in expected)))
        t.took(pair.recorder.taken, node.root.setup(), (*node.steps, done))
        ok = True
        if asked is not None:
            ok = t.expect_all(self._answers(node, step, expected, asked, outcome, base), where)
            t.expect(
                pair.engines_agree(
                    step, outcome, rule_of(expected, outcome.reasons, "P1"), self.members
                ),
                where,
            )
        if outcome.refused or outcome.crash is not None or expected:
            return None
        after, rules = perform(ref, step.call, actor.user_id, tier, node.now)
        t.exercised(rules)
        if self.check:
            ok &= self._after(node, base, after, rules, where)
        child = self._child(node, base, after, node.now, done)
        if self.check and child.key not in self.probed:
            self.probed.add(child.key)
            t.expect(
                self._skewed_clock(child),
                node.where(attrs.evolve(done, note="then restored on a clock an hour behind")),
            )
        return child if ok else None

    def _answers(
        self,
        node: PlanNode,
        step: Step,
        expected: tuple[tuple[str, str], ...],
        asked: Outcome,
        outcome: Outcome,
        base: SupportPlan,
    ) -> list[Verdict]:
        """check() and the request give exactly the rules' reasons; a refusal changes nothing."""
        answered: tuple[tuple[str, str], ...] = ()
        if asked.result is not None:
            answered = tuple((r.code.value, r.rule) for r in asked.result.reasons)
        got, tier, who = outcome.reasons, step.args.get("tier"), step.args["actor"]["id"]
        said = f"refused with {list(expected)}" if expected else "accepted"
        verdicts = [
            Verdict(
                rule_of(expected, answered, "P1"),
                "check() answers as the rules",
                asked.crash is None and answered == expected,
                f"check({step.call!r}, tier={tier!r}) by {who} gives {list(answered)}; "
                f"the rules say {list(expected)}",
            ),
            Verdict(
                rule_of(expected, got, "P1"),
                "the request is accepted or refused as the rules say",
                outcome.crash is None and got == expected,
                f"{step.call}(tier={tier!r}) by {who} was {outcome.describe()}; "
                f"the rules say {said}",
            ),
        ]
        if outcome.refused or outcome.crash is not None:
            verdicts.append(
                Verdict(
                    rule_of(expected, got, "P1"),
                    "a refusal changes nothing",
                    base.snapshot() == node.snapshot,
                    "the refused request changed the plan's snapshot",
                )
            )
        return verdicts

    def _after(
        self,
        node: PlanNode,
        plan: SupportPlan,
        ref: RefPlan,
        rules: tuple[str, ...],
        where: Callable[[], Counterexample],
    ) -> bool:
        """After an accepted step: the plan is the reference's, its timeline keeps P20's two
        invariants, and its snapshot round-trips. False when the plan left the reference."""
        seen = view(plan)
        self.tracker.states.add(seen.state)
        self.tracker.exercised(("P17", "P20"))
        matches = self.tracker.expect_all(agreement(seen, ref, rules), where)
        others = [*timeline(seen, ref.tz, ref.trial_end), premium_billed(seen)]
        others += round_trip(plan, node.org, plan.clock)
        self.tracker.expect_all(others, where)
        return matches

    # A clock move: the clock set to an instant worth landing on, then apply_due().

    def _apply(
        self, node: PlanNode, step: Step, at: pendulum.DateTime, pair: _Pair
    ) -> PlanNode | None:
        t, base = self.tracker, pair.base
        after, expected = observe(node.ref, at)
        outcome = attempt(base.apply_due)
        applied = outcome.result or ()
        shown = ", ".join(
            f"{e.source.value} -> {e.target.value} at {e.at.isoformat()}" for e in applied
        )
        done = pair.done(
            step, f"applied {shown or 'nothing'}" if outcome.crash is None else outcome.describe()
        )
        where = node.where(done)
        t.took(pair.recorder.taken, node.root.setup(), (*node.steps, done))
        rules = tuple(r for a in expected for r in a[3]) or ("P14",)
        t.exercised(rules)
        if not self.check:
            return self._child(node, base, after, at, done)
        got = [(e.at, e.source.value, e.target.value) for e in applied]
        want = [(a[0], a[1], a[2]) for a in expected]
        again = attempt(base.apply_due)
        verdicts = [
            Verdict(
                rules[0],
                "apply_due applies what is due, at its recorded instant",
                outcome.crash is None and got == want,
                f"apply_due() gave {outcome.describe()} {_pairs(got)}; "
                f"the rules say {_pairs(want)}",
            ),
            Verdict(
                "P14",
                "apply_due again applies nothing",
                again.result == (),
                f"a second apply_due() gave {again.describe()} {again.result!r}",
            ),
        ]
        if expected:
            verdicts.append(self._on_time(node, at, expected, base))
        ok = t.expect_all(verdicts, where)
        t.expect(pair.engines_agree(step, outcome, rules[0], self.members), where)
        ok &= self._after(node, base, after, rules, where)
        child = self._child(node, base, after, at, done)
        return child if ok else None

    def _on_time(
        self, node: PlanNode, at: pendulum.DateTime, expected: tuple[Any, ...], late: SupportPlan
    ) -> Verdict:
        """P14/T7: a plan only read at each due instant on the way ends up as the late one."""
        walker, clock = self._open(node, "table")
        for when in [a[0] for a in expected] + [at]:
            clock.at = when
            walker.state  # noqa: B018  (reading is what applies what is due)
        return Verdict(
            "P14",
            "late apply_due equals on time",
            walker.snapshot() == late.snapshot(),
            "apply_due() after the due instants gives another record than reading the plan at "
            "each of them",
        )

    def _skewed_clock(self, child: PlanNode) -> Verdict:
        """T8: restored on a clock an hour behind its last entry, the plan reads and acts as of
        that entry."""
        self.tracker.exercised(("T8",))
        owner = self.members["owner"]
        try:
            behind = SupportPlan.restore(
                child.snapshot, child.org, clock=HostClock(child.now.subtract(hours=1))
            )
            straight = SupportPlan.restore(child.snapshot, child.org, clock=HostClock(child.now))
        except SupportFlowsError:  # the round trip reports a snapshot its own restore refuses
            return Verdict("T8", "a clock behind the last entry reads as that entry", True)
        same = behind.snapshot() == child.snapshot
        first = attempt(lambda: behind.revoke_pending(actor=owner))
        second = attempt(lambda: straight.revoke_pending(actor=owner))
        same = same and first.same_as(second) and behind.snapshot() == straight.snapshot()
        return Verdict(
            "T8",
            "a clock behind the last entry reads as that entry",
            same,
            "a plan restored on a clock an hour behind its last entry answers otherwise",
        )


@attrs.frozen
class _Pair:
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


def _pairs(entries: list[tuple[Any, str, str]]) -> str:
    return "[" + ", ".join(f"{s} -> {t} at {a.isoformat()}" for a, s, t in entries) + "]"


def explore(
    depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
) -> Tracker:
    """Every plan sequence up to `depth` steps, checked when `check` (else only covered)."""
    tracker = Tracker("plan", COMPILED, ("P", "T"))
    explorer = PlanExplorer(tracker, check=check)
    if check:
        probes(tracker)
    stop = tracker.covered if until_covered else None
    breadth_first(explorer.roots(), explorer.expand, depth, progress, "plan", tracker, stop)
    return tracker


class _NaiveClock:
    def now(self) -> Any:
        return pendulum.naive(2026, 3, 14, 10)


def _read_with_naive_clock() -> Any:
    return SupportPlan(ROOTS[0].org(), clock=_NaiveClock()).state


def _unknown_zone() -> Any:
    return Organization("org-1", billing_timezone="Mars/Olympus_Mons")


PROBES: tuple[tuple[str, str, Callable[[], Any], str, dict[str, str]], ...] = (
    (
        "T1",
        "naive_datetime",
        _read_with_naive_clock,
        "SupportPlan(org, clock=<naive clock>).state",
        {},
    ),
    (
        "T2",
        "unknown_timezone",
        _unknown_zone,
        "Organization",
        {"billing_timezone": "Mars/Olympus_Mons"},
    ),
)


def probes(tracker: Tracker) -> None:
    """T1 and T2, once: a naive clock reading and an unknown billing zone are refused."""
    root = ROOTS[0]
    for rule, reason, make, name, args in PROBES:
        outcome = attempt(make)
        tracker.produced(outcome.reasons)
        tracker.exercised((rule,))
        done = Step(iso(root.start), name, args, outcome=outcome.describe())
        verdict = Verdict(
            rule,
            "malformed input is refused with its reason",
            outcome.reasons[:1] == ((reason, rule),),
            f"gave {outcome.describe()}; the rules say {reason}",
        )
        tracker.expect(verdict, functools.partial(Counterexample, root.setup(), (done,)))
