"""What a store's transactions share: its database, that database's INSERT (for its ON CONFLICT
clause), the store's own clock (the instant it queues, audits or remembers something), and the
catalog every plan and order it loads or creates is decided under (K4)."""

from __future__ import annotations

from typing import Any

import attrs
from sqlalchemy.dialects import postgresql, sqlite

from support_flows.clock import Clock, read_clock
from support_flows.store.database import Database
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["Backend"]


@attrs.frozen
class Backend:
    """A store's database, its dialect's `insert`, the clock it dates its own rows by, and its
    catalog."""

    db: Database
    insert: Any
    clock: Clock
    catalog: Catalog = ATLAS

    @classmethod
    def of(cls, db: Database, clock: Clock, catalog: Catalog = ATLAS) -> Backend:
        return cls(db, postgresql.insert if db.is_postgres else sqlite.insert, clock, catalog)

    def now(self) -> Any:
        return read_clock(self.clock)

    def at(self, clock: object) -> Any:
        """The instant of a refusal: `clock`'s reading, or the store's when it cannot be read
        (the refusal is raised either way)."""
        try:
            return read_clock(clock)  # type: ignore[arg-type]
        except Exception:
            return self.now()
