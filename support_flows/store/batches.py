"""The month-start job in one process (S5): the plans and orders whose next due instant has
come (an indexed column), each brought up to date through `bulk.apply_due` a batch at a time.

Each batch is one transaction that saves every record with its revision check and appends what
it applied to the audit log. Killed at any point, the batch in flight rolls back; a rerun
selects only what is still due, so nothing is applied twice. On PostgreSQL the batch's rows are
locked with ``SKIP LOCKED``, so several workers share the work.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs
import pendulum
import sqlalchemy as sa

from support_flows import bulk
from support_flows.clock import SystemClock
from support_flows.errors import InvalidInput, Reason, SupportFlowsError, describe, invalid
from support_flows.localtime import instant
from support_flows.store.arguments import callback
from support_flows.store.compiled import Statement, Tx, dumps, loads
from support_flows.store.database import Database
from support_flows.store.due import due_at, policy_of
from support_flows.store.journal import append_values, applied_values
from support_flows.store.records import RolloverReport, micros
from support_flows.store.schema import orders, plans
from support_flows.values import Organization
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["BATCH_SIZE", "Counts", "Progress", "check_batch_size", "due_count", "run", "until_now"]

BATCH_SIZE = 500
Progress = Callable[[int], object]


@attrs.define
class Counts:
    """What the batches did so far: records saved, entries applied, records refused."""

    plans: int = 0
    orders: int = 0
    applied: int = 0
    invalid: list[str] = attrs.Factory(list)


class _Lost(Exception):
    """A row changed under the batch (it cannot while locked): roll the batch back, reselect."""


_KINDS = (("plan", plans, plans.c.org_id), ("order", orders, orders.c.order_id))


def until_now(until: object) -> pendulum.DateTime:
    """`until` as an instant; now when it is None."""
    return SystemClock().now() if until is None else instant(until, "until")


def check_batch_size(size: object) -> int:
    """A batch size from 1 to 100,000 (S5)."""
    if type(size) is not int or not 1 <= size <= 100_000:
        raise invalid(
            Reason.INVALID_VALUE, "S5", f"batch_size must be 1-100,000, got {describe(size)}"
        )
    return size


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
    catalog: Catalog = ATLAS,
) -> RolloverReport:
    """The rollover in this process, one worker: each record brought up to date under `catalog`,
    what is due decided by the version that scheduled it (K3); a record naming a version the
    catalog lacks is refused and left as it is (K4)."""
    at = until_now(until)
    check_batch_size(batch_size)
    callback(progress, "progress", "S5")
    started = time.perf_counter()
    counts = Counts()
    for kind, table, id_column in _KINDS:
        _drain(db, kind, table, id_column, at, batch_size, counts, progress, catalog)
    return RolloverReport(
        at,
        counts.plans,
        counts.orders,
        counts.applied,
        tuple(counts.invalid),
        1,
        time.perf_counter() - started,
    )


def _organization(snapshot: object) -> Organization | None:
    """The organization a stored snapshot names (its id and billing timezone), or None."""
    try:
        assert isinstance(snapshot, dict)
        return Organization(snapshot["org_id"], billing_timezone=snapshot["billing_timezone"])
    except (AssertionError, KeyError, SupportFlowsError):
        return None


def _due_statement(table: sa.Table, id_column: sa.Column[Any]) -> Statement:
    """A kind's due rows, built once: oldest due first, locked and skipped when locked on
    PostgreSQL."""
    due = (
        sa.select(id_column, table.c.revision, table.c.snapshot)
        .where(table.c.due_at <= sa.bindparam("cutoff"))
        .order_by(table.c.due_at)
        .limit(sa.bindparam("size"))
    )
    return Statement({"sqlite": due, "postgresql": due.with_for_update(skip_locked=True)})


_WRITTEN = ("revision", "state", "due_at", "policy", "snapshot")
"""The columns a batch writes back; an update row is (id, old revision, *these)."""
_DUE = {kind: _due_statement(table, id_column) for kind, table, id_column in _KINDS}


def _sqlite_update(table: sa.Table, id_column: sa.Column[Any]) -> str:
    """A kind's row update under the revision check, bound by position to an update row."""
    values = ", ".join(f"{name} = ?{n}" for n, name in enumerate(_WRITTEN, start=3))
    return f"UPDATE {table.name} SET {values} WHERE {id_column.name} = ?1 AND revision = ?2"


_SQLITE_UPDATE = {kind: _sqlite_update(table, id_column) for kind, table, id_column in _KINDS}


def _drain(
    db: Database,
    kind: str,
    table: sa.Table,
    id_column: sa.Column[Any],
    until: pendulum.DateTime,
    batch_size: int,
    counts: Counts,
    progress: Progress | None,
    catalog: Catalog,
) -> None:
    cutoff = micros(until)
    bad: list[str] = []
    while True:
        try:
            with db.write() as conn:
                tx = Tx.of(conn)
                rows = _due(conn, _DUE[kind], table, id_column, cutoff, batch_size, bad)
                if not rows:
                    return
                updates, entries, applied, refused = _apply(kind, rows, until, catalog)
                if updates:
                    _write_back(tx, kind, table, updates)
                append_values(tx, entries)
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


def _due(
    conn: sa.Connection,
    due: Statement,
    table: sa.Table,
    id_column: sa.Column[Any],
    cutoff: int,
    size: int,
    bad: list[str],
) -> list[tuple[Any, int, Any]]:
    """A batch of due rows: (id, revision, snapshot), oldest due first, skipping `bad`."""
    if bad:  # records refused earlier in this run (rare): the query names them
        query = (
            sa.select(id_column, table.c.revision, table.c.snapshot)
            .where(table.c.due_at <= cutoff, id_column.not_in(bad))
            .order_by(table.c.due_at)
            .limit(size)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return [(r[0], r[1], r[2]) for r in conn.execute(query)]
    found = due.run(Tx.of(conn), {"cutoff": cutoff, "size": size}).fetchall()
    return [(r[0], r[1], loads(conn.dialect, r[2])) for r in found]


_BATCH_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS sf_rollover_batch (b_id VARCHAR(200), b_rev INTEGER, "
    "v_revision INTEGER, v_state VARCHAR(32), v_due_at BIGINT, v_policy VARCHAR(200), "
    "v_snapshot JSON) ON COMMIT DELETE ROWS"
)
_COPY_BATCH = (
    "COPY sf_rollover_batch (b_id, b_rev, "
    + ", ".join(f"v_{name}" for name in _WRITTEN)
    + ") FROM STDIN"
)


def _write_back(tx: Tx, kind: str, table: sa.Table, updates: list[tuple[Any, ...]]) -> None:
    """Save a batch's rows under their revision check: on PostgreSQL by COPY into a temporary
    table (made in the batch's own transaction if its session lacks it: a pooler may hand each
    transaction another session) and one ``UPDATE ... FROM`` it; on SQLite (no round trips) one
    prepared update per row. `_Lost` if any row moved (it cannot while locked)."""
    driver: Any = tx.driver
    if tx.dialect.name != "postgresql":
        before = driver.total_changes
        driver.cursor().executemany(_SQLITE_UPDATE[kind], updates)
        if driver.total_changes - before != len(updates):
            raise _Lost
        return
    cursor = driver.cursor()
    cursor.execute(_BATCH_TABLE)
    with cursor.copy(_COPY_BATCH) as copy:
        for row in updates:
            copy.write_row(row)
    key = table.primary_key.columns[0].name
    cursor.execute(
        f"UPDATE {table.name} AS t SET "
        + ", ".join(f"{name} = b.v_{name}" for name in _WRITTEN)
        + f" FROM sf_rollover_batch AS b WHERE t.{key} = b.b_id AND t.revision = b.b_rev"
    )
    if cursor.rowcount != len(updates):
        raise _Lost


def _records(
    rows: Sequence[Any], refused: list[str], read: deque[tuple[Any, str]]
) -> Iterator[tuple[Any, Organization]]:
    """The batch's (snapshot, organization) pairs for `bulk.apply_due`, each row and its org id
    put on `read` as it goes; a row naming no valid organization is `refused` instead."""
    for row in rows:
        org = _organization(row[2])
        if org is None:
            refused.append(row[0])
        else:
            read.append((row, org.org_id))
            yield row[2], org


def _apply(
    kind: str, rows: Sequence[Any], until: pendulum.DateTime, catalog: Catalog
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int, list[str]]:
    """The row updates and audit rows for one batch (plain tuples: a batch holds no objects
    for the collector to walk), with how many entries were applied and which records were
    refused (their snapshots fail V2)."""
    unread: list[str] = []
    refused: list[str] = []
    read: deque[tuple[Any, str]] = deque()
    updates: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    applied = 0
    # apply_due yields one result per record, in order, before it reads the next record.
    for result in bulk.apply_due(_records(rows, unread, read), until=until, catalog=catalog):
        row, org_id = read.popleft()
        key, revision = row[0], row[1]
        if isinstance(result, InvalidInput):
            refused.append(key)
            continue
        snapshot, done = result
        for entry in done:
            entries.append(applied_values(kind, org_id, key, entry))
        applied += len(done)
        updates.append(
            (
                key,
                revision,
                revision + 1,
                snapshot["state"],
                due_at(snapshot),
                policy_of(snapshot),
                dumps(snapshot),
            )
        )
    return updates, entries, applied, unread + refused
