"""Charts compiled once per class into a table, and the two engines that run it.

`compile_chart(Chart)` reads the chart's python-statemachine declaration (states, events, and for
each edge its selectors, guards and actions) into a table (state, event) -> edges, checking at
import time that every guard and selector is registered, every action exists on the model, and
nothing is declared that the table would not run. `TableEngine` runs that table on a model, with
no chart instance; `StatechartEngine` runs the same declaration through python-statemachine's own
engine, for the differential tests and the verifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs
from statemachine.exceptions import TransitionNotAllowed

from support_flows.errors import (
    InvalidChart,
    Reason,
    SupportFlowsError,
    Violation,
    describe,
    error_for,
    invalid,
)
from support_flows.guards.registry import Body, Check, Selector, answer
from support_flows.machines._base import ANY, BaseChart, Route, refuse_failing_guards

__all__ = [
    "Compiled",
    "Edge",
    "Engine",
    "StatechartEngine",
    "TableEngine",
    "action",
    "compile_chart",
    "engine_for",
]

_CONVENTION = re.compile(r"^(on|before|after|enter|exit|on_enter|on_exit)_")


def action(rule: str, policy: str = "") -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a model method as a chart action: the rule it applies and, where it sets one, its
    effective-date policy in a reviewer's words (the diagrams print it)."""

    def mark(method: Callable[..., None]) -> Callable[..., None]:
        method.rule = rule  # type: ignore[attr-defined]
        method.policy = policy  # type: ignore[attr-defined]
        return method

    return mark


@attrs.frozen
class Edge:
    """One edge of a chart, as declared."""

    event: str
    source: str
    target: str
    internal: bool
    selectors: tuple[Selector, ...]
    guards: tuple[Check, ...]
    actions: tuple[str, ...]
    calls: tuple[tuple[Body, Reason, str], ...] = attrs.field(eq=False, repr=False)
    """The guards unwrapped (`Registry.unwrapped`): what `failing` calls, one frame each."""

    def failing(self, facts: Any) -> tuple[Violation, ...]:
        """Every guard of this edge that refuses, in declaration order, as its check answers."""
        found = []
        for body, reason, rule in self.calls:
            message = body(facts)
            if message is not None:
                found.append(answer(reason, rule, message))
        return tuple(found)


@attrs.frozen
class Compiled:
    """A chart class as a table: (state, event) -> its edges in declaration order, with the
    states, the events and their names in a reviewer's words."""

    chart: type[BaseChart]
    states: tuple[str, ...]
    initial: str
    finals: frozenset[str]
    events: tuple[str, ...]
    event_names: Mapping[str, str]
    edges: tuple[Edge, ...]
    table: Mapping[tuple[str, str], tuple[Edge, ...]]
    refusals_without_edge: tuple[tuple[Check, ...], ...]
    routes: tuple[Route, ...] = ()
    """What each host request means, as the chart declares it (`BaseChart.routes`)."""
    routing: Mapping[tuple[str, str, Any], str] = attrs.field(factory=dict, repr=False)
    """(state, request, chosen value) -> event, built from `routes` for every state and every
    value of `route_choices`."""

    def route(self, state: str, request: str, chosen: Any = None) -> str:
        """The event a host's `request` choosing `chosen` (None: nothing) means in `state`, as
        the chart's routes say."""
        found = self.routing.get((state, request, chosen))
        if found is None:
            raise invalid(
                Reason.INVALID_VALUE,
                "V1",
                f"{self.chart.__name__} routes no {describe(request)} request choosing "
                f"{describe(chosen)} from {describe(state)}",
            )
        return found

    def select(self, state: str, event: str, facts: Any) -> Edge | None:
        """The edge `event` takes from `state` with these facts: the first whose selectors hold."""
        for candidate in self.table.get((state, event), ()):
            for select in candidate.selectors:  # a loop, not all(): this runs per request
                if not select(facts):
                    break
            else:
                return candidate
        return None

    def decide(self, state: str, event: str, facts: Any) -> tuple[Violation, ...]:
        """Every reason the event would be refused now (empty when it would be taken)."""
        chosen = self.select(state, event, facts)
        if chosen is None:
            return self.without_edge(state, event, facts)
        return chosen.failing(facts)

    def without_edge(self, state: str, event: str, facts: Any) -> tuple[Violation, ...]:
        """Why an event with no applicable edge is refused: the chart's declared explanations,
        or V3's event_not_allowed."""
        for group in self.refusals_without_edge:
            found = tuple(v for c in group if (v := c(facts)) is not None)
            if found:
                return found
        return (
            Violation(
                Reason.EVENT_NOT_ALLOWED,
                "V3",
                f"{self.chart.__name__} has no transition for {event!r} in state {state!r}",
            ),
        )

    def transitions_table(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(event, source, target, guard names) for every edge, in declaration order."""
        return [
            (e.event, e.source, e.target, tuple(g.__name__ for g in e.guards)) for e in self.edges
        ]


def _declared(specs: Any) -> list[Any]:
    """The callbacks written in the declaration (not python-statemachine's naming conventions)."""
    return [s for s in specs if not s.is_convention]


def _value(state: Any) -> str:
    return str(state.value)


def _check_conventions(chart: type[BaseChart]) -> None:
    """No callback runs by python-statemachine's naming conventions: the table would skip it."""
    for owner in (chart, chart.model_class):
        stray = [n for n in vars(owner) if _CONVENTION.match(n) or n.endswith("_transition")]
        if stray:
            raise InvalidChart(
                chart,
                f"{owner.__name__} defines {', '.join(stray)}, which python-statemachine would "
                "call by their names; declare them as actions with edge(on=...) and rename them",
            )


def _check_state_callbacks(chart: type[BaseChart], state: Any) -> None:
    """No enter/exit callback on a state: what a step does is an action of its edge."""
    if _declared(state.enter) or _declared(state.exit):
        raise InvalidChart(
            chart,
            f"state {state.id!r} has enter/exit callbacks; move what they do to an action of "
            "the edges into or out of it (edge(on=...))",
        )


def _check_declared_with_edge(chart: type[BaseChart], transition: Any) -> None:
    """Every edge is declared with `edge()`, which refuses with its failing guards."""
    if [s.func for s in transition.validators] != [refuse_failing_guards]:
        raise InvalidChart(
            chart, f"the edge {transition} was not declared with edge(); declare it with edge()"
        )


def _check_step_callbacks(chart: type[BaseChart], transition: Any) -> None:
    """No before/after callback on an edge: the table runs only its actions."""
    if _declared(transition.before) or _declared(transition.after):
        raise InvalidChart(
            chart,
            f"the edge {transition} has before/after callbacks; give them to edge(on=...) "
            "as actions of the model",
        )


def _check_registered(chart: type[BaseChart], transition: Any, selectors: Any, guards: Any) -> None:
    """Every selector and guard of an edge is one of the machine's registry; every guard is a
    check (it reports a reason), not a selector."""
    registry = chart.registry
    for func in (*selectors, *guards):
        if not registry.knows(func):
            raise InvalidChart(
                chart,
                f"the edge {transition} names {getattr(func, '__name__', func)!r}, which is not "
                f"in the {registry.machine} registry; declare it with @{registry.machine.upper()}"
                ".check or .selector",
            )
    for guard in guards:
        if guard.__name__ not in registry.checks:
            raise InvalidChart(
                chart,
                f"the edge {transition} lists the selector {guard.__name__} among its guards; "
                "give it in when=[...], not unless=[...]",
            )


def _check_actions(chart: type[BaseChart], transition: Any, actions: tuple[str, ...]) -> None:
    """Every action an edge names is a method of the chart's model."""
    model = chart.model_class
    for name in actions:
        if not callable(getattr(model, name, None)):
            raise InvalidChart(
                chart,
                f"the edge {transition} runs {name!r}, which {model.__name__} does not define; "
                f"add the method to {model.__name__} or name one it has",
            )


def _check_refusals(chart: type[BaseChart]) -> None:
    """The checks that explain an event without an edge are the registry's own."""
    for check in (c for group in chart.refusals_without_edge for c in group):
        if chart.registry.checks.get(check.__name__) is not check:
            raise InvalidChart(
                chart,
                f"refusals_without_edge names {check.__name__}, which is not a registered check "
                f"of {chart.registry.machine}; register it or leave it out",
            )


def _check_event_names(chart: type[BaseChart], events: tuple[str, ...]) -> None:
    """The chart's events are exactly the names of the class it declares for them."""
    declared = {str(e.id) for e in chart.events}  # type: ignore[attr-defined]
    named = set(chart.named_by.members)
    if declared != named or set(events) != declared:
        raise InvalidChart(
            chart,
            f"its events ({', '.join(sorted(declared))}) differ from "
            f"{chart.named_by.__name__} ({', '.join(sorted(named))}); name each event in "
            "both, or take the edge-less ones out",
        )


def _check_routes(chart: type[BaseChart], events: tuple[str, ...]) -> None:
    """Each route names an event of the chart, and no request is answered twice alike."""
    seen: set[tuple[str, str, str]] = set()
    for route in chart.routes:
        if route.event not in events:
            raise InvalidChart(
                chart,
                f"a route answers {route.request!r} with {route.event!r}, which is not one of "
                f"its events ({', '.join(events)}); route it to a declared event",
            )
        key = (route.event, route.request, route.relation)
        if key in seen:
            raise InvalidChart(
                chart, f"the route {route} is declared twice; declare each route once"
            )
        seen.add(key)


def _edges(chart: type[BaseChart]) -> list[Edge]:
    """Every edge of the declaration, each checked, in declaration order."""
    registry = chart.registry
    edges: list[Edge] = []
    for state in chart.states:
        _check_state_callbacks(chart, state)
        for transition in state.transitions:
            _check_declared_with_edge(chart, transition)
            _check_step_callbacks(chart, transition)
            selectors = tuple(s.func for s in transition.cond if s.expected_value is True)
            guards = tuple(s.func for s in transition.cond if s.expected_value is False)
            _check_registered(chart, transition, selectors, guards)
            actions = tuple(str(s.func) for s in transition.on if not s.is_convention)
            _check_actions(chart, transition, actions)
            assert transition.target is not None
            calls = tuple(registry.unwrapped(g) for g in guards)
            target, internal = _value(transition.target), bool(transition.internal)
            for event in transition.events:
                edges.append(
                    Edge(
                        str(event),
                        _value(state),
                        target,
                        internal,
                        selectors,
                        guards,
                        actions,
                        calls,
                    )
                )
    return edges


def _routing(
    chart: type[BaseChart], table: Mapping[tuple[str, str], Any]
) -> dict[tuple[str, str, Any], str]:
    """(state, request, chosen value) -> the event it takes: of the routes answering that
    request with the value's relation (else with `ANY`), the first whose event has an edge from
    the state, else the first (its refusal explains why)."""
    answering: dict[tuple[str, str], list[str]] = {}
    for route in chart.routes:
        answering.setdefault((route.request, route.relation), []).append(route.event)
    routing = {}
    for state in chart.states:
        for request in dict.fromkeys(route.request for route in chart.routes):
            for chosen in chart.route_choices:
                relation = str(chart.route_relation(state.value, chosen))
                candidates = answering.get((request, relation)) or answering.get((request, ANY))
                if candidates:
                    leaving = [e for e in candidates if (_value(state), e) in table]
                    routing[(_value(state), request, chosen)] = (leaving or candidates)[0]
    return routing


def compile_chart(chart: type[BaseChart]) -> Compiled:
    """Compile `chart`, refusing at import time anything the table could not run faithfully
    (`InvalidChart`, naming the chart, the edge and what to declare instead)."""
    cached = _COMPILED.get(chart)
    if cached is not None:
        return cached
    _check_conventions(chart)
    edges = _edges(chart)
    _check_refusals(chart)
    events = tuple(dict.fromkeys(e.event for e in edges))
    _check_event_names(chart, events)
    _check_routes(chart, events)
    table: dict[tuple[str, str], list[Edge]] = {}
    for e in edges:
        table.setdefault((e.source, e.event), []).append(e)
    states = tuple(_value(s) for s in chart.states)
    compiled = Compiled(
        chart=chart,
        states=states,
        initial=next(_value(s) for s in chart.states if s.initial),
        finals=frozenset(_value(s) for s in chart.states if s.final),
        events=events,
        event_names={str(e.id): str(e.name) for e in chart.events},  # type: ignore[attr-defined]
        edges=tuple(edges),
        table={key: tuple(found) for key, found in table.items()},
        refusals_without_edge=tuple(chart.refusals_without_edge),
        routes=tuple(chart.routes),
        routing=_routing(chart, table),
    )
    _COMPILED[chart] = compiled
    return compiled


_COMPILED: dict[type[BaseChart], Compiled] = {}


class Engine(Protocol):
    """Runs one event on a model: refuses (raising, nothing changed) or takes one edge."""

    def run(self, model: Any, event: str, facts: Any) -> None: ...


class TableEngine:
    """The compiled table, run directly: the default, with no chart instance per object."""

    __slots__ = ("compiled",)

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled

    def run(self, model: Any, event: str, facts: Any) -> None:
        compiled = self.compiled
        state = str(model.state)
        chosen = compiled.select(state, event, facts)
        if chosen is None:
            raise error_for(compiled.without_edge(state, event, facts))
        if found := chosen.failing(facts):
            raise error_for(found)
        for name in chosen.actions:
            getattr(model, name)(facts)
        model.state = model.state_of(chosen.target)


class StatechartEngine:
    """python-statemachine's own engine on the same declaration (one chart per model)."""

    __slots__ = ("_chart", "compiled")

    def __init__(self, compiled: Compiled) -> None:
        self.compiled = compiled
        self._chart: BaseChart | None = None

    def run(self, model: Any, event: str, facts: Any) -> None:
        if self._chart is None or self._chart.model is not model:
            self._chart = self.compiled.chart(model)
        state = str(model.state)
        try:
            self._chart.send(event, facts=facts)
        except TransitionNotAllowed:
            raise error_for(self.compiled.without_edge(state, event, facts)) from None
        except SupportFlowsError:
            raise
        model.state = model.state_of(str(model.state))


def engine_for(compiled: Compiled, name: str) -> Engine:
    """The engine called `name`: "table" (the default) or "statechart" (python-statemachine's)."""
    if type(name) is str and name == "table":
        return TableEngine(compiled)
    if type(name) is str and name == "statechart":
        return StatechartEngine(compiled)
    raise invalid(
        Reason.INVALID_VALUE, "V1", f"unknown engine {describe(name)}; accepted: table, statechart"
    )
