"""Frozen records of a Flex Consulting order: its history and its snapshot, with the V2 checks a
restore makes on the record alone (the first inconsistency found is named). Each derived fact
(the state, the balance, the validity, recorded_at, the sessions' closings) must be one accepted
requests could have produced from the rest of the record; with a history, the machine moreover
replays it (`machines.consulting_record`).

Version 3 records the id of the catalog version that decided the order (K4). A version-2
snapshot, written before policies existed, is read as the same record at version 3 decided by
Atlas's policy, version ``atlas`` (`upgraded`): every order that library wrote was decided by
Atlas's rules, so a host upgrading the library loads what it stored. No other version is read.
"""

from __future__ import annotations

import enum

import attrs
import pendulum

from support_flows.codec import Record
from support_flows.errors import describe
from support_flows.inputs import QUANTITY_BOUNDS, is_email, is_identifier
from support_flows.snapshots.strict import whose
from support_flows.values import Organization
from support_flows.values.consulting import (
    OrderState,
    Session,
    SessionStatus,
    UnitBalance,
    books_whole_units,
    expiry_for,
    state_for,
    units_for,
)
from support_flows.values.policy import Catalog

__all__ = [
    "KIND",
    "LEGACY_POLICY",
    "SNAPSHOT_VERSION",
    "OrderAction",
    "OrderChannel",
    "OrderEvent",
    "OrderSnapshot",
    "inconsistency",
    "upgraded",
]

SNAPSHOT_VERSION = 3
KIND = "consulting_order"
_LEGACY_VERSION = 2
LEGACY_POLICY = "atlas"
"""The catalog version a version-2 snapshot is read under: Atlas's, the only policy then."""
_ACTIVE = (OrderState.PURCHASED, OrderState.SCHEDULED)


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
    """One entry of an order's history: what happened, when, to how many units, by whom, and
    the catalog version that decided it (K4): the request's, or for the expiry the clock applied,
    the version that opened the order and set its validity."""

    at: pendulum.DateTime
    action: OrderAction
    units: int
    session_id: str | None
    actor: str | None
    policy: str = "atlas"


@attrs.frozen(slots=False)  # read once per restore; a dict class is built faster
class OrderSnapshot:
    """Everything an order knows, as its snapshot holds it: every field required on restore.

    `history` is None in a snapshot written without it (a store keeps it in its audit log).
    """

    kind: str
    version: int
    policy: str
    """The id of the catalog version that decided the order's opening (K4)."""
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


def upgraded(data: object) -> object:
    """An order snapshot of an earlier format read as the version-3 one the same order writes
    now; anything else as it is, for the strict reading to accept or refuse.

    A version-2 snapshot (before policies: neither it nor an entry of its history names one) was
    decided under `LEGACY_POLICY`, every entry too. A version-3 snapshot whose history entries all
    omit their version, as the first release of policies wrote them, holds the order's own
    version in each (K4). A snapshot that names some versions and omits others is neither: left
    as it is, it is refused."""
    if type(data) is not dict or type(data.get("kind")) is not str or data["kind"] != KIND:
        return data
    version = data.get("version")
    history = data.get("history")
    events = history if type(history) is list else []
    if any(type(event) is dict and "policy" in event for event in events):
        return data
    if type(version) is int and version == _LEGACY_VERSION and "policy" not in data:
        decided = LEGACY_POLICY
    elif type(version) is int and version == SNAPSHOT_VERSION and type(data.get("policy")) is str:
        decided = data["policy"]
        if not events:
            return data
    else:
        return data
    found = {**data, "version": SNAPSHOT_VERSION, "policy": decided}
    if type(history) is list:
        found["history"] = [
            {**event, "policy": decided} if type(event) is dict else event for event in history
        ]
    return found


def _within(value: int | None, what: str) -> bool:
    low, high = QUANTITY_BOUNDS[what]
    return value is None or low <= value <= high


def inconsistency(r: OrderSnapshot, org: Organization, catalog: Catalog) -> str | None:
    """The first thing that makes a well-typed record one this library could not have written
    under `catalog`, if any."""
    return (
        whose(r.version, r.org_id, r.billing_timezone, SNAPSHOT_VERSION, org)
        or _policy(r, catalog)
        or _record(r, org.billing_timezone)
        or _sessions(r)
        or _recorded(r)
        or _validity(r)
    )


def _policy(r: OrderSnapshot, catalog: Catalog) -> str | None:
    """K4: the version that decided the order is one of the catalog's, and was in force by the
    order's opening (the first version applies from the beginning). The order's terms are its
    own (K3: a caller may have given them), so they are not compared with the version's."""
    first = catalog.versions[0]
    if r.policy == first.version:
        return None
    if r.policy not in catalog:
        return (
            f"it was decided under policy version {describe(r.policy)}, which the catalog lacks "
            f"(it holds {', '.join(catalog.ids)}) (K4)"
        )
    starts = catalog[r.policy].effective_from
    if starts is not None and starts > r.created_at:
        return (
            f"its policy version {r.policy!r} takes effect at {starts.isoformat()}, after the "
            f"order was opened at {r.created_at.isoformat()} (K4)"
        )
    return None


def _record(r: OrderSnapshot, tz: str) -> str | None:
    """Quantities (V4), the unit balance (F7), channel, purchase, expiry (F6) and names (V5)."""
    return _quantities(r) or _channel(r) or _purchase(r, tz) or _names(r)


def _quantities(r: OrderSnapshot) -> str | None:
    """V4's bounds, F7's balance and the state it means."""
    if not (_within(r.units.purchased, "units") and _within(r.hours_per_unit, "hours_per_unit")):
        return "its units or hours per unit are outside what the product holds (V4)"
    if not _within(r.validity_months, "validity_months"):
        return f"its validity of {describe(r.validity_months)} months is outside 1-120 (V4)"
    if not r.units.holds:
        return f"its unit balance {describe(r.units)} does not add up (F7)"
    checkout = r.state is OrderState.CHECKOUT
    if not checkout and r.state is not state_for(r.units):
        return f"state {r.state.value!r} does not match {describe(r.units)}"
    if checkout and (r.purchased_at is not None or r.sessions or r.units.expired):
        return "an order in checkout has no purchase, sessions or expired units"
    return None


def _channel(r: OrderSnapshot) -> str | None:
    """F1: a console order names its requester; a representative's carries a sales reference
    and is purchased when created."""
    if (r.channel is OrderChannel.CONSOLE) != (r.requested_by is not None):
        return "only a console order names who requested it"
    if (r.channel is OrderChannel.REPRESENTATIVE) != (r.sales_reference is not None):
        return "only an order from a representative carries a sales reference"
    if r.channel is OrderChannel.REPRESENTATIVE and (
        r.state is OrderState.CHECKOUT or r.purchased_at != r.created_at
    ):
        return "an order from a representative is purchased when it is created (F1)"
    return None


def _purchase(r: OrderSnapshot, tz: str) -> str | None:
    """The purchase instant, the expiry it sets (F6) and the end of the validity."""
    checkout = r.state is OrderState.CHECKOUT
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
    return None


def _names(r: OrderSnapshot) -> str | None:
    """V5: ids, the sales reference and the buyer's e-mail are ones the library accepts."""
    names = [r.order_id, r.requested_by, r.sales_reference]
    names += [n for s in r.sessions for n in (s.booked_by, s.closed_by)]
    if not all(n is None or is_identifier(n) for n in names) or not is_email(r.buyer_email):
        return "an id, a sales reference or the buyer's email is not one this library accepts (V5)"
    return None


def _recorded(r: OrderSnapshot) -> str | None:
    """T8 and T7: `recorded_at` is the instant of the order's latest history entry, which is the
    latest instant the record holds (every entry opens, buys, books, closes or expires), and
    nothing the record still holds as due (the expiry) had come by then."""
    expiry = r.expires_at
    latest = max(
        [r.created_at, *(a for a in (r.purchased_at,) if a)]
        + [s.closed_at or s.booked_at for s in r.sessions]
        + ([expiry] if r.validity_ended and expiry is not None else [])
    )
    if r.recorded_at != latest:
        return (
            f"recorded_at {_iso(r.recorded_at)} is not the latest instant the order records, "
            f"{latest.isoformat()} (T8)"
        )
    if (
        expiry is not None
        and not r.validity_ended
        and r.state in _ACTIVE
        and r.recorded_at is not None
        and r.recorded_at >= expiry
    ):
        return (
            f"recorded_at {_iso(r.recorded_at)} is not before the expiry {expiry.isoformat()}, "
            "yet its validity has not ended (F6, T7)"
        )
    return None


def _validity(r: OrderSnapshot) -> str | None:
    """F6: the validity ends at the expiry of an order still active then, its unused units
    expiring; a session closed at or after the expiry comes after it."""
    expiry = r.expires_at
    if expiry is None:
        return None
    late = [s.session_id for s in r.sessions if s.closed_at is not None and s.closed_at >= expiry]
    if late and not r.validity_ended:
        return f"session {late[0]!r} closed at or after the expiry, but its validity has not ended"
    if not r.validity_ended:
        return None
    if r.units.available:
        return f"its validity ended, yet {r.units.available} unit(s) are still available (F6)"
    used_before = sum(
        s.units
        for s in r.sessions
        if s.status is SessionStatus.DELIVERED and s.closed_at is not None and s.closed_at < expiry
    )
    if used_before >= r.units.purchased:
        return "its validity ended, but every unit was consumed before the expiry (F6)"
    return None


def _iso(at: pendulum.DateTime | None) -> str:
    return "none" if at is None else at.isoformat()


def _sessions(r: OrderSnapshot) -> str | None:
    booked = sum(s.units for s in r.sessions if s.is_booked)
    delivered = sum(s.units for s in r.sessions if s.status is SessionStatus.DELIVERED)
    if (booked, delivered) != (r.units.scheduled, r.units.consumed):
        return "its sessions do not match its scheduled and consumed units"
    previous = None
    for n, s in enumerate(r.sessions, start=1):
        if s.session_id != f"s-{n}":
            return "its session ids are not s-1, s-2, ..."
        if previous is not None and s.booked_at < previous:
            return f"{_session_name(s)} was booked before the session preceding it"
        previous = s.booked_at
        problem = _session(r, s)
        if problem is not None:
            return f"{_session_name(s)} {problem}"
    return None


def _session(r: OrderSnapshot, s: Session) -> str | None:
    return _session_booking(r, s) or _session_closing(s)


def _session_booking(r: OrderSnapshot, s: Session) -> str | None:
    """F4's whole units for its hours, booked after the purchase, ending by the expiry (F6)."""
    whole = books_whole_units(s.hours, r.hours_per_unit)
    if s.units < 1 or not whole or units_for(s.hours, r.hours_per_unit) != s.units:
        return "does not book a positive whole number of units for its hours"
    if s.hours > 10_000:
        return "does not book a positive whole number of units for its hours"
    if r.purchased_at is None or s.booked_at < r.purchased_at or s.start <= s.booked_at:
        return "was not booked after the purchase, to start after its booking"
    if r.expires_at is not None and s.end > r.expires_at:
        return "ends after the order expires (F6)"
    return None


def _session_closing(s: Session) -> str | None:
    """F5: delivered once started, cancelled before it starts, closed after it was booked."""
    if (s.closed_at is None) != s.is_booked or (s.closed_by is not None and s.is_booked):
        return f"is {s.status.value} but its closing does not say so"
    if s.status is SessionStatus.DELIVERED and s.closed_at is not None and s.closed_at < s.start:
        return "was delivered before it started (F5)"
    if s.status is SessionStatus.CANCELLED and s.closed_at is not None and s.closed_at >= s.start:
        return "was cancelled after it started (F5)"
    if s.closed_at is not None and s.closed_at < s.booked_at:
        return f"was closed at {s.closed_at.isoformat()}, before it was booked (F5)"
    return None


def _session_name(s: Session) -> str:
    return f"session {describe(s.session_id)}"
