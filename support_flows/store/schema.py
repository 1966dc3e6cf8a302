"""The store's tables and their migrations, one numbered step per schema version.

A database starts empty (version 0) and is brought up one step at a time, so a fresh database
and an upgraded one run the same statements. Version 1: plans, orders, the outbox and the
append-only audit log. Version 2: idempotency keys (S2) and the indexes on the next due instant
that the month-start job reads (S5). Version 3: the audit log refuses TRUNCATE (S4). Version 4:
policies (K4): plans and orders gain a ``policy`` column, and every stored version-2 snapshot (of
a plan or an order) is rewritten as the version-3 snapshot the library reads it as (decided under
``atlas``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable

from support_flows.errors import Reason, Unavailable, Violation
from support_flows.snapshots import consulting as order_snapshot
from support_flows.snapshots import plan as plan_snapshot
from support_flows.store.database import Database
from support_flows.store.due import policy_of

__all__ = [
    "LATEST",
    "SchemaError",
    "audit",
    "idempotency",
    "metadata",
    "migrate",
    "orders",
    "outbox",
    "plans",
    "schema_version",
    "version_of",
]

metadata = sa.MetaData()
_ID = sa.String(200)
_INSTANT = sa.BigInteger  # microseconds since 1970-01-01 UTC: sortable and portable
_SERIAL = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite's rowid alias is INTEGER

schema_version = sa.Table(
    "sf_schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)


def _plans(meta: sa.MetaData, *later: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        "sf_plans",
        meta,
        sa.Column("org_id", _ID, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("due_at", _INSTANT, nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        *later,
    )


def _orders(meta: sa.MetaData, *later: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        "sf_orders",
        meta,
        sa.Column("order_id", _ID, primary_key=True),
        sa.Column("org_id", _ID, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("due_at", _INSTANT, nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=False),
        *later,
    )


def _policy() -> sa.Column[Any]:
    """Version 4 (K4): the catalog version whose terms the record holds for what is still to
    come: an order's (its hours per unit and validity), a plan's trial or pending change's;
    NULL for a plan with nothing scheduled. Derived from the snapshot at every write, for
    counting records by version; the snapshot stays the record."""
    return sa.Column("policy", _ID, nullable=True)


plans = _plans(metadata, _policy())
orders = _orders(metadata, _policy())
_PLANS_AS_CREATED = _plans(sa.MetaData())
_ORDERS_AS_CREATED = _orders(sa.MetaData())
"""The tables as version 1 created them: the later steps add their columns."""

outbox = sa.Table(
    "sf_outbox",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(100), nullable=False, unique=True),
    sa.Column("org_id", _ID, nullable=False),
    sa.Column("order_id", _ID, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("recipient", sa.String(254), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("queued_at", _INSTANT, nullable=False),
    sa.Column("sent_at", _INSTANT, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    # S3: one purchase queues one email, whichever copy of the order confirmed it.
    sa.UniqueConstraint("order_id", "kind", name="sf_outbox_one_per_kind"),
)

audit = sa.Table(
    "sf_audit",
    metadata,
    sa.Column("id", _SERIAL, primary_key=True, autoincrement=True),
    sa.Column("org_id", _ID, nullable=False),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("subject_id", _ID, nullable=True),
    sa.Column("at", _INSTANT, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("request", sa.String(32), nullable=True),
    sa.Column("event", sa.String(32), nullable=True),
    sa.Column("actor", _ID, nullable=True),
    sa.Column("reason", sa.String(40), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
)

idempotency = sa.Table(
    "sf_idempotency",
    metadata,
    sa.Column("org_id", _ID, primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("revision", sa.Integer, nullable=True),
    sa.Column("created_at", _INSTANT, nullable=False),
)

_ORDERS_BY_ORG = sa.Index("sf_orders_by_org", orders.c.org_id)
_AUDIT_BY_ORG = sa.Index("sf_audit_by_org", audit.c.org_id, audit.c.at, audit.c.id)
_UNSENT = sa.Index(
    "sf_outbox_unsent",
    outbox.c.id,
    sqlite_where=outbox.c.sent_at.is_(None),
    postgresql_where=outbox.c.sent_at.is_(None),
)
_PLANS_DUE = sa.Index("sf_plans_due", plans.c.due_at)
_ORDERS_DUE = sa.Index("sf_orders_due", orders.c.due_at)
_KEYS_AGE = sa.Index("sf_idempotency_age", idempotency.c.created_at)


class SchemaError(Unavailable, RuntimeError):
    """The database holds a schema this version of the library does not know: it cannot be
    opened (`store_unavailable`, S6) until the library is upgraded."""

    def __init__(self, message: str) -> None:
        super().__init__(Violation(Reason.STORE_UNAVAILABLE, "S6", message))


def _create(conn: sa.Connection, *things: sa.Table | sa.Index) -> None:
    for thing in things:
        if isinstance(thing, sa.Table):
            conn.execute(CreateTable(thing))  # its indexes are created by the step naming them
        else:
            conn.execute(CreateIndex(thing))


def _append_only(conn: sa.Connection) -> None:
    """S4: the audit log refuses UPDATE and DELETE, whoever issues them."""
    if conn.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER sf_audit_no_{verb.lower()} BEFORE {verb} ON sf_audit "
                "BEGIN SELECT RAISE(ABORT, 'sf_audit is append-only'); END"
            )
        return
    conn.exec_driver_sql(
        "CREATE FUNCTION sf_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'sf_audit is append-only'; END $$"
    )
    conn.exec_driver_sql(
        "CREATE TRIGGER sf_audit_append_only BEFORE UPDATE OR DELETE ON sf_audit "
        "FOR EACH ROW EXECUTE FUNCTION sf_audit_append_only()"
    )


def _no_truncate(conn: sa.Connection) -> None:
    """S4: the audit log refuses TRUNCATE too (PostgreSQL; SQLite has no TRUNCATE, and its
    DELETE trigger already stops the "truncate optimisation" of an unqualified DELETE)."""
    if conn.dialect.name == "sqlite":
        return
    conn.exec_driver_sql(
        "CREATE TRIGGER sf_audit_no_truncate BEFORE TRUNCATE ON sf_audit "
        "FOR EACH STATEMENT EXECUTE FUNCTION sf_audit_append_only()"
    )


def _version_1(conn: sa.Connection) -> None:
    _create(
        conn,
        _PLANS_AS_CREATED,
        _ORDERS_AS_CREATED,
        outbox,
        audit,
        _ORDERS_BY_ORG,
        _AUDIT_BY_ORG,
        _UNSENT,
    )
    _append_only(conn)


def _version_2(conn: sa.Connection) -> None:
    _create(conn, idempotency, _KEYS_AGE, _PLANS_DUE, _ORDERS_DUE)


def _version_3(conn: sa.Connection) -> None:
    _no_truncate(conn)


_PAGE = 500


def _version_4(conn: sa.Connection) -> None:
    """K4: the ``policy`` column, and each version-2 snapshot rewritten as version 3 (what
    `restore` reads it as: decided under ``atlas``), a page of rows at a time. The revision
    stays: the record is the same, only its encoding changed (S1 counts changes of the record),
    so a copy loaded before the migration still saves. A version-2 snapshot that an older
    library writes afterwards is still read, and rewritten at its next save."""
    for table, upgraded in ((plans, plan_snapshot.upgraded), (orders, order_snapshot.upgraded)):
        column = table.c.policy
        kind = column.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
        key = table.primary_key.columns[0]
        after: Any = None
        while True:
            query = sa.select(key, table.c.snapshot).order_by(key).limit(_PAGE)
            rows = conn.execute(query if after is None else query.where(key > after)).all()
            if not rows:
                break
            after = rows[-1][0]
            changes = [
                {"b_id": subject_id, "b_snapshot": current, "b_policy": policy_of(current)}
                for subject_id, current in ((row[0], upgraded(row[1])) for row in rows)
            ]
            conn.execute(
                table.update()
                .where(key == sa.bindparam("b_id"))
                .values(
                    snapshot=sa.bindparam("b_snapshot", type_=table.c.snapshot.type),
                    policy=sa.bindparam("b_policy"),
                ),
                changes,
            )


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    1: _version_1,
    2: _version_2,
    3: _version_3,
    4: _version_4,
}
LATEST = max(MIGRATIONS)


def version_of(conn: sa.Connection) -> int:
    """The schema version the database holds; 0 when the store never ran on it."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return 0
    found = conn.execute(sa.select(schema_version.c.version)).scalar()
    return 0 if found is None else int(found)


def migrate(db: Database, target: int = LATEST) -> int:
    """Bring the database up to `target`, one step at a time; returns the version reached.

    Concurrent stores opening the same database take turns (SQLite's write lock, PostgreSQL's
    advisory lock); a database newer than this library is refused with `SchemaError`.
    """
    with db.read() as conn:
        current = version_of(conn)
    if current == target:
        return current
    with db.write() as conn:
        if db.is_postgres:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('sf_schema_version'))"))
        current = version_of(conn)
        if current > LATEST or current > target:
            raise SchemaError(
                f"the database holds store schema version {current}; this library knows "
                f"versions up to {LATEST} (asked for {target}): upgrade support_flows"
            )
        if current == 0:
            conn.execute(CreateTable(schema_version))
            conn.execute(schema_version.insert().values(version=0))
        for version in range(current + 1, target + 1):
            MIGRATIONS[version](conn)
            conn.execute(schema_version.update().values(version=version))
        return target
