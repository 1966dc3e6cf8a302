"""The PostgreSQL store's connection pool under a host's concurrent requests: the connections a
burst of writes opened stay open for the next burst, so a request never pays for a new server
connection while the load stays within the pool (issue 20: a pool keeping 4 of its 12 open
reconnected on most requests at 16 concurrent ones)."""

from __future__ import annotations

import secrets
import threading
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
