"""The PostgreSQL store's connection pools under a host's concurrent requests: the connections
a burst of writes, or of reads, opened stay open for the next burst, so a request never pays for
a new server connection while the load stays within the pool (issue 20: a pool keeping 4 of its
12 open reconnected on most requests at 16 concurrent ones)."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import OWNER, START, postgres_schema_url  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import Store  # noqa: E402

pytest_plugins = ["store_helpers"]

WRITERS = 12
"""As many writes at once as the store's PostgreSQL pool keeps connections for."""


def _backends(url: str, name: str) -> set[int]:
    """The server processes serving connections named `name` (their application_name)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %(name)s", {"name": name}
        ).all()
    engine.dispose()
    return {pid for (pid,) in rows}


def _burst(store: Store, tier: str) -> None:
    """`WRITERS` plan changes to `tier`, each on its own organization, all in their transactions
    at once."""
    together = threading.Barrier(WRITERS, timeout=60)

    def write(n: int) -> None:
        org = sf.Organization(f"org-{n}")
        store.update(
            org,
            lambda plan: (together.wait(), plan.change(tier, OWNER)),
            clock=sf.FrozenClock(START),
            create=True,
        )

    with ThreadPoolExecutor(WRITERS) as threads:
        list(threads.map(write, range(WRITERS)))


@pytest.mark.postgres
def test_s1_concurrent_writes_reuse_the_connections_they_opened(postgres_database: str) -> None:
    """Two bursts of 12 concurrent writes on a PostgreSQL store: the second runs on the very
    server connections the first opened (none closed when returned, none opened anew)."""
    name = f"sf_pool_{secrets.token_hex(4)}"
    url = f"{postgres_schema_url(postgres_database)}&application_name={name}"
    store = Store(url)
    try:
        _burst(store, "developer")
        first = _backends(postgres_database, name)
        _burst(store, "premium")
        assert len(first) >= WRITERS
        assert _backends(postgres_database, name) == first
    finally:
        store.close()


READERS = 10
"""As many reads at once as the store's PostgreSQL reader pool keeps connections for."""


def _held_reads(store: Store, schema_url: str, name: str, orgs: list[sf.Organization]) -> None:
    """A read of each organization's plan, all waiting at once on the server (another session
    holds the plans table locked until every read is waiting), then all answered."""
    admin = sa.create_engine(f"{schema_url}&application_name={name}_admin")
    found: list[int] = []
    with admin.connect() as conn, conn.begin():
        conn.exec_driver_sql("LOCK TABLE sf_plans IN ACCESS EXCLUSIVE MODE")
        threads = [
            threading.Thread(
                target=lambda org=org: found.append(
                    store.revision(store.plan(org, clock=sf.FrozenClock(START)))
                )
            )
            for org in orgs
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        waiting = 0
        while waiting < len(orgs) and time.monotonic() < deadline:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")  # a fresh view each time
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %(name)s "
                "AND wait_event_type = 'Lock'",
                {"name": name},
            ).scalar_one()
        assert waiting == len(orgs)
    for thread in threads:
        thread.join(60)
    admin.dispose()
    assert found == [1] * len(orgs)


@pytest.mark.postgres
def test_s1_concurrent_reads_reuse_the_connections_they_opened(postgres_database: str) -> None:
    """Two bursts of 10 reads waiting at once on a PostgreSQL store: the second runs on the very
    server connections the first opened (the reader pool closes none it opened)."""
    name = f"sf_pool_{secrets.token_hex(4)}"
    schema_url = postgres_schema_url(postgres_database)
    store = Store(f"{schema_url}&application_name={name}")
    orgs = [sf.Organization(f"org-{n}") for n in range(READERS)]
    try:
        for org in orgs:
            store.update(
                org,
                lambda plan: plan.change("premium", OWNER),
                clock=sf.FrozenClock(START),
                create=True,
            )
        _held_reads(store, schema_url, name, orgs)
        first = _backends(postgres_database, name)
        _held_reads(store, schema_url, name, orgs)
        assert len(first) >= READERS
        assert _backends(postgres_database, name) == first
    finally:
        store.close()
