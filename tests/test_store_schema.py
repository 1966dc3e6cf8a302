"""The store's schema: created from nothing, migrated in place from version 1 to 2 and from 2 to
3, refused when newer than the library. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import ORG, OWNER, START  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import SCHEMA_VERSION, SchemaError, Store  # noqa: E402
from support_flows.store.database import Database  # noqa: E402
from support_flows.store.due import due_at  # noqa: E402
from support_flows.store.schema import migrate, plans, schema_version, version_of  # noqa: E402

pytest_plugins = ["store_helpers"]


def shape(db: Database) -> tuple[int, set[str], set[str]]:
    """The schema version, the store's tables, and the indexes on plans and orders."""
    with db.read() as conn:
        inspector = sa.inspect(conn)
        tables = {t for t in inspector.get_table_names() if t.startswith("sf_")}
        indexes = {
            i["name"] or ""
            for t in ("sf_plans", "sf_orders")
            if t in tables
            for i in inspector.get_indexes(t)
        }
        return version_of(conn), tables, indexes


def test_a_new_database_gets_the_latest_schema(db_url: str) -> None:
    """Opening a store on an empty database creates every table at the latest version."""
    Store(db_url).close()
    db = Database(db_url)
    version, tables, indexes = shape(db)
    db.dispose()
    assert version == SCHEMA_VERSION == 4
    assert tables == {
        "sf_schema_version",
        "sf_plans",
        "sf_orders",
        "sf_outbox",
        "sf_audit",
        "sf_idempotency",
    }
    assert {"sf_plans_due", "sf_orders_due"} <= indexes


def test_version_1_is_upgraded_in_place_keeping_its_data(db_url: str) -> None:
    """A version 1 database (no idempotency keys, no index on the due instant) holding a plan
    is upgraded when a store opens it: the plan loads, keys and the due index work."""
    db = Database(db_url)
    assert migrate(db, target=1) == 1
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    snapshot = plan.snapshot(history=False)
    with db.write() as conn:
        conn.execute(
            plans.insert().values(
                org_id=ORG.org_id,
                revision=1,
                state="premium",
                due_at=due_at(snapshot),
                snapshot=snapshot,
            )
        )
    version, tables, indexes = shape(db)
    assert (version, "sf_idempotency" in tables, "sf_plans_due" in indexes) == (1, False, False)

    store = Store(db_url)
    version, tables, indexes = shape(db)
    assert (version, "sf_idempotency" in tables, "sf_plans_due" in indexes) == (4, True, True)
    loaded = store.plan(ORG.org_id, ORG, clock=clock)
    assert (store.revision(loaded), loaded.pending) == (1, plan.pending)
    first = store.update(
        ORG.org_id, lambda p: p.cancel(actor=OWNER), org=ORG, clock=clock, idempotency_key="k"
    )
    again = store.update(
        ORG.org_id, lambda p: p.cancel(actor=OWNER), org=ORG, clock=clock, idempotency_key="k"
    )
    assert (again.result, again.replayed) == (first.result, True)
    assert store.rollover(until=START.add(days=30)).applied == 1
    store.close()
    db.dispose()


def test_a_database_newer_than_the_library_is_refused(db_url: str) -> None:
    """A schema version this library does not know stops the store from opening."""
    Store(db_url).close()
    db = Database(db_url)
    with db.write() as conn:
        conn.execute(schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(SchemaError, match="upgrade support_flows") as caught:
        Store(db_url)
    db.dispose()
    assert isinstance(caught.value, sf.Unavailable)
    assert (caught.value.code, caught.value.rule) == ("store_unavailable", "S6")


def test_s4_version_2_is_upgraded_to_refuse_truncating_the_audit_log(db_url: str) -> None:
    """S4: a version 2 database, whose audit log PostgreSQL let TRUNCATE empty, is migrated to
    version 3 when a store opens it: TRUNCATE is then refused by the database itself and the
    log keeps its lines (SQLite has no TRUNCATE; its DELETE trigger stands for it)."""
    db = Database(db_url)
    assert migrate(db, target=2) == 2
    Store(db_url).close()
    with db.read() as conn:
        assert version_of(conn) == 4
    store = Store(db_url)
    clock = sf.FrozenClock(START)
    store.update(
        ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=clock, create=True
    )
    engine = sa.create_engine(store.url)
    statement = "TRUNCATE sf_audit" if db.is_postgres else "DELETE FROM sf_audit"
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()
    assert [e.event for e in store.audit(ORG.org_id)] == ["subscribe"]
    store.close()
    db.dispose()
