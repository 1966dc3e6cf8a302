"""The shared chart base and the one way to declare an edge.

A chart is a python-statemachine `StateChart` class: its states, its events, and for each edge
the selectors that say which edge of an event applies (``when``), the registered checks that
refuse it (``unless``) and the model's actions it runs (``on``). That declaration is the only one:
`support_flows.machines.engine` compiles it once per class into the table the objects run, and
python-statemachine's own engine can run it too (the differential tests compare both).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
from statemachine import State, StateChart
from statemachine.transition_list import TransitionList

from support_flows.errors import error_for
from support_flows.guards.registry import Check, Registry, Selector
from support_flows.values.events import Names

__all__ = ["ANY", "BaseChart", "Route", "edge", "refuse_failing_guards"]

ANY = "any"
"""A route's relation when it answers its request whatever value the request chooses."""


@attrs.frozen
class Route:
    """A host request an event answers: the request (a `SupportPlan.check` action, say) and how
    the value it chooses relates to the one in force (`ANY`: whatever it chooses). Where several
    routes answer alike, the first whose event has an edge from the current state is taken; with
    none, the first (the chart's refusal then explains why)."""

    event: str = attrs.field(converter=str)
    request: str = attrs.field(converter=str)
    relation: str = attrs.field(converter=str, default=ANY)


class BaseChart(StateChart):  # type: ignore[type-arg]
    """A chart that never hides a refused event or a failing callback."""

    allow_event_without_transition = False
    catch_errors_as_events = False
    enable_self_transition_entries = False
    atomic_configuration_update = True

    named_by: ClassVar[type[Names]]
    """The class naming this chart's events (`support_flows.values.events`): its names and the
    chart's events must be the same, checked when the chart is compiled."""

    routes: ClassVar[tuple[Route, ...]] = ()
    """What each host request means in each state: read by the runtime, `check()`, the replay,
    the timeline's U2 check and the diagrams."""

    route_choices: ClassVar[tuple[Any, ...]] = (None,)
    """Every value a request may choose (None: it chooses none): the routing table is built for
    each, at compile time, so routing a request is one lookup."""

    @staticmethod
    def route_relation(state: Any, chosen: Any) -> str:
        """How a value a request chooses relates to the one `state` holds: the relation a
        `Route` names (`ANY` unless the chart says otherwise)."""
        return ANY

    registry: ClassVar[Registry]
    """The machine's checks and selectors; every guard and selector on an edge is one of them."""

    model_class: ClassVar[type]
    """The class of the model whose methods the edges name as actions."""

    refusals_without_edge: ClassVar[tuple[tuple[Check, ...], ...]] = ()
    """Groups of checks that explain a request when its event has no edge from the current state
    (for example P13's nothing to cancel). The first group with a failing check gives every
    failing check of that group; when none fails, the refusal is V3's event_not_allowed."""


def refuse_failing_guards(transition: Any, facts: Any) -> None:
    """Validator on every edge, for python-statemachine's engine: when this edge's selectors
    pass (it is the edge the event takes), refuse with every failing guard of the edge."""
    selectors = [s.func for s in transition.cond if s.expected_value is True]
    if all(select(facts) for select in selectors):
        guards = [s.func for s in transition.cond if s.expected_value is False]
        found = [v for guard in guards if (v := guard(facts)) is not None]
        if found:
            raise error_for(found)


def edge(
    source: State,
    target: State | None = None,
    *,
    when: Sequence[Selector] = (),
    unless: Sequence[Check] = (),
    on: Sequence[str] | str = (),
) -> TransitionList:
    """The edge `source` -> `target` (None: an internal self-transition), taken when every
    selector in `when` holds, refused with every failing check of `unless`, running `on`."""
    actions = [on] if isinstance(on, str) else list(on)
    options: dict[str, Any] = {
        "cond": list(when),
        "unless": list(unless),
        "on": actions,
        "validators": [refuse_failing_guards],
    }
    made: TransitionList
    if target is None:
        made = source.to.itself(internal=True, **options)
    else:
        made = source.to(target, **options)
    return made
