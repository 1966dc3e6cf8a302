"""A chart the compiled table could not run faithfully is refused when it is compiled (at
import), with an `InvalidChart` naming the chart, the edge and what to declare instead; and each
chart's events are exactly the enum that names them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from statemachine import Event, State

import support_flows as sf
from support_flows.errors import InvalidChart, Reason
from support_flows.guards.registry import Registry
from support_flows.machines import case_chart, consulting_chart, plan_chart
from support_flows.machines.chart import BaseChart, Route, edge, refuse_failing_guards
from support_flows.machines.engine import compile_chart
from support_flows.values.events import CaseEvent, ConsultingEvent, Names, PlanEvent

TOY = Registry("toy", "P")


class ToyFacts:
    """The toy machine's facts: nothing but its rule section."""

    section: ClassVar[str] = "P"


@TOY.check(Reason.CONTACT_SALES, "P2")
def contact_sales(f: ToyFacts) -> str | None:
    """P2: a toy check that never refuses."""
    return None


@TOY.selector
def always(facts: ToyFacts) -> bool:
    """always"""
    return True


def stray_check(facts: Any) -> None:
    """Not in any registry."""


class ToyModel:
    """The toy chart's model: one action."""

    state = "a"

    def go_on(self, facts: Any) -> None:
        """An action."""


class ToyEvent(Names):
    """The toy chart's one event."""

    GO = "go"


def toy(**body: Any) -> type[BaseChart]:
    """A two-state chart with one event `go`, built from `body` (the edge and any extra
    attribute), ready for `compile_chart`."""
    a = State("A", value="a", initial=True)
    b = State("B", value="b", final=True)
    make: Callable[[State, State], Any] = body.pop("go", lambda a, b: edge(a, b, on="go_on"))
    namespace = {
        "registry": TOY,
        "model_class": body.pop("model_class", ToyModel),
        "named_by": body.pop("named_by", ToyEvent),
        "a": a,
        "b": b,
        "go": Event(make(a, b), name="Go"),
        **body,
    }
    return type("ToyChart", (BaseChart,), namespace)


def refusal(chart: type[BaseChart]) -> InvalidChart:
    with pytest.raises(InvalidChart) as raised:
        compile_chart(chart)
    return raised.value


def test_a_well_formed_toy_chart_compiles() -> None:
    """The toy chart the tests below break compiles as it is (so each refusal is its edit's)."""
    compiled = compile_chart(toy())
    assert compiled.events == ("go",)


def test_invalid_chart_is_a_coded_error_naming_the_chart() -> None:
    """V1: InvalidChart is a SupportFlowsError (and a TypeError, as the bare errors were), with
    reason invalid_value, the chart class as data, and the chart's name in its message."""
    error = refusal(toy(go=lambda a, b: a.to(b)))
    assert isinstance(error, sf.SupportFlowsError)
    assert isinstance(error, TypeError)
    assert (error.code, error.rule) == ("invalid_value", "V1")
    assert error.chart.__name__ == "ToyChart"
    assert error.message.startswith("ToyChart: ")


def test_convention_callback_is_refused() -> None:
    """A method python-statemachine would call by its name (on_enter_b) is refused: the table
    would never run it; the message says to declare it as an action."""
    error = refusal(toy(on_enter_b=lambda self: None))
    assert "on_enter_b" in error.message
    assert "edge(on=...)" in error.message


def test_convention_callback_on_the_model_is_refused() -> None:
    """The model's methods are read the same way: a `before_go` on the model is refused."""
    model = type("ConventionModel", (ToyModel,), {"before_go": lambda self: None})
    assert "before_go" in refusal(toy(model_class=model)).message


def test_state_enter_callback_is_refused() -> None:
    """An enter callback on a state is refused, naming the state and where to move it."""
    a = State("A", value="a", initial=True, enter="go_on")
    b = State("B", value="b", final=True)
    chart = type(
        "EnterChart",
        (BaseChart,),
        {
            "registry": TOY,
            "model_class": ToyModel,
            "named_by": ToyEvent,
            "a": a,
            "b": b,
            "go": Event(edge(a, b), name="Go"),
        },
    )
    error = refusal(chart)
    assert "state 'a' has enter/exit callbacks" in error.message


def test_edge_not_declared_with_edge_is_refused() -> None:
    """An edge declared with `a.to(b)` (no validator refusing its failing guards) is refused."""
    assert "declare it with edge()" in refusal(toy(go=lambda a, b: a.to(b))).message


def test_before_callback_on_an_edge_is_refused() -> None:
    """A before/after callback on an edge is refused: the table runs only its actions."""
    chart = toy(go=lambda a, b: a.to(b, validators=[refuse_failing_guards], before="go_on"))
    assert "before/after callbacks" in refusal(chart).message


def test_unregistered_guard_is_refused() -> None:
    """A guard that is not in the machine's registry is refused, naming it and the registry."""
    error = refusal(toy(go=lambda a, b: edge(a, b, unless=[stray_check])))  # type: ignore[list-item]
    assert "'stray_check'" in error.message
    assert "toy registry" in error.message


def test_selector_given_as_guard_is_refused() -> None:
    """A selector listed among the guards (unless=) is refused, saying to give it in when=."""
    error = refusal(toy(go=lambda a, b: edge(a, b, unless=[always])))  # type: ignore[list-item]
    assert "give it in when=[...]" in error.message


def test_unknown_action_is_refused() -> None:
    """An action the model does not define is refused, naming the action and the model."""
    error = refusal(toy(go=lambda a, b: edge(a, b, on="fly")))
    assert "'fly'" in error.message
    assert "ToyModel" in error.message


def test_unregistered_refusal_without_edge_is_refused() -> None:
    """A check explaining an edge-less event must be one of the registry's checks."""
    chart = toy(refusals_without_edge=((stray_check,),))
    assert "refusals_without_edge names stray_check" in refusal(chart).message


def test_events_differing_from_their_enum_are_refused() -> None:
    """A chart whose events are not exactly its enum's members is refused, listing both."""
    renamed = type("Renamed", (Names,), {"LEAVE": "leave"})
    error = refusal(toy(named_by=renamed))
    assert "differ from Renamed" in error.message


def test_route_to_an_unknown_event_is_refused() -> None:
    """A route must answer with one of the chart's events."""
    chart = toy(routes=(Route("fly", "change"),))
    assert "route it to a declared event" in refusal(chart).message


def test_route_declared_twice_is_refused() -> None:
    """The same route declared twice is refused."""
    chart = toy(routes=(Route("go", "change"), Route("go", "change")))
    assert "declared twice" in refusal(chart).message


@pytest.mark.parametrize(
    ("compiled", "names"),
    [
        (plan_chart.COMPILED, PlanEvent),
        (consulting_chart.COMPILED, ConsultingEvent),
        (case_chart.COMPILED, CaseEvent),
    ],
)
def test_each_chart_events_are_its_names(compiled: Any, names: type[Names]) -> None:
    """Each chart's events are exactly the names every module spells them by."""
    assert set(compiled.events) == set(names.members)
    assert compiled.chart.named_by is names
