"""Systematic verification of support requests and cases (RULES.md C1-C7, V3): the whole product
of plan state x role set x projects x scope through `check_case`, `open_case` and
`check_channel`, and every step sequence of the `CaseFlow` navigation up to a depth, each
checked against the reference decision table (`verify.reference.case`)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import attrs
import pendulum

from support_flows.errors import Reason
from support_flows.machines.base_object import Memento
from support_flows.machines.case import COMPILED, CaseFlow, check_case, check_channel, open_case
from support_flows.values import Organization, Project
from support_flows.values.events import CaseEvent
from support_flows.verify.common import (
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
from support_flows.verify.reference.case import (
    Refusal,
    expected_case,
    expected_channel,
    expected_step,
)

__all__ = [
    "DEPTH",
    "EVENTS",
    "ROLE_SETS",
    "CaseExplorer",
    "Combo",
    "explore",
    "flow_call",
    "replay",
]

DEPTH = 5
NOW = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
CASE_ID = "case-1"
TITLE = "Slow queries"
PLAN_STATES = ("premium", "developer", "trial", "basic", "cancelled")
PROJECT_SETS = (("p-1", "p-2"), ("p-1",), ())
TARGETS = (None, "p-1", "p-2", "p-9")
CHANNELS = ("chat", "developer_resources", "support_case")
ORG_ROLES = (
    "ORG_OWNER",
    "ORG_PROJECT_CREATOR",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_READ_ONLY",
    "ORG_MEMBER",
)
PROJECT_ROLES = (
    "PROJECT_OWNER",
    "PROJECT_CLUSTER_MANAGER",
    "PROJECT_DATA_ACCESS_ADMIN",
    "PROJECT_DATA_ACCESS_READ_WRITE",
    "PROJECT_DATA_ACCESS_READ_ONLY",
    "PROJECT_READ_ONLY",
)
ROLE_SETS = (
    *(Actor(f"u-{r.lower().replace('_', '-')}", (r,)) for r in ORG_ROLES),
    *(
        Actor(f"u-{r.lower().replace('_', '-')}-p1", project_roles=(("p-1", (r,)),))
        for r in PROJECT_ROLES
    ),
    Actor("u-project-owner-p2", project_roles=(("p-2", ("PROJECT_OWNER",)),)),
    Actor("u-elsewhere", project_roles=(("p-elsewhere", ("PROJECT_OWNER",)),)),
    Actor("u-org-owner-p1", ("ORG_OWNER",), (("p-1", ("PROJECT_READ_ONLY",)),)),
    Actor("u-org-member-p2", ("ORG_MEMBER",), (("p-2", ("PROJECT_READ_ONLY",)),)),
    Actor("u-no-role"),
)
"""Every organization role alone; every project role alone in p-1; a role in p-2, in another
organization's project; an owner who also holds a project role, a member with one; no role."""

EVENTS = (
    (CaseEvent.CHOOSE_ORGANIZATION, None),
    (CaseEvent.OPEN_ORGANIZATION_SUPPORT, None),
    (CaseEvent.CHOOSE_PROJECT, "p-1"),
    (CaseEvent.CHOOSE_PROJECT, "p-2"),
    (CaseEvent.CHOOSE_PROJECT, "p-9"),
    (CaseEvent.OPEN_PROJECT_SUPPORT, None),
    (CaseEvent.SUBMIT, None),
)
"""Every step of the navigation, with a project of the organization, another, and an unknown."""

Progress = Callable[[str], None]


@attrs.frozen
class Combo:
    """One point of the product: the plan state, who asks, and the organization's projects."""

    plan_state: str
    actor: Actor
    projects: tuple[str, ...]

    def org(self) -> Organization:
        return Organization("org-1", projects=tuple(Project(p) for p in self.projects))

    def setup(self) -> Setup:
        return Setup(
            "case",
            "UTC",
            iso(NOW),
            {"org_id": "org-1", "projects": list(self.projects)},
            {"plan_state": self.plan_state, "member": self.actor.as_arg()},
        )

    def where(self, *steps: Step) -> Callable[[], Counterexample]:
        return functools.partial(Counterexample, self.setup(), steps)


@attrs.frozen(eq=False)
class FlowNode:
    """A flow part-way through the navigation: its draft (a memento of the flow: its place,
    project and case) and the project it chose."""

    combo: Combo
    draft: Memento
    project: str | None
    steps: tuple[Step, ...]
    key: Hashable


def flow_call(flow: CaseFlow, step: Step) -> Any:
    """Make the flow step `step` names ("CaseFlow.<method>")."""
    name = step.call.removeprefix("CaseFlow.")
    if name == "choose_project":
        return flow.choose_project(step.args["project_id"])
    if name == "submit":
        return flow.submit(title=step.args["title"], severity=step.args["severity"])
    return getattr(flow, name)()


def _flow(combo: Combo, engine: str) -> CaseFlow:
    return CaseFlow(
        combo.org(),
        combo.plan_state,
        combo.actor.member(),
        clock=HostClock(NOW),
        case_id=CASE_ID,
        engine=engine,
    )


def replay(combo: Combo, steps: tuple[Step, ...], engine: str = "table") -> CaseFlow:
    """The flow after `steps` for `combo`, refusals included (they change nothing)."""
    flow = _flow(combo, engine)
    for step in steps:
        attempt(functools.partial(flow_call, flow, step))
    return flow


def _reasons(asked: Outcome) -> tuple[Refusal, ...]:
    """The reasons of a Decision (or of the error the call raised)."""
    if asked.result is None:
        return asked.reasons
    return tuple((r.code.value, r.rule) for r in asked.result.reasons)


def _decision(asked: Outcome) -> str:
    if asked.result is None:
        return asked.describe()
    reasons = _reasons(asked)
    return "allowed" if not reasons else "refused: " + ", ".join(f"{c} ({r})" for c, r in reasons)


class CaseExplorer:
    """The decision product and the flows, checked against the reference."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check
        self.combos = [
            Combo(state, actor, projects)
            for state, projects, actor in itertools.product(PLAN_STATES, PROJECT_SETS, ROLE_SETS)
        ]

    # The product of decisions.

    def decisions(self) -> None:
        """check_case and open_case at every scope, check_channel for every channel (C1-C7)."""
        for combo in self.combos:
            somewhere = [self._case(combo, target) for target in TARGETS]
            for channel in CHANNELS:
                self._channel(combo, channel, any(somewhere))

    def _case(self, combo: Combo, target: str | None) -> bool:
        """C2-C7 at one scope; whether a case can be opened there."""
        t, org, member, state = self.tracker, combo.org(), combo.actor.member(), combo.plan_state
        roles, project_roles = combo.actor.roles
        scope = "organization" if target is None else "project"
        want = expected_case(state, roles, project_roles, combo.projects, target)
        asked = attempt(
            functools.partial(check_case, org, state, member, scope=scope, project_id=target)
        )
        opened = attempt(
            functools.partial(
                open_case,
                org,
                state,
                member,
                scope=scope,
                project_id=target,
                title=TITLE,
                severity="S2",
                clock=HostClock(NOW),
                case_id=CASE_ID,
            )
        )
        got = _reasons(asked)
        t.sequences += 2
        t.produced(got)
        t.produced(opened.reasons)
        t.exercised(r for _, r in want)
        if len(want) > 1:
            t.exercised(("C6",))
        args = {"scope": scope, "project_id": target}
        asking = Step(iso(NOW), "check_case", args, outcome=_decision(asked))
        opening = Step(
            iso(NOW),
            "open_case",
            {**args, "title": TITLE, "severity": "S2"},
            outcome=opened.describe(),
        )
        if self.check:
            t.expect(
                Verdict(
                    rule_of(want, got, "C6"),
                    "check_case gives every failing check, in C6 order",
                    asked.crash is None and got == want,
                    f"check_case(scope={scope!r}, project_id={target!r}) gives {list(got)}; "
                    f"the rules say {list(want)}",
                ),
                combo.where(asking),
            )
            t.expect(
                Verdict(
                    rule_of(want, opened.reasons, "C6"),
                    "open_case refuses exactly as check_case",
                    opened.crash is None and opened.reasons == want,
                    f"open_case(scope={scope!r}, project_id={target!r}) was "
                    f"{opened.describe()}; the rules say {list(want) or 'accepted'}",
                ),
                combo.where(opening),
            )
            if opened.result is not None:
                t.expect(_recorded(opened.result, combo, target, "S2"), combo.where(opening))
        if opened.result is not None:
            t.exercised(("C7",))
        return not want

    def _channel(self, combo: Combo, channel: str, somewhere: bool) -> None:
        """C1: members only; support_case exactly where some scope allows a case."""
        t, state = self.tracker, combo.plan_state
        roles, project_roles = combo.actor.roles
        want = expected_channel(state, roles, project_roles, combo.projects, channel)
        member = combo.actor.member()
        asked = attempt(functools.partial(check_channel, combo.org(), state, member, channel))
        got = _reasons(asked)
        t.sequences += 1
        t.produced(got)
        t.exercised(("C1", *(r for _, r in want)))
        if not self.check:
            return
        step = Step(iso(NOW), "check_channel", {"channel": channel}, outcome=_decision(asked))
        t.expect(
            Verdict(
                rule_of(want, got, "C1"),
                "check_channel answers as the rules",
                asked.crash is None and got == want,
                f"check_channel({channel!r}) gives {list(got)}; the rules say {list(want)}",
            ),
            combo.where(step),
        )
        if channel == "support_case":
            allowed = asked.crash is None and not got
            t.expect(
                Verdict(
                    "C1",
                    "support_case is allowed exactly where some scope allows a case",
                    allowed == somewhere,
                    f"check_channel('support_case') allowed={allowed}, but a case can "
                    f"{'' if somewhere else 'not '}be opened at some scope",
                ),
                combo.where(step),
            )

    # The flows.

    def roots(self) -> list[FlowNode]:
        self.tracker.states.add(COMPILED.initial)
        return [
            FlowNode(c, _flow(c, "table").memento(), None, (), (c, "start", None))
            for c in self.combos
        ]

    def expand(self, node: FlowNode) -> Iterator[FlowNode]:
        base = _flow(node.combo, "table")
        twin = _flow(node.combo, "statechart")
        recorder = Recorder()
        base.listen(recorder)
        for event, project in EVENTS:
            base.rewind(node.draft)
            if twin.state in COMPILED.finals:  # python-statemachine ends a chart there
                twin = _flow(node.combo, "statechart")
            twin.rewind(node.draft)
            recorder.taken.clear()
            args: dict[str, Any] = {} if project is None else {"project_id": project}
            if event == CaseEvent.SUBMIT:
                args = {"title": TITLE, "severity": "S1"}
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
            verdicts.append(_recorded(outcome.result, node.combo, node.project, "S1"))
        return verdicts


def _recorded(case: Any, combo: Combo, project: str | None, severity: str) -> Verdict:
    """C7: the opened case records its organization, scope, project, requester, instant, title
    and severity."""
    want = (
        "org-1",
        "organization" if project is None else "project",
        project,
        combo.actor.name,
        NOW,
        TITLE,
        severity,
    )
    got = (
        case.org_id,
        case.scope.value,
        case.project_id,
        case.requester,
        case.opened_at,
        case.title,
        case.severity.value,
    )
    return Verdict(
        "C7",
        "an opened case records what it was opened with",
        got == want,
        f"the case records {got}; the rules say {want}",
    )


def explore(
    depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
) -> Tracker:
    """The decision product, then every flow sequence up to `depth` steps, checked when `check`
    (else only covered)."""
    tracker = Tracker("case", COMPILED, ("C",), (Reason.EVENT_NOT_ALLOWED,))
    explorer = CaseExplorer(tracker, check=check)
    if check:
        explorer.decisions()
    stop = tracker.covered if until_covered else None
    breadth_first(explorer.roots(), explorer.expand, depth, progress, "case", tracker, stop)
    return tracker
