"""Frozen records of a Flex Consulting order: its history and its snapshot, with the V2 checks a
restore runs on it (the first inconsistency found is named)."""

from __future__ import annotations

import enum

import attrs
import pendulum

from support_flows.consulting_values import OrderState, Session, SessionStatus, UnitBalance
from support_flows.errors import describe
from support_flows.guards.consulting import expiry_for, state_for
from support_flows.inputs import QUANTITY_BOUNDS, is_email, is_identifier
from support_flows.records import Record
from support_flows.snapshots import whose
from support_flows.values import Organization

__all__ = [
    "KIND",
    "SNAPSHOT_VERSION",
    "OrderAction",
    "OrderChannel",
    "OrderEvent",
    "OrderSnapshot",
    "inconsistency",
]

SNAPSHOT_VERSION = 2
KIND = "consulting_order"


class OrderAction(enum.StrEnum):
    """What an `OrderEvent` records."""

    CHECKOUT = "checkout"
    PURCHASE = "purchase"
    SCHEDULE = "schedule"
    CANCEL_SESSION = "cancel_session"
    DELIVER = "deliver"
    EXPIRE = "expire"


class OrderChannel(enum.StrEnum):
    """Where the units were bought (F1)."""

    CONSOLE = "console"
    REPRESENTATIVE = "representative"


@attrs.frozen
class OrderEvent(Record):
    """One entry of an order's history: what happened, when, to how many units, by whom."""

    at: pendulum.DateTime
    action: OrderAction
    units: int
    session_id: str | None
    actor: str | None


@attrs.frozen(slots=False)  # read once per restore; a dict class is built faster
class OrderSnapshot:
    """Everything an order knows, as its snapshot holds it: every field required on restore.

    `history` is None in a snapshot written without it (a store keeps it in its audit log).
    """

    kind: str
    version: int
    order_id: str
    org_id: str
    billing_timezone: str
    state: OrderState
    channel: OrderChannel
    buyer_email: str
    requested_by: str | None
    sales_reference: str | None
    hours_per_unit: int
    validity_months: int | None
    created_at: pendulum.DateTime
    purchased_at: pendulum.DateTime | None
    expires_at: pendulum.DateTime | None
    validity_ended: bool
    recorded_at: pendulum.DateTime | None
    units: UnitBalance
    sessions: tuple[Session, ...]
    history: tuple[OrderEvent, ...] | None


def _within(value: int | None, what: str) -> bool:
    low, high = QUANTITY_BOUNDS[what]
    return value is None or low <= value <= high


def inconsistency(r: OrderSnapshot, org: Organization) -> str | None:
    """The first thing that makes a well-typed record one this library could not have written,
    if any."""
    return (
        whose(r.version, r.org_id, r.billing_timezone, SNAPSHOT_VERSION, org)
        or _record(r, org.billing_timezone)
        or _sessions(r)
        or _recorded(r)
        or (_history(r, r.history) if r.history is not None else None)
    )


def _record(r: OrderSnapshot, tz: str) -> str | None:
    """Quantities (V4), the unit balance (F7), channel, purchase, expiry (F6) and names (V5)."""
    checkout = r.state is OrderState.CHECKOUT
    if not (_within(r.units.purchased, "units") and _within(r.hours_per_unit, "hours_per_unit")):
        return "its units or hours per unit are outside what the product holds (V4)"
    if not _within(r.validity_months, "validity_months"):
        return f"its validity of {describe(r.validity_months)} months is outside 1-120 (V4)"
    if not r.units.holds:
        return f"its unit balance {describe(r.units)} does not add up (F7)"
    if not checkout and r.state is not state_for(r.units):
        return f"state {r.state.value!r} does not match {describe(r.units)}"
    if checkout and (r.purchased_at is not None or r.sessions or r.units.expired):
        return "an order in checkout has no purchase, sessions or expired units"
    if (r.channel is OrderChannel.CONSOLE) != (r.requested_by is not None):
        return "only a console order names who requested it"
    if (r.channel is OrderChannel.REPRESENTATIVE) != (r.sales_reference is not None):
        return "only an order from a representative carries a sales reference"
    if r.channel is OrderChannel.REPRESENTATIVE and checkout:
        return "an order from a representative is never in checkout (F1)"
    if not checkout:
        if r.purchased_at is None or r.purchased_at < r.created_at:
            return "a purchased order has a purchase instant at or after its creation"
        if r.expires_at != expiry_for(r.purchased_at, r.validity_months, tz):
            return "its expiry is not its validity after the purchase (F6)"
    elif r.expires_at is not None:
        return "an order in checkout has no expiry yet"
    if r.validity_ended and (r.expires_at is None or checkout):
        return "its validity ended, but it has no expiry"
    if r.units.expired and not r.validity_ended:
        return "it has expired units but its validity has not ended"
    names = [r.order_id, r.requested_by, r.sales_reference]
    names += [n for s in r.sessions for n in (s.booked_by, s.closed_by)]
    if not all(n is None or is_identifier(n) for n in names) or not is_email(r.buyer_email):
        return "an id, a sales reference or the buyer's email is not one this library accepts (V5)"
    return None


def _recorded(r: OrderSnapshot) -> str | None:
    """T8: the record's latest instant is no earlier than anything it records."""
    latest = max(
        [r.created_at, *(a for a in (r.purchased_at,) if a)]
        + [s.closed_at or s.booked_at for s in r.sessions],
    )
    if r.recorded_at is not None and r.recorded_at < latest:
        return f"recorded_at {r.recorded_at.isoformat()} is before what the order records (T8)"
    return None


def _sessions(r: OrderSnapshot) -> str | None:
    booked = sum(s.units for s in r.sessions if s.is_booked)
    delivered = sum(s.units for s in r.sessions if s.status is SessionStatus.DELIVERED)
    if (booked, delivered) != (r.units.scheduled, r.units.consumed):
        return "its sessions do not match its scheduled and consumed units"
    for n, s in enumerate(r.sessions, start=1):
        if s.session_id != f"s-{n}":
            return "its session ids are not s-1, s-2, ..."
        problem = _session(r, s)
        if problem is not None:
            return f"{_session_name(s)} {problem}"
    return None


def _session(r: OrderSnapshot, s: Session) -> str | None:
    if s.units < 1 or s.units * r.hours_per_unit != s.hours or s.hours > 10_000:
        return "does not book a positive whole number of units for its hours"
    if r.purchased_at is None or s.booked_at < r.purchased_at or s.start <= s.booked_at:
        return "was not booked after the purchase, to start after its booking"
    if r.expires_at is not None and s.end > r.expires_at:
        return "ends after the order expires (F6)"
    if (s.closed_at is None) != s.is_booked or (s.closed_by is not None and s.is_booked):
        return f"is {s.status.value} but its closing does not say so"
    if s.status is SessionStatus.DELIVERED and s.closed_at is not None and s.closed_at < s.start:
        return "was delivered before it started (F5)"
    if s.status is SessionStatus.CANCELLED and s.closed_at is not None and s.closed_at >= s.start:
        return "was cancelled after it started (F5)"
    return None


def _session_name(s: Session) -> str:
    return f"session {describe(s.session_id)}"


def _history(r: OrderSnapshot, history: tuple[OrderEvent, ...]) -> str | None:
    """The history is the order's own: opened, bought once, and one entry for each booking,
    closing and expiry the record holds, each when and by whom the record says."""
    previous: pendulum.DateTime | None = None
    for n, event in enumerate(history):
        if previous is not None and event.at < previous:
            return f"history entry {n} ({event.action.value}) comes before the one preceding it"
        if not 0 <= event.units <= QUANTITY_BOUNDS["units"][1]:
            return f"history entry {n} ({event.action.value}) counts units outside 0-100,000"
        previous = event.at
    opening = OrderAction.CHECKOUT if r.channel is OrderChannel.CONSOLE else OrderAction.PURCHASE
    if not history or history[0].action is not opening or history[0].at != r.created_at:
        return f"its history does not open with the {opening.value} at its creation"
    # The members read once: Python 3.11 reads an enum's members through its class slowly.
    purchase, schedule, expire = OrderAction.PURCHASE, OrderAction.SCHEDULE, OrderAction.EXPIRE
    closings = (OrderAction.CANCEL_SESSION, OrderAction.DELIVER)
    purchases = [e for e in history if e.action is purchase]
    if len(purchases) != (0 if r.state is OrderState.CHECKOUT else 1):
        return "its history does not record exactly one purchase once purchased (F3)"
    if purchases and (purchases[0].at != r.purchased_at or purchases[0].actor != r.requested_by):
        return "its history's purchase is not the order's purchase"
    booked = [(e.session_id, e.at, e.units, e.actor) for e in history if e.action is schedule]
    if booked != [(s.session_id, s.booked_at, s.units, s.booked_by) for s in r.sessions]:
        return "its history's bookings are not its sessions (F4)"
    closed = sorted(
        (e.session_id or "", e.at, e.units, e.actor, e.action.value)
        for e in history
        if e.action in closings
    )
    closing = {SessionStatus.CANCELLED: "cancel_session", SessionStatus.DELIVERED: "deliver"}
    expected = sorted(
        (s.session_id, s.closed_at, s.units, s.closed_by, closing[s.status])
        for s in r.sessions
        if not s.is_booked
    )
    if closed != expected:
        return "its history's cancellations and deliveries are not its closed sessions (F5)"
    expiries = [e.at for e in history if e.action is expire]
    if expiries != ([r.expires_at] if r.validity_ended else []):
        return "its history's expiry is not the order's (F6)"
    if r.recorded_at != (history[-1].at if history else None):
        return "recorded_at is not the instant of the history's latest entry (T8)"
    return None
