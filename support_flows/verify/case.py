"""Systematic verification of support requests and cases (RULES.md C1-C7, V3): the whole product
of plan state x role set x projects x scope through `check_case`, `open_case` and
`check_channel`, and every step sequence of the `CaseFlow` navigation up to a depth, each
checked against the reference decision table (`verify.reference.case`); then malformed names,
ids and members (V1, V5), the default severity (C7) and a flow's clock moving back (T8)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from support_flows.errors import Reason
from support_flows.machines.base_object import Memento
from support_flows.machines.case import CaseFlow
from support_flows.machines.case_chart import COMPILED
from support_flows.values.events import CaseEvent
from support_flows.verify.case_decisions import Decisions, recorded
from support_flows.verify.case_malformed import Probes
from support_flows.verify.case_roots import NOW, TITLE, FlowNode, combos, flow_call, new_flow
from support_flows.verify.common import Outcome, Recorder, Verdict, attempt, crashed, iso, rule_of
from support_flows.verify.explore import Tracker, breadth_first
from support_flows.verify.model import Step, edge_name
from support_flows.verify.reference.case import DEFAULT_SEVERITY, Refusal, expected_step

__all__ = ["DEPTH", "EVENTS", "CaseExplorer", "explore"]

DEPTH = 5

EVENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    (CaseEvent.CHOOSE_ORGANIZATION, {}),
    (CaseEvent.OPEN_ORGANIZATION_SUPPORT, {}),
    (CaseEvent.CHOOSE_PROJECT, {"project_id": "p-1"}),
    (CaseEvent.CHOOSE_PROJECT, {"project_id": "p-2"}),
    (CaseEvent.CHOOSE_PROJECT, {"project_id": "p-9"}),
    (CaseEvent.OPEN_PROJECT_SUPPORT, {}),
    (CaseEvent.SUBMIT, {"title": TITLE, "severity": "S1"}),
    (CaseEvent.SUBMIT, {"title": TITLE}),
)
"""Every step of the navigation, with a project of the organization, another, and an unknown;
submit with a severity and without one (C7's default)."""

Progress = Callable[[str], None]


class CaseExplorer:
    """Expands flows: every navigation step from each point, checked against the reference."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.combos = combos()

    def roots(self) -> list[FlowNode]:
        self.tracker.states.add(COMPILED.initial)
        return [
            FlowNode(c, new_flow(c, "table").memento(), None, (), (c, "start", None))
            for c in self.combos
        ]

    def expand(self, node: FlowNode) -> Iterator[FlowNode]:
        base = new_flow(node.combo, "table")
        twin = new_flow(node.combo, "statechart")
        recorder = Recorder()
        base.listen(recorder)
        for event, args in EVENTS:
            base.rewind(node.draft)
            if twin.state in COMPILED.finals:  # python-statemachine ends a chart there
                twin = new_flow(node.combo, "statechart")
            twin.rewind(node.draft)
            recorder.taken.clear()
            project = args.get("project_id")
            step = Step(iso(NOW), f"CaseFlow.{event}", args)
            try:
                child = self._step(node, step, event, project, base, twin, recorder)
            except Exception as error:  # reported; the run goes on with the next step
                self.tracker.expect(crashed(error, "C7"), node.combo.where(*node.steps, step))
                child = None
            if child is not None:
                yield child

    def _step(
        self,
        node: FlowNode,
        step: Step,
        event: str,
        project: str | None,
        base: CaseFlow,
        twin: CaseFlow,
        recorder: Recorder,
    ) -> FlowNode | None:
        t, combo = self.tracker, node.combo
        roles, project_roles = combo.actor.roles
        here, chosen = node.draft.state, node.project
        target, want = expected_step(
            here, event, combo.plan_state, roles, project_roles, combo.projects, project or chosen
        )
        outcome = attempt(functools.partial(flow_call, base, step))
        taken = tuple(edge_name(*e) for e in recorder.taken)
        done = attrs.evolve(step, outcome=outcome.describe(), takes=taken)
        after = base.memento()
        t.sequences += 1
        t.produced(outcome.reasons)
        t.exercised(r for _, r in want)
        t.took(recorder.taken, combo.setup(), (*node.steps, done))
        refused = outcome.refused or outcome.crash is not None
        if not refused:
            t.states.add(base.state)
            t.exercised(("C7",))
        ok = True
        if self.check:
            ok = t.expect_all(
                self._verdicts(node, event, target, want, outcome, base, twin, step, after),
                combo.where(*node.steps, done),
            )
        if refused or target is None:
            return None
        now_chosen = base.project_id
        child = FlowNode(
            combo, after, now_chosen, (*node.steps, done), (combo, after.state, now_chosen)
        )
        return child if ok else None

    def _verdicts(
        self,
        node: FlowNode,
        event: str,
        target: str | None,
        want: tuple[Refusal, ...],
        outcome: Outcome,
        base: CaseFlow,
        twin: CaseFlow,
        step: Step,
        after: Memento,
    ) -> list[Verdict]:
        """The step is taken or refused as the rules say, alike on both engines; a refusal
        changes nothing; a submitted case records what it was opened with."""
        here = node.draft.state
        rule = rule_of(want, outcome.reasons, "C7")
        said = f"refused with {list(want)}" if want else f"go to {target}"
        twin_outcome = attempt(functools.partial(flow_call, twin, step))
        verdicts = [
            Verdict(
                rule,
                "each navigation step is taken or refused as the rules say",
                outcome.crash is None
                and outcome.reasons == want
                and (outcome.refused or base.state == target),
                f"{event} from {here} was {outcome.describe()} (now {base.state}); "
                f"the rules say {said}",
            ),
            Verdict(
                rule,
                "the table engine equals the chart engine",
                twin_outcome.same_as(outcome) and twin.memento() == after,
                f"python-statemachine's engine gave {twin_outcome.describe()}",
            ),
        ]
        if outcome.refused or outcome.crash is not None:
            verdicts.append(
                Verdict(rule, "a refusal changes nothing", after == node.draft, "the draft changed")
            )
        elif event == CaseEvent.SUBMIT:
            severity = step.args.get("severity", DEFAULT_SEVERITY)
            verdicts.append(recorded(outcome.result, node.combo, node.project, severity))
        return verdicts


def explore(
    depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
) -> Tracker:
    """The decision product, then every flow sequence up to `depth` steps, checked when `check`
    (else only covered)."""
    tracker = Tracker("case", COMPILED, ("C",), (Reason.EVENT_NOT_ALLOWED,))
    explorer = CaseExplorer(tracker, check=check)
    if check:
        Decisions(tracker, check=check)(explorer.combos)
        Probes(tracker)()
    stop = tracker.covered if until_covered else None
    breadth_first(explorer.roots(), explorer.expand, depth, progress, "case", tracker, stop)
    return tracker
