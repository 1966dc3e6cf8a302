"""One database connection for the store: SQLite (a file, or in memory) or PostgreSQL.

Every write runs in a transaction that holds the write lock from its first statement: SQLite's
``BEGIN IMMEDIATE`` (with a busy timeout set once per connection, so a second writer waits
instead of failing with "database is locked"), PostgreSQL's row locks (``SELECT ... FOR
UPDATE``) taken by the callers. A read is one statement outside any explicit transaction (one
round trip): SQLite's autocommit, PostgreSQL's through an engine of autocommit connections.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from support_flows.errors import (
    InvalidInput,
    Reason,
    Unavailable,
    Violation,
    describe,
    invalid,
)
from support_flows.store.compiled import Statement, Tx
from support_flows.store.pinned import Pin, Pins

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DRIVER_ERRORS",
    "Database",
    "Transaction",
    "normalise_url",
    "safe_url",
]

BUSY_TIMEOUT_SECONDS = 60.0
"""How long a SQLite writer waits for another's transaction before giving up."""

_MEMORY = ("sqlite://", "sqlite:///:memory:")
_POSTGRES = ("postgresql", "postgres", "postgresql+psycopg")
_SQLITE = ("sqlite", "sqlite+pysqlite")
_URL_HELP = "use sqlite:///FILE, sqlite:// (in memory) or postgresql://USER@HOST/DB"


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (sa.exc.SQLAlchemyError, sqlite3.Error)
    try:
        import psycopg
    except ImportError:  # the PostgreSQL driver is optional
        return errors
    return (*errors, psycopg.Error)


DRIVER_ERRORS = _driver_errors()
"""What a database driver raises; the store reports each as `store_unavailable` (S6)."""


def safe_url(url: object) -> str:
    """`url` for a message: its password hidden when it parses as a URL."""
    if isinstance(url, str):
        try:
            return sa.make_url(url).render_as_string(hide_password=True)
        except Exception:  # not a URL: named as given, shortened
            pass
    return describe(url)


def _bad_url(url: object, why: str) -> InvalidInput:
    return invalid(
        Reason.INVALID_VALUE, "S6", f"{safe_url(url)} is not a store URL ({why}): {_URL_HELP}"
    )


def normalise_url(url: object) -> str:
    """The SQLAlchemy URL for a store URL that names its backend (S6): ``sqlite:///PATH``,
    ``sqlite://`` (in memory) or ``postgresql://...`` (driven by psycopg 3); anything else,
    a bare file name included, is refused with `invalid_value`."""
    if type(url) is not str or not url or not url.isprintable() or url != url.strip():
        raise _bad_url(url, "not non-empty printable text")
    if url in _MEMORY:
        return "sqlite://"
    try:
        parsed = sa.make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError, ValueError (a port) and others
        raise _bad_url(url, "it does not parse as scheme://...") from None
    scheme = parsed.drivername
    if scheme in _POSTGRES:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if scheme in _SQLITE:
        if parsed.host or parsed.username or parsed.password or parsed.port or parsed.query:
            raise _bad_url(url, "a SQLite URL names only a file")
        if not parsed.database:
            raise _bad_url(url, "no file named")
        return "sqlite:///" + parsed.database
    raise _bad_url(url, f"unsupported scheme {scheme!r}")


class Database:
    """The engine, which database it is, and transactions for reading and writing.

    Every use of a pooled connection ends what it began (a write commits or rolls back, a read
    runs outside any transaction), so the pool returns connections without a reset of its own.

    Whatever the driver raises while connecting, reading or writing (an unreachable server, a
    file that cannot be opened or created, a read-only or full disk) leaves as `Unavailable`
    (`store_unavailable`, S6), naming the URL without its password.
    """

    def __init__(self, url: object) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_postgres = not self.is_sqlite
        self.in_memory = self.url == "sqlite://"
        with self.failures():
            self.engine = (
                _sqlite(self.url, self.in_memory) if self.is_sqlite else _postgres(self.url)
            )
            self.reader = (
                _sqlite(self.url, self.in_memory, reader=True)
                if self.is_sqlite and not self.in_memory
                else self.engine.execution_options(sf_begin=_NO_BEGIN)
                if self.is_sqlite
                else _postgres(self.url, isolation_level="AUTOCOMMIT", pool_size=10)
            )
        # One in-memory database is one connection: its users take turns.
        self._turns: threading.RLock | None = threading.RLock() if self.in_memory else None
        # A SQLite file: each thread its own connections (see `pinned`).
        file = self.is_sqlite and not self.in_memory
        self.write_pins = Pins.of(self.engine) if file else None
        self.read_pins = Pins.of(self.reader) if file else None
        # A SQLite file's writers in this process queue here, so only one of them at a time
        # polls for the file's write lock (against other processes' writers).
        self._writers: threading.RLock | None = threading.RLock() if file else None

    @property
    def safe_url(self) -> str:
        """The URL without its password, for messages."""
        return safe_url(self.url)

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Driver errors raised inside as `Unavailable`; everything else unchanged."""
        try:
            yield
        except DRIVER_ERRORS as error:
            raise self.unavailable(error) from None

    def unavailable(self, error: BaseException) -> Unavailable:
        original = getattr(error, "orig", None) or error
        lines = str(original).strip().splitlines() or [type(original).__name__]
        return Unavailable(
            Violation(
                Reason.STORE_UNAVAILABLE,
                "S6",
                f"the database {self.safe_url} cannot be reached, opened or written: "
                f"{describe(lines[0], 300)}",
            )
        )

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A transaction that holds the write lock from its start (SQLite: BEGIN IMMEDIATE)."""
        with self.failures(), self._turn(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reads, each statement its own snapshot, no explicit transaction
        (SQLite in WAL: never blocks a writer; PostgreSQL: autocommit). A caller that needs
        two statements to agree reads them in one statement, or in `write`."""
        with self.failures(), self._turn(), self.reader.connect() as conn:
            yield conn

    def transaction(self) -> Transaction:
        """A write transaction on a pooled driver connection, as `write` takes it (SQLite:
        BEGIN IMMEDIATE), for statements built once: ``with db.transaction() as tx``."""
        return Transaction(self, self._turns or self._writers)

    def query_one(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        """The first row of a one-statement read, or None: sent on a driver connection outside
        any transaction, as `read` would, without a SQLAlchemy connection around it."""
        pins = self.read_pins
        try:
            pin = None if pins is None else pins.take()
        except DRIVER_ERRORS as error:
            raise self.unavailable(error) from None
        if pin is None:
            return self._pooled_query_one(statement, params)
        try:
            found = self._fetch_one(pin.driver, statement, params)
        except DRIVER_ERRORS as error:
            pins.give_back(pin, broken=True)  # type: ignore[union-attr]
            raise self.unavailable(error) from None
        except BaseException:
            pins.give_back(pin, broken=False)  # type: ignore[union-attr]
            raise
        pins.give_back(pin, broken=False)  # type: ignore[union-attr]
        return found

    def _pooled_query_one(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        try:
            with self._turn():
                driver = self.reader.raw_connection()
                try:
                    return self._fetch_one(driver, statement, params)
                finally:
                    driver.close()
        except DRIVER_ERRORS as error:
            raise self.unavailable(error) from None

    def _fetch_one(self, driver: Any, statement: Statement, params: Mapping[str, Any]) -> Any:
        return statement.send(driver, self.reader.dialect, params).fetchone()

    def _turn(self) -> threading.RLock | nullcontext[None]:
        return self._turns if self._turns is not None else nullcontext()

    def dispose(self) -> None:
        for pins in (self.write_pins, self.read_pins):
            if pins is not None:
                pins.close_idle()
        with self.failures():
            self.engine.dispose()
            if self.reader is not self.engine:
                self.reader.dispose()

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"


class Transaction:
    """`Database.transaction`: commits when its block ends, rolls back when it raises; a
    driver error, entering, inside or committing, leaves as `Unavailable` (S6), and the
    connection it broke is dropped (from the pool, or this thread's own on a SQLite file)."""

    __slots__ = ("_db", "_driver", "_pin", "_pooled", "_turns")

    def __init__(self, db: Database, turns: threading.RLock | None) -> None:
        self._db = db
        self._turns = turns
        self._pooled: Any = None
        self._pin: Pin | None = None
        self._driver: Any = None

    def __enter__(self) -> Tx:
        db = self._db
        turns = self._turns
        if turns is not None and not turns.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            self._turns = None  # not held
            raise db.unavailable(sqlite3.OperationalError("database is locked"))
        try:
            pins = db.write_pins
            pin = self._pin = None if pins is None else pins.take()
            if pin is not None:
                driver = pin.driver
            else:
                self._pooled = db.engine.raw_connection()
                driver = self._pooled.dbapi_connection
            self._driver = driver
            if db.is_sqlite:
                _take_write_lock(driver, db.in_memory)
            return Tx(db.engine.dialect, driver)
        except BaseException as error:
            self._release(error)
            if isinstance(error, DRIVER_ERRORS):
                raise db.unavailable(error) from None
            raise

    def __exit__(self, kind: object, error: BaseException | None, _trace: object) -> None:
        try:
            if error is None:
                self._driver.commit()
            else:
                self._driver.rollback()
        except DRIVER_ERRORS as failed:
            self._release(failed)
            if error is None or isinstance(error, DRIVER_ERRORS):
                raise self._db.unavailable(failed) from None
            return  # the block's own exception goes on
        self._release(error)
        if isinstance(error, DRIVER_ERRORS):
            raise self._db.unavailable(error) from None

    def _release(self, error: BaseException | None) -> None:
        pooled, self._pooled = self._pooled, None
        pin, self._pin = self._pin, None
        broken = isinstance(error, DRIVER_ERRORS)
        try:
            if pin is not None:
                self._db.write_pins.give_back(pin, broken=broken)  # type: ignore[union-attr]
            elif pooled is not None:
                if broken:
                    pooled.invalidate()
                pooled.close()
        except DRIVER_ERRORS:
            pass  # closing a connection already broken
        finally:
            if self._turns is not None:
                self._turns.release()


_NO_BEGIN = "none"
"""The execution option of a SQLite read: its statements run in autocommit, no BEGIN."""


def _sqlite(url: str, memory: bool, *, reader: bool = False) -> sa.Engine:
    """A SQLite engine. A writer's connections wait for no lock themselves (busy timeout 0, set
    once when each connects): `_begin_immediate` polls for the write lock. A reader's wait up to
    the busy timeout for the rare lock a WAL reader meets (another connection's recovery)."""
    options: dict[str, Any] = (
        {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        if memory
        else {"connect_args": {"timeout": BUSY_TIMEOUT_SECONDS}}
    )
    engine = sa.create_engine(url, pool_reset_on_return=None, **options)

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            if not reader:
                cursor.execute("PRAGMA busy_timeout = 0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        if reader or conn.get_execution_options().get("sf_begin") == _NO_BEGIN:
            return
        if memory:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            _begin_immediate(conn)

    return engine


def _begin_immediate(conn: sa.Connection) -> None:
    driver = conn.connection.dbapi_connection
    assert driver is not None  # a connection being begun is checked out
    _take_write_lock(driver, memory=False)


def _take_write_lock(driver: Any, memory: bool) -> None:
    """Take SQLite's write lock, polling for it every 50-500 µs until the busy timeout.

    SQLite's own busy handler backs off up to 100 ms between tries, so a writer that commits
    and begins again at once keeps the lock from a waiting one for as long as it runs; polling
    often gives the waiting writer its turn in the gap between two transactions (a few tens of
    microseconds). A writer's connection has no busy timeout of its own (set once, when it
    connects), so a taken lock answers at once; the writers of one process queue before they
    poll (`Database.transaction`), so only one of them polls at a time.
    """
    if memory:  # one connection, which its users take turns with
        driver.execute("BEGIN IMMEDIATE")
        return
    deadline = None
    while True:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            now = time.monotonic()
            if deadline is None:
                deadline = now + BUSY_TIMEOUT_SECONDS
            elif now > deadline:
                raise
        time.sleep(random.uniform(0.00005, 0.0005))


def _postgres(url: str, **options: Any) -> sa.Engine:
    return sa.create_engine(
        url, **({"pool_size": 12, "max_overflow": 0, "pool_reset_on_return": None} | options)
    )
