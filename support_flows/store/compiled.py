"""Statements a store sends on every request: Core statements built once, compiled once per
dialect, and sent through the transaction's own driver cursor.

SQLAlchemy's performance guide puts a statement's cost in building it, computing its cache key
and processing its parameters and rows; a store request sends five of them, so those costs made
most of a request. Here each statement is built and compiled once; a call binds plain values
(JSON columns as text, written by `dumps`, read back by `loads`) and reads plain tuples, in a
transaction on a connection from SQLAlchemy's pool (`Tx`). The engine, its pool, the dialects,
the schema and its migrations, and every other statement stay SQLAlchemy's.
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
"""SQLite's dialect with named parameters, so every statement binds a mapping on both backends."""
_POSITIONAL = {"sqlite": pysqlite.dialect(paramstyle="qmark")}
"""Dialects that bind a row by position (for `run_many`): SQLite's; psycopg's ``format``."""


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

    __slots__ = ("_built", "_fixed", "_keys", "_many", "_texts")

    def __init__(
        self,
        built: sa.Executable | Mapping[str, sa.Executable],
        keys: Sequence[str] | None = None,
    ) -> None:
        self._built = built
        self._keys = None if keys is None else list(keys)
        self._texts: dict[str, str] = {}
        self._fixed: dict[str, dict[str, Any]] = {}
        self._many: dict[str, tuple[str, Callable[[Mapping[str, Any]], Any]]] = {}

    def text(self, dialect: sa.Dialect) -> str:
        """The SQL sent to `dialect`'s driver (compiled once)."""
        name = dialect.name
        found = self._texts.get(name)
        if found is None:
            built = self._built[name] if isinstance(self._built, Mapping) else self._built
            compiled = built.compile(  # type: ignore[attr-defined]
                dialect=_SQLITE if name == "sqlite" else dialect, column_keys=self._keys
            )
            # Values the statement itself binds (SQLite's OFFSET 0 after a LIMIT).
            self._fixed[name] = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._texts[name] = str(compiled)
        return found

    def run(self, tx: Tx, params: Mapping[str, Any]) -> Any:
        """Send the statement in the transaction `tx`; the driver's cursor."""
        cursor = tx.driver.cursor()
        cursor.execute(self.text(tx.dialect), self.bound(tx.dialect, params))
        return cursor

    def bound(self, dialect: sa.Dialect, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """`params` with the values the statement binds itself (after `text`)."""
        fixed = self._fixed[dialect.name]
        return {**fixed, **params} if fixed else params

    def run_many(self, tx: Tx, rows: Sequence[Mapping[str, Any]]) -> None:
        """Send the statement once per row (one round trip for a single row); many rows are
        bound by position, which the drivers do faster than by name."""
        if len(rows) == 1:
            self.run(tx, rows[0])
            return
        text, row_of = self._positional(tx.dialect)
        tx.driver.cursor().executemany(text, [row_of(row) for row in rows])

    def _positional(self, dialect: sa.Dialect) -> tuple[str, Callable[[Mapping[str, Any]], Any]]:
        """The statement with positional parameters for `dialect`, and what turns a row's
        mapping into their values (compiled once)."""
        found = self._many.get(dialect.name)
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
            pick = itemgetter(*names)
            row_of: Callable[[Mapping[str, Any]], Any] = (
                (lambda row: pick({**fixed, **row}))
                if fixed
                else (pick if len(names) > 1 else lambda row: (pick(row),))
            )
            found = self._many[dialect.name] = (str(compiled), row_of)
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
