"""Which snapshots are records the library could have written (RULES.md V2), decided from RULES.md
alone: whose record it is, and what a record says that no accepted requests could produce.

A `Judgement` is "writable", "unwritable" (with the rule the record breaks) or "unknown" (the
rules the reference states do not settle it). Records are the snapshots' JSON data; instants are
ISO 8601 text with an offset. The reference's calendar is its own (`reference.calendar`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from support_flows.verify.reference.calendar import (
    add_wall_days,
    add_wall_months_clamped,
    is_month_start,
    next_month_start,
)
from support_flows.verify.reference.terms import current

__all__ = ["UNKNOWN", "UNWRITABLE", "WRITABLE", "Judgement", "instant", "order_breaks"]
__all__ += ["plan_breaks", "whose"]

WRITABLE, UNWRITABLE, UNKNOWN = "writable", "unwritable", "unknown"


@attrs.frozen
class Judgement:
    """Whether a record is one the library could have written; `rule` and `why` when not."""

    verdict: str
    rule: str = "V2"
    why: str = ""

    @classmethod
    def refuse(cls, rule: str, why: str) -> Judgement:
        return cls(UNWRITABLE, rule, why)


def instant(text: Any) -> dt.datetime:
    """An instant written as ISO 8601 text with an offset (T1: never naive)."""
    if type(text) is not str:
        raise ValueError(f"{text!r} is not an instant")
    value = dt.datetime.fromisoformat(text)
    if value.utcoffset() is None:
        raise ValueError(f"{text!r} has no offset")
    return value


def _maybe(text: Any) -> dt.datetime | None:
    return None if text is None else instant(text)


def whose(record: Mapping[str, Any], kind: str, version: int, org_id: str, tz: str) -> str | None:
    """V2: written as this kind, at this version, for this organization and billing zone."""
    for field, want in (("kind", kind), ("version", version), ("org_id", org_id)):
        if record[field] != want:
            return f"written with {field} {record[field]!r}, not {want!r}"
    if record["billing_timezone"] != tz:
        return f"written in billing timezone {record['billing_timezone']!r}, not {tz!r}"
    return None


Check = Callable[[Mapping[str, Any], str], "tuple[str, str] | None"]


def plan_breaks(r: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
    """(rule, why) of the first rule a plan record breaks on its face, or None."""
    checks: Sequence[Check] = (
        _policies,
        _plan_state,
        _trial,
        _pending,
        _periods,
        _boundaries,
        _open_billing,
        _premium_billed,
        _plan_recorded,
    )
    return next((found for check in checks if (found := check(r, tz))), None)


POLICY = "atlas"
"""Atlas's version id: what a version-2 record (written before policies) was decided under
(K4). The catalog a run models holds one version, `current().version`."""


def _policies(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    """K4: every trial, pending change and history entry names a version of the catalog."""
    named = [part["policy"] for part in (r["trial"], r["pending"]) if part is not None]
    named += [entry["policy"] for entry in r["history"] or ()]
    unknown = sorted({version for version in named if version != current().version})
    if unknown:
        return "K4", f"names policy version {unknown[0]!r}, which the catalog lacks"
    return None


def _plan_state(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    state, pending = r["state"], r["pending"]
    if (r["trial"] is not None) != (state == "trial"):
        return "V2", f"a trial {r['trial']!r} in state {state!r}"
    if (state == "basic") != (r["since"] is None):
        return "V2", f"state {state!r} with since {r['since']!r}"
    if pending is not None:
        allowed = {"premium": ("developer", "cancelled"), "developer": ("cancelled",)}
        if pending["target"] not in allowed.get(state, ()):
            return "P9", f"a pending change to {pending['target']!r} in state {state!r}"
    return None


def _trial(r: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
    trial, started = r["trial"], _maybe(r["trial_started_at"])
    if trial is None:
        return None
    begins, ends = instant(trial["started_at"]), instant(trial["ends_at"])
    if started != begins:
        return "P4", f"the trial began {trial['started_at']}, the record says {started}"
    if not current().has_trial:
        return "T5", f"a trial from {trial['started_at']} under a policy that offers none"
    if ends != add_wall_days(begins, current().trial_days, tz):
        return "T5", f"a trial from {trial['started_at']} ending {trial['ends_at']}"
    return None


def _pending(r: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
    pending = r["pending"]
    if pending is None:
        return None
    if current().changes_now:
        return "P9", f"a change pending from {pending['requested_at']}: none waits (K1)"
    effective = next_month_start(instant(pending["requested_at"]), tz)
    if instant(pending["effective_at"]) != effective:
        return "P9", (
            f"a change requested {pending['requested_at']} effective {pending['effective_at']}, "
            f"not at the next month start {effective.isoformat()}"
        )
    since = _maybe(r["since"])
    if since is not None and instant(pending["requested_at"]) < since:
        # P8 and P10: entering the state in force ends (or replaces) any change asked before.
        return "P9", f"a change requested {pending['requested_at']}, before the state began"
    return None


def _open_billing(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    """P5, P6, P9, P20: a paid state is billed by an open period of its own tier (trial and
    cancelled bill nothing from now on; basic never billed); a paid plan cancelled (P9) was
    billed up to the instant it ended."""
    ended = r["last_plan"]
    if r["state"] == "cancelled" and ended is not None and ended["state"] != "trial":
        stops = {_maybe(p["ends_at"]) for p in r["periods"]}
        end = instant(ended["ended_at"])
        # K1's immediate changes: a plan cancelled the instant it began was billed for no time.
        for_no_time = current().changes_now and all(s is not None and s <= end for s in stops)
        if end not in stops and not for_no_time:
            return "P9", f"the {ended['state']} plan that ended is not billed up to its end"
    last = r["periods"][-1] if r["periods"] else None
    opened = last["tier"] if last is not None and last["ends_at"] is None else None
    want = {"developer": "developer", "premium": "premium"}.get(r["state"])
    if opened != want:
        return "P20", f"state {r['state']!r} billed by an open {opened!r} period"
    return None


def _periods(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    spans = [(instant(p["starts_at"]), _maybe(p["ends_at"])) for p in r["periods"]]
    for starts, ends in spans:
        if ends is not None and ends <= starts:
            return "P20", f"a period from {starts.isoformat()} has no length"
    for (starts, ends), (later, _end) in itertools.pairwise(spans):
        if ends is None or ends > later or starts >= later:
            return "P20", f"the periods from {starts.isoformat()} and {later.isoformat()} overlap"
    return None


def _boundaries(r: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
    """P20's first invariant: a boundary off a month start is a trial's end or a retroactive
    (P15) or catch-up (P21) start."""
    terms = current()
    if terms.upgrade_now or terms.changes_now:
        return None  # K1: request instants are boundaries too; a record alone does not show them
    allowed = {instant(p["starts_at"]) for p in r["periods"] if p["retroactive"]}
    if (began := _maybe(r["trial_started_at"])) is not None:
        allowed.add(add_wall_days(began, terms.trial_days, tz))
    for p in r["periods"]:
        for text in (p["starts_at"], p["ends_at"]):
            at = _maybe(text)
            if at is not None and at not in allowed and not is_month_start(at, tz):
                return "P20", f"the boundary {text} is not a month start in {tz}"
    return None


def _premium_billed(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    """P5, P8, P15: premium in force since an instant is billed from an instant after it (T3's
    next 1st after it, or the end of the trial it upgraded, which had not come), unless the
    period is retroactive (P15, P21): never from that instant itself."""
    last = r["periods"][-1] if r["periods"] else None
    if current().upgrade_now:
        return None  # K1: premium billed from the request instant
    if r["state"] != "premium" or last is None or r["since"] is None:
        return None
    opened = last["tier"] == "premium" and last["ends_at"] is None and not last["retroactive"]
    if opened and instant(last["starts_at"]) == instant(r["since"]):
        return "P5", f"premium in force since {r['since']} is billed from that instant itself"
    return None


def _plan_recorded(r: Mapping[str, Any], _: str) -> tuple[str, str] | None:
    """T8/V2: recorded_at is the latest recorded instant, and nothing held as due precedes it."""
    recorded = _maybe(r["recorded_at"])
    held = [_maybe(r["since"]), _maybe(r["trial_started_at"])]
    if r["pending"] is not None:
        held.append(instant(r["pending"]["requested_at"]))
    if r["last_plan"] is not None:
        held.append(instant(r["last_plan"]["ended_at"]))
    known = [at for at in held if at is not None]
    if known and (recorded is None or recorded < max(known)):
        return "V2", f"recorded_at {r['recorded_at']} before {max(known).isoformat()}"
    if r["last_change_applied"] and recorded != _maybe(r["since"]):
        # P12: the flag stands while no request came after the change, which took effect at
        # `since`; so that change is the latest entry, and recorded_at is its instant (T8).
        return "P12", f"recorded_at {r['recorded_at']} after the change that took effect"
    due = [instant(r["pending"]["effective_at"])] if r["pending"] is not None else []
    due += [instant(r["trial"]["ends_at"])] if r["trial"] is not None else []
    if recorded is not None and due and recorded > min(due):
        return "V2", f"recorded_at {r['recorded_at']} after {min(due).isoformat()}, still due"
    return None


def order_breaks(r: Mapping[str, Any], tz: str) -> tuple[str, str] | None:
    """(rule, why) of the first rule an order record breaks on its face, or None."""
    named = [r["policy"], *(event["policy"] for event in r["history"] or ())]
    unknown = sorted({version for version in named if version != current().version})
    if unknown:
        return "K4", f"names policy version {unknown[0]!r}, which the catalog lacks"
    units = r["units"]
    counts = [units[k] for k in ("available", "scheduled", "consumed", "expired")]
    if min(counts) < 0 or sum(counts) != units["purchased"] or units["purchased"] < 1:
        return "F7", f"the balance {units!r} does not add up"
    booked = {"scheduled": 0, "delivered": 0, "cancelled": 0}
    for s in r["sessions"]:
        if s["units"] < 1 or s["hours"] != s["units"] * r["hours_per_unit"]:
            return "F4", f"session {s['session_id']!r}: {s['hours']} hours as {s['units']} units"
        booked[s["status"]] += s["units"]
    if (booked["scheduled"], booked["delivered"]) != (units["scheduled"], units["consumed"]):
        return "F7", f"the sessions book {booked!r}, the balance says {units!r}"
    told = _order_told(r)
    if told is not None:
        return told
    if (r["state"] == "scheduled") != (units["scheduled"] > 0) and r["state"] != "checkout":
        return "V2", f"state {r['state']!r} with {units['scheduled']} units scheduled"
    purchased = _maybe(r["purchased_at"])
    expires = None
    if purchased is not None and r["validity_months"] is not None:
        expires = add_wall_months_clamped(purchased, r["validity_months"], tz)
    if _maybe(r["expires_at"]) != expires:
        return "F6", f"expires_at {r['expires_at']} for a purchase at {r['purchased_at']}"
    return _order_recorded(r)


def _order_told(r: Mapping[str, Any]) -> tuple[str, str] | None:
    """What an order's facts say of one another: in checkout nothing is bought yet (F1); a
    validity ends at an expiry (F6); a booked session is not closed (F5)."""
    units = r["units"]
    if r["state"] == "checkout" and (r["purchased_at"] or r["sessions"] or units["expired"]):
        return "F1", "an order in checkout with a purchase, sessions or expired units"
    if r["validity_ended"] and r["expires_at"] is None:
        return "F6", "a validity that ended with no expiry"
    for s in r["sessions"]:
        if s["status"] == "scheduled" and (s["closed_at"] or s["closed_by"]):
            return "F5", f"session {s['session_id']!r} is booked but says it was closed"
    return None


def _order_recorded(r: Mapping[str, Any]) -> tuple[str, str] | None:
    recorded = _maybe(r["recorded_at"])
    held = [instant(r["created_at"]), _maybe(r["purchased_at"])]
    held += [_maybe(s[k]) for s in r["sessions"] for k in ("booked_at", "closed_at")]
    known = [at for at in held if at is not None]
    if recorded is None or recorded < max(known):
        return "V2", f"recorded_at {r['recorded_at']} before {max(known).isoformat()}"
    times = [instant(e["at"]) for e in r["history"] or ()]
    if any(a > b for a, b in itertools.pairwise(times)):
        return "V2", "the history is out of time order"
    return None
