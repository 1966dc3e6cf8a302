"""What the store hands back: audit entries (S4), command outcomes (S2), queued emails (S3),
rollover reports (S5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.outbox import Email

__all__ = ["AuditEntry", "Outcome", "QueuedEmail", "RolloverReport", "from_micros", "micros"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


def micros(at: dt.datetime) -> int:
    """An instant as whole microseconds since 1970 UTC, the store's column format."""
    u = instant(at)
    seconds = (u.toordinal() - _EPOCH_DAY) * 86_400 + u.hour * 3_600 + u.minute * 60 + u.second
    return seconds * 1_000_000 + u.microsecond


def from_micros(value: int) -> pendulum.DateTime:
    return instant(_EPOCH + dt.timedelta(microseconds=value))


@attrs.frozen
class AuditEntry:
    """One line of the append-only audit log (S4).

    `outcome` is "accepted" or "refused" for a request (`request` names the call: "change",
    "confirm", ...) and "applied" for a change the clock applied (a trial's end, a pending change,
    an expiry). `event` is the history event the line records, `reason` a refusal's code, and
    `detail` the request's parameters with its history entry or error.
    """

    entry_id: int
    org_id: str
    subject: str
    subject_id: str | None
    at: pendulum.DateTime
    outcome: str
    request: str | None
    event: str | None
    actor: str | None
    reason: str | None
    idempotency_key: str | None
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, the instant as ISO 8601 UTC."""
        data = attrs.asdict(self, recurse=False)
        data["at"] = self.at.isoformat()
        return data


@attrs.frozen
class Outcome:
    """The result of a command run through the store.

    `result` is what the command returned, JSON-safe (records as their `to_dict()`); `revision`
    the stored revision it left; `replayed` is True when an idempotency key answered it from the
    first run (S2), which changed nothing.
    """

    result: Any
    revision: int | None
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.result, "revision": self.revision, "replayed": self.replayed}


@attrs.frozen
class QueuedEmail(Email):
    """An email from the store's outbox, with the stable id a relay delivers it under (S3):
    a resend after a crash carries the same `message_id`, so a receiver can drop duplicates."""

    message_id: str


@attrs.frozen
class RolloverReport:
    """What a rollover did: records saved, entries applied, records refused as invalid."""

    until: pendulum.DateTime
    plans: int
    orders: int
    applied: int
    invalid: tuple[str, ...]
    workers: int
    seconds: float

    def summary(self) -> str:
        """One line for a log."""
        saved = self.plans + self.orders
        rate = saved / self.seconds if self.seconds > 0 else 0.0
        bad = (
            f", {len(self.invalid)} invalid ({', '.join(self.invalid[:5])})" if self.invalid else ""
        )
        return (
            f"rollover until {self.until.isoformat()}: {self.plans} plans and {self.orders} "
            f"orders saved, {self.applied} changes applied{bad}; {self.workers} "
            f"worker{'s' if self.workers != 1 else ''}, {self.seconds:.2f} s ({rate:,.0f}/s)"
        )

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self, recurse=False)
        data["until"] = self.until.isoformat()
        data["invalid"] = list(self.invalid)
        return data
