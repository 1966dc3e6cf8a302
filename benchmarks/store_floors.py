"""Hand-written floors for the store benchmark: the statements a correct store needs, sent by the
driver itself (sqlite3, psycopg 3) or through SQLAlchemy Core with every statement built once,
around the library's own in-memory work (restore, change, snapshot; `bulk.apply_due`).

A write: one transaction that locks and reads the plan's row, inserts the idempotency key (a
key already there would answer the request), updates the row with its new snapshot and
revision, and appends one audit row. A read: one SELECT, then restore and `to_dict()`. The
rollover floor is set-based: a batch of due rows locked, brought up to date in memory, written
back with one ``UPDATE ... FROM`` a temporary table (filled by COPY on PostgreSQL) and its audit
rows appended in bulk.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from typing import Any

import pendulum
import sqlalchemy as sa

import support_flows as sf
from support_flows import bulk
from support_flows.store.due import due_at, policy_of
from support_flows.store.records import micros
from support_flows.store.schema import audit, idempotency, plans

__all__ = [
    "OWNER",
    "CoreRequests",
    "DriverRequests",
    "rollover_floor",
    "toggle",
]

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")


def toggle(plan: sf.SupportPlan) -> sf.HistoryEntry:
    """One accepted request whatever came before: a pending downgrade, then its revocation."""
    if plan.pending is None:
        return plan.change("developer", actor=OWNER)
    return plan.change("premium", actor=OWNER)


def _decide(snapshot: dict[str, Any], org: sf.Organization, clock: sf.FrozenClock) -> Any:
    """The library's in-memory part of a write, and the values the statements send."""
    plan = sf.SupportPlan.restore(snapshot, org, clock=clock)
    entry = toggle(plan)
    new = plan.snapshot(history=False)
    data = entry.to_dict()
    params = {"tier": "developer" if entry.event == "downgrade" else "premium", "actor": "u-owner"}
    request = json.dumps(
        ["plan", org.org_id, [["change", params]]], sort_keys=True, separators=(",", ":")
    )
    return new, entry, data, params, hashlib.sha256(request.encode()).hexdigest()


_SQLITE_WRITE = (
    "SELECT revision, snapshot FROM sf_plans WHERE org_id = ?",
    "INSERT INTO sf_idempotency (org_id, key, fingerprint, outcome, response, revision, "
    "created_at) VALUES (?, ?, ?, 'accepted', ?, ?, ?) ON CONFLICT DO NOTHING RETURNING key",
    "UPDATE sf_plans SET revision = ?, state = ?, due_at = ?, policy = ?, snapshot = ? "
    "WHERE org_id = ? AND revision = ?",
    "INSERT INTO sf_audit (org_id, subject, subject_id, at, outcome, request, event, actor, "
    "reason, idempotency_key, detail) VALUES (?, 'plan', ?, ?, 'accepted', 'change', ?, ?, "
    "NULL, ?, ?)",
)
_PG_WRITE = tuple(
    s.replace("?", "%s")
    for s in (
        _SQLITE_WRITE[0] + " FOR UPDATE",
        _SQLITE_WRITE[1],
        _SQLITE_WRITE[2],
        _SQLITE_WRITE[3],
    )
)


class DriverRequests:
    """Writes and reads sent by the driver itself: sqlite3 (a file in WAL, the busy timeout set
    once per connection) or psycopg 3 (reads in autocommit: one round trip)."""

    def __init__(self, url: str, org: sf.Organization, clock: sf.FrozenClock) -> None:
        self.org, self.clock = org, clock
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.sql = _SQLITE_WRITE
        else:
            import psycopg

            plain = sa.make_url(url).set(drivername="postgresql")
            self.conn = psycopg.connect(plain.render_as_string(hide_password=False))
            self.reader = psycopg.connect(
                plain.render_as_string(hide_password=False), autocommit=True
            )
            self.sql = _PG_WRITE

    def write(self, key: str) -> int:
        org_id = self.org.org_id
        at = micros(self.clock.now())
        select, remember, update, append = self.sql
        if self.sqlite:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            revision, text = conn.execute(select, (org_id,)).fetchone()
            new, entry, data, params, fingerprint = _decide(json.loads(text), self.org, self.clock)
            response = json.dumps({"result": data})
            done = conn.execute(
                remember, (org_id, key, fingerprint, response, revision + 1, at)
            ).fetchone()
            assert done is not None, "the key was new"
            changed = conn.execute(
                update,
                (
                    revision + 1,
                    new["state"],
                    due_at(new),
                    policy_of(new),
                    json.dumps(new),
                    org_id,
                    revision,
                ),
            )
            assert changed.rowcount == 1
            detail = json.dumps({"entry": data, "params": params})
            conn.execute(append, (org_id, org_id, at, entry.event, "u-owner", key, detail))
            conn.execute("COMMIT")
            return int(revision + 1)
        from psycopg.types.json import Json

        with self.conn.transaction(), self.conn.cursor() as cur:
            revision, snapshot = cur.execute(select, (org_id,)).fetchone()
            new, entry, data, params, fingerprint = _decide(snapshot, self.org, self.clock)
            done = cur.execute(
                remember, (org_id, key, fingerprint, Json({"result": data}), revision + 1, at)
            ).fetchone()
            assert done is not None, "the key was new"
            cur.execute(
                update,
                (
                    revision + 1,
                    new["state"],
                    due_at(new),
                    policy_of(new),
                    Json(new),
                    org_id,
                    revision,
                ),
            )
            assert cur.rowcount == 1
            detail = Json({"entry": data, "params": params})
            cur.execute(append, (org_id, org_id, at, entry.event, "u-owner", key, detail))
        return int(revision + 1)

    def read(self) -> dict[str, Any]:
        if self.sqlite:
            (text,) = self.conn.execute(
                "SELECT snapshot FROM sf_plans WHERE org_id = ?", (self.org.org_id,)
            ).fetchone()
            snapshot = json.loads(text)
        else:
            (snapshot,) = self.reader.execute(
                "SELECT snapshot FROM sf_plans WHERE org_id = %s", (self.org.org_id,)
            ).fetchone()
        plan = sf.SupportPlan.restore(snapshot, self.org, clock=self.clock)
        return plan.to_dict()

    def close(self) -> None:
        self.conn.close()
        if not self.sqlite:
            self.reader.close()


_CORE_LOAD = sa.select(plans.c.revision, plans.c.snapshot).where(
    plans.c.org_id == sa.bindparam("org_id")
)
_CORE_UPDATE = (
    plans.update()
    .where(plans.c.org_id == sa.bindparam("b_id"), plans.c.revision == sa.bindparam("b_rev"))
    .values(
        revision=sa.bindparam("b_new"),
        state=sa.bindparam("b_state"),
        due_at=sa.bindparam("b_due"),
        policy=sa.bindparam("b_policy"),
        snapshot=sa.bindparam("b_snapshot", type_=plans.c.snapshot.type),
    )
)
_CORE_AUDIT = audit.insert()


class CoreRequests:
    """The same statements through SQLAlchemy Core, each built once (the PostgreSQL row lock and
    SQLite's BEGIN IMMEDIATE as the store takes them)."""

    def __init__(self, url: str, org: sf.Organization, clock: sf.FrozenClock) -> None:
        from sqlalchemy import event
        from sqlalchemy.dialects import postgresql, sqlite

        from support_flows.store.database import normalise_url

        self.org, self.clock = org, clock
        self.sqlite = url.startswith("sqlite")
        self.engine = sa.create_engine(normalise_url(url))
        if self.sqlite:

            @event.listens_for(self.engine, "connect")
            def _connect(dbapi: Any, _record: Any) -> None:
                dbapi.isolation_level = None
                dbapi.execute("PRAGMA busy_timeout = 60000")
                dbapi.execute("PRAGMA synchronous = NORMAL")

            @event.listens_for(self.engine, "begin")
            def _begin(conn: sa.Connection) -> None:
                if not conn.get_execution_options().get("sf_read"):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")

            self.reads = self.engine.execution_options(sf_read=True)
            insert: Any = sqlite.insert
            self.load = _CORE_LOAD
        else:
            self.reads = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
            insert = postgresql.insert
            self.load = _CORE_LOAD.with_for_update()
        self.read_one = sa.select(plans.c.snapshot).where(plans.c.org_id == sa.bindparam("org_id"))
        self.remember = (
            insert(idempotency)
            .values(
                org_id=sa.bindparam("org_id"),
                key=sa.bindparam("key"),
                fingerprint=sa.bindparam("fingerprint"),
                outcome="accepted",
                response=sa.bindparam("response", type_=idempotency.c.response.type),
                revision=sa.bindparam("revision"),
                created_at=sa.bindparam("created_at"),
            )
            .on_conflict_do_nothing()
            .returning(idempotency.c.key)
        )

    def write(self, key: str) -> int:
        org_id = self.org.org_id
        at = micros(self.clock.now())
        with self.engine.connect() as conn, conn.begin():
            revision, snapshot = conn.execute(self.load, {"org_id": org_id}).one()
            new, entry, data, params, fingerprint = _decide(snapshot, self.org, self.clock)
            done = conn.execute(
                self.remember,
                {
                    "org_id": org_id,
                    "key": key,
                    "fingerprint": fingerprint,
                    "response": {"result": data},
                    "revision": revision + 1,
                    "created_at": at,
                },
            ).first()
            assert done is not None, "the key was new"
            changed = conn.execute(
                _CORE_UPDATE,
                {
                    "b_id": org_id,
                    "b_rev": revision,
                    "b_new": revision + 1,
                    "b_state": new["state"],
                    "b_due": due_at(new),
                    "b_policy": policy_of(new),
                    "b_snapshot": new,
                },
            )
            assert changed.rowcount == 1
            conn.execute(
                _CORE_AUDIT,
                {
                    "org_id": org_id,
                    "subject": "plan",
                    "subject_id": org_id,
                    "at": at,
                    "outcome": "accepted",
                    "request": "change",
                    "event": entry.event,
                    "actor": "u-owner",
                    "reason": None,
                    "idempotency_key": key,
                    "detail": {"entry": data, "params": params},
                },
            )
        return int(revision + 1)

    def read(self) -> dict[str, Any]:
        with self.reads.connect() as conn:
            snapshot = conn.execute(self.read_one, {"org_id": self.org.org_id}).scalar_one()
        return sf.SupportPlan.restore(snapshot, self.org, clock=self.clock).to_dict()

    def close(self) -> None:
        self.engine.dispose()
        if not self.sqlite:
            self.reads.dispose()


# -- the rollover floor -------------------------------------------------------------------------


def _brought_up(rows: list[Any], until: pendulum.DateTime) -> tuple[list[tuple[Any, ...]], list]:
    """The library's in-memory work on a batch: (id, revision, state, due, policy, snapshot
    JSON) per row, and the audit rows of what was applied."""
    records = (
        (
            snapshot,
            sf.Organization(snapshot["org_id"], billing_timezone=snapshot["billing_timezone"]),
        )
        for _, _, snapshot in rows
    )
    updates: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    for (org_id, revision, _), result in zip(
        rows, bulk.apply_due(records, until=until), strict=True
    ):
        assert not isinstance(result, Exception), result
        snapshot, applied = result
        updates.append(
            (
                org_id,
                revision,
                snapshot["state"],
                due_at(snapshot),
                policy_of(snapshot),
                json.dumps(snapshot),
            )
        )
        for entry in applied:
            detail = json.dumps({"entry": entry.to_dict()})
            entries.append(
                (org_id, org_id, micros(entry.at), entry.event, entry.requested_by, detail)
            )
    return updates, entries


_AUDIT_COLUMNS = "org_id, subject, subject_id, at, outcome, event, actor, detail"


def _sqlite_floor(path: str, until: pendulum.DateTime, batch: int, set_based: bool) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TEMP TABLE sf_floor_batch (id TEXT PRIMARY KEY, rev INTEGER, state TEXT, "
        "due_at INTEGER, policy TEXT, snapshot TEXT)"
    )
    cutoff = micros(until)
    saved = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        rows = [
            (r[0], r[1], json.loads(r[2]))
            for r in conn.execute(
                "SELECT org_id, revision, snapshot FROM sf_plans WHERE due_at <= ? "
                "ORDER BY due_at LIMIT ?",
                (cutoff, batch),
            )
        ]
        if not rows:
            conn.execute("COMMIT")
            return saved
        updates, entries = _brought_up(rows, until)
        before = conn.total_changes
        if set_based:
            conn.executemany("INSERT INTO sf_floor_batch VALUES (?, ?, ?, ?, ?, ?)", updates)
            conn.execute(
                "UPDATE sf_plans SET revision = b.rev + 1, state = b.state, due_at = b.due_at, "
                "policy = b.policy, snapshot = b.snapshot FROM sf_floor_batch AS b "
                "WHERE sf_plans.org_id = b.id AND sf_plans.revision = b.rev"
            )
            moved = conn.total_changes - before - len(updates)
            conn.execute("DELETE FROM sf_floor_batch")
        else:
            conn.executemany(
                "UPDATE sf_plans SET revision = ?2 + 1, state = ?3, due_at = ?4, policy = ?5, "
                "snapshot = ?6 WHERE org_id = ?1 AND revision = ?2",
                updates,
            )
            moved = conn.total_changes - before
        assert moved == len(updates), (moved, len(updates))
        conn.executemany(
            f"INSERT INTO sf_audit ({_AUDIT_COLUMNS}) VALUES (?, 'plan', ?, ?, 'applied', ?, ?, ?)",
            entries,
        )
        conn.execute("COMMIT")
        saved += len(updates)


def _postgres_floor(url: str, until: pendulum.DateTime, batch: int) -> int:
    import psycopg

    plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    cutoff = micros(until)
    saved = 0
    with psycopg.connect(plain) as conn:
        conn.execute(
            # The key typed as the table's (VARCHAR): a TEXT key would join through a cast, which
            # the primary key's index cannot serve (a scan of the whole table per batch).
            "CREATE TEMP TABLE sf_floor_batch (id VARCHAR(200), rev INTEGER, state VARCHAR(32), "
            "due_at BIGINT, policy VARCHAR(200), snapshot JSON) ON COMMIT DELETE ROWS"
        )
        conn.commit()
        while True:
            with conn.transaction(), conn.cursor() as cur:
                rows = cur.execute(
                    "SELECT org_id, revision, snapshot FROM sf_plans WHERE due_at <= %s "
                    "ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED",
                    (cutoff, batch),
                ).fetchall()
                if not rows:
                    return saved
                updates, entries = _brought_up(rows, until)
                with cur.copy("COPY sf_floor_batch FROM STDIN") as copy:
                    for row in updates:
                        copy.write_row(row)
                cur.execute(
                    "UPDATE sf_plans SET revision = b.rev + 1, state = b.state, "
                    "due_at = b.due_at, policy = b.policy, snapshot = b.snapshot "
                    "FROM sf_floor_batch AS b WHERE sf_plans.org_id = b.id "
                    "AND sf_plans.revision = b.rev"
                )
                assert cur.rowcount == len(updates), (cur.rowcount, len(updates))
                with cur.copy(
                    "COPY sf_audit (org_id, subject_id, at, event, actor, detail, subject, "
                    "outcome) FROM STDIN"
                ) as copy:
                    for entry in entries:
                        copy.write_row((*entry, "plan", "applied"))
                saved += len(updates)


def _worker(url: str, until: str, batch: int, set_based: bool, results: Any) -> None:
    at = pendulum.parse(until)
    if url.startswith("sqlite"):
        results.put(_sqlite_floor(url.removeprefix("sqlite:///"), at, batch, set_based))
    else:
        results.put(_postgres_floor(url, at, batch))


def _timed_worker(url: str, until: str, batch: int, set_based: bool, results: Any) -> None:
    """One floor worker in a process of its own, timed from its first batch."""
    box = _Box()
    started = time.perf_counter()
    _worker(url, until, batch, set_based, box)
    results.put((time.perf_counter() - started, box.value))


class _Box:
    """A one-value queue for the floor run in this process."""

    value = 0

    def put(self, value: int) -> None:
        self.value = value


def rollover_floor(
    url: str, until: pendulum.DateTime, workers: int, batch: int, *, set_based: bool = True
) -> tuple[float, int]:
    """Seconds and records saved by the set-based floor with `workers` spawned processes,
    counted as the library's rollover counts its own: one worker in a fresh process of its own,
    from its first batch (as the job's own report does, in the job's fresh process); several
    from before they start."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    if workers == 1:
        alone = context.Process(
            target=_timed_worker, args=(url, until.isoformat(), batch, set_based, results)
        )
        alone.start()
        seconds, saved = results.get()
        alone.join()
        assert alone.exitcode == 0, alone.exitcode
        return float(seconds), int(saved)
    started = time.perf_counter()
    processes = [
        context.Process(target=_worker, args=(url, until.isoformat(), batch, set_based, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    saved = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
        assert process.exitcode == 0, process.exitcode
    return time.perf_counter() - started, saved
