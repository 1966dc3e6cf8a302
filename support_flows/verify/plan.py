"""Systematic verification of the support plan (RULES.md P, T): every sequence of requests and
clock moves up to a depth, in several billing zones, with every kind of actor, checked after every
step against the reference (`verify.reference.plan`) and the plan invariants."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs
import pendulum

from support_flows.machines.plan import SupportPlan
from support_flows.machines.plan_chart import COMPILED
from support_flows.verify.common import HostClock, Recorder, attempt, crashed, rule_of
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.plan_answers import answers, applied, probes, reopened, skewed_clock
from support_flows.verify.plan_bounds import bounds
from support_flows.verify.plan_calls import ROLE_SETS, Pair, call, open_at, prepared, with_cross_org
from support_flows.verify.plan_checks import (
    agreement,
    premium_billed,
    round_trip,
    specific,
    timeline,
    view,
)
from support_flows.verify.plan_roots import (
    CROSS_ORG,
    ROOTS,
    PlanNode,
    PlanRoot,
    generated,
    iso,
    moves,
    node_key,
    ref_at,
)
from support_flows.verify.policy import billing_role
from support_flows.verify.reference.plan import (
    TIERS,
    RefPlan,
    decide,
    observe,
    perform,
    request_instants,
)
from support_flows.verify.restore import plan_restores
from support_flows.verify.watchdog import stalled

__all__ = ["DEPTH", "GENERATED", "GENERATED_DEPTH", "SEED", "PlanExplorer", "explore"]

DEPTH = 5
SEED = 18
GENERATED = 12
GENERATED_DEPTH = 2
"""Roots drawn with `SEED` beside the fixed ones, each explored this many steps past its
prefix."""
PAID = ("trial", "developer", "premium")
FULL = ("owner", "billing-admin")
"""Under Atlas's policy, the role sets whose accepted requests are explored further: each billing
role alone (P1). Under another policy, the first two role sets holding one of its billing roles
alone (`full_role_sets`)."""


def full_role_sets() -> tuple[str, ...]:
    """The role sets explored past an accepted request under the run's policy: at most two, each
    one of its billing roles alone (Atlas's: FULL)."""
    alone = [a for a in ROLE_SETS if len(a.org_roles) == 1 and not a.project_roles]
    return tuple(a.name for a in alone if billing_role(a.org_roles))[:2]


Progress = Callable[[str], None]


class PlanExplorer:
    """Expands plan nodes: every request and clock move from each, checked as it is taken."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.members = {actor.name: actor.member() for actor in ROLE_SETS}
        self.args = [actor.as_arg() for actor in ROLE_SETS]
        self.twins: dict[tuple[PlanRoot, bool], tuple[SupportPlan, HostClock]] = {}
        self.full = full_role_sets()
        self.others = tuple(a.name for a in ROLE_SETS if a.name not in self.full)
        self.probed: set[Hashable] = set()
        self.turn = 0
        self.decided: set[Hashable] = set()

    def roots(self) -> list[PlanNode]:
        """The fixed roots, then, when checking, those drawn with `SEED` (each at the end of its
        prefix, when the library agrees with the rules there: the fixed roots find it otherwise;
        the paths a host replays start from the fixed roots only)."""
        nodes = []
        for root in (*ROOTS, *(generated(SEED, GENERATED) if self.check else ())):
            try:
                plan, prefix = prepared(root)
                ref = ref_at(root)
                if prefix and not all(v.ok for v in agreement(view(plan), ref, ())):
                    continue
                snapshot = plan.snapshot()
            except Exception:  # only after a prefix: the fixed roots report it
                if root.prefix:
                    continue
                raise
            key = node_key(root, snapshot, ref, root.now())
            nodes.append(PlanNode(root, plan.org, snapshot, ref, root.now(), prefix, key))
        self.tracker.states.add(COMPILED.initial)
        return nodes

    def actions(self, node: PlanNode) -> list[tuple[Step, pendulum.DateTime]]:
        """Every tier, cancel and revoke by every role set; the organization joining cross-org
        billing once it pays (or leaving it), once a sequence; then apply_due at each instant
        worth moving the clock to."""
        if len(node.steps) - len(node.root.prefix) >= (
            GENERATED_DEPTH if node.root.prefix or node.root.seed is not None else DEPTH
        ):
            return []
        at = iso(node.now)
        found = []
        self.turn += 1
        for actor in self._askers(node):
            found += [Step(at, "change", {"tier": tier, "actor": actor}) for tier in TIERS]
            found.append(Step(at, "cancel", {"actor": actor}))
            found.append(Step(at, "revoke_pending", {"actor": actor}))
        toggled = any(s.call == CROSS_ORG for s in node.steps)
        if self.check and not toggled and (node.org.cross_org_billing or node.ref.state in PAID):
            joins = not node.org.cross_org_billing
            note = "the organization joins cross-org billing" if joins else "it leaves it"
            found.append(Step(at, CROSS_ORG, {CROSS_ORG: joins}, note=note))
        actions = [(step, node.now) for step in found]
        for moved, note in moves(node.ref, node.now):
            actions.append((Step(iso(moved), "apply_due", {}, note=note), moved))
        return actions

    def _askers(self, node: PlanNode) -> list[dict[str, Any]]:
        """Every role set the first time a root reaches a point the rules decide alike (same
        state, pending change or not, cross-org or not, a change just taken effect or not):
        every request, by every role set, against every such decision; then both billing roles
        and one other role set in turn."""
        ref = node.ref
        alike = (node.root, ref.state, ref.pending is None, ref.cross_org, ref.change_took_effect)
        if alike not in self.decided:
            self.decided.add(alike)
            return self.args
        return [a for a in self.args if a["id"] in self.full or a["id"] == self._other()]

    def _other(self) -> str:
        return self.others[self.turn % len(self.others)]

    # Rewinding the twin between steps.

    def _twin(self, node: PlanNode) -> tuple[SupportPlan, HostClock]:
        """The plan on python-statemachine's engine, at `node`: one per root and cross-org
        flag, rewound to each point, so its chart is built once rather than at every point."""
        which = (node.root, node.org.cross_org_billing)
        twin = self.twins.get(which)
        if twin is None:
            twin = self.twins[which] = open_at(node, "statechart")
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
        actions = self.actions(node)
        full = {*self.full, self._other()}
        for step, at in actions:
            base.rewind(saved[0])
            twin.rewind(saved[1])
            base_clock.at = twin_clock.at = at
            recorder.taken.clear()
            self.tracker.sequences += 1
            pair = Pair(base, twin, recorder)
            try:
                if step.call == "apply_due":
                    child = self._apply(node, step, at, pair)
                elif step.call == CROSS_ORG:
                    child = self._cross_org(node, step, base)
                else:
                    child = self._request(node, step, pair, step.args["actor"]["id"] in full)
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
        return PlanNode(node.root, plan.org, snapshot, ref, now, (*node.steps, done), key)

    # The host saves the organization with its cross-org flag changed and opens the plan again.

    def _cross_org(self, node: PlanNode, step: Step, base: SupportPlan) -> PlanNode | None:
        joined = bool(step.args[CROSS_ORG])
        outcome, verdict = reopened(base, with_cross_org(node.org, joined))
        done = attrs.evolve(step, outcome=outcome.describe())
        self.tracker.exercised(("P3",))
        if not self.tracker.expect(verdict, node.where(done)):
            return None
        ref = attrs.evolve(node.ref, cross_org=joined)
        return self._child(node, outcome.result, ref, node.now, done)

    # A request: change, cancel or revoke.

    def _request(self, node: PlanNode, step: Step, pair: Pair, full: bool) -> PlanNode | None:
        """The request checked against the rules by whoever asks; the engines compared, and
        what it leads to checked and explored, for both billing roles and one other role set
        in turn (any other role set that is accepted leads where one of those does)."""
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
        if asked is not None and full:
            t.expect(
                pair.engines_agree(
                    step, outcome, rule_of(expected, outcome.reasons, "P1"), self.members
                ),
                where,
            )
        if outcome.refused or outcome.crash is not None or expected or not full:
            return None
        after, rules = perform(ref, step.call, actor.user_id, tier, node.now)
        t.exercised(rules)
        if self.check:
            agrees, diagnosed = self._after(node, base, after, rules, where, ref)
            ok = (ok and agrees) or diagnosed
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
        before: RefPlan | None = None,
    ) -> tuple[bool, bool]:
        """After an accepted step: the plan is the reference's, its timeline keeps P20's two
        invariants, and its snapshot round-trips. Whether the plan still agrees with the
        reference, and whether a calendar rule (T3, T4, T5) explains why it does not: then
        every check that step broke is that rule's finding, and the exploration goes on."""
        seen = view(plan)
        self.tracker.states.add(seen.state)
        self.tracker.exercised(("P17", "P20"))
        found = None if before is None else specific(seen, before, ref, rules, plan.clock.now())
        agrees = agreement(seen, ref, rules)
        bounds = timeline(seen, ref.tz, ref.trial_end, request_instants(ref))
        checks = [*agrees, *bounds, premium_billed(seen)]
        if found is not None:
            checks = [c if c.ok else attrs.evolve(c, rule=found[0]) for c in checks]
        matches = all(c.ok for c in agrees)
        self.tracker.expect_all(checks, where)
        self.tracker.expect_all(round_trip(plan, node.org, plan.clock), where)
        return matches, found is not None

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
        ok &= self._after(node, base, after, rules, where)[0]
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
    if check and not stalled():  # after the exploration: its counterexamples come first
        bounds(tracker)
    return tracker
