"""Audit rows (S4) from what a stored object did since it was last saved: its new history
entries and its calls, in the order they happened."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pendulum

from support_flows.machines.consulting import OrderEvent
from support_flows.plan_values import HistoryEntry
from support_flows.store.records import micros
from support_flows.store.tracked import Call, is_request

__all__ = ["Subject", "applied_row", "audit_rows", "refusal_row"]

Entry = HistoryEntry | OrderEvent


class Subject:
    """Whose audit rows these are: an organization's plan, or one of its orders."""

    __slots__ = ("key", "kind", "org_id", "subject_id")

    def __init__(self, kind: str, org_id: str, subject_id: str | None, key: str | None) -> None:
        self.kind, self.org_id, self.subject_id, self.key = kind, org_id, subject_id, key

    def row(self, at: pendulum.DateTime, outcome: str, **fields: Any) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "subject": self.kind,
            "subject_id": self.subject_id,
            "at": micros(at),
            "outcome": outcome,
            "request": fields.get("request"),
            "event": fields.get("event"),
            "actor": fields.get("actor"),
            "reason": fields.get("reason"),
            "idempotency_key": self.key,
            "detail": fields.get("detail", {}),
        }


def _event(entry: Entry) -> str:
    return entry.event if isinstance(entry, HistoryEntry) else entry.action.value


def _actor(entry: Entry) -> str | None:
    return entry.requested_by if isinstance(entry, HistoryEntry) else entry.actor


def applied_row(subject: Subject, entry: Entry) -> dict[str, Any]:
    """A change the clock applied (a trial's end, a pending change, an expiry)."""
    return subject.row(entry.at, "applied", event=_event(entry), detail={"entry": entry.to_dict()})


def refusal_row(subject: Subject, call: Call, at: pendulum.DateTime) -> dict[str, Any]:
    assert call.error is not None
    return subject.row(
        call.at or at,
        "refused",
        request=call.request,
        actor=call.actor,
        reason=call.error.code,
        detail={"params": dict(call.params), "error": call.error.to_dict()},
    )


def _entry_row(subject: Subject, entry: Entry, call: Call | None) -> dict[str, Any]:
    if not is_request(entry):
        return applied_row(subject, entry)
    detail: dict[str, Any] = {"entry": entry.to_dict()}
    if call is not None:
        detail["params"] = dict(call.params)
    return subject.row(
        entry.at,
        "accepted",
        request=None if call is None else call.request,
        event=_event(entry),
        actor=_actor(entry) or (None if call is None else call.actor),
        detail=detail,
    )


def audit_rows(
    subject: Subject,
    history: Sequence[Entry],
    emitted: int,
    calls: Sequence[Call],
    now: pendulum.DateTime,
) -> Iterator[dict[str, Any]]:
    """Rows for history entries from `emitted` on, interleaved with the calls that made them;
    a refused call, or an accepted one that changed nothing (a replayed confirm), gets its own
    row. `now` dates a refusal whose clock could not be read."""
    position = emitted
    for call in calls:
        while position < min(call.start, len(history)):
            yield _entry_row(subject, history[position], None)
            position += 1
        if call.error is not None:
            yield refusal_row(subject, call, now)
            continue
        own = history[max(call.start, position) : call.end]
        for entry in own:
            yield _entry_row(subject, entry, call)
        if not any(is_request(e) for e in own):
            yield subject.row(
                call.at or now,
                "accepted",
                request=call.request,
                actor=call.actor,
                detail={"params": dict(call.params), "entry": None},
            )
        position = max(position, call.end)
    for entry in history[position:]:
        yield _entry_row(subject, entry, None)
