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

from support_flows.errors import Reason, SupportFlowsError, Violation, describe, error_for, invalid
from support_flows.guards.registry import Body, Check, Selector, answer
from support_flows.machines._base import BaseChart, refuse_failing_guards

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


def compile_chart(chart: type[BaseChart]) -> Compiled:
    """Compile `chart`, refusing at import time anything the table could not run faithfully."""
    cached = _COMPILED.get(chart)
    if cached is not None:
        return cached
    registry = chart.registry
    model = chart.model_class
    for owner in (chart, model):
        stray = [n for n in vars(owner) if _CONVENTION.match(n) or n.endswith("_transition")]
        if stray:
            raise TypeError(f"{owner.__name__} defines convention callbacks {stray}; name actions")
    edges: list[Edge] = []
    for state in chart.states:
        if _declared(state.enter) or _declared(state.exit):
            raise TypeError(f"{chart.__name__}.{state.id} has enter/exit callbacks")
        for transition in state.transitions:
            validators = [s.func for s in transition.validators]
            if validators != [refuse_failing_guards]:
                raise TypeError(f"{transition} was not declared with edge()")
            if _declared(transition.before) or _declared(transition.after):
                raise TypeError(f"{transition} has before/after callbacks; use actions")
            selectors = tuple(s.func for s in transition.cond if s.expected_value is True)
            guards = tuple(s.func for s in transition.cond if s.expected_value is False)
            for func in (*selectors, *guards):
                if not registry.knows(func):
                    raise TypeError(
                        f"{transition}: {func!r} is not in the {registry.machine} registry"
                    )
            for guard in guards:
                if guard.__name__ not in registry.checks:
                    raise TypeError(f"{transition}: {guard.__name__} is a selector, not a check")
            actions = tuple(str(s.func) for s in transition.on if not s.is_convention)
            for name in actions:
                if not callable(getattr(model, name, None)):
                    raise TypeError(f"{transition}: {model.__name__} has no action {name!r}")
            assert transition.target is not None
            for event in transition.events:
                edges.append(
                    Edge(
                        str(event),
                        _value(state),
                        _value(transition.target),
                        bool(transition.internal),
                        selectors,
                        guards,
                        actions,
                        tuple(registry.unwrapped(g) for g in guards),
                    )
                )
    for check in (c for group in chart.refusals_without_edge for c in group):
        if registry.checks.get(check.__name__) is not check:
            raise TypeError(f"{chart.__name__}: {check.__name__} is not a registered check")
    table: dict[tuple[str, str], list[Edge]] = {}
    for e in edges:
        table.setdefault((e.source, e.event), []).append(e)
    initial = [s for s in chart.states if s.initial]
    compiled = Compiled(
        chart=chart,
        states=tuple(_value(s) for s in chart.states),
        initial=_value(initial[0]),
        finals=frozenset(_value(s) for s in chart.states if s.final),
        events=tuple(dict.fromkeys(e.event for e in edges)),
        event_names={str(e.id): str(e.name) for e in chart.events},  # type: ignore[attr-defined]
        edges=tuple(edges),
        table={key: tuple(found) for key, found in table.items()},
        refusals_without_edge=tuple(chart.refusals_without_edge),
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
