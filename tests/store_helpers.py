"""Fixtures and worker processes for the store tests: each test runs against SQLite (a file of its
own) and PostgreSQL (a schema of its own, in a database created for this test run and dropped
at its end).

PostgreSQL is reached at $SUPPORT_FLOWS_TEST_POSTGRES (default: the local server every machine of
this project runs). When it cannot be reached the PostgreSQL cases are skipped, unless
$SUPPORT_FLOWS_REQUIRE_POSTGRES=1 (CI), which makes them fail; `.ci/run` also fails if any was
skipped.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

import support_flows as sf
from support_flows.store import Store
from support_flows.store.database import normalise_url

POSTGRES = os.environ.get(
    "SUPPORT_FLOWS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRED = os.environ.get("SUPPORT_FLOWS_REQUIRE_POSTGRES") == "1"

START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone="Europe/Berlin")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY}, email="reader@example.com")


def _database_url(name: str) -> str:
    return (
        sa.make_url(POSTGRES)
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A PostgreSQL database of this test run's own, dropped at its end."""
    admin = sa.create_engine(_database_url(sa.make_url(POSTGRES).database or "test"))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn = admin.connect()
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL is not reachable at {POSTGRES}: {error}"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    name = f"sf_test_{os.getpid()}_{secrets.token_hex(4)}"
    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(name)
    finally:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        admin.dispose()


def postgres_schema_url(database: str) -> str:
    """A fresh schema in the run's database, as a URL whose search path names it."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    return f"{database}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, SQLite or PostgreSQL, for one test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return postgres_schema_url(request.getfixturevalue("postgres_database"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store on `db_url`, closed after the test."""
    opened = Store(db_url)
    yield opened
    opened.close()


def table_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, ordered: a picture of the database to compare."""
    from support_flows.store import schema

    engine = sa.create_engine(store.url)
    picture = {}
    with engine.connect() as conn:
        for table in (schema.plans, schema.orders, schema.outbox, schema.audit, schema.idempotency):
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            picture[table.name] = [tuple(str(v) for v in row) for row in rows]
    engine.dispose()
    return picture


def rows_by_id(url: str, table: str = "sf_plans") -> dict[str, tuple[int, Any, Any]]:
    """Every row of the plans or orders table by id: (revision, snapshot, policy column)."""
    key = "org_id" if table == "sf_plans" else "order_id"
    engine = sa.create_engine(normalise_url(url))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT {key}, revision, snapshot, policy FROM {table}").all()
    engine.dispose()
    return {r[0]: (r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2], r[3]) for r in rows}


def count(url: str, sql: str) -> int:
    """The one number `sql` answers on the database at `url`."""
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(sql).scalar_one())
    finally:
        engine.dispose()


# -- worker processes (spawned: each imports this module afresh) -------------------------------


def toggle(plan: sf.SupportPlan) -> object:
    """An accepted request whatever the state: subscribe/upgrade to premium, downgrade, revoke."""
    if plan.state == sf.PlanState.PREMIUM and plan.pending is None:
        return plan.change("developer", actor=OWNER)  # P9: pending downgrade
    return plan.change("premium", actor=OWNER)  # P5/P8, or P11: revokes the pending downgrade


def enterprise(plan: sf.SupportPlan) -> object:
    """A refused request (P2)."""
    return plan.change("enterprise", actor=OWNER)


def hammer(url: str, worker: int, rounds: int, start: Any, results: Any) -> None:
    """`rounds` commands on one organization's plan, once every worker is ready (`start`, a
    barrier); every fifth is refused. Reports the keys accepted and refused, and any other error."""
    store = Store(url)
    clock = sf.FrozenClock(START)
    # A write of its own first (what the first command would load lazily: the machines, the codecs,
    # the store's statements), so both workers start hammering when the barrier opens, together.
    own = sf.Organization(f"warm-up-{worker}", billing_timezone=ORG.billing_timezone)
    store.update(own, toggle, clock=clock, idempotency_key=f"warm-{worker}", create=True)
    store.audit(ORG.org_id)
    start.wait()
    accepted: list[tuple[str, Any]] = []
    refused: list[str] = []
    errors: list[str] = []
    for n in range(rounds):
        key = f"w{worker}-{n}"
        fn: Callable[[Any], object] = enterprise if n % 5 == 4 else toggle
        try:
            outcome = store.update(
                ORG.org_id, fn, org=ORG, clock=clock, idempotency_key=key, create=True
            )
            accepted.append((key, outcome.result))
        except sf.Refused as error:
            (refused if error.code == "contact_sales" else errors).append(key + ": " + str(error))
        except Exception as error:  # anything else (e.g. "database is locked") is a failure
            errors.append(f"{key}: {type(error).__name__}: {error}")
    store.close()
    results.put((worker, accepted, refused, errors))


def confirm_copy(url: str, order_id: str, results: Any) -> None:
    """Confirm a stored checkout order through `update_order`; report the outcome."""
    store = Store(url)
    try:
        outcome = store.update_order(
            order_id, lambda o: o.confirm(), org=ORG, clock=sf.FrozenClock(START)
        )
        results.put(("ok", outcome.revision))
    except Exception as error:
        results.put(("error", f"{type(error).__name__}: {error}"))
    finally:
        store.close()
