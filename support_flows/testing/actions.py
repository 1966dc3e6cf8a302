"""Steps a host can replay on a plan, an order or a case flow (`Action`), and strategies that
draw sequences of them (RULES.md P, F, C7, V3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from support_flows.clock import FrozenClock
from support_flows.testing.strategies import acting
from support_flows.verify.reference.plan import TIERS

__all__ = ["MOVES", "Action", "case_steps", "order_actions", "order_step", "plan_actions"]

MOVES = (
    {"microseconds": 1},
    {"minutes": 30},
    {"hours": 20},
    {"days": 3},
    {"days": 17},
    {"days": 31},
    {"days": 95},
)
"""Clock moves, as pendulum durations: a tick, part of a day, days, a month, a quarter."""


def _copy(args: Mapping[str, Any]) -> dict[str, Any]:
    return dict(args)


@attrs.frozen
class Action:
    """One step a host can replay: a method call on the object, or a clock move ("wait")."""

    call: str
    args: Mapping[str, Any] = attrs.field(factory=dict, converter=_copy, hash=False)

    def perform(self, target: Any, clock: FrozenClock) -> Any:
        """Make the call on `target` (a plan, an order or a case flow), or move `clock`."""
        if self.call == "wait":
            return clock.advance(**self.args)
        args = dict(self.args)
        if "start_in" in args:
            args["start"] = clock.now().add(**args.pop("start_in"))
        return getattr(target, self.call)(**args)


def plan_actions(
    project_ids: Sequence[str] = ("p-1",), *, max_size: int = 12
) -> st.SearchStrategy[list[Action]]:
    """Sequences of plan requests (every tier, cancel, revoke), clock moves and apply_due."""
    actor = acting(project_ids)
    one = st.one_of(
        st.builds(
            lambda t, a: Action("change", {"tier": t, "actor": a}), st.sampled_from(TIERS), actor
        ),
        st.builds(lambda a: Action("cancel", {"actor": a}), actor),
        st.builds(lambda a: Action("revoke_pending", {"actor": a}), actor),
        st.builds(lambda m: Action("wait", m), st.sampled_from(MOVES)),
        st.just(Action("apply_due")),
    )
    return st.lists(one, max_size=max_size)


def order_step(hours_per_unit: int, project_ids: Sequence[str]) -> st.SearchStrategy[Action]:
    """One step of `order_actions`."""
    actor = acting(project_ids)
    session = st.integers(1, 4).map(lambda n: f"s-{n}")
    schedule = st.builds(
        lambda hours_in, units, extra, a: Action(
            "schedule",
            {"start_in": {"hours": hours_in}, "hours": units * hours_per_unit + extra, "actor": a},
        ),
        st.integers(-1, 24 * 40),
        st.integers(1, 3),
        st.sampled_from((0, 0, 0, 1)),
        actor,
    )
    close = st.builds(
        lambda call, s, a: Action(call, {"session_id": s, "actor": a}),
        st.sampled_from(("cancel_session", "deliver")),
        session,
        st.none() | actor,
    )
    return st.one_of(
        st.just(Action("confirm")),
        schedule,
        close,
        st.builds(lambda m: Action("wait", m), st.sampled_from(MOVES)),
        st.just(Action("apply_due")),
    )


def order_actions(
    hours_per_unit: int = 1, project_ids: Sequence[str] = ("p-1",), *, max_size: int = 12
) -> st.SearchStrategy[list[Action]]:
    """Sequences of order steps: confirm, bookings of whole (or not) units starting soon or in
    the past, cancels and deliveries of sessions s-1.., clock moves and apply_due."""
    return st.lists(order_step(hours_per_unit, project_ids), max_size=max_size)


def case_steps(
    project_ids: Sequence[str] = ("p-1", "p-2", "p-9"), *, max_size: int = 6
) -> st.SearchStrategy[list[Action]]:
    """Sequences of `CaseFlow` steps, in the navigation's order or not (V3)."""
    one = st.one_of(
        st.sampled_from(
            (
                Action("choose_organization"),
                Action("open_organization_support"),
                Action("open_project_support"),
            )
        ),
        st.sampled_from(tuple(project_ids)).map(
            lambda p: Action("choose_project", {"project_id": p})
        ),
        st.sampled_from(("S1", "S2", "S3", "S4")).map(
            lambda s: Action("submit", {"title": "Slow queries", "severity": s})
        ),
    )
    return st.lists(one, max_size=max_size)
