"""A SQLite file's connections kept one per thread, outside SQLAlchemy's pool.

A SQLite connection is a file handle and a page cache in this process: there is no server to
spare, so nothing is gained by sharing a few among threads, and a pool's checkout and return
were a fifth of a store request. Each thread keeps its own connection (one for writes, one for
reads), made by the engine as a pooled one would be (its ``connect`` hooks set the pragmas) and
then detached from the pool. A connection that failed is closed and forgotten (the next use
makes a new one); `Pins.close_idle` closes them all (`Database.dispose`), and one in use then is
closed by its thread when it gives it back. A connection is never used by a second process (one
made before a fork is left alone in the child) nor twice at once (a nested use gets None and
takes a pooled connection instead, as before).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from typing import Any

import sqlalchemy as sa

__all__ = ["Pin", "Pins"]


class Pin:
    """One thread's connection: the driver's, and whether a statement or transaction holds it."""

    __slots__ = ("__weakref__", "busy", "driver", "pid", "stale")

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.pid = os.getpid()
        self.busy = True
        self.stale = False


class Pins(threading.local):
    """Each thread's connection made by `engine`: `take` it, `give_back` when done."""

    def __init__(self, engine: sa.Engine, every: weakref.WeakSet[Pin], lock: threading.Lock):
        self.engine = engine
        self.pin: Pin | None = None
        self._every = every
        self._lock = lock

    @classmethod
    def of(cls, engine: sa.Engine) -> Pins:
        return cls(engine, weakref.WeakSet(), threading.Lock())

    def take(self) -> Pin | None:
        """This thread's connection, marked busy (made if it has none, or a stale one); None
        if it is busy already."""
        pin = self.pin
        if pin is not None and pin.pid == os.getpid():
            with self._lock:  # against `close_idle` closing it meanwhile
                if pin.busy:
                    return None
                if not pin.stale:
                    pin.busy = True
                    return pin
        fairy = self.engine.raw_connection()
        fairy.detach()
        pin = self.pin = Pin(fairy.dbapi_connection)
        with self._lock:
            self._every.add(pin)
        return pin

    def give_back(self, pin: Pin, *, broken: bool) -> None:
        """The thread is done with `pin`: kept for its next use, or closed if it failed or
        was closed meanwhile (`close_idle`)."""
        with self._lock:
            pin.busy = False
            if broken or pin.stale:
                pin.stale = True
                if self.pin is pin:
                    self.pin = None
                _close(pin)

    def close_idle(self) -> None:
        """Close every thread's connection no statement holds, and mark the rest stale: their
        threads close them when they give them back."""
        with self._lock:
            for pin in list(self._every):
                pin.stale = True
                if not pin.busy and pin.pid == os.getpid():
                    _close(pin)


def _close(pin: Pin) -> None:
    with contextlib.suppress(Exception):  # closing a connection already broken
        pin.driver.close()
