"""What a store keeps of the plans and orders it loads: a listener on each (`Tracking`).

A loaded object is a plain `SupportPlan` or `ConsultingOrder` that a `Tracking` listens to: it
records every request as a `Call`, accepted or refused (S4), and holds the revision the object
was loaded at (S1). Loaded objects are restored from history-less snapshots, so their `history`
holds exactly what happened since they were loaded: the store writes it, with the calls, to its
audit log when it saves them. An order's confirmation email goes to a `Mailbag` the store empties
into its outbox table in the same transaction (S3).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

import pendulum

from support_flows.clock import Clock, read_clock
from support_flows.errors import Reason, SupportFlowsError, describe, invalid
from support_flows.localtime import instant
from support_flows.machines.base_object import Listener
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Email, Outbox
from support_flows.snapshots.consulting import OrderAction, OrderEvent
from support_flows.values import Member
from support_flows.values.plan import HistoryEntry

__all__ = [
    "REQUESTS",
    "Call",
    "Mailbag",
    "Stored",
    "Tracking",
    "calls",
    "is_request",
    "param",
    "track",
    "tracking",
]

T = TypeVar("T")
Entry = HistoryEntry | OrderEvent
Stored = SupportPlan | ConsultingOrder


def param(value: object) -> Any:
    """A request parameter as JSON-safe data, for the audit log and idempotency fingerprints."""
    if value is None or type(value) in (bool, float, str):
        return value
    if type(value) is int:  # beyond 64 bits, no database column or JSON reader holds it
        return value if -(2**63) < value < 2**63 else describe(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Member):
        return value.user_id
    if isinstance(value, dt.datetime):
        return describe(value)  # its ISO 8601 text; a repr when its tzinfo fails
    return describe(value)


def is_request(entry: Entry) -> bool:
    """Whether a history entry records a request (else a change the clock applied)."""
    if isinstance(entry, HistoryEntry):
        return entry.is_request
    return entry.action is not OrderAction.EXPIRE


class Call(NamedTuple):
    """One request made to a stored object: what was asked, by whom, and what it did.

    `start`/`end` bound the history entries since the previous call, up to the last one this
    request added: what came due and was applied first (never requests), then its own; a
    refused request adds none and carries its `error`. `at` is None only when no instant could
    be read (a broken clock).
    """

    request: str
    params: Mapping[str, Any]
    actor: str | None
    at: pendulum.DateTime | None
    start: int
    end: int
    error: SupportFlowsError | None = None


class Mailbag:
    """An outbox that keeps emails until the store writes them to its outbox table (S3)."""

    __slots__ = ("emails",)

    def __init__(self) -> None:
        self.emails: list[Email] = []

    def send(self, email: Email) -> None:
        self.emails.append(email)


class Tracking(Listener):
    """What the store knows of an object it loaded or created: the revision, the calls made
    since it was last saved, the history already audited. A listener on the object (S1, S4)."""

    __slots__ = (
        "calls",
        "clock",
        "counted",
        "deliver",
        "emitted",
        "loaded",
        "mail",
        "mark",
        "recorded",
        "revision",
        "taken",
    )

    def __init__(self, clock: Clock, mail: Mailbag | None = None) -> None:
        self.clock = clock
        self.mail = mail
        self.deliver: Outbox | None = None
        self.revision = 0
        self.emitted = 0
        self.recorded: str | None = None
        self.loaded: dict[str, Any] | None = None
        self.calls: list[Call] = []
        self.mark = 0
        self.taken = 0
        self.counted = False
        """Whether `taken` is the length of the object's history: a plan tracked while its
        history is empty (each of a plan's edges records one entry, and only its edges do)."""

    @property
    def floor(self) -> pendulum.DateTime | None:
        """The last instant the loaded snapshot recorded: the clock never reads before it (T8)."""
        recorded = self.recorded
        return None if recorded is None else instant(dt.datetime.fromisoformat(recorded))

    def saved(self, revision: int, history_length: int, snapshot: dict[str, Any]) -> None:
        """The object was written at `revision`: what it did until now is in the audit log."""
        self.revision = revision
        self.emitted = self.mark = history_length
        self.loaded = snapshot
        self.calls.clear()
        if self.mail is not None:
            self.mail.emails.clear()

    def on_call(self, obj: Any, call: str, arguments: Mapping[str, Any]) -> None:
        if call == "snapshot":
            if arguments["history"] is True and self.revision:
                raise invalid(
                    Reason.INVALID_VALUE,
                    "S4",
                    "an object loaded from a store holds only the history since it was loaded; "
                    "its full history is in the store's audit log (store.audit): snapshot it "
                    "with history=False",
                )
            return

    def on_transition(self, obj: Any, event: str, source: str, target: str) -> None:
        self.taken += 1  # how many chart edges the object took: `saving` reads it

    def on_refused(
        self, obj: Any, call: str, arguments: Mapping[str, Any], error: SupportFlowsError
    ) -> None:
        if call in REQUESTS:
            self._refused(obj, call, arguments, error)

    def on_accepted(self, obj: Any, call: str, arguments: Mapping[str, Any], result: Any) -> None:
        if call not in REQUESTS:
            return
        start = self.mark
        at: pendulum.DateTime | None
        if self.counted and type(result) is HistoryEntry and result.is_request:
            end, at = self.taken, result.at  # one entry per edge: no need to read the history
        else:
            history = obj.history
            end = len(history)
            at = history[-1].at if end > start and is_request(history[-1]) else self._now(obj)
        self.mark = end
        self.calls.append(Call(call, _params(arguments), _actor(arguments), at, start, end))

    def _refused(
        self, obj: Any, call: str, arguments: Mapping[str, Any], error: SupportFlowsError
    ) -> None:
        position = self.mark = self._length(obj)
        self.calls.append(
            Call(
                call,
                _params(arguments),
                _actor(arguments),
                self._now(obj),
                position,
                position,
                error,
            )
        )

    def _length(self, obj: Any) -> int:
        try:
            return len(obj.history)
        except SupportFlowsError:  # a clock that cannot be read: nothing was applied
            return self.emitted + sum(c.end - c.start for c in self.calls)

    def _now(self, obj: Any) -> pendulum.DateTime | None:
        try:
            history = obj.history
            return read_clock(self.clock, history[-1].at if history else self.floor)
        except SupportFlowsError:
            return self.floor


REQUESTS = frozenset(
    {"change", "cancel", "revoke_pending", "confirm", "schedule", "cancel_session", "deliver"}
)
"""The calls a store records (S4): the requests made to a plan or an order after it was opened."""


_STORED = (SupportPlan, ConsultingOrder)


def tracking(obj: object) -> Tracking | None:
    """The store's listener on `obj`, if a store loaded, created or saved it."""
    if not isinstance(obj, _STORED):
        return None
    for listener in obj.listeners:
        if type(listener) is Tracking:
            return listener
    return None


def calls(obj: Stored) -> list[Call]:
    """The calls made to `obj` since it was last saved (a command's object is always tracked)."""
    t = tracking(obj)
    assert t is not None  # every object a command runs on was loaded or created here
    return t.calls


def track(
    obj: Stored, clock: Clock, mail: Mailbag | None = None, *, empty: bool = False
) -> Tracking:
    """A new `Tracking` listening to `obj`; `empty` when its history is known to hold nothing
    (a new object, or one restored from a snapshot without history)."""
    t = Tracking(clock, mail)
    t.counted = empty and isinstance(obj, SupportPlan)
    obj.listen(t)
    return t


def _params(arguments: Mapping[str, Any]) -> dict[str, Any]:
    return {name: param(value) for name, value in arguments.items()}


def _actor(arguments: Mapping[str, Any]) -> str | None:
    actor = arguments.get("actor")
    return actor.user_id if isinstance(actor, Member) else None
