"""The engine's tracing seam (`engine.tracing`): what a tool such as tools/edge_recorder.py sees of
the table's decisions, in every machine, and nothing once the block has exited."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows.machines import engine
from support_flows.values.events import CaseEvent, ConsultingEvent, PlanEvent

NOW = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone="UTC")
OWNER = sf.Member("u-1", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
DEV = sf.Member("u-2", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})


class Seen:
    """A tracer that lists what it is told, as (kind, chart, event, source, target)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, str]] = []

    def selected(self, compiled: engine.Compiled, edge: engine.Edge, facts: Any) -> None:
        self.calls.append(
            ("selected", compiled.chart.__name__, edge.event, edge.source, edge.target)
        )

    def taken(self, compiled: engine.Compiled, edge: engine.Edge, model: Any) -> None:
        self.calls.append(("taken", compiled.chart.__name__, edge.event, edge.source, edge.target))

    def refused_without_edge(
        self, compiled: engine.Compiled, state: str, event: str, facts: Any
    ) -> None:
        self.calls.append(("without edge", compiled.chart.__name__, event, state, ""))


def _plan_steps() -> None:
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(NOW))
    plan.change("developer", actor=OWNER)
    with pytest.raises(sf.Refused):
        plan.revoke_pending(actor=OWNER)


def test_plan_steps_are_traced() -> None:
    """P1/P2: a subscription is selected then taken; a revoke with nothing pending is refused
    without an edge, and the tracer is told so."""
    seen = Seen()
    with engine.tracing(seen):
        _plan_steps()
    assert seen.calls == [
        ("selected", "PlanChart", PlanEvent.SUBSCRIBE, "basic", "trial"),
        ("taken", "PlanChart", PlanEvent.SUBSCRIBE, "basic", "trial"),
        ("without edge", "PlanChart", PlanEvent.REVOKE, "trial", ""),
    ]


def test_plan_check_is_traced_as_a_selection_only() -> None:
    """P1: check() by a member without a billing role selects the edge it would take, and
    takes nothing."""
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(NOW))
    seen = Seen()
    with engine.tracing(seen):
        assert not plan.check("change", actor=DEV, tier="premium")
    assert seen.calls == [("selected", "PlanChart", PlanEvent.SUBSCRIBE, "basic", "premium")]
    assert plan.state == "basic"


def test_case_decisions_and_flow_are_traced() -> None:
    """C1-C7: sf.check_case and sf.check_channel select the submit edge; a CaseFlow step is
    selected and taken; a submit from the start is refused without an edge."""
    seen = Seen()
    with engine.tracing(seen):
        assert sf.check_case(ORG, "developer", DEV, scope="project", project_id="p-1")
        assert sf.check_channel(ORG, "developer", DEV, sf.Channel.SUPPORT_CASE)
        flow = sf.CaseFlow(ORG, "developer", DEV, clock=sf.FrozenClock(NOW))
        with pytest.raises(sf.Refused):
            flow.submit(title="Slow queries", severity="S2")
        flow.choose_organization()
    submit = ("CaseChart", CaseEvent.SUBMIT, "project_support", "submitted")
    choose = ("CaseChart", CaseEvent.CHOOSE_ORGANIZATION, "start", "organization_chosen")
    assert seen.calls == [
        ("selected", *submit),
        ("selected", *submit),
        ("without edge", "CaseChart", CaseEvent.SUBMIT, "start", ""),
        ("selected", *choose),
        ("taken", *choose),
    ]


def test_consulting_steps_are_traced() -> None:
    """F1/F3/F5: checkout and confirmation are selected and taken; delivering an unknown session
    is refused without an edge."""
    seen = Seen()
    with engine.tracing(seen):
        order = sf.ConsultingOrder.start_checkout(
            ORG, units=2, actor=OWNER, clock=sf.FrozenClock(NOW), outbox=sf.InMemoryOutbox()
        )
        order.confirm()
        with pytest.raises(sf.Refused):
            order.deliver("s-9", actor=OWNER)
    start = ("ConsultingChart", ConsultingEvent.START_CHECKOUT, "new", "checkout")
    confirm = ("ConsultingChart", ConsultingEvent.CONFIRM, "checkout", "purchased")
    assert seen.calls == [
        ("selected", *start),
        ("taken", *start),
        ("selected", *confirm),
        ("taken", *confirm),
        ("without edge", "ConsultingChart", ConsultingEvent.DELIVER, "purchased", ""),
    ]


def test_nothing_is_traced_after_the_block() -> None:
    """Once the block exits the tracer hears nothing and the engine runs its plain methods."""
    plain = (engine.Compiled.select, engine.Compiled.without_edge, engine.TableEngine.run)
    seen = Seen()
    with engine.tracing(seen):
        assert engine.Compiled.select is not plain[0]
    _plan_steps()
    sf.check_case(ORG, "developer", DEV, scope="project", project_id="p-1")
    assert seen.calls == []
    after = (engine.Compiled.select, engine.Compiled.without_edge, engine.TableEngine.run)
    assert after == plain


def test_nested_tracers_both_hear_and_the_outer_keeps_hearing() -> None:
    """Each installed tracer is told; leaving the inner block leaves the outer one tracing."""
    outer, inner = Seen(), Seen()
    with engine.tracing(outer):
        with engine.tracing(inner):
            _plan_steps()
        _plan_steps()
    assert len(inner.calls) == 3
    assert outer.calls == inner.calls * 2


def test_a_tracer_that_raises_is_removed() -> None:
    """A block left by an exception still uninstalls its tracer."""
    seen = Seen()
    with pytest.raises(RuntimeError), engine.tracing(seen):
        raise RuntimeError("boom")
    _plan_steps()
    assert seen.calls == []
