"""Audit rows (S4) from what a stored object did since it was last saved: its new history
entries and its calls, in the order they happened. A request's parameters and a refusal's
messages are kept at a bounded size: each value at most `MAX_VALUE_BYTES` of JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pendulum

from support_flows.errors import SupportFlowsError, describe
from support_flows.snapshots.consulting import OrderEvent
from support_flows.store.compiled import Statement, Tx, dumps
from support_flows.store.keys import jsonable
from support_flows.store.records import micros
from support_flows.store.schema import audit
from support_flows.store.tracked import Call, is_request
from support_flows.values.plan import HistoryEntry

__all__ = [
    "MAX_REASONS",
    "MAX_VALUE_BYTES",
    "Subject",
    "append",
    "append_values",
    "applied_row",
    "applied_values",
    "audit_rows",
    "bounded",
    "refusal_row",
    "shortened",
]

Entry = HistoryEntry | OrderEvent
Known = tuple[object, Any] | None

MAX_VALUE_BYTES = 1024
"""S4: the most JSON one request parameter (or one refusal message) adds to the audit log."""
MAX_REASONS = 8
"""A refusal's reasons kept in the audit log; the count of the rest is recorded."""


_COLUMNS = (
    "org_id",
    "subject",
    "subject_id",
    "at",
    "outcome",
    "request",
    "event",
    "actor",
    "reason",
    "idempotency_key",
    "detail",
)
_APPEND = Statement(audit.insert(), _COLUMNS)


_COPY = f"COPY {audit.name} ({', '.join(_COLUMNS)}) FROM STDIN"


def append(tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
    """Append rows (as `Subject.row` makes them) to the audit log in the transaction `tx`: many
    rows on PostgreSQL by COPY (a rollover batch's), else by INSERT."""
    if len(rows) > 1 and tx.dialect.name == "postgresql":
        with tx.driver.cursor().copy(_COPY) as copy:
            for row in rows:
                copy.write_row([*(row[c] for c in _COLUMNS[:-1]), dumps(row["detail"])])
    elif rows:
        _APPEND.run_many(tx, [{**row, "detail": dumps(row["detail"])} for row in rows])


_INSERT = (
    f"INSERT INTO {audit.name} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def append_values(tx: Tx, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append rows (as `applied_values` makes them: plain values in the log's column order,
    the detail as JSON text) in the transaction `tx`: by COPY on PostgreSQL, else by one
    prepared INSERT per row."""
    if not rows:
        return
    if tx.dialect.name == "postgresql":
        with tx.driver.cursor().copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        tx.driver.cursor().executemany(_INSERT, rows)


def _json_size(text: str) -> int:
    return len(json.dumps(text))


def _cut(text: str, size: int) -> str:
    """The longest start of `text` whose JSON takes at most `size` bytes."""
    low, high = 0, min(len(text), size)
    while low < high:
        middle = (low + high + 1) // 2
        if _json_size(text[:middle]) <= size:
            low = middle
        else:
            high = middle - 1
    return text[:low]


_SHORT_TEXT = (MAX_VALUE_BYTES - 2) // 12
"""Characters of text whose JSON never exceeds `MAX_VALUE_BYTES` (at most 12 bytes each: an
escaped surrogate pair)."""


def _short(value: object) -> bool:
    """A whole number, or text without NUL, whose JSON surely fits (a user id, a tier)."""
    if type(value) is str:
        return len(value) <= _SHORT_TEXT and "\x00" not in value
    return type(value) is int and -(2**63) < value < 2**63


def bounded(value: object) -> Any:
    """A request parameter as the audit log keeps it (S4): the value itself when its JSON takes
    at most `MAX_VALUE_BYTES` and a database holds it; otherwise ``{"shortened": the start of
    its text, "length": its full length in characters}`` (a string's own length, else its
    text's). A value no database holds (NaN, text with NUL) is kept as its repr."""
    if value is None or type(value) is bool or _short(value):
        return value
    try:
        data = jsonable(value, strict=False, what="a parameter")
    except SupportFlowsError:  # NaN, an infinity, text with NUL, too deep: kept as its repr
        data = describe(value, 10 * MAX_VALUE_BYTES)
    text = json.dumps(data, separators=(",", ":"))
    if len(text) <= MAX_VALUE_BYTES:
        return data
    if type(data) is str:
        text = data
    length = len(value) if type(value) is str else len(text)
    return {"shortened": _cut(text, MAX_VALUE_BYTES - 64), "length": length}


def shortened(text: str) -> str:
    """A message as the audit log keeps it: at most `MAX_VALUE_BYTES` of JSON, the full length
    named when cut, NUL written as ``\\x00``."""
    if _short(text):  # a name, a code: fits
        return text
    clean = text.replace("\x00", "\\x00")
    if _json_size(clean) <= MAX_VALUE_BYTES:
        return clean
    return f"{_cut(clean, MAX_VALUE_BYTES - 64)}... ({len(text)} characters)"


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {shortened(str(name)): bounded(value) for name, value in params.items()}


def error_detail(error: SupportFlowsError) -> dict[str, Any]:
    """A refusal as the audit log keeps it: its first `MAX_REASONS` reasons, messages bounded."""
    reasons = [
        {"code": r.code.value, "rule": shortened(r.rule), "message": shortened(r.message)}
        for r in error.reasons[:MAX_REASONS]
    ]
    detail: dict[str, Any] = {
        "code": error.code,
        "rule": shortened(error.rule),
        "message": shortened(error.message),
        "reasons": reasons,
    }
    if len(error.reasons) > MAX_REASONS:
        detail["more_reasons"] = len(error.reasons) - MAX_REASONS
    return detail


class Subject:
    """Whose audit rows these are: an organization's plan, or one of its orders."""

    __slots__ = ("key", "kind", "org_id", "subject_id")

    def __init__(self, kind: str, org_id: str, subject_id: str | None, key: str | None) -> None:
        self.kind, self.org_id, self.subject_id, self.key = kind, org_id, subject_id, key

    def row(
        self,
        at: pendulum.DateTime,
        outcome: str,
        *,
        request: str | None = None,
        event: str | None = None,
        actor: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "org_id": self.org_id,
            "subject": self.kind,
            "subject_id": self.subject_id,
            "at": micros(at),
            "outcome": outcome,
            "request": request,
            "event": event,
            "actor": actor,
            "reason": reason,
            "idempotency_key": self.key,
            "detail": {} if detail is None else detail,
        }


def _event(entry: Entry) -> str:
    return entry.event if isinstance(entry, HistoryEntry) else entry.action.value


def _actor(entry: Entry) -> str | None:
    return entry.requested_by if isinstance(entry, HistoryEntry) else entry.actor


def applied_row(subject: Subject, entry: Entry) -> dict[str, Any]:
    """A change the clock applied (a trial's end, a pending change, an expiry)."""
    return subject.row(entry.at, "applied", event=_event(entry), detail={"entry": entry.to_dict()})


def applied_values(kind: str, org_id: str, subject_id: str, entry: Entry) -> tuple[Any, ...]:
    """`applied_row`'s row as plain values in the log's column order, its detail as JSON text
    (a rollover batch's rows, appended by `append_values`)."""
    return (
        org_id,
        kind,
        subject_id,
        micros(entry.at),
        "applied",
        None,
        _event(entry),
        None,
        None,
        None,
        dumps({"entry": entry.to_dict()}),
    )


def refusal_row(subject: Subject, call: Call, at: pendulum.DateTime) -> dict[str, Any]:
    assert call.error is not None
    return subject.row(
        call.at or at,
        "refused",
        request=call.request,
        actor=call.actor,
        reason=call.error.code,
        detail={"params": _params(call.params), "error": error_detail(call.error)},
    )


def _entry_row(
    subject: Subject, entry: Entry, call: Call | None, known: Known, requested: bool
) -> dict[str, Any]:
    """An entry's row: `requested` says whether it records a request (`is_request`)."""
    if not requested:
        return applied_row(subject, entry)
    data = known[1] if known is not None and known[0] is entry else entry.to_dict()
    detail: dict[str, Any] = {"entry": data}
    if call is not None:
        detail["params"] = _params(call.params)
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
    now: Callable[[], pendulum.DateTime],
    known: Known = None,
) -> Iterator[dict[str, Any]]:
    """Rows for history entries from `emitted` on, interleaved with the calls that made them;
    a refused call, or an accepted one that changed nothing (a replayed confirm), gets its own
    row. `now()` dates a refusal whose clock could not be read; `known` is an entry already
    written as data (a command's result) and that data."""
    position = emitted
    for call in calls:
        while position < min(call.start, len(history)):
            entry = history[position]
            yield _entry_row(subject, entry, None, None, is_request(entry))
            position += 1
        if call.error is not None:
            yield refusal_row(subject, call, call.at or now())
            continue
        requested = False
        for entry in history[max(call.start, position) : call.end]:
            request = is_request(entry)
            requested = requested or request
            yield _entry_row(subject, entry, call, known, request)
        if not requested:
            yield subject.row(
                call.at or now(),
                "accepted",
                request=call.request,
                actor=call.actor,
                detail={"params": _params(call.params), "entry": None},
            )
        position = max(position, call.end)
    for entry in history[position:]:
        yield _entry_row(subject, entry, None, None, is_request(entry))
