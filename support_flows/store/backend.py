"""What a store's transactions share: its database, the store's own clock (the instant it queues,
audits or remembers something), and the catalog every plan and order it loads or creates is
decided under (K4)."""

from __future__ import annotations

from typing import Any

import attrs

from support_flows.clock import Clock, SystemClock, read_clock
from support_flows.store.database import Database
from support_flows.store.records import micros
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["Backend"]


@attrs.frozen
class Backend:
    """A store's database, the clock it dates its own rows by, and its catalog."""

    db: Database
    clock: Clock
    catalog: Catalog = ATLAS

    @classmethod
    def of(cls, db: Database, clock: Clock, catalog: Catalog = ATLAS) -> Backend:
        return cls(db, clock, catalog)

    def now(self) -> Any:
        return read_clock(self.clock)

    def stamp(self) -> int:
        """The store clock's reading in the store's column format (`micros`): the system
        clock's read as that, without building an instant."""
        clock = self.clock
        if type(clock) is SystemClock:
            return clock.micros()
        return micros(self.now())

    def at(self, clock: object) -> Any:
        """The instant of a refusal: `clock`'s reading, or the store's when it cannot be read
        (the refusal is raised either way)."""
        try:
            return read_clock(clock)  # type: ignore[arg-type]
        except Exception:
            return self.now()
