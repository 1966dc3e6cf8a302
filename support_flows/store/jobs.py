"""The month-start job (S5) and the outbox relay (S3), as functions a scheduler or the command
line calls with a database URL.

`rollover` finds the plans and orders whose next due instant has come (an indexed column), and
applies what is due, at its recorded instant, through `bulk.apply_due`, a batch at a time: each
batch is one transaction that saves every record with its revision check and appends what it
applied to the audit log. Killed at any point, the batch in flight rolls back; a rerun selects
only what is still due, so nothing is applied twice. On PostgreSQL several worker processes
share the work (``SELECT ... FOR UPDATE SKIP LOCKED``); SQLite has one writer, so one worker.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue as queues
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import pendulum
import sqlalchemy as sa

from support_flows import bulk
from support_flows.clock import SystemClock
from support_flows.errors import (
    InvalidInput,
    Reason,
    SupportFlowsError,
    Violation,
    describe,
    error_for,
    invalid,
)
from support_flows.inputs import has_method
from support_flows.localtime import instant
from support_flows.outbox import Outbox
from support_flows.store import mail
from support_flows.store._db import Database
from support_flows.store.arguments import callback, count_limit
from support_flows.store.due import due_at
from support_flows.store.journal import Subject, applied_row
from support_flows.store.records import micros
from support_flows.store.schema import audit, migrate, orders, plans
from support_flows.values import Organization

__all__ = ["BATCH_SIZE", "RolloverReport", "due_count", "relay", "rollover", "run"]

BATCH_SIZE = 500
Progress = Callable[[int], object]


@attrs.frozen
class RolloverReport:
    """What a rollover did: records saved, entries applied, records refused as invalid."""

    until: pendulum.DateTime
    plans: int
    orders: int
    applied: int
    invalid: tuple[str, ...]
    workers: int
    seconds: float

    def summary(self) -> str:
        """One line for a log."""
        saved = self.plans + self.orders
        rate = saved / self.seconds if self.seconds > 0 else 0.0
        bad = (
            f", {len(self.invalid)} invalid ({', '.join(self.invalid[:5])})" if self.invalid else ""
        )
        return (
            f"rollover until {self.until.isoformat()}: {self.plans} plans and {self.orders} "
            f"orders saved, {self.applied} changes applied{bad}; {self.workers} "
            f"worker{'s' if self.workers != 1 else ''}, {self.seconds:.2f} s ({rate:,.0f}/s)"
        )

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["until"] = self.until.isoformat()
        data["invalid"] = list(self.invalid)
        return data


@attrs.define
class _Counts:
    plans: int = 0
    orders: int = 0
    applied: int = 0
    invalid: list[str] = attrs.Factory(list)


class _Lost(Exception):
    """A row changed under the batch (it cannot while locked): roll the batch back, reselect."""


_KINDS = (("plan", plans, plans.c.org_id), ("order", orders, orders.c.order_id))


def _until(until: object) -> pendulum.DateTime:
    return SystemClock().now() if until is None else instant(until, "until")


def due_count(db: Database, until: dt.datetime) -> int:
    """How many plans and orders have something due by `until` (for a progress bar)."""
    cutoff = micros(until)
    with db.read() as conn:
        return sum(
            int(conn.execute(sa.select(sa.func.count()).where(t.c.due_at <= cutoff)).scalar_one())
            for _, t, _ in _KINDS
        )


def run(
    db: Database,
    *,
    until: dt.datetime | None = None,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> RolloverReport:
    """The rollover in this process, one worker."""
    at = _until(until)
    _batch(batch_size)
    callback(progress, "progress", "S5")
    started = time.perf_counter()
    counts = _Counts()
    for kind, table, id_column in _KINDS:
        _drain(db, kind, table, id_column, at, batch_size, counts, progress)
    return RolloverReport(
        at,
        counts.plans,
        counts.orders,
        counts.applied,
        tuple(counts.invalid),
        1,
        time.perf_counter() - started,
    )


def _batch(size: object) -> int:
    if type(size) is not int or not 1 <= size <= 100_000:
        raise invalid(
            Reason.INVALID_VALUE, "S5", f"batch_size must be 1-100,000, got {describe(size)}"
        )
    return size


def _organization(snapshot: object) -> Organization | None:
    """The organization a stored snapshot names (its id and billing timezone), or None."""
    try:
        assert isinstance(snapshot, dict)
        return Organization(snapshot["org_id"], billing_timezone=snapshot["billing_timezone"])
    except (AssertionError, KeyError, SupportFlowsError):
        return None


def _drain(
    db: Database,
    kind: str,
    table: sa.Table,
    id_column: sa.Column[Any],
    until: pendulum.DateTime,
    batch_size: int,
    counts: _Counts,
    progress: Progress | None,
) -> None:
    cutoff = micros(until)
    bad: list[str] = []
    update = (
        table.update()
        .where(id_column == sa.bindparam("b_id"), table.c.revision == sa.bindparam("b_rev"))
        .values(
            revision=sa.bindparam("b_new"),
            state=sa.bindparam("b_state"),
            due_at=sa.bindparam("b_due"),
            snapshot=sa.bindparam("b_snapshot", type_=table.c.snapshot.type),
        )
    )
    while True:
        query = (
            sa.select(id_column, table.c.revision, table.c.snapshot)
            .where(table.c.due_at <= cutoff)
            .order_by(table.c.due_at)
            .limit(batch_size)
        )
        if bad:
            query = query.where(id_column.not_in(bad))
        if db.is_postgres:
            query = query.with_for_update(skip_locked=True)
        try:
            with db.write() as conn:
                rows = conn.execute(query).all()
                if not rows:
                    return
                updates, entries, applied, refused = _apply(kind, rows, until)
                if updates:
                    done = conn.execute(update, updates)
                    if done.rowcount != len(updates):
                        raise _Lost
                if entries:
                    conn.execute(audit.insert(), entries)
        except _Lost:
            continue
        bad.extend(refused)
        counts.invalid.extend(f"{kind} {r}" for r in refused)
        counts.applied += applied
        if kind == "plan":
            counts.plans += len(updates)
        else:
            counts.orders += len(updates)
        if progress is not None:
            progress(len(rows))


def _apply(
    kind: str, rows: Sequence[Any], until: pendulum.DateTime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, list[str]]:
    """The row updates and audit rows for one batch, with how many entries were applied and
    which records were refused (their snapshots fail V2)."""
    refused: list[str] = []
    good: list[tuple[Any, Organization]] = []
    for row in rows:
        org = _organization(row.snapshot)
        if org is None:
            refused.append(row[0])
        else:
            good.append((row, org))
    updates: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    applied = 0
    records = ((row.snapshot, org) for row, org in good)
    for (row, org), result in zip(good, bulk.apply_due(records, until=until), strict=True):
        if isinstance(result, InvalidInput):
            refused.append(row[0])
            continue
        snapshot, done = result
        subject = Subject(kind, org.org_id, row[0], None)
        entries.extend(applied_row(subject, entry) for entry in done)
        applied += len(done)
        updates.append(
            {
                "b_id": row[0],
                "b_rev": row.revision,
                "b_new": row.revision + 1,
                "b_state": snapshot["state"],
                "b_due": due_at(snapshot),
                "b_snapshot": snapshot,
            }
        )
    return updates, entries, applied, refused


def rollover(
    url: str,
    *,
    until: dt.datetime | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> RolloverReport:
    """Apply everything due by `until` (default: now) to the stored plans and orders (S5).

    `workers` processes share the work on PostgreSQL; SQLite always uses one. `progress` is
    called with the number of records each batch handled. Safe to interrupt and rerun.
    """
    if type(workers) is not int or not 1 <= workers <= 64:
        raise invalid(Reason.INVALID_VALUE, "S5", f"workers must be 1-64, got {describe(workers)}")
    _batch(batch_size)
    callback(progress, "progress", "S5")
    at = _until(until)
    db = Database(url)
    try:
        migrate(db)
        if workers == 1 or not db.is_postgres:
            return run(db, until=at, batch_size=batch_size, progress=progress)
    finally:
        db.dispose()
    return _in_processes(db.url, at, workers, batch_size, progress)


def _in_processes(
    url: str, until: pendulum.DateTime, workers: int, batch_size: int, progress: Progress | None
) -> RolloverReport:
    """`workers` processes; a worker's coded error is raised here, and a worker that stops
    without reporting (killed) is `store_unavailable`: what it committed stays, rerun to finish."""
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    started = time.perf_counter()
    processes = [
        context.Process(
            target=_worker, args=(url, until.isoformat(), batch_size, messages), daemon=True
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            process.start()
    except OSError as error:  # no processes left to start (limits, memory)
        for process in processes:
            if process.is_alive():
                process.kill()
        raise error_for(
            [
                Violation(
                    Reason.STORE_UNAVAILABLE,
                    "S6",
                    f"rollover workers could not start ({describe(str(error), 200)}); rerun with "
                    "fewer workers",
                )
            ]
        ) from None
    totals = _Counts()
    finished = 0
    failed: list[tuple[Violation, ...]] = []
    for message in _messages(messages, processes, workers):
        if message[0] == "progress":
            if progress is not None:
                progress(message[1])
            continue
        if message[0] == "error":
            failed.append(message[1])
            continue
        finished += 1
        done: dict[str, Any] = message[1]
        totals.plans += done["plans"]
        totals.orders += done["orders"]
        totals.applied += done["applied"]
        totals.invalid.extend(done["invalid"])
    for process in processes:
        process.join()
    if failed:
        raise error_for(failed[0])
    if finished != workers:
        codes = [p.exitcode for p in processes]
        raise error_for(
            [
                Violation(
                    Reason.STORE_UNAVAILABLE,
                    "S6",
                    f"rollover workers stopped without finishing (exit codes {codes}; a negative "
                    "code is the signal that killed one): what they saved stays saved, so rerun "
                    "the rollover to finish",
                )
            ]
        )
    return RolloverReport(
        until,
        totals.plans,
        totals.orders,
        totals.applied,
        tuple(dict.fromkeys(totals.invalid)),
        workers,
        time.perf_counter() - started,
    )


def _messages(messages: Any, processes: list[Any], workers: int) -> Iterator[tuple[str, Any]]:
    """Messages from the workers until each has reported (done or failed) or died."""
    reported = 0
    while reported < workers:
        try:
            message = messages.get(timeout=0.5)
        except queues.Empty:
            if not any(p.is_alive() for p in processes):
                try:
                    message = messages.get(timeout=0.5)
                except queues.Empty:
                    return
            else:
                continue
        if message[0] in ("done", "error"):
            reported += 1
        yield message


def _worker(url: str, until: str, batch_size: int, messages: Any) -> None:
    """One worker process: reports its counts, or its error's reasons (never a traceback)."""
    try:
        db = Database(url)
        try:
            report = run(
                db,
                until=dt.datetime.fromisoformat(until),
                batch_size=batch_size,
                progress=lambda n: messages.put(("progress", n)),
            )
        finally:
            db.dispose()
    except SupportFlowsError as error:
        messages.put(("error", error.reasons))
        return
    except Exception as error:  # a worker's own failure still reaches the parent coded
        reason = Violation(
            Reason.STORE_UNAVAILABLE,
            "S6",
            f"a rollover worker failed ({type(error).__name__}: {describe(str(error), 200)}); "
            "rerun the rollover to finish",
        )
        messages.put(("error", (reason,)))
        return
    messages.put(
        (
            "done",
            {
                "plans": report.plans,
                "orders": report.orders,
                "applied": report.applied,
                "invalid": list(report.invalid),
            },
        )
    )


def relay(url: str, outbox: Outbox, *, limit: int | None = None) -> int:
    """Deliver the store's queued emails through `outbox`, marking each sent (S3)."""
    has_method(outbox, "send", "outbox")
    count_limit(limit, "limit")
    db = Database(url)
    try:
        migrate(db)
        return mail.relay(db, outbox, SystemClock(), limit=limit)
    finally:
        db.dispose()
