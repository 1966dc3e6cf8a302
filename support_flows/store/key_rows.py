"""Idempotency keys in the database (S2): a key's first outcome looked up and replayed, a new
one remembered in the command's transaction, and old ones forgotten after `KEY_RETENTION`."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from support_flows.errors import Reason, SupportFlowsError
from support_flows.localtime import instant
from support_flows.store import arguments
from support_flows.store.backend import Backend
from support_flows.store.compiled import Tx, dumps, insert_new
from support_flows.store.keys import error_from, error_record, fingerprint
from support_flows.store.records import Outcome, micros
from support_flows.store.saving import Conflict, KeyRow, refusal
from support_flows.store.schema import idempotency
from support_flows.store.spec import Spec, host
from support_flows.store.tracked import calls

__all__ = ["KEY_RETENTION", "prune", "remember", "replay"]

KEY_RETENTION = dt.timedelta(hours=24)
"""S2: idempotency keys are kept at least this long."""


_REMEMBER = insert_new(idempotency, idempotency.c.key, [c.name for c in idempotency.columns])


def replay(stored: KeyRow, spec: Spec, obj: Any, fn: Any) -> Outcome:
    """The first outcome of a key, if this is the same request; nothing is written."""
    request = spec.request
    if request is None:  # the request is the calls `fn` makes: make them on a copy
        with contextlib.suppress(SupportFlowsError):
            host(fn, obj)
        request = calls(obj)
    if fingerprint(spec.kind, spec.subject_id, request) != stored.fingerprint:
        raise refusal(
            Reason.IDEMPOTENCY_KEY_REUSED,
            "S2",
            f"idempotency key {spec.key!r} was first used for a different request; "
            "use a new key for a new request",
        )
    if stored.outcome == "refused":
        raise error_from(stored.response["error"])
    return Outcome(stored.response["result"], stored.revision, replayed=True)


def remember(
    backend: Backend,
    tx: Tx,
    spec: Spec,
    request: object,
    error: SupportFlowsError | None,
    result: object,
    revision: int | None,
    stamp: int | None = None,
) -> None:
    """Store the key's first outcome (dated `stamp`, else now by the store's clock, both as
    `Backend.stamp` reads it); `Conflict` if a concurrent request stored it first."""
    done = _REMEMBER.run(
        tx,
        {
            "org_id": spec.org.org_id,
            "key": spec.key,
            "fingerprint": fingerprint(spec.kind, spec.subject_id, request),
            "outcome": "refused" if error is not None else "accepted",
            "response": dumps({"error": error_record(error)} if error else {"result": result}),
            "revision": revision or None,
            "created_at": backend.stamp() if stamp is None else stamp,
        },
    )
    if done.fetchone() is None:  # the same key committed meanwhile: retry, which replays it
        raise Conflict(
            refusal(
                Reason.STALE_REVISION,
                "S2",
                f"a concurrent request stored idempotency key {spec.key!r} first",
            )
        )


def prune(backend: Backend, now: dt.datetime | None, keep: dt.timedelta) -> int:
    """Forget keys older than `keep` (at least `KEY_RETENTION`); returns how many."""
    at = backend.now() if now is None else instant(now, "now")
    cutoff = micros(instant(at - arguments.retention(keep, KEY_RETENTION), "now - keep"))
    with backend.db.write() as conn:
        done = conn.execute(idempotency.delete().where(idempotency.c.created_at < cutoff))
        return int(done.rowcount)
