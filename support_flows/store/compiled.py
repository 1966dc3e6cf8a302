"""Statements a store sends on every request: Core statements built once, compiled once per
dialect, and sent through the transaction's own driver cursor.

SQLAlchemy's performance guide puts a statement's cost in building it, computing its cache key
and processing its parameters and rows; a store request sends five of them, so those costs made
most of a request. Here each statement is built and compiled once; a call binds plain values
(JSON columns as text, written by `dumps`, read back by `loads`) by position and reads plain
tuples, in a transaction on a connection from SQLAlchemy's pool (`Tx`). The engine, its pool,
the dialects, the schema and its migrations, and every other statement stay SQLAlchemy's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite import pysqlite

__all__ = ["Statement", "Tx", "dumps", "insert_new", "loads"]

_SQLITE = pysqlite.dialect(paramstyle="named")
"""SQLite's dialect with named parameters, for `Tx.execute`'s statements built on the spot."""
_POSITIONAL = {"sqlite": pysqlite.dialect(paramstyle="qmark")}
"""The dialects statements built once are compiled for, binding values by position: SQLite's;
psycopg's ``format`` for PostgreSQL."""


class Tx:
    """A transaction's driver connection and its dialect: what statements are sent on.

    `Database.transaction` opens one on a pooled connection, without a SQLAlchemy `Connection`
    around it; `Tx.of` wraps a `Connection`'s own transaction.
    """

    __slots__ = ("dialect", "driver")

    def __init__(self, dialect: sa.Dialect, driver: Any) -> None:
        self.dialect = dialect
        self.driver = driver

    @classmethod
    def of(cls, conn: sa.Connection) -> Tx:
        return cls(conn.dialect, conn.connection.dbapi_connection)

    def execute(self, statement: sa.Executable) -> Any:
        """Compile and send a Core statement that binds only its own values (for the rare
        statement not worth building once); the driver's cursor."""
        dialect = _SQLITE if self.dialect.name == "sqlite" else self.dialect
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        params = compiled.construct_params()
        for name, bind in compiled.binds.items():
            process = bind.type.bind_processor(dialect)
            if process is not None and name in params:
                params[name] = process(params[name])
        cursor = self.driver.cursor()
        cursor.execute(str(compiled), params)
        return cursor


class Statement:
    """A statement built once (one per dialect where they differ, e.g. ``ON CONFLICT``),
    compiled the first time each dialect runs it, then sent with plain parameters."""

    __slots__ = ("_built", "_keys", "_sent")

    def __init__(
        self,
        built: sa.Executable | Mapping[str, sa.Executable],
        keys: Sequence[str] | None = None,
    ) -> None:
        self._built = built
        self._keys = None if keys is None else list(keys)
        self._sent: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {}

    def run(self, tx: Tx, params: Mapping[str, Any]) -> Any:
        """Send the statement in the transaction `tx`; the driver's cursor."""
        return self.send(tx.driver, tx.dialect, params)

    def send(self, driver: Any, dialect: sa.Dialect, params: Mapping[str, Any]) -> Any:
        """Send the statement on a driver connection, its values bound by position (which the
        drivers do faster than by name); the driver's cursor."""
        text, row_of = self._sent.get(dialect.name) or self._positional(dialect)
        cursor = driver.cursor()
        cursor.execute(text, row_of(params))
        return cursor

    def run_many(self, tx: Tx, rows: Sequence[Mapping[str, Any]]) -> None:
        """Send the statement once per row (one round trip for a single row)."""
        if len(rows) == 1:
            self.run(tx, rows[0])
            return
        text, row_of = self._positional(tx.dialect)
        tx.driver.cursor().executemany(text, [row_of(row) for row in rows])

    def _positional(self, dialect: sa.Dialect) -> tuple[str, Callable[[Mapping[str, Any]], Any]]:
        """The statement with positional parameters for `dialect`, and what turns a row's
        mapping into their values (compiled the first time `dialect` sends it)."""
        found = self._sent.get(dialect.name)
        if found is None:
            kind: Any = type(dialect)
            positional = _POSITIONAL.get(dialect.name) or kind(paramstyle="format")
            built = self._built
            built = built[dialect.name] if isinstance(built, Mapping) else built
            compiled = built.compile(  # type: ignore[attr-defined]
                dialect=positional, column_keys=self._keys
            )
            names = list(compiled.positiontup)
            fixed = {k: v for k, v in compiled.params.items() if v is not None}
            values: Callable[[Mapping[str, Any]], Any]
            if len(names) > 1:
                values = itemgetter(*names)
            elif names:
                (only,) = names
                values = lambda row: (row[only],)  # noqa: E731
            else:
                values = lambda row: ()  # noqa: E731
            row_of = (lambda row: values({**fixed, **row})) if fixed else values
            found = self._sent[dialect.name] = (str(compiled), row_of)
        return found


def insert_new(table: sa.Table, returning: sa.Column[Any], keys: Sequence[str]) -> Statement:
    """An INSERT of `keys` that does nothing when the row's key is taken (``ON CONFLICT DO
    NOTHING``, one statement per dialect), returning `returning` of the row it inserted."""
    return Statement(
        {
            "sqlite": sqlite.insert(table).on_conflict_do_nothing().returning(returning),
            "postgresql": postgresql.insert(table).on_conflict_do_nothing().returning(returning),
        },
        keys,
    )


def dumps(value: object) -> str:
    """A JSON column's value as the text its driver binds (what SQLAlchemy's JSON type sends)."""
    return json.dumps(value)


def loads(dialect: sa.Dialect, value: Any) -> Any:
    """A JSON column's value as read by `dialect`'s driver: SQLite's text parsed; psycopg
    parses it itself."""
    return json.loads(value) if dialect.name == "sqlite" else value
