"""Statements a store sends on every request: Core statements built once, compiled once per
dialect, and sent through the transaction's own driver cursor.

SQLAlchemy's performance guide puts a statement's cost in building it, computing its cache key
and processing its parameters and rows; a store request sends five of them, so those costs made
most of a request. Here each statement is built and compiled once; a call binds plain values
(JSON columns as text, written by `dumps`, read back by `loads`) and reads plain tuples. The
connection, its transaction, the pool and every other statement stay SQLAlchemy's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import pysqlite

__all__ = ["Statement", "dumps", "loads"]

_SQLITE = pysqlite.dialect(paramstyle="named")
"""SQLite's dialect with named parameters, so every statement binds a mapping on both backends."""


class Statement:
    """A statement built once (one per dialect where they differ, e.g. ``ON CONFLICT``),
    compiled the first time each dialect runs it, then sent with plain parameters."""

    __slots__ = ("_built", "_fixed", "_keys", "_texts")

    def __init__(
        self,
        built: sa.Executable | Mapping[str, sa.Executable],
        keys: Sequence[str] | None = None,
    ) -> None:
        self._built = built
        self._keys = None if keys is None else list(keys)
        self._texts: dict[str, str] = {}
        self._fixed: dict[str, dict[str, Any]] = {}

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

    def run(self, conn: sa.Connection, params: Mapping[str, Any]) -> Any:
        """Send the statement in `conn`'s transaction; the driver's cursor."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self.text(conn.dialect), self.bound(conn.dialect, params))
        return cursor

    def bound(self, dialect: sa.Dialect, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """`params` with the values the statement binds itself (after `text`)."""
        fixed = self._fixed[dialect.name]
        return {**fixed, **params} if fixed else params

    def run_many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Send the statement once per row (one round trip for a single row)."""
        if len(rows) == 1:
            self.run(conn, rows[0])
            return
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        text = self.text(conn.dialect)
        cursor.executemany(text, [self.bound(conn.dialect, row) for row in rows])


def dumps(value: object) -> str:
    """A JSON column's value as the text its driver binds (what SQLAlchemy's JSON type sends)."""
    return json.dumps(value)


def loads(dialect: sa.Dialect, value: Any) -> Any:
    """A JSON column's value as read by `dialect`'s driver: SQLite's text parsed; psycopg
    parses it itself."""
    return json.loads(value) if dialect.name == "sqlite" else value
