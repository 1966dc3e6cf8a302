"""Charts compiled once per class into a table, and the two engines that run it.

`compile_chart(Chart)` reads the chart's python-statemachine declaration (states, events, and for
each edge its selectors, guards and actions) into a table (state, event) -> edges, and the
plan's requests into a routing table, checking at import time (`chart_checks`) that every guard
and selector is registered, every action exists on the model, and nothing is declared that the
table would not run. `TableEngine` runs that table on a model, with
no chart instance; `StatechartEngine` runs the same declaration through python-statemachine's own
engine, for the differential tests and the verifier. `tracing(tracer)` lets a tool watch every
edge selected, every edge taken and every refusal without an edge, at no cost when off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import attrs
from statemachine.exceptions import TransitionNotAllowed

from support_flows.errors import (
    Reason,
    SupportFlowsError,
    Violation,
    describe,
    error_for,
    invalid,
)
from support_flows.guards.registry import Body, Check, Selector, answer, holds_under
from support_flows.machines.chart import ANY, BaseChart, Route
from support_flows.machines.chart_checks import (
    check_actions,
    check_conventions,
    check_declared_with_edge,
    check_event_names,
    check_refusals,
    check_registered,
    check_routes,
    check_state_callbacks,
    check_step_callbacks,
)

__all__ = [
    "Compiled",
    "Edge",
    "Engine",
    "StatechartEngine",
    "TableEngine",
    "Tracer",
    "action",
    "compile_chart",
    "engine_for",
    "tracing",
]


def action(rule: str, terms: str = "") -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Mark a model method as a chart action: the rule it applies and, where it sets one, its
    effective-date terms in a reviewer's words (the diagrams print them), formatted with a
    policy's `words()` ("the {trial_days}-day trial")."""

    def mark(method: Callable[..., None]) -> Callable[..., None]:
        method.rule = rule  # type: ignore[attr-defined]
        method.terms = terms  # type: ignore[attr-defined]
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

    def edges_under(self, policy: Any) -> tuple[Edge, ...]:
        """The edges that exist under `policy`: those whose policy choices (`Registry.choice`)
        hold for it (K1). What a diagram draws and the verifier must cover."""
        return tuple(e for e in self.edges if all(holds_under(s, policy) for s in e.selectors))

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


def _value(state: Any) -> str:
    return str(state.value)


def _edges(chart: type[BaseChart]) -> list[Edge]:
    """Every edge of the declaration, each checked, in declaration order."""
    registry = chart.registry
    edges: list[Edge] = []
    for state in chart.states:
        check_state_callbacks(chart, state)
        for transition in state.transitions:
            check_declared_with_edge(chart, transition)
            check_step_callbacks(chart, transition)
            selectors = tuple(s.func for s in transition.cond if s.expected_value is True)
            guards = tuple(s.func for s in transition.cond if s.expected_value is False)
            check_registered(chart, transition, selectors, guards)
            actions = tuple(str(s.func) for s in transition.on if not s.is_convention)
            check_actions(chart, transition, actions)
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
    check_conventions(chart)
    edges = _edges(chart)
    check_refusals(chart)
    events = tuple(dict.fromkeys(e.event for e in edges))
    check_event_names(chart, events)
    check_routes(chart, events)
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


class Tracer(Protocol):
    """What `tracing` reports to: the table's decisions as they are made, in any machine."""

    def selected(self, compiled: Compiled, edge: Edge, facts: Any) -> None:
        """`Compiled.select` chose `edge` for these facts (a step, `check()` or `decide()`)."""

    def taken(self, compiled: Compiled, edge: Edge, model: Any) -> None:
        """`TableEngine.run` took `edge`: its guards passed and its actions ran on `model`."""

    def refused_without_edge(self, compiled: Compiled, state: str, event: str, facts: Any) -> None:
        """`Compiled.without_edge` is asked why `event` has no applicable edge from `state`."""


_TRACERS: list[Tracer] = []
_select, _without_edge, _run = Compiled.select, Compiled.without_edge, TableEngine.run


def _traced_select(self: Compiled, state: str, event: str, facts: Any) -> Edge | None:
    chosen = _select(self, state, event, facts)
    if chosen is not None:
        for tracer in tuple(_TRACERS):
            tracer.selected(self, chosen, facts)
    return chosen


def _traced_without_edge(
    self: Compiled, state: str, event: str, facts: Any
) -> tuple[Violation, ...]:
    for tracer in tuple(_TRACERS):
        tracer.refused_without_edge(self, state, event, facts)
    return _without_edge(self, state, event, facts)


def _traced_run(self: TableEngine, model: Any, event: str, facts: Any) -> None:
    chosen = _select(self.compiled, str(model.state), event, facts)
    _run(self, model, event, facts)
    if chosen is not None:
        for tracer in tuple(_TRACERS):
            tracer.taken(self.compiled, chosen, model)


@contextmanager
def tracing(tracer: Tracer) -> Iterator[Tracer]:
    """Report every edge selected, taken (on the table engine) and every refusal without an edge
    to `tracer` while the block runs, in every thread; nested blocks report to each tracer.

    The traced methods are swapped in only while some tracer is installed: untraced, the engine
    runs its plain methods and pays nothing."""
    if not _TRACERS:
        Compiled.select = _traced_select  # type: ignore[method-assign]
        Compiled.without_edge = _traced_without_edge  # type: ignore[method-assign]
        TableEngine.run = _traced_run  # type: ignore[method-assign]
    _TRACERS.append(tracer)
    try:
        yield tracer
    finally:
        _TRACERS.remove(tracer)
        if not _TRACERS:
            Compiled.select = _select  # type: ignore[method-assign]
            Compiled.without_edge = _without_edge  # type: ignore[method-assign]
            TableEngine.run = _run  # type: ignore[method-assign]
