"""A plan record's history replayed on the reference (`reference.plan`): the requests it holds
must each be accepted in turn, the changes the clock applied must come due where they are
recorded, and the record's derived facts (state, trial, pending change, billing periods, last
plan, flags, recorded instants) must be exactly what that history produces (RULES.md V2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from support_flows.verify.reference.plan import (
    RefPlan,
    billing,
    decide,
    meaning,
    observe,
    perform,
)
from support_flows.verify.reference.records import instant
from support_flows.verify.reference.terms import current

__all__ = ["ClockEvents", "derived_plan", "replay_plan"]


@attrs.frozen
class ClockEvents:
    """What the library names the events the reference has no request word for."""

    revoke: str
    end_trial: str
    apply_pending: str


Entry = dict[str, Any]


def _iso(at: dt.datetime | None) -> str | None:
    return None if at is None else at.astimezone(dt.UTC).isoformat()


def replay_plan(
    history: list[Mapping[str, Any]], tz: str, names: ClockEvents
) -> tuple[RefPlan, list[Entry]] | str:
    """The reference plan after `history`, with the entries it writes on the way, or why that
    history is not one of accepted requests (a refused request, an out-of-order instant).

    Its requests are decided as by a billing member (P1) of an organization outside cross-org
    billing (P3): a record keeps neither, and both are decided when a request is made (P16), so
    an organization that moved to cross-org billing after it paid holds such a history."""
    ref = RefPlan(tz, cross_org=False)
    written: list[Entry] = []
    last: dt.datetime | None = None
    for n, entry in enumerate(history):
        at = instant(entry["at"])
        if last is not None and at < last:
            return f"history[{n}] at {entry['at']} comes before the entry ahead of it"
        last = at
        ref = _observed(ref, at, written, names)
        if entry["requested_by"] is None:
            continue
        tier = entry["tier"]
        request = "revoke_pending" if tier is None else "change"
        if decide(ref, request, current().billing_roles, tier):
            return f"history[{n}] holds a request the rules refuse in state {ref.state!r}"
        event = names.revoke if tier is None else meaning(ref, tier)
        ref, _ = perform(ref, request, entry["requested_by"], tier, at)
        source, target = ref.history[-1][1:3]
        effective = _scheduled(ref, at, tier)
        written.append(_entry(at, event, source, target, entry["requested_by"], tier, effective))
    return ref, written


def _scheduled(ref: RefPlan, at: dt.datetime, tier: str | None) -> dt.datetime | None:
    """When the change a request at `at` asked for takes effect: a downgrade or cancel it made
    pending, or the cancel already pending that a cancel repeats (P13)."""
    if ref.pending is None or (tier != "basic" and ref.pending.requested_at != at):
        return None
    return ref.pending.effective_at


def _observed(ref: RefPlan, at: dt.datetime, written: list[Entry], names: ClockEvents) -> RefPlan:
    ref, applied = observe(ref, at)
    for when, source, target, _ in applied:
        event = names.end_trial if source == "trial" else names.apply_pending
        written.append(_entry(when, event, source, target, None, None, None))
    return ref


def _entry(
    at: dt.datetime,
    event: str | None,
    source: str,
    target: str,
    by: str | None,
    tier: str | None,
    effective: dt.datetime | None,
) -> Entry:
    return {
        "at": _iso(at),
        "event": event,
        "source": source,
        "target": target,
        "requested_by": by,
        "tier": tier,
        "effective_at": _iso(effective),
        "policy": current().version,
    }


def derived_plan(ref: RefPlan, written: list[Entry]) -> dict[str, Any]:
    """The facts of a plan record that its history determines, as the snapshot writes them (its
    periods are those billed so far: what the trial's end or a pending change will bill is not
    recorded but derived)."""
    started = next((e["at"] for e in written if e["target"] == "trial"), None)
    pending = None
    if ref.pending is not None:
        p = ref.pending
        pending = {
            "target": p.target,
            "effective_at": _iso(p.effective_at),
            "requested_at": _iso(p.requested_at),
            "requested_by": p.requested_by,
            "policy": current().version,
        }
    trial = None if ref.trial is None else {"started_at": _iso(ref.trial[0])}
    if trial is not None and ref.trial is not None:
        trial["ends_at"] = _iso(ref.trial[1])
        trial["policy"] = current().version
    last_plan = None
    if ref.last_end is not None:
        last_plan = {"state": ref.last_end[0], "ended_at": _iso(ref.last_end[1])}
    periods = [
        {
            "tier": p.tier,
            "starts_at": _iso(p.starts_at),
            "ends_at": _iso(p.ends_at),
            "retroactive": p.retroactive,
        }
        for p in billing(attrs.evolve(ref, trial=None, pending=None))
    ]
    return {
        "state": ref.state,
        "since": _iso(ref.since),
        "trial_started_at": started,
        "last_change_applied": ref.change_took_effect,
        "recorded_at": written[-1]["at"] if written else None,
        "trial": trial,
        "pending": pending,
        "periods": periods,
        "last_plan": last_plan,
        "history": written,
    }
