"""Plans and orders loaded from a store: the same objects, also keeping what each request did.

`StoredPlan` and `StoredOrder` are `SupportPlan` and `ConsultingOrder` with every request
recorded as a `Call`, accepted or refused (S4), and the revision they were loaded at (S1). They
are restored from history-less snapshots, so their `history` holds exactly what happened since
they were loaded: the store writes it, with the calls, to its audit log when it saves them. An
order's confirmation email goes to a `Mailbag` the store empties into its outbox table in the
same transaction (S3).
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import pendulum

from support_flows.clock import Clock, read_clock
from support_flows.errors import Reason, SupportFlowsError, describe, invalid
from support_flows.machines.consulting import ConsultingOrder, OrderAction, OrderEvent
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Email, Outbox
from support_flows.plan_values import HistoryEntry
from support_flows.values import Member, Tier

__all__ = [
    "Call",
    "Mailbag",
    "StoredOrder",
    "StoredPlan",
    "Tracking",
    "is_request",
    "param",
    "stored",
]

T = TypeVar("T")
Entry = HistoryEntry | OrderEvent


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


@attrs.frozen
class Call:
    """One request made to a stored object: what was asked, by whom, and what it did.

    `start`/`end` bound the history entries the request added; a refused request adds none and
    carries its `error`. `at` is None only when no instant could be read (a broken clock).
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


class Tracking:
    """What the store knows of an object it loaded: revision, calls, history already audited."""

    __slots__ = (
        "calls",
        "clock",
        "deliver",
        "emitted",
        "floor",
        "loaded",
        "lock",
        "mail",
        "revision",
    )

    def __init__(self, clock: Clock, mail: Mailbag | None = None) -> None:
        self.clock = clock
        self.mail = mail
        self.deliver: Outbox | None = None
        self.revision = 0
        self.emitted = 0
        self.floor: pendulum.DateTime | None = None
        self.loaded: dict[str, Any] | None = None
        self.calls: list[Call] = []
        self.lock = threading.RLock()

    def saved(self, revision: int, history_length: int, snapshot: dict[str, Any]) -> None:
        """The object was written at `revision`: what it did until now is in the audit log."""
        self.revision = revision
        self.emitted = history_length
        self.loaded = snapshot
        self.calls.clear()
        if self.mail is not None:
            self.mail.emails.clear()


class _Tracked:
    """Records each request made through the public methods it overrides."""

    __slots__ = ()
    _sf: Tracking
    history: Any

    @property
    def revision(self) -> int:
        """The stored revision this object was loaded at (0: never stored)."""
        return self._sf.revision

    def _sf_snapshot(self, history: bool, write: Callable[[bool], dict[str, Any]]) -> Any:
        if history and self._sf.revision:
            raise invalid(
                Reason.INVALID_VALUE,
                "S4",
                "an object loaded from a store holds only the history since it was loaded; its "
                "full history is in the store's audit log (store.audit): snapshot it with "
                "history=False",
            )
        return write(history)

    def _sf_track(
        self, request: str, params: dict[str, Any], actor: object, call: Callable[[], T]
    ) -> T:
        t = self._sf
        with t.lock:
            try:
                start = len(self.history)  # a read: what has come due is applied first (T7)
                result = call()
            except SupportFlowsError as error:
                position = self._sf_length(t)
                t.calls.append(
                    Call(request, params, _actor(actor), self._sf_now(t), position, position, error)
                )
                raise
            history = self.history
            at = history[-1].at if len(history) > start else self._sf_now(t)
            t.calls.append(Call(request, params, _actor(actor), at, start, len(history)))
            return result

    def _sf_length(self, t: Tracking) -> int:
        try:
            return len(self.history)
        except SupportFlowsError:  # a clock that cannot be read: nothing was applied
            return t.emitted + sum(c.end - c.start for c in t.calls)

    def _sf_now(self, t: Tracking) -> pendulum.DateTime | None:
        try:
            history = self.history
            return read_clock(t.clock, history[-1].at if history else t.floor)
        except SupportFlowsError:
            return t.floor


def stored(kind: type[T], obj: object) -> T:
    """`obj`, built by a core constructor on a stored class (typed as the core class)."""
    assert isinstance(obj, kind)
    return obj


def _actor(actor: object) -> str | None:
    return actor.user_id if isinstance(actor, Member) else None


class StoredPlan(_Tracked, SupportPlan):
    """A `SupportPlan` loaded from (or bound for) a store; see the module's docstring."""

    __slots__ = ("_sf",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sf = Tracking(self.clock)

    def snapshot(self, *, history: bool = False) -> dict[str, Any]:
        """As `SupportPlan.snapshot`, without the history by default: a loaded plan's history
        starts at its loading (the rest is in the audit log), so only a never-stored plan can
        write it."""
        return self._sf_snapshot(history, lambda h: SupportPlan.snapshot(self, history=h))  # type: ignore[no-any-return]

    def change(self, tier: Tier | str, actor: Member) -> HistoryEntry:
        return self._sf_track(
            "change",
            {"tier": param(tier), "actor": param(actor)},
            actor,
            lambda: SupportPlan.change(self, tier, actor),
        )

    def cancel(self, actor: Member) -> HistoryEntry:
        return self._sf_track(
            "cancel", {"actor": param(actor)}, actor, lambda: SupportPlan.cancel(self, actor)
        )

    def revoke_pending(self, actor: Member) -> HistoryEntry:
        return self._sf_track(
            "revoke_pending",
            {"actor": param(actor)},
            actor,
            lambda: SupportPlan.revoke_pending(self, actor),
        )


class StoredOrder(_Tracked, ConsultingOrder):
    """A `ConsultingOrder` loaded from (or bound for) a store; see the module's docstring."""

    __slots__ = ("_sf",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outbox = kwargs.get("outbox")
        self._sf = Tracking(kwargs["clock"], outbox if isinstance(outbox, Mailbag) else None)

    def snapshot(self, *, history: bool = False) -> dict[str, Any]:
        """As `ConsultingOrder.snapshot`, without the history by default (see `StoredPlan`)."""
        return self._sf_snapshot(history, lambda h: ConsultingOrder.snapshot(self, history=h))  # type: ignore[no-any-return]

    def confirm(self) -> None:
        self._sf_track("confirm", {}, None, lambda: ConsultingOrder.confirm(self))

    def schedule(self, *, start: pendulum.DateTime, hours: int, actor: Member) -> Any:
        return self._sf_track(
            "schedule",
            {"start": param(start), "hours": param(hours), "actor": param(actor)},
            actor,
            lambda: ConsultingOrder.schedule(self, start=start, hours=hours, actor=actor),
        )

    def cancel_session(self, session_id: str, *, actor: Member | None = None) -> Any:
        return self._sf_track(
            "cancel_session",
            {"session_id": param(session_id), "actor": param(actor)},
            actor,
            lambda: ConsultingOrder.cancel_session(self, session_id, actor=actor),
        )

    def deliver(self, session_id: str, *, actor: Member | None = None) -> Any:
        return self._sf_track(
            "deliver",
            {"session_id": param(session_id), "actor": param(actor)},
            actor,
            lambda: ConsultingOrder.deliver(self, session_id, actor=actor),
        )
