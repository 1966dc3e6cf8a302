"""Systematic verification of the support plan (RULES.md P, T): every sequence of requests and
clock moves up to a depth, in several billing zones, with every kind of actor, checked after every
step against the reference (`verify.reference.plan`) and the plan invariants."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator

import attrs
import pendulum

from support_flows.machines.plan import SupportPlan
from support_flows.machines.plan_chart import COMPILED
from support_flows.verify.common import ACTORS, HostClock, Recorder, attempt, crashed, iso, rule_of
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.plan_answers import answers, applied, probes, skewed_clock
from support_flows.verify.plan_calls import Pair, call, open_at
from support_flows.verify.plan_checks import agreement, premium_billed, round_trip, timeline, view
from support_flows.verify.plan_roots import ROOTS, PlanNode, PlanRoot, moves, node_key
from support_flows.verify.reference.plan import TIERS, RefPlan, decide, observe, perform
from support_flows.verify.restore import plan_restores

__all__ = ["DEPTH", "PlanExplorer", "explore"]

DEPTH = 5
BILLING = ("owner", "billing-admin")
OTHERS = tuple(name for name in ACTORS if name not in BILLING)

Progress = Callable[[str], None]


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
            key = node_key(root, snapshot, ref, root.start)
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

    # Rewinding the twin between steps.

    def _twin(self, node: PlanNode) -> tuple[SupportPlan, HostClock]:
        """The plan on python-statemachine's engine, at `node`: one per root, rewound to each
        point, so its chart is built once rather than at every point."""
        twin = self.twins.get(node.root)
        if twin is None:
            twin = self.twins[node.root] = open_at(node, "statechart")
        twin[0].rewind(open_at(node, "table")[0].memento())
        twin[1].at = node.now
        return twin

    def expand(self, node: PlanNode) -> Iterator[PlanNode]:
        if self.check:
            plan_restores(self.tracker, node)
        try:
            base, base_clock = open_at(node, "table")
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
            pair = Pair(base, twin, recorder)
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
        key = node_key(node.root, snapshot, ref, now)
        return PlanNode(node.root, node.org, snapshot, ref, now, (*node.steps, done), key)

    # A request: change, cancel or revoke.

    def _request(self, node: PlanNode, step: Step, pair: Pair) -> PlanNode | None:
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
            ok = t.expect_all(answers(node, step, expected, asked, outcome, base), where)
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
            t.exercised(("T8",))
            t.expect(
                skewed_clock(child, self.members["owner"]),
                node.where(attrs.evolve(done, note="then restored on a clock an hour behind")),
            )
        return child if ok else None

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
        self, node: PlanNode, step: Step, at: pendulum.DateTime, pair: Pair
    ) -> PlanNode | None:
        t, base = self.tracker, pair.base
        after, expected = observe(node.ref, at)
        outcome = attempt(base.apply_due)
        shown = ", ".join(
            f"{e.source.value} -> {e.target.value} at {e.at.isoformat()}"
            for e in outcome.result or ()
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
        verdicts = applied(node, at, expected, outcome, base, rules[0])
        ok = t.expect_all(verdicts, where)
        t.expect(pair.engines_agree(step, outcome, rules[0], self.members), where)
        ok &= self._after(node, base, after, rules, where)
        child = self._child(node, base, after, at, done)
        return child if ok else None


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
