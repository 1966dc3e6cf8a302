"""The baselines the runtime benchmark measures against, built from the real charts.

- `bare_chart(compiled)`: a python-statemachine `StateChart` class with the same states and
  edges as a compiled chart (derived from its definition, never a hand copy), every selector,
  guard and action a no-op: what a host pays when it builds a chart per request.
- The dict floor: hand-written functions over snapshot dicts implementing the same rules for the
  operations benchmarked (a table lookup, the role check, the next month's start): the practical
  floor of any implementation in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from statemachine import State, StateChart

from support_flows.localtime import next_month_start
from support_flows.machines.engine import Compiled

BILLING = frozenset({"ORG_OWNER", "ORG_BILLING_ADMIN"})


def _yes(*args: Any, **kwargs: Any) -> bool:
    return True


def _no(*args: Any, **kwargs: Any) -> bool:
    return False


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


class Strict(StateChart):  # type: ignore[type-arg]
    """Our pinned flags, so an event with no transition raises instead of timing nothing."""

    allow_event_without_transition = False
    catch_errors_as_events = False
    enable_self_transition_entries = False
    atomic_configuration_update = True


class Model:
    def __init__(self, state: str | None = None) -> None:
        self.state = state


def bare_chart(compiled: Compiled) -> type[StateChart]:  # type: ignore[type-arg]
    """A StateChart of the same states and edges as `compiled`, with no-op callbacks: an edge's
    selectors hold only for the first edge of its event from its state (so the bare chart takes
    that one), each guard passes, each action does nothing."""
    states = {
        name: State(
            name, value=name, initial=name == compiled.initial, final=name in compiled.finals
        )
        for name in compiled.states
    }
    namespace: dict[str, Any] = dict(states)
    seen: set[tuple[str, str]] = set()
    for edge in compiled.edges:
        source, target = states[edge.source], states[edge.target]
        first = (edge.event, edge.source) not in seen
        seen.add((edge.event, edge.source))
        options = {
            "cond": [_yes if first else _no] * max(1, len(edge.selectors)),
            "unless": [_no] * len(edge.guards),
            "on": [_nothing] * len(edge.actions),
        }
        made = (
            source.to.itself(internal=True, **options)  # type: ignore[no-untyped-call]
            if edge.internal
            else source.to(target, **options)
        )
        namespace[edge.event] = namespace[edge.event] | made if edge.event in namespace else made
    return type(f"Bare{compiled.chart.__name__}", (Strict,), namespace)


# The dict floor: the same rules, hand-written over snapshot dicts.

PLAN_TABLE = {
    ("premium", "developer"): "downgrade",
    ("premium", "basic"): "cancel",
    ("developer", "premium"): "upgrade",
    ("developer", "basic"): "cancel",
    ("basic", "developer"): "subscribe",
    ("basic", "premium"): "subscribe",
}


def _parse(value: Any, key: str = "") -> Any:
    """Every instant of a snapshot as a datetime (keys ending in _at, and `since`)."""
    if isinstance(value, dict):
        return {k: _parse(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_parse(v) for v in value]
    if value is not None and (key.endswith("_at") or key in ("since", "start")):
        return dt.datetime.fromisoformat(value)
    return value


def _dump(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def floor_parse(data: dict[str, Any]) -> dict[str, Any]:
    """Every instant of a snapshot read as a datetime."""
    return _parse(data)  # type: ignore[no-any-return]


def floor_restore_plan(data: dict[str, Any]) -> dict[str, Any]:
    """The practical floor of a restore: check the kind and state, read every instant."""
    if data.get("kind") != "support_plan" or data["state"] not in (
        "basic",
        "trial",
        "developer",
        "premium",
        "cancelled",
    ):
        raise ValueError("not a plan")
    return _parse(data)  # type: ignore[no-any-return]


def floor_billing(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The billing timeline a read shows: the periods, with what the pending change schedules."""
    periods = [dict(p) for p in plan["periods"]]
    pending = plan["pending"]
    if pending is not None:
        if periods and periods[-1]["ends_at"] is None:
            periods[-1]["ends_at"] = pending["effective_at"]
        if pending["target"] == "developer":
            periods.append(
                {"tier": "developer", "starts_at": pending["effective_at"], "ends_at": None}
            )
    return periods


def floor_check_plan(plan: dict[str, Any], roles: frozenset[str], tier: str) -> list[str]:
    reasons = [] if roles & BILLING else ["billing_role_required"]
    if PLAN_TABLE.get((plan["state"], tier)) is None:
        reasons.append("event_not_allowed")
    return reasons


def floor_change_plan(
    plan: dict[str, Any], roles: frozenset[str], tier: str, now: dt.datetime, tz: str
) -> None:
    if floor_check_plan(plan, roles, tier):
        raise ValueError("refused")
    if PLAN_TABLE[(plan["state"], tier)] == "downgrade":
        effective = next_month_start(now, tz)
        plan["pending"] = {
            "target": "developer",
            "effective_at": effective,
            "requested_at": now,
            "requested_by": "u",
        }


def floor_snapshot_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The practical floor of a snapshot: every instant written back as text."""
    return _dump(plan)  # type: ignore[no-any-return]


def floor_apply_due_plan(data: dict[str, Any], until: str) -> dict[str, Any]:
    """The month-start rollover over one plan snapshot dict: a due downgrade takes effect."""
    plan = dict(data)
    pending = data["pending"]
    if pending is not None and pending["effective_at"] <= until:
        at = pending["effective_at"]
        periods = [dict(p) for p in data["periods"]]
        if periods and periods[-1]["ends_at"] is None:
            periods[-1]["ends_at"] = at
        periods.append(
            {"tier": "developer", "starts_at": at, "ends_at": None, "retroactive": False}
        )
        plan.update(state="developer", pending=None, periods=periods, since=at, recorded_at=at)
    return plan


def floor_schedule(
    order: dict[str, Any], start: dt.datetime, hours: int, now: dt.datetime
) -> dict[str, Any]:
    units = order["units"]
    if (
        order["state"] not in ("purchased", "scheduled")
        or start <= now
        or hours > units["available"]
    ):
        raise ValueError("refused")
    sessions = [
        *order["sessions"],
        {"session_id": f"s-{len(order['sessions']) + 1}", "start": start, "hours": hours},
    ]
    return {
        **order,
        "state": "scheduled",
        "units": {
            **units,
            "available": units["available"] - hours,
            "scheduled": units["scheduled"] + hours,
        },
        "sessions": sessions,
    }
