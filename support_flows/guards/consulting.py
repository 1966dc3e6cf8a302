"""Checks and selectors of Flex Consulting orders (RULES.md F0-F7): one facts object in, a
violation or None out. Also the order policies the chart's model uses (F6 expiry)."""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import pendulum

from support_flows.errors import Reason, describe
from support_flows.guards.common import billing_role_required, not_org_member
from support_flows.guards.registry import Registry
from support_flows.localtime import hours_later
from support_flows.values import Member, Organization
from support_flows.values.consulting import (
    FINAL_STATES,
    OrderState,
    Session,
    UnitBalance,
    books_whole_units,
    state_for,
    units_for,
)
from support_flows.values.events import ConsultingEvent
from support_flows.values.policy import ATLAS_POLICY, Policy

__all__ = ["CONSULTING", "OrderFacts"]


class _OrderFields(NamedTuple):
    org: Organization
    actor: Member | None
    request: str
    now: pendulum.DateTime
    state: str
    units: UnitBalance
    hours_per_unit: int
    expires_at: pendulum.DateTime | None
    validity_ended: bool
    start: pendulum.DateTime | None = None
    hours: int | None = None
    session_id: str | None = None
    session: Session | None = None
    sales_reference: str | None = None
    policy: Policy = ATLAS_POLICY


class OrderFacts(_OrderFields):
    """What a consulting check, selector or action reads, fixed when the request is made.

    The order's own figures (state, balance, expiry) are read as they are before the request; the
    request's own (start and hours of a session, the session named) beside them. A named tuple:
    immutable, and built on every request at a tuple's cost.
    """

    __slots__ = ()
    section: ClassVar[str] = "F"
    purpose: ClassVar[str] = "buy Flex Consulting in the console"

    @property
    def actor_id(self) -> str | None:
        return None if self.actor is None else self.actor.user_id

    @property
    def session_units(self) -> int:
        """The units of the session named, if it is booked (0 otherwise)."""
        return self.session.units if self.session is not None and self.session.is_booked else 0


CONSULTING = Registry("consulting", "F")
CONSULTING.add(billing_role_required)
CONSULTING.add(not_org_member)


@CONSULTING.check(Reason.BUYER_EMAIL_REQUIRED, "F3")
def buyer_email_required(f: OrderFacts) -> str | None:
    """F3: a console buyer needs an e-mail address, where the purchase's confirmation goes."""
    if f.actor is None or f.actor.email is not None:
        return None
    return (
        f"member {f.actor.user_id!r} has no e-mail address; a console purchase sends its "
        "confirmation email to the buyer"
    )


@CONSULTING.check(Reason.SALES_REFERENCE_REQUIRED, "F1")
def sales_reference_required(f: OrderFacts) -> str | None:
    """F1: an order placed by a representative needs a non-empty sales reference."""
    if f.sales_reference is not None and f.sales_reference.strip():
        return None
    return (
        f"an order from a representative needs a sales reference, got {describe(f.sales_reference)}"
    )


@CONSULTING.check(Reason.ORDER_NOT_ACTIVE, "F0", "F7")
def order_not_active(f: OrderFacts) -> tuple[str, str] | None:
    """F0: nothing can be scheduled, cancelled or delivered before the order is purchased; F7:
    nor once it is final."""
    if f.state == OrderState.CHECKOUT:
        return (
            "F0",
            "the order is still in checkout; confirm it before scheduling, cancelling or "
            "delivering sessions",
        )
    if f.state in FINAL_STATES:
        return (
            "F7",
            f"the order is {f.state}, a final state; nothing can be scheduled, cancelled or "
            "delivered",
        )
    return None


@CONSULTING.check(Reason.INVALID_QUANTITY, "F4")
def invalid_quantity(f: OrderFacts) -> str | None:
    """F4: a session books whole units: its hours are a multiple of the hours per unit."""
    if f.hours is None or books_whole_units(f.hours, f.hours_per_unit):
        return None
    return (
        f"a session books whole units: hours must be a multiple of {f.hours_per_unit}, "
        f"got {describe(f.hours)}"
    )


@CONSULTING.check(Reason.SESSION_IN_PAST, "F4")
def session_in_past(f: OrderFacts) -> str | None:
    """F4: a session starts after now."""
    if f.start is None or f.start > f.now:
        return None
    return f"a session must start after now ({f.now.isoformat()}), got {f.start.isoformat()}"


@CONSULTING.check(Reason.SESSION_AFTER_EXPIRY, "F6")
def session_after_expiry(f: OrderFacts) -> str | None:
    """F6: a session ends by the order's expiry."""
    if f.start is None or f.hours is None or f.expires_at is None:
        return None
    end = hours_later(f.start, f.hours)
    if end <= f.expires_at:
        return None
    return (
        f"the session would end at {end.isoformat()}, after the order expires at "
        f"{f.expires_at.isoformat()}"
    )


@CONSULTING.check(Reason.INSUFFICIENT_UNITS, "F4")
def insufficient_units(f: OrderFacts) -> str | None:
    """F4: a session books at most the units available."""
    if f.hours is None:
        return None
    units = units_for(f.hours, f.hours_per_unit)
    if units <= f.units.available:
        return None
    return (
        f"the session needs {units} units ({f.hours} h at {f.hours_per_unit} h per unit) but "
        f"{f.units.available} are available"
    )


@CONSULTING.check(Reason.UNKNOWN_SESSION, "F5")
def unknown_session(f: OrderFacts) -> str | None:
    """F5: cancelling or delivering names a session of this order."""
    if f.session_id is None or f.session is not None:
        return None
    return f"the order has no session {describe(f.session_id)}"


@CONSULTING.check(Reason.EVENT_NOT_ALLOWED, "V3")
def event_not_allowed(f: OrderFacts) -> str | None:
    """V3: only a booked session can be cancelled or delivered, and only once."""
    if f.session is None or f.session.is_booked:
        return None
    return f"session {f.session.session_id} is already {f.session.status.value}"


@CONSULTING.check(Reason.SESSION_ALREADY_STARTED, "F5")
def session_already_started(f: OrderFacts) -> str | None:
    """F5: a session can be cancelled only before it starts."""
    s = f.session
    if s is None or not s.is_booked or f.now < s.start:
        return None
    return (
        f"session {s.session_id} started at {s.start.isoformat()}; it can only be cancelled "
        f"before then (now {f.now.isoformat()})"
    )


@CONSULTING.check(Reason.SESSION_NOT_STARTED, "F5")
def session_not_started(f: OrderFacts) -> str | None:
    """F5: a session is delivered at or after its start."""
    s = f.session
    if s is None or not s.is_booked or f.now >= s.start:
        return None
    return (
        f"session {s.session_id} starts at {s.start.isoformat()}; it can be delivered at or "
        f"after then (now {f.now.isoformat()})"
    )


def _after(f: OrderFacts) -> UnitBalance:
    """The balance the request leaves: what the selectors predict the action will do."""
    units = f.session_units
    if f.request == ConsultingEvent.DELIVER:
        return f.units.consume(units)
    return f.units.release(units, validity_ended=f.validity_ended)


@CONSULTING.selector
def sessions_still_booked(facts: OrderFacts) -> bool:
    """other sessions still booked"""
    return state_for(_after(facts)) is OrderState.SCHEDULED


@CONSULTING.selector
def units_left_nothing_booked(facts: OrderFacts) -> bool:
    """units left, nothing booked"""
    return state_for(_after(facts)) is OrderState.PURCHASED


@CONSULTING.selector
def every_unit_consumed(facts: OrderFacts) -> bool:
    """every unit consumed"""
    return state_for(_after(facts)) is OrderState.CONSUMED


@CONSULTING.selector
def units_expired_nothing_booked(facts: OrderFacts) -> bool:
    """no unit left (validity ended), nothing booked"""
    return state_for(_after(facts)) is OrderState.EXPIRED
