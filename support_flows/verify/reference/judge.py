"""The reference's word on a snapshot: a record the library could have written, one it could not
(and the rule that says so), or one the rules it states do not settle (RULES.md V2).

A plan with its history is settled by replaying that history (`reference.replay`); a record
without one is writable when it is one the library was seen to write for that organization and
zone, and unwritable when it breaks a rule on its face (`reference.records`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from support_flows.verify.reference.records import (
    POLICY,
    UNKNOWN,
    WRITABLE,
    Judgement,
    order_breaks,
    plan_breaks,
    whose,
)
from support_flows.verify.reference.replay import ClockEvents, derived_plan, replay_plan
from support_flows.verify.reference.replay_order import derived_order, replay_order
from support_flows.verify.reference.shapes import order_shape, plan_shape, shape_problem

__all__ = [
    "ORDER_VERSION",
    "PLAN_VERSION",
    "Judgement",
    "as_version_3",
    "judge_order",
    "judge_plan",
]

PLAN_VERSION = ORDER_VERSION = 3
"""The snapshot versions the library writes (V2: another version is not its record)."""


_WHO = frozenset({"requested_by", "booked_by", "closed_by", "actor"})


def anonymous(record: Any) -> str:
    """A record as canonical JSON, and without its history with who asked left out: no rule
    turns on which member made a request (P16; P1 and F0 decide at the request, and a record
    keeps no roles), so two such records that differ only there are writable alike. (A history
    ties them to one another: the requester of an order is its checkout's actor.)"""
    if record["history"] is not None:
        return json.dumps(record, sort_keys=True)

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "" if k in _WHO and v is not None else blank(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blank(v) for v in value]
        return value

    return json.dumps(blank(record), sort_keys=True)


def as_version_3(record: Any) -> Any:
    """K4: a version-2 plan record (before policies: no part of it names one) is the version-3
    record whose trial, pending change and history entries were decided under `atlas`; an order
    record as `order_as_version_3` reads it."""
    if not isinstance(record, dict) or record.get("kind") == "consulting_order":
        return order_as_version_3(record)
    if record.get("version") != 2 or record.get("kind") != "support_plan":
        return record
    parts = [record.get("trial"), record.get("pending"), *(record.get("history") or ())]
    if any(isinstance(part, dict) and "policy" in part for part in parts):
        return record
    found = dict(record, version=PLAN_VERSION)
    for field in ("trial", "pending"):
        if isinstance(found.get(field), dict):
            found[field] = dict(found[field], policy=POLICY)
    if isinstance(found.get("history"), list):
        found["history"] = [
            dict(e, policy=POLICY) if isinstance(e, dict) else e for e in found["history"]
        ]
    return found


def order_as_version_3(record: Any) -> Any:
    """K4: a version-2 order record (naming no policy) was decided under `atlas`, every entry of
    its history too; a version-3 one whose history entries all omit theirs (as the first release
    of policies wrote them) holds the order's own version in each."""
    if not isinstance(record, dict) or record.get("kind") != "consulting_order":
        return record
    events = record.get("history")
    events = events if isinstance(events, list) else []
    if any(isinstance(e, dict) and "policy" in e for e in events):
        return record
    if record.get("version") == 2 and "policy" not in record:
        version = POLICY
    elif record.get("version") == ORDER_VERSION and isinstance(record.get("policy"), str):
        version = record["policy"]
    else:
        return record
    found = dict(record, version=ORDER_VERSION, policy=version)
    if isinstance(record.get("history"), list):
        found["history"] = [
            dict(e, policy=version) if isinstance(e, dict) else e for e in record["history"]
        ]
    return found


def _face(
    record: Any, spec: Mapping[str, Any], kind: str, version: int, org_id: str, tz: str
) -> Judgement | None:
    """The shape and the owner of a record: settled when either is wrong."""
    problem = shape_problem(record, spec)
    if problem is not None:
        return Judgement.refuse("V2", problem)
    owner = whose(record, kind, version, org_id, tz)
    return Judgement.refuse("V2", owner) if owner is not None else None


def judge_plan(
    record: Any,
    *,
    org_id: str,
    tz: str,
    names: ClockEvents,
    events: frozenset[str],
    seen: Collection[str],
) -> Judgement:
    """Whether the plan snapshot `record` is writable; `seen` holds the records the library was
    seen to write for this organization and zone, `anonymous`."""
    record = as_version_3(record)
    face = _face(record, plan_shape(events), "support_plan", PLAN_VERSION, org_id, tz)
    if face is not None:
        return face
    broken = plan_breaks(record, tz)
    if broken is not None:
        return Judgement.refuse(*broken)
    if record["history"] is None:
        return Judgement(WRITABLE) if anonymous(record) in seen else Judgement(UNKNOWN)
    replayed = replay_plan(record["history"], tz, names)
    if isinstance(replayed, str):
        return Judgement.refuse("V2", replayed)
    derived = derived_plan(*replayed)
    for field, value in derived.items():
        if record[field] != value:
            why = f"$.{field} is {record[field]!r}; its history gives {value!r}"
            return Judgement.refuse("V2", why)  # "derived facts must be derivable"
    return Judgement(WRITABLE)


def judge_order(
    record: Any,
    *,
    org_id: str,
    tz: str,
    actions: frozenset[str],
    seen: Collection[str],
    origin: Mapping[str, Any],
    replay: bool = True,
) -> Judgement:
    """Whether the order snapshot `record` is writable; `seen` as for `judge_plan`. With its
    history, a record is writable when that history replays, gives every derived fact, and the
    facts no history gives (channel, buyer, terms) are those of `origin`, a record the library
    wrote. Without `replay` a history is not replayed, and what it alone would settle is
    unknown."""
    record = order_as_version_3(record)
    face = _face(record, order_shape(actions), "consulting_order", ORDER_VERSION, org_id, tz)
    if face is not None:
        return face
    broken = order_breaks(record, tz)
    if broken is not None:
        return Judgement.refuse(*broken)
    if anonymous(record) in seen:
        return Judgement(WRITABLE)
    if record["history"] is None or not replay:
        return Judgement(UNKNOWN)
    replayed = replay_order(record, tz)
    if isinstance(replayed, str):
        return Judgement.refuse("V2", replayed)
    derived = derived_order(replayed, record)
    for field, value in derived.items():
        if record[field] != value:
            why = f"$.{field} is {record[field]!r}; its history gives {value!r}"
            return Judgement.refuse("V2", why)  # "derived facts must be derivable"
    given = [k for k in record if k not in derived]
    return Judgement(WRITABLE if all(record[k] == origin[k] for k in given) else UNKNOWN)
