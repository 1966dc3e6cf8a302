"""The checks `compile_chart` runs on a chart declaration, one concern each (like
python-statemachine's own definition checks): each raises `InvalidChart`, naming the chart, the
edge and what to declare instead, when the compiled table could not run the chart faithfully."""

from __future__ import annotations

import re
from typing import Any

from support_flows.errors import InvalidChart
from support_flows.machines.chart import BaseChart, refuse_failing_guards

__all__ = [
    "check_actions",
    "check_conventions",
    "check_declared_with_edge",
    "check_event_names",
    "check_refusals",
    "check_registered",
    "check_routes",
    "check_state_callbacks",
    "check_step_callbacks",
    "declared",
]

CONVENTION = re.compile(r"^(on|before|after|enter|exit|on_enter|on_exit)_")
"""Names python-statemachine calls by convention: the table would never run them."""


def declared(specs: Any) -> list[Any]:
    """The callbacks written in the declaration (not python-statemachine's naming conventions)."""
    return [s for s in specs if not s.is_convention]


def check_conventions(chart: type[BaseChart]) -> None:
    """No callback runs by python-statemachine's naming conventions: the table would skip it."""
    for owner in (chart, chart.model_class):
        stray = [n for n in vars(owner) if CONVENTION.match(n) or n.endswith("_transition")]
        if stray:
            raise InvalidChart(
                chart,
                f"{owner.__name__} defines {', '.join(stray)}, which python-statemachine would "
                "call by their names; declare them as actions with edge(on=...) and rename them",
            )


def check_state_callbacks(chart: type[BaseChart], state: Any) -> None:
    """No enter/exit callback on a state: what a step does is an action of its edge."""
    if declared(state.enter) or declared(state.exit):
        raise InvalidChart(
            chart,
            f"state {state.id!r} has enter/exit callbacks; move what they do to an action of "
            "the edges into or out of it (edge(on=...))",
        )


def check_declared_with_edge(chart: type[BaseChart], transition: Any) -> None:
    """Every edge is declared with `edge()`, which refuses with its failing guards."""
    if [s.func for s in transition.validators] != [refuse_failing_guards]:
        raise InvalidChart(
            chart, f"the edge {transition} was not declared with edge(); declare it with edge()"
        )


def check_step_callbacks(chart: type[BaseChart], transition: Any) -> None:
    """No before/after callback on an edge: the table runs only its actions."""
    if declared(transition.before) or declared(transition.after):
        raise InvalidChart(
            chart,
            f"the edge {transition} has before/after callbacks; give them to edge(on=...) "
            "as actions of the model",
        )


def check_registered(chart: type[BaseChart], transition: Any, selectors: Any, guards: Any) -> None:
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


def check_actions(chart: type[BaseChart], transition: Any, actions: tuple[str, ...]) -> None:
    """Every action an edge names is a method of the chart's model."""
    model = chart.model_class
    for name in actions:
        if not callable(getattr(model, name, None)):
            raise InvalidChart(
                chart,
                f"the edge {transition} runs {name!r}, which {model.__name__} does not define; "
                f"add the method to {model.__name__} or name one it has",
            )


def check_refusals(chart: type[BaseChart]) -> None:
    """The checks that explain an event without an edge are the registry's own."""
    for check in (c for group in chart.refusals_without_edge for c in group):
        if chart.registry.checks.get(check.__name__) is not check:
            raise InvalidChart(
                chart,
                f"refusals_without_edge names {check.__name__}, which is not a registered check "
                f"of {chart.registry.machine}; register it or leave it out",
            )


def check_event_names(chart: type[BaseChart], events: tuple[str, ...]) -> None:
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


def check_routes(chart: type[BaseChart], events: tuple[str, ...]) -> None:
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
