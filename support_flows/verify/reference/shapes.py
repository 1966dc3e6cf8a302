"""The shape of the records the library writes, field by field (RULES.md V2: a missing, extra or
mistyped field, or an unknown name, is not the library's record). A spec is a type name ("str",
"int", "bool", "instant"; with "?" it may be null), a set of names, a record (a dict of specs), a
list of one spec, or a tuple of a spec and None (a record or null)."""

from __future__ import annotations

from typing import Any

from support_flows.verify.reference.records import instant

__all__ = ["ORDER_STATES", "STATES", "TIERS", "order_shape", "plan_shape", "shape_problem"]

Spec = Any
STATES = frozenset({"basic", "trial", "developer", "premium", "cancelled"})
TIERS = frozenset({"basic", "developer", "premium", "enterprise"})
ORDER_STATES = frozenset({"checkout", "purchased", "scheduled", "consumed", "expired"})


def plan_shape(events: frozenset[str]) -> dict[str, Spec]:
    """A plan snapshot's fields; `events` are the names its history may hold."""
    return {
        "kind": "str",
        "version": "int",
        "org_id": "str",
        "billing_timezone": "str",
        "state": STATES,
        "since": "instant?",
        "trial_started_at": "instant?",
        "last_change_applied": "bool",
        "recorded_at": "instant?",
        "trial": ({"started_at": "instant", "ends_at": "instant", "policy": "str"}, None),
        "pending": (
            {"target": STATES, "effective_at": "instant", "requested_at": "instant"}
            | {"requested_by": "str", "policy": "str"},
            None,
        ),
        "periods": [
            {"tier": TIERS, "starts_at": "instant", "ends_at": "instant?", "retroactive": "bool"}
        ],
        "last_plan": ({"state": STATES, "ended_at": "instant"}, None),
        "history": (
            [
                {"at": "instant", "event": events, "source": STATES, "target": STATES}
                | {"requested_by": "str?", "tier": (TIERS, None), "effective_at": "instant?"}
                | {"policy": "str"}
            ],
            None,
        ),
    }


def order_shape(actions: frozenset[str]) -> dict[str, Spec]:
    """An order snapshot's fields; `actions` are the names its history may hold."""
    session: dict[str, Spec] = {"session_id": "str", "start": "instant", "hours": "int"}
    session |= {"units": "int"}
    session |= {"status": frozenset({"scheduled", "delivered", "cancelled"})}
    session |= {"booked_at": "instant", "booked_by": "str?", "closed_at": "instant?"}
    session |= {"closed_by": "str?"}
    units = dict.fromkeys(("purchased", "available", "scheduled", "consumed", "expired"), "int")
    return {
        "kind": "str",
        "version": "int",
        "policy": "str",
        "order_id": "str",
        "org_id": "str",
        "billing_timezone": "str",
        "state": ORDER_STATES,
        "channel": frozenset({"console", "representative"}),
        "buyer_email": "str",
        "requested_by": "str?",
        "sales_reference": "str?",
        "hours_per_unit": "int",
        "validity_months": "int?",
        "created_at": "instant",
        "purchased_at": "instant?",
        "expires_at": "instant?",
        "validity_ended": "bool",
        "recorded_at": "instant?",
        "units": units,
        "sessions": [session],
        "history": (
            [
                {"at": "instant", "action": actions, "units": "int"}
                | {"session_id": "str?", "actor": "str?", "policy": "str"}
            ],
            None,
        ),
    }


def shape_problem(value: Any, spec: Spec, path: str = "$") -> str | None:
    """Where `value` is not what `spec` says the library writes (a missing, extra or mistyped
    field, an unknown name), or None."""
    if isinstance(spec, tuple):  # one of several: a spec or None
        if any(s is None and value is None for s in spec):
            return None
        return shape_problem(value, next(s for s in spec if s is not None), path)
    if isinstance(spec, str):
        kind, nullable = spec.rstrip("?"), spec.endswith("?")
        if value is None:
            return None if nullable else f"{path} is null"
        return _leaf(value, kind, path)
    if isinstance(spec, frozenset):
        return None if type(value) is str and value in spec else f"{path}: unknown name {value!r}"
    if isinstance(spec, list):
        if type(value) is not list:
            return f"{path} is not a list"
        found = (shape_problem(v, spec[0], f"{path}[{n}]") for n, v in enumerate(value))
        return next((p for p in found if p), None)
    if type(value) is not dict:
        return f"{path} is not an object"
    if value.keys() != spec.keys():
        return f"{path} does not hold exactly the fields {sorted(spec)}"
    found = (shape_problem(value[k], s, f"{path}.{k}") for k, s in spec.items())
    return next((p for p in found if p), None)


def _leaf(value: Any, kind: str, path: str) -> str | None:
    if kind == "instant":
        try:
            instant(value)
        except ValueError:
            return f"{path} is not an aware instant"
        return None
    types = {"str": str, "int": int, "bool": bool}
    return None if type(value) is types[kind] else f"{path} is not a {kind}"
