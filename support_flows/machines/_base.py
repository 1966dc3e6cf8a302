"""The shared StateChart base: pinned flags, clock injection, refusal translation."""

from __future__ import annotations

from typing import Any

from statemachine import StateChart
from statemachine.exceptions import TransitionNotAllowed

from support_flows.clock import Clock
from support_flows.errors import Reason, Refused, Violation, invalid


class BaseChart(StateChart):  # type: ignore[type-arg]
    """A chart that never hides a refused event or a failing callback."""

    allow_event_without_transition = False
    catch_errors_as_events = False
    enable_self_transition_entries = False
    atomic_configuration_update = True

    def __init__(self, model: Any, *, clock: Clock) -> None:
        self.clock = clock
        super().__init__(model=model)

    @property
    def state_name(self) -> str:
        return str(self.model.state)

    def fire(self, event: str, **facts: Any) -> Any:
        """Send `event`; `now` comes from the injected clock unless given. V3 on no transition."""
        facts.setdefault("now", self.clock.now())
        try:
            return self.send(event, **facts)
        except TransitionNotAllowed:
            raise Refused(
                Violation(
                    Reason.EVENT_NOT_ALLOWED,
                    "V3",
                    f"{type(self).__name__} has no transition for {event!r} "
                    f"in state {self.state_name!r}",
                )
            ) from None

    @classmethod
    def check_state_name(cls, value: object) -> str:
        """`value` if it names a state of this chart; otherwise `invalid_snapshot` (V2)."""
        if not isinstance(value, str) or value not in cls.states_map:
            known = ", ".join(sorted(str(k) for k in cls.states_map))
            raise invalid(
                Reason.INVALID_SNAPSHOT,
                "V2",
                f"{cls.__name__} has no state {value!r}; known states: {known}",
            )
        return value

    @classmethod
    def transitions_table(cls) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(event, source, target, guard labels) for every transition, in declaration order.

        A guard label is its function's name, with a leading `!` for an `unless` guard: one that
        blocks the transition when it returns a reason.
        """
        rows = []
        for state in cls.states:
            for transition in state.transitions:
                guards = tuple(str(spec) for spec in transition.cond)
                for event in transition.events:
                    rows.append((str(event), state.id, transition.target.id, guards))
        return rows
