"""One database connection for the store: SQLite (a file, or in memory) or PostgreSQL.

Every write runs in a transaction that holds the write lock from its first statement: SQLite's
``BEGIN IMMEDIATE`` (with a busy timeout, so a second writer waits instead of failing with
"database is locked"), PostgreSQL's row locks (``SELECT ... FOR UPDATE``) taken by the callers.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from support_flows.errors import Reason, describe, invalid

__all__ = ["BUSY_TIMEOUT_SECONDS", "Database", "normalise_url"]

BUSY_TIMEOUT_SECONDS = 60.0
"""How long a SQLite writer waits for another's transaction before giving up."""

_MEMORY = ("sqlite://", "sqlite:///:memory:", ":memory:")


def normalise_url(url: object) -> str:
    """A SQLAlchemy URL for `url`: a SQLite URL or plain file path, or a PostgreSQL URL (driven by
    psycopg 3); anything else is refused with `invalid_value`."""
    if not isinstance(url, str) or not url.strip():
        raise invalid(
            Reason.INVALID_VALUE,
            "S1",
            f"a database URL must be non-empty text, got {describe(url)}",
        )
    if url in _MEMORY:
        return "sqlite://"
    if "://" not in url:
        return "sqlite:///" + os.path.abspath(url)
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return "postgresql+psycopg://" + rest
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return "sqlite://" + rest
    raise invalid(
        Reason.INVALID_VALUE,
        "S1",
        f"unsupported database URL scheme {scheme!r}: use sqlite:///FILE, sqlite:// (in memory) "
        "or postgresql://...",
    )


class Database:
    """The engine, which database it is, and transactions for reading and writing."""

    def __init__(self, url: object) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_postgres = not self.is_sqlite
        self.in_memory = self.url == "sqlite://"
        self.engine = _sqlite(self.url, self.in_memory) if self.is_sqlite else _postgres(self.url)
        # One in-memory database is one connection: its users take turns.
        self._turns: threading.RLock | None = threading.RLock() if self.in_memory else None

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE)."""
        with self._turn(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only transaction (SQLite: a deferred BEGIN; in WAL it never blocks a writer)."""
        with self._turn(), self.engine.connect() as conn:
            conn.execution_options(sf_begin="DEFERRED")
            with conn.begin():
                yield conn

    def _turn(self) -> threading.RLock | nullcontext[None]:
        return self._turns if self._turns is not None else nullcontext()

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"


def _sqlite(url: str, memory: bool) -> sa.Engine:
    options: dict[str, Any] = (
        {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        if memory
        else {"connect_args": {"timeout": BUSY_TIMEOUT_SECONDS}}
    )
    engine = sa.create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("sf_begin") == "DEFERRED" or memory:
            conn.exec_driver_sql("BEGIN DEFERRED" if not memory else "BEGIN IMMEDIATE")
            return
        _begin_immediate(conn)

    return engine


def _begin_immediate(conn: sa.Connection) -> None:
    """Take SQLite's write lock, polling for it every millisecond or so until the busy timeout.

    SQLite's own busy handler backs off up to 100 ms between tries, so a writer that commits
    and begins again at once keeps the lock from a waiting one for as long as it runs; polling
    often gives the waiting writer its turn in the gap between two transactions.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.0002, 0.002))
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


def _postgres(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_size=4, max_overflow=8)
