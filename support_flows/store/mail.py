"""The store's outbox (S3): emails queued in the transaction of the purchase that caused them,
delivered at least once by a relay, each under a stable message id."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import sqlalchemy as sa

from support_flows.clock import Clock
from support_flows.errors import describe
from support_flows.inputs import has_method
from support_flows.outbox import Email, Outbox
from support_flows.store.arguments import count_limit
from support_flows.store.compiled import Tx, insert_new
from support_flows.store.database import Database
from support_flows.store.records import QueuedEmail, micros
from support_flows.store.schema import outbox as table

__all__ = ["PURCHASE", "JsonLinesOutbox", "message_id", "queue", "relay"]

PURCHASE = "purchase"
"""The kind of the one email a purchase queues (F3); one per order, whatever copy sent it."""

_NAMESPACE = uuid.UUID("6f1d3e4a-5b2c-4c8e-9a7d-3e2f1b0c9d8e")


class JsonLinesOutbox:
    """An outbox that writes each email as one JSON line (``message_id``, ``to``, ``subject``,
    ``body``) to a stream, stdout by default: the relay's default, for piping to a mailer."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is None else has_method(stream, "write", "stream")

    def send(self, email: Email) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        record = {
            "message_id": getattr(email, "message_id", None),
            "to": email.to,
            "subject": email.subject,
            "body": email.body,
        }
        stream.write(json.dumps(record) + "\n")
        stream.flush()


def message_id(order_id: str, kind: str) -> str:
    """The same id for the same email of the same order, in every process and on every resend."""
    return f"sf-{uuid.uuid5(_NAMESPACE, f'{order_id}/{kind}')}"


_QUEUE = insert_new(
    table,
    table.c.id,
    [
        "message_id",
        "org_id",
        "order_id",
        "kind",
        "recipient",
        "subject",
        "body",
        "queued_at",
        "attempts",
    ],
)


def queue(
    tx: Tx,
    org_id: str,
    order_id: str,
    emails: Iterable[tuple[str, Email]],
    clock: Clock,
) -> list[str]:
    """Queue each (kind, email) of an order unless one of that kind already is; returns the
    message ids queued now."""
    queued = []
    for kind, email in emails:
        mid = message_id(order_id, kind)
        done = _QUEUE.run(
            tx,
            {
                "message_id": mid,
                "org_id": org_id,
                "order_id": order_id,
                "kind": kind,
                "recipient": email.to,
                "subject": email.subject,
                "body": email.body,
                "queued_at": micros(clock.now()),
                "attempts": 0,
            },
        )
        if done.fetchone() is not None:
            queued.append(mid)
    return queued


def relay(
    db: Database,
    outbox: Outbox,
    clock: Clock,
    *,
    only: Sequence[str] | None = None,
    limit: int | None = None,
) -> int:
    """Deliver queued emails through `outbox`, oldest first, marking each sent; returns how many.

    Each email is sent, then marked, one at a time, so a crash between the two resends at most
    that one, under the same message id. On PostgreSQL the row stays locked while it is sent
    (``FOR UPDATE SKIP LOCKED``), so concurrent relays never send the same email at once; on
    SQLite no lock is held across the send (it would stop every writer): run one relay. An
    email the outbox refuses (it raises) is counted in ``attempts`` with its error, and tried
    again on the next run; the others go on.
    """
    has_method(outbox, "send", "outbox")
    count_limit(limit, "limit")
    sent = 0
    failed: list[int] = []
    while limit is None or sent < limit:
        query = sa.select(table).where(table.c.sent_at.is_(None)).order_by(table.c.id).limit(1)
        if failed:
            query = query.where(table.c.id.not_in(failed))
        if only is not None:
            query = query.where(table.c.message_id.in_(list(only)))
        if db.is_postgres:
            with db.write() as conn:
                row = conn.execute(query.with_for_update(skip_locked=True)).first()
                if row is None:
                    break
                if not _send(conn, row, outbox, clock):
                    failed.append(row.id)
                    continue
        else:
            with db.read() as conn:
                row = conn.execute(query).first()
            if row is None:
                break
            problem = _deliver(row, outbox)
            with db.write() as conn:
                _mark(conn, row.id, clock, problem)
            if problem is not None:
                failed.append(row.id)
                continue
        sent += 1
    return sent


def _email(row: Any) -> QueuedEmail:
    return QueuedEmail(row.recipient, row.subject, row.body, row.message_id)


def _deliver(row: Any, outbox: Outbox) -> str | None:
    """None once sent, else why it was not."""
    try:
        outbox.send(_email(row))
    except Exception as error:  # the host's outbox may raise anything; keep the email queued
        return f"{type(error).__name__}: {describe(str(error), 500)}"
    return None


def _send(conn: sa.Connection, row: Any, outbox: Outbox, clock: Clock) -> bool:
    problem = _deliver(row, outbox)
    _mark(conn, row.id, clock, problem)
    return problem is None


def _mark(conn: sa.Connection, row_id: int, clock: Clock, problem: str | None) -> None:
    values: dict[str, Any] = {"attempts": table.c.attempts + 1}
    if problem is None:
        values["sent_at"] = micros(clock.now())
    else:
        values["last_error"] = problem
    conn.execute(table.update().where(table.c.id == row_id).values(**values))
