"""Pure rules of Flex Consulting orders (RULES.md F0-F7): facts in, a violation or None out."""

from __future__ import annotations

import datetime as dt

import pendulum

from support_flows.consulting_values import FINAL_STATES, OrderState, Session, UnitBalance
from support_flows.errors import Reason, Violation
from support_flows.localtime import add_wall_months_clamped
from support_flows.values import Member, Organization


def state_for(balance: UnitBalance) -> OrderState:
    """The state a purchased order's balance means (F's state definitions)."""
    if balance.scheduled > 0:
        return OrderState.SCHEDULED
    if balance.consumed == balance.purchased:
        return OrderState.CONSUMED
    if balance.available > 0:
        return OrderState.PURCHASED
    return OrderState.EXPIRED


def units_left_nothing_booked(after: UnitBalance) -> bool:
    return state_for(after) is OrderState.PURCHASED


def sessions_booked(after: UnitBalance) -> bool:
    return state_for(after) is OrderState.SCHEDULED


def every_unit_consumed(after: UnitBalance) -> bool:
    return state_for(after) is OrderState.CONSUMED


def units_expired_nothing_booked(after: UnitBalance) -> bool:
    return state_for(after) is OrderState.EXPIRED


def expiry_for(
    purchased_at: dt.datetime, validity_months: int | None, tz: str
) -> pendulum.DateTime | None:
    """F6: the purchase's local wall time `validity_months` later, clamped to the month's end."""
    if validity_months is None:
        return None
    return add_wall_months_clamped(purchased_at, validity_months, tz)


def expiry_due(
    expires_at: dt.datetime | None, validity_ended: bool, order_state: OrderState, now: dt.datetime
) -> bool:
    """T7/F6: an active order's validity ends once the clock reaches its expiry instant."""
    return (
        expires_at is not None
        and not validity_ended
        and order_state not in FINAL_STATES
        and order_state is not OrderState.CHECKOUT
        and now >= expires_at
    )


def _is_whole(value: object, minimum: int) -> bool:
    return type(value) is int and value >= minimum


def units_not_whole(units: object) -> Violation | None:
    if _is_whole(units, 1):
        return None
    return Violation(
        Reason.INVALID_QUANTITY, "F2", f"an order holds a whole number of units >= 1, got {units!r}"
    )


def hours_per_unit_not_whole(hours_per_unit: object) -> Violation | None:
    if _is_whole(hours_per_unit, 1):
        return None
    return Violation(
        Reason.INVALID_QUANTITY,
        "F2",
        f"hours_per_unit must be a whole number of hours >= 1, got {hours_per_unit!r}",
    )


def validity_not_whole(validity_months: object) -> Violation | None:
    if validity_months is None or _is_whole(validity_months, 1):
        return None
    return Violation(
        Reason.INVALID_QUANTITY,
        "F6",
        f"validity_months must be None or a whole number of months >= 1, got {validity_months!r}",
    )


def buyer_email_missing(email: object, whose: str) -> Violation | None:
    """F3 needs somewhere to send the confirmation: a non-empty address with an '@'."""
    if isinstance(email, str) and "@" in email.strip():
        return None
    return Violation(
        Reason.INVALID_VALUE,
        "F3",
        f"{whose} has no usable email address ({email!r}); the confirmation email needs one",
    )


def billing_role_required(actor: Member) -> Violation | None:
    if actor.has_billing_role:
        return None
    return Violation(
        Reason.BILLING_ROLE_REQUIRED,
        "F1",
        f"member {actor.user_id} needs ORG_OWNER or ORG_BILLING_ADMIN to buy Flex Consulting "
        "in the console",
    )


def sales_reference_required(sales_reference: object) -> Violation | None:
    if isinstance(sales_reference, str) and sales_reference.strip():
        return None
    return Violation(
        Reason.SALES_REFERENCE_REQUIRED,
        "F1",
        f"an order from a representative needs a sales reference, got {sales_reference!r}",
    )


def order_not_active(order_state: OrderState) -> Violation | None:
    if order_state is OrderState.CHECKOUT:
        return Violation(
            Reason.ORDER_NOT_ACTIVE,
            "F0",
            "the order is still in checkout; confirm it before scheduling, cancelling or "
            "delivering sessions",
        )
    if order_state in FINAL_STATES:
        return Violation(
            Reason.ORDER_NOT_ACTIVE,
            "F7",
            f"the order is {order_state.value}, a final state; nothing can be scheduled, "
            "cancelled or delivered",
        )
    return None


def not_org_member(actor: Member | None, org: Organization) -> Violation | None:
    """F0; no actor given (allowed on cancel and deliver) means the host vouches for the caller."""
    if actor is None or actor.is_member_of(org):
        return None
    return Violation(
        Reason.NOT_ORG_MEMBER,
        "F0",
        f"member {actor.user_id} holds no role in organization {org.org_id}",
    )


def hours_not_whole_units(hours: object, hours_per_unit: int) -> Violation | None:
    if _is_whole(hours, 1) and isinstance(hours, int) and hours % hours_per_unit == 0:
        return None
    return Violation(
        Reason.INVALID_QUANTITY,
        "F4",
        f"a session books whole units: hours must be a positive multiple of {hours_per_unit}, "
        f"got {hours!r}",
    )


def session_in_past(start: dt.datetime, now: dt.datetime) -> Violation | None:
    if start > now:
        return None
    return Violation(
        Reason.SESSION_IN_PAST,
        "F4",
        f"a session must start after now ({now.isoformat()}), got {start.isoformat()}",
    )


def session_after_expiry(
    start: pendulum.DateTime, hours: int, expires_at: dt.datetime | None
) -> Violation | None:
    end = start.add(hours=hours)
    if expires_at is None or end <= expires_at:
        return None
    return Violation(
        Reason.SESSION_AFTER_EXPIRY,
        "F6",
        f"the session would end at {end.isoformat()}, after the order expires at "
        f"{expires_at.isoformat()}",
    )


def insufficient_units(hours: int, hours_per_unit: int, available: int) -> Violation | None:
    units = hours // hours_per_unit
    if units <= available:
        return None
    return Violation(
        Reason.INSUFFICIENT_UNITS,
        "F4",
        f"the session needs {units} units ({hours} h at {hours_per_unit} h per unit) but "
        f"{available} are available",
    )


def unknown_session(session_id: object, session: Session | None) -> Violation | None:
    if session is not None:
        return None
    return Violation(Reason.UNKNOWN_SESSION, "F5", f"the order has no session {session_id!r}")


def session_not_booked(session: Session | None) -> Violation | None:
    """V3: only a booked session can be cancelled or delivered, and only once."""
    if session is None or session.is_booked:
        return None
    return Violation(
        Reason.EVENT_NOT_ALLOWED,
        "V3",
        f"session {session.session_id} is already {session.status.value}",
    )


def session_already_started(session: Session | None, now: dt.datetime) -> Violation | None:
    if session is None or not session.is_booked or now < session.start:
        return None
    return Violation(
        Reason.SESSION_ALREADY_STARTED,
        "F5",
        f"session {session.session_id} started at {session.start.isoformat()}; it can only be "
        f"cancelled before then (now {now.isoformat()})",
    )


def session_not_started(session: Session | None, now: dt.datetime) -> Violation | None:
    if session is None or not session.is_booked or now >= session.start:
        return None
    return Violation(
        Reason.SESSION_NOT_STARTED,
        "F5",
        f"session {session.session_id} starts at {session.start.isoformat()}; it can be "
        f"delivered at or after then (now {now.isoformat()})",
    )
