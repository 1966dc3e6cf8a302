"""An executable reference of a Flex Consulting order, written from RULES.md (F0-F7, T7) alone.

It shares nothing with the order chart, its guards, its book or the library's calendar: F6's
month arithmetic is the reference's own, `reference.calendar`. Every function is pure: a
`RefOrder` in, a new one out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import attrs

from support_flows.verify.reference.calendar import add_wall_months_clamped
from support_flows.verify.reference.terms import current

__all__ = [
    "DEFAULT_HOURS_PER_UNIT",
    "DEFAULT_VALIDITY_MONTHS",
    "RefOrder",
    "RefSession",
    "Refusal",
    "cancel_or_deliver",
    "confirm",
    "floor",
    "observe",
    "open_console",
    "open_representative",
    "schedule",
]

Refusal = tuple[str, str]
"""(reason code, rule id)."""

BILLING_ROLES = frozenset({"ORG_OWNER", "ORG_BILLING_ADMIN"})
"""F1's roles under Atlas's policy (a policy's `billing_roles` replace them, K1)."""
ACTIVE = ("purchased", "scheduled")
DEFAULT_HOURS_PER_UNIT = 1
"""F2: an order's hours per unit when none is given."""
DEFAULT_VALIDITY_MONTHS: int | None = None
"""F6: an order's validity when none is given (it never expires)."""


@attrs.frozen
class RefSession:
    session_id: str
    start: dt.datetime
    hours: int
    units: int
    status: str = "scheduled"


@attrs.frozen
class RefOrder:
    """What RULES.md says an order holds."""

    tz: str
    units: int
    hours_per_unit: int
    validity_months: int | None
    requested_by: str | None = None
    """Who opened a console order (None for a representative's)."""
    state: str = "new"
    purchased_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    validity_ended: bool = False
    available: int = 0
    scheduled: int = 0
    consumed: int = 0
    expired: int = 0
    sessions: tuple[RefSession, ...] = ()
    emails: int = 0
    history: tuple[tuple[dt.datetime, str, int, str | None, str | None], ...] = ()
    """(at, what, units, session id, actor) of every step, as F's records name them."""

    @property
    def balance(self) -> tuple[int, int, int, int, int]:
        return (self.units, self.available, self.scheduled, self.consumed, self.expired)

    def session(self, session_id: str) -> RefSession | None:
        return next((s for s in self.sessions if s.session_id == session_id), None)


def _settled(ref: RefOrder) -> RefOrder:
    """F's state definitions, read off the balance of a purchased order."""
    if ref.scheduled:
        state = "scheduled"
    elif ref.consumed == ref.units:
        state = "consumed"
    elif ref.available:
        state = "purchased"
    else:
        state = "expired"
    return attrs.evolve(ref, state=state)


def _log(
    ref: RefOrder,
    at: dt.datetime,
    what: str,
    units: int,
    session: str | None,
    actor: str | None,
) -> RefOrder:
    return attrs.evolve(ref, history=(*ref.history, (at, what, units, session, actor)))


def _member(
    org_roles: Collection[str],
    project_roles: Mapping[str, Collection[str]],
    projects: Collection[str],
) -> bool:
    return bool(org_roles) or any(roles and p in projects for p, roles in project_roles.items())


def _purchase(ref: RefOrder, now: dt.datetime, actor: str | None) -> RefOrder:
    """F1, F3, F6: purchased now, its validity running from now, one email queued."""
    expires = None
    if ref.validity_months is not None:
        expires = add_wall_months_clamped(now, ref.validity_months, ref.tz)
    ref = attrs.evolve(
        ref,
        state="purchased",
        purchased_at=now,
        expires_at=expires,
        available=ref.units,
        emails=ref.emails + 1,
    )
    return _log(ref, now, "purchase", ref.units, None, actor)


def open_console(
    ref: RefOrder,
    org_roles: Collection[str],
    actor: str,
    now: dt.datetime,
    *,
    has_email: bool = True,
) -> tuple[RefOrder, tuple[Refusal, ...]]:
    """F1: a console order needs a billing role, and F3 a buyer with an e-mail address (listed
    after it); it waits in checkout, its units not yet usable but counted as available (F7
    holds at every step)."""
    reasons: list[Refusal] = []
    if not current().billing_roles & set(org_roles):
        reasons.append(("billing_role_required", "F1"))
    if not has_email:
        reasons.append(("buyer_email_required", "F3"))
    if reasons:
        return ref, tuple(reasons)
    ref = attrs.evolve(ref, state="checkout", requested_by=actor, available=ref.units)
    return _log(ref, now, "checkout", ref.units, None, actor), ()


def open_representative(
    ref: RefOrder, sales_reference: str, now: dt.datetime
) -> tuple[RefOrder, tuple[Refusal, ...]]:
    """F1: a representative's order needs a sales reference; it is purchased at once."""
    if not sales_reference.strip():
        return ref, (("sales_reference_required", "F1"),)
    return _purchase(ref, now, None), ()


def confirm(ref: RefOrder, now: dt.datetime) -> RefOrder:
    """F1/F3: checkout becomes purchased; in any other state nothing happens."""
    return _purchase(ref, now, ref.requested_by) if ref.state == "checkout" else ref


def floor(ref: RefOrder, reading: dt.datetime) -> dt.datetime:
    """T8: a clock reading earlier than the order's latest history entry counts as that
    entry's instant."""
    last = ref.history[-1][0] if ref.history else None
    return reading if last is None or reading >= last else last


def observe(ref: RefOrder, now: dt.datetime) -> tuple[RefOrder, bool]:
    """F6/T7: at the expiry the available units expire; whether that happened now."""
    expires = ref.expires_at
    if expires is None or ref.validity_ended or ref.state not in ACTIVE or now < expires:
        return ref, False
    expiring = ref.available
    ref = attrs.evolve(ref, available=0, expired=ref.expired + expiring, validity_ended=True)
    return _log(_settled(ref), expires, "expire", expiring, None, None), True


def _active(ref: RefOrder) -> tuple[Refusal, ...]:
    if ref.state == "checkout":
        return (("order_not_active", "F0"),)
    if ref.state not in ACTIVE:
        return (("order_not_active", "F7"),)
    return ()


def schedule(
    ref: RefOrder,
    member: tuple[Collection[str], Mapping[str, Collection[str]], Collection[str]],
    actor: str,
    start: dt.datetime,
    hours: int,
    now: dt.datetime,
) -> tuple[RefOrder, tuple[Refusal, ...]]:
    """F0, F4, F6: book whole units, starting after now, ending by the expiry."""
    if refused := _active(ref):
        return ref, refused
    units = hours // ref.hours_per_unit
    reasons: list[Refusal] = []
    if hours % ref.hours_per_unit:
        reasons.append(("invalid_quantity", "F4"))
    if not _member(*member):
        reasons.append(("not_org_member", "F0"))
    if start <= now:
        reasons.append(("session_in_past", "F4"))
    if ref.expires_at is not None and start + dt.timedelta(hours=hours) > ref.expires_at:
        reasons.append(("session_after_expiry", "F6"))
    if units > ref.available:
        reasons.append(("insufficient_units", "F4"))
    if reasons:
        return ref, tuple(reasons)
    session = RefSession(f"s-{len(ref.sessions) + 1}", start, hours, units)
    ref = attrs.evolve(
        ref,
        sessions=(*ref.sessions, session),
        available=ref.available - units,
        scheduled=ref.scheduled + units,
    )
    return _log(_settled(ref), now, "schedule", units, session.session_id, actor), ()


def cancel_or_deliver(
    ref: RefOrder,
    deliver: bool,
    member: tuple[Collection[str], Mapping[str, Collection[str]], Collection[str]] | None,
    actor: str | None,
    session_id: str,
    now: dt.datetime,
) -> tuple[RefOrder, tuple[Refusal, ...]]:
    """F0, F5: cancel before the start (units back, or expired after the validity), deliver at
    or after it (units consumed). `member` None: the host itself closes the session."""
    if refused := _active(ref):
        return ref, refused
    reasons: list[Refusal] = []
    if member is not None and not _member(*member):
        reasons.append(("not_org_member", "F0"))
    session = ref.session(session_id)
    if session is None:
        reasons.append(("unknown_session", "F5"))
    elif session.status != "scheduled":
        reasons.append(("event_not_allowed", "V3"))
    elif deliver and now < session.start:
        reasons.append(("session_not_started", "F5"))
    elif not deliver and now >= session.start:
        reasons.append(("session_already_started", "F5"))
    if reasons:
        return ref, tuple(reasons)
    assert session is not None
    closed = attrs.evolve(session, status="delivered" if deliver else "cancelled")
    sessions = tuple(closed if s.session_id == session_id else s for s in ref.sessions)
    if deliver:
        ref = attrs.evolve(ref, consumed=ref.consumed + session.units)
    elif ref.validity_ended:
        ref = attrs.evolve(ref, expired=ref.expired + session.units)
    else:
        ref = attrs.evolve(ref, available=ref.available + session.units)
    ref = attrs.evolve(ref, sessions=sessions, scheduled=ref.scheduled - session.units)
    what = "deliver" if deliver else "cancel_session"
    return _log(_settled(ref), now, what, session.units, session_id, actor), ()
