"""A SQLite file's connections kept one per thread (`store.pinned`): a thread's transactions and
reads reuse its own connection, other threads have theirs, a nested use and a fork take another,
a connection that failed is dropped (S6), closing the store closes them, and the writers of
one process queue for the write lock in turn."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import support_flows as sf
from support_flows.store.compiled import Statement
from support_flows.store.database import Database

SELECT_ONE = Statement(sa.select(sa.literal(1)))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    made = Database(f"sqlite:///{tmp_path / 'pins.db'}")
    yield made
    made.dispose()


def driver_of(db: Database) -> Any:
    with db.transaction() as tx:
        return tx.driver


def test_a_thread_reuses_its_own_connection_and_another_thread_has_its_own(db: Database) -> None:
    """Two transactions on one thread run on the same driver connection; a second thread's run
    on a different one."""
    first, second = driver_of(db), driver_of(db)
    assert first is second
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(driver_of(db)))
    worker.start()
    worker.join()
    assert found[0] is not first


def test_a_read_inside_a_transaction_uses_the_threads_read_connection(db: Database) -> None:
    """A read while the thread's transaction is open answers on the thread's read connection,
    not the one holding the write lock."""
    with db.transaction() as tx:
        assert db.query_one(SELECT_ONE, {}) == (1,)
        assert db.read_pins is not None
        assert db.read_pins.pin is not None
        assert db.read_pins.pin.driver is not tx.driver


def test_a_connection_in_use_is_not_handed_out_twice(db: Database) -> None:
    """A nested take on the same thread gets None (the caller takes a pooled connection), and
    the connection is handed out again once given back."""
    pins = db.write_pins
    assert pins is not None
    pin = pins.take()
    assert pin is not None
    assert pins.take() is None
    pins.give_back(pin, broken=False)
    assert pins.take() is pin


def test_s6_a_connection_that_failed_is_dropped(db: Database) -> None:
    """S6: a driver error inside a transaction leaves as store_unavailable, closes the thread's
    connection, and the next transaction runs on a new one."""
    before = driver_of(db)
    with pytest.raises(sf.Unavailable) as raised, db.transaction() as tx:
        tx.driver.execute("SELECT * FROM no_such_table")
    assert raised.value.code == "store_unavailable"
    with pytest.raises(sqlite3.ProgrammingError):
        before.execute("SELECT 1")
    after = driver_of(db)
    assert after is not before
    assert after.execute("SELECT 1").fetchone() == (1,)


def test_closing_the_database_closes_idle_connections_and_later_use_opens_new_ones(
    db: Database,
) -> None:
    """`dispose` closes each thread's connection no statement holds; the next use opens a new
    one that works."""
    before = driver_of(db)
    db.query_one(SELECT_ONE, {})
    assert db.read_pins is not None
    assert db.read_pins.pin is not None
    reader = db.read_pins.pin.driver
    db.dispose()
    for closed in (before, reader):
        with pytest.raises(sqlite3.ProgrammingError):
            closed.execute("SELECT 1")
    assert driver_of(db) is not before
    assert db.query_one(SELECT_ONE, {}) == (1,)


def test_a_connection_busy_when_the_database_is_closed_closes_when_given_back(
    db: Database,
) -> None:
    """A connection in use during `dispose` stays open for its statement, and is closed when
    its thread gives it back."""
    pins = db.write_pins
    assert pins is not None
    pin = pins.take()
    assert pin is not None
    db.dispose()
    assert pin.driver.execute("SELECT 1").fetchone() == (1,)
    pins.give_back(pin, broken=False)
    with pytest.raises(sqlite3.ProgrammingError):
        pin.driver.execute("SELECT 1")


def test_a_forked_process_opens_its_own_connection(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection made before a fork is neither used nor closed by the child: the child's
    first use opens its own."""
    before = driver_of(db)
    parent = os.getpid()
    monkeypatch.setattr("support_flows.store.pinned.os.getpid", lambda: parent + 1)
    child = driver_of(db)
    assert child is not before
    assert before.execute("SELECT 1").fetchone() == (1,)


def test_s6_a_writer_queued_in_the_process_past_the_busy_timeout_is_unavailable(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S6: a transaction waiting behind another thread's for longer than the busy timeout
    leaves as store_unavailable ("database is locked"), as SQLite's own wait would, and the
    holder's transaction is unaffected."""
    monkeypatch.setattr("support_flows.store.database.BUSY_TIMEOUT_SECONDS", 0.01)
    failures: list[str] = []

    def second_writer() -> None:
        try:
            with db.transaction():
                failures.append("entered")
        except sf.Unavailable as error:
            failures.append(f"{error.code}: {error.message}")

    with db.transaction() as tx:
        worker = threading.Thread(target=second_writer)
        worker.start()
        worker.join()
        assert tx.driver.execute("SELECT 1").fetchone() == (1,)
    assert len(failures) == 1
    assert failures[0].startswith("store_unavailable")
    assert "database is locked" in failures[0]
    assert driver_of(db).execute("SELECT 1").fetchone() == (1,)
