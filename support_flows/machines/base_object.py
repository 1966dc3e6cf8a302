"""The base of the objects hosts drive (`SupportPlan`, `ConsultingOrder`, `CaseFlow`).

One place for what the three share: the lock of their public calls (V6, V7), the clock reading
that never goes back (T8), the observe step that lets what has come due take effect before a
read (T7), atomic steps (a step that fails for any reason leaves the object as it was), and the
two public seams other code builds on instead of private names:

- **listeners** (`obj.listen(listener)`, like python-statemachine's ``listeners=``): told each
  public call with its arguments, whether it was accepted or refused, and each chart edge taken
  once the step that took it is complete;
- **mementos** (`obj.memento()` / `obj.rewind(m)`): a point of the object's own past to go back
  to, undoing every step since.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, Self, TypeVar

import attrs
import pendulum

from support_flows.clock import Clock, read_clock
from support_flows.errors import Reason, SupportFlowsError, describe, invalid
from support_flows.machines.engine import Engine
from support_flows.machines.serial import CallLock

__all__ = ["HELD", "Held", "Listener", "Memento", "ObjectBase"]

T = TypeVar("T")
B = TypeVar("B")


class Held:
    """The default of ``snapshot(history=...)``: the history the object holds (all of it,
    unless it was restored from a snapshot written without one). Listeners see it as given."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "HELD"


HELD = Held()


class Listener:
    """Told every step an object takes, in order. Subclass it and override what you need.

    `on_call`, `on_accepted` and `on_refused` run around a public call, outside the object's
    lock (the listener may read the object); an error `on_call` raises refuses the call before
    it starts, and propagates as it is. `on_transition` runs inside the call, once the step that
    took the edge is complete (a step undone is never reported): calling the object from there is
    refused (V7).
    """

    __slots__ = ()

    def on_call(self, obj: Any, call: str, arguments: Mapping[str, Any]) -> None:
        """A public call is about to run: its name and arguments as the caller gave them."""

    def on_accepted(self, obj: Any, call: str, arguments: Mapping[str, Any], result: Any) -> None:
        """The call returned `result`."""

    def on_refused(
        self, obj: Any, call: str, arguments: Mapping[str, Any], error: SupportFlowsError
    ) -> None:
        """The call raised a coded error (a refusal or malformed input); nothing changed."""

    def on_transition(self, obj: Any, event: str, source: str, target: str) -> None:
        """The chart's edge `source` -`event`-> `target` was taken, its step complete."""


@attrs.frozen
class Memento:
    """A point of an object's past (`obj.memento()`), for `obj.rewind`. `state` is the state the
    object was in; the rest is opaque. Mementos compare equal when they hold the same record."""

    state: str
    saved: Any = attrs.field(repr=False)
    owner: object = attrs.field(eq=False, repr=False)


class _Heard:
    """An object's engine while it has listeners: records each edge taken, for its step's end."""

    __slots__ = ("inner", "taken")

    def __init__(self, inner: Engine, taken: list[tuple[str, str, str]]) -> None:
        self.inner = inner
        self.taken = taken

    def run(self, model: Any, event: str, facts: Any) -> None:
        source = str(model.state)
        self.inner.run(model, event, facts)
        self.taken.append((event, source, str(model.state)))


class ObjectBase(Generic[B]):
    """Lock, clock, observe step, atomic steps, listeners and mementos for one chart's object.

    A subclass sets `_book` (the chart's model, with ``save()`` / ``restore()`` and the
    ``recorded_at`` instant clock readings never go before, T8), `_engine`, `clock` and `_lock`
    through `_setup`; it may override `_observe` (T7) and `_settle` (what a complete step still
    does, such as sending its emails).
    """

    __slots__ = ("_book", "_depth", "_engine", "_heard", "_listeners", "_lock", "_taken", "clock")

    _book: B

    def _setup(self, book: B, engine: Engine, clock: Clock, what: str) -> None:
        self._book = book
        self._engine = engine
        self.clock = clock
        self._lock = CallLock(what)
        self._depth = 0
        self._listeners: tuple[Listener, ...] = ()
        self._taken: list[tuple[str, str, str]] = []
        self._heard: threading.RLock | None = None

    # Public seams.

    def listen(self, listener: Listener) -> Self:
        """Tell `listener` every step from now on (see `Listener`); returns the object."""
        if not isinstance(listener, Listener):
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"listen takes a support_flows Listener (subclass it), got {describe(listener)}",
            )
        with self._lock:
            if self._heard is None:
                self._heard = threading.RLock()
                self._engine = _Heard(self._engine, self._taken)
            self._listeners = (*self._listeners, listener)
        return self

    @property
    def listeners(self) -> tuple[Listener, ...]:
        """The listeners told of this object's steps, in the order they were added."""
        return self._listeners

    def memento(self) -> Memento:
        """This object as it is now (nothing due is applied first), for `rewind`."""
        with self._lock:
            book = self._book
            return Memento(str(book.state), self._save(book), self)  # type: ignore[attr-defined]

    def rewind(self, memento: Memento) -> None:
        """Go back to `memento`, undoing every step taken since it was made (listeners are not
        told: nothing is taken). A memento of an object this one cannot take a record from (see
        `_takes_from`) is refused."""
        if not isinstance(memento, Memento) or not (
            memento.owner is self or self._takes_from(memento.owner)
        ):
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"rewind takes a memento of this object, got {describe(memento)}",
            )
        with self._lock:
            self._restore(self._book, memento.saved)

    # What subclasses build on.

    def _takes_from(self, other: object) -> bool:
        """Whether a memento of `other` (not this object) holds a record this one can take:
        only when the memento holds the whole record (not what undoes steps since)."""
        return False

    def _save(self, book: B) -> Any:
        return book.save()  # type: ignore[attr-defined]

    def _restore(self, book: B, saved: Any) -> None:
        book.restore(saved)  # type: ignore[attr-defined]

    def _now(self) -> pendulum.DateTime:
        """The clock's reading, never before the book's last recorded instant (T8)."""
        return read_clock(self.clock, self._book.recorded_at)  # type: ignore[attr-defined]

    def _observe(self, now: pendulum.DateTime) -> None:
        """T7: let what has come due by `now` take effect (atomically)."""

    def _read(self, read: Callable[[B], T]) -> T:
        """A read under the lock, as of the clock's now (T7)."""
        with self._lock:
            self._observe(self._now())
            return read(self._book)

    def _settle(self) -> None:
        """What the outermost step does once it is complete; raising undoes the step."""

    def _atomic(self, step: Callable[[], T]) -> T:
        """`step`, undone if it (or what settles it) raises; listeners are told the edges it
        took once the outermost step is complete."""
        book: Any = self._book
        saved = book.save()
        depth = self._depth
        self._depth = depth + 1
        try:
            result = step()
            if not depth:
                self._settle()
        except BaseException:
            self._depth = depth
            book.restore(saved)
            if not depth:
                self._taken.clear()
            raise
        self._depth = depth
        if not depth and self._taken:
            self._tell_taken()
        return result

    def _tell_taken(self) -> None:
        taken = tuple(self._taken)
        self._taken.clear()
        for event, source, target in taken:
            for listener in self._listeners:
                listener.on_transition(self, event, source, target)

    def _call(self, call: str, arguments: Mapping[str, Any], body: Callable[[], T]) -> T:
        """A public call, its listeners told around it (serialised with the object's other
        calls while anyone listens, so they hear the calls in the order they ran)."""
        heard = self._heard
        if heard is None:
            return body()
        with heard:
            listeners = self._listeners
            for listener in listeners:
                listener.on_call(self, call, arguments)
            try:
                result = body()
            except SupportFlowsError as error:
                for listener in listeners:
                    listener.on_refused(self, call, arguments, error)
                raise
            for listener in listeners:
                listener.on_accepted(self, call, arguments, result)
            return result
