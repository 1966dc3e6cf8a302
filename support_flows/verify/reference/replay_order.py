"""An order record's history replayed on the reference (`reference.consulting`): each step it
holds must be one the rules accept in turn (F0-F7), the expiry must come where it is recorded,
and the record's derived facts (state, balance, purchase, expiry, sessions, recorded instants)
must be exactly what that history produces (RULES.md V2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from support_flows.verify.reference.consulting import (
    RefOrder,
    cancel_or_deliver,
    confirm,
    observe,
    open_console,
    open_representative,
    schedule,
)
from support_flows.verify.reference.records import instant
from support_flows.verify.reference.terms import current

__all__ = ["derived_order", "replay_order"]

OWNER = ("ORG_OWNER",)
"""Roles a record does not keep: each step is decided as by a member entitled to it (P16)."""
MEMBER: tuple[tuple[str, ...], dict[str, tuple[str, ...]], tuple[str, ...]] = (OWNER, {}, ())


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).isoformat()


def replay_order(r: Mapping[str, Any], tz: str) -> RefOrder | str:
    """The reference order after the history of record `r`, or why that history is not one of
    accepted steps."""
    ref = RefOrder(tz, r["units"]["purchased"], r["hours_per_unit"], r["validity_months"])
    sessions = {s["session_id"]: s for s in r["sessions"]}
    last: dt.datetime | None = None
    for n, e in enumerate(r["history"]):
        at = instant(e["at"])
        if last is not None and at < last:
            return f"history[{n}] at {e['at']} comes before the entry ahead of it"
        last = at
        ref, _ = observe(ref, at)
        step = _step(ref, e, at, sessions, r)
        if isinstance(step, str):
            return f"history[{n}]: {step}"
        ref = step
    return ref


def _step(
    ref: RefOrder,
    e: Mapping[str, Any],
    at: dt.datetime,
    sessions: Mapping[str, Any],
    r: Mapping[str, Any],
) -> RefOrder | str:
    """One recorded step taken on `ref`; an entry the clock applied (the expiry) is taken by
    `observe` before it, so it changes nothing here."""
    action, actor = e["action"], e["actor"]
    refused: tuple[Any, ...] = ()
    if action == "checkout" and ref.state == "new":
        ref, refused = open_console(ref, tuple(current().billing_roles), actor, at)
    elif action == "purchase" and ref.state == "new":
        ref, refused = open_representative(ref, r["sales_reference"] or "", at)
    elif action == "purchase" and ref.state == "checkout":
        ref = confirm(ref, at)
    elif action == "schedule" and e["session_id"] in sessions:
        s = sessions[e["session_id"]]
        ref, refused = schedule(ref, MEMBER, actor, instant(s["start"]), s["hours"], at)
    elif action in ("cancel_session", "deliver"):
        by = None if actor is None else MEMBER
        deliver = action == "deliver"
        ref, refused = cancel_or_deliver(ref, deliver, by, actor, e["session_id"], at)
    elif action in ("checkout", "purchase", "schedule"):
        return f"{action} does not fit an order in {ref.state!r}"
    if refused:
        return f"the rules refuse {action} ({', '.join(code for code, _ in refused)})"
    return ref


def derived_order(ref: RefOrder, r: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of order record `r` that its history determines, as the snapshot writes them."""
    history = [
        {"at": _iso(at), "action": what, "units": units, "session_id": sid, "actor": actor}
        | {"policy": current().version}
        for at, what, units, sid, actor in ref.history
    ]
    booked = {e["session_id"]: e for e in history if e["action"] == "schedule"}
    closed = {e["session_id"]: e for e in history if e["action"] in ("cancel_session", "deliver")}
    sessions = []
    for s in ref.sessions:
        ends = closed.get(s.session_id, {})
        sessions.append(
            {
                "session_id": s.session_id,
                "start": _iso(s.start),
                "hours": s.hours,
                "units": s.units,
                "status": s.status,
                "booked_at": booked[s.session_id]["at"],
                "booked_by": booked[s.session_id]["actor"],
                "closed_at": ends.get("at"),
                "closed_by": ends.get("actor"),
            }
        )
    names = ("purchased", "available", "scheduled", "consumed", "expired")
    return {
        "state": ref.state,
        "requested_by": ref.requested_by,
        "created_at": history[0]["at"] if history else None,
        "purchased_at": _iso(ref.purchased_at),
        "expires_at": _iso(ref.expires_at),
        "validity_ended": ref.validity_ended,
        "recorded_at": history[-1]["at"] if history else None,
        "units": dict(zip(names, ref.balance, strict=True)),
        "sessions": sessions,
        "history": history,
    }
