"""What opening a Flex Consulting order checks first (F1, F2, F3, V4, V5) and the new order's
book, before its chart takes the opening request."""

from __future__ import annotations

import uuid

from support_flows.clock import read_clock
from support_flows.inputs import email, has_method, identifier, quantity
from support_flows.machines.consulting_book import OrderBook, OrderTerms
from support_flows.snapshots.consulting import OrderChannel
from support_flows.values import Organization
from support_flows.values.consulting import UnitBalance

__all__ = ["buyer_email", "new_book", "quantities", "sales_reference_of"]


def quantities(
    units: object, hours_per_unit: object, validity_months: object
) -> tuple[int, int, int | None]:
    """F2 and V4: whole units, hours per unit and months within what the product holds."""
    return (
        quantity(units, "units", rule="F2"),
        quantity(hours_per_unit, "hours_per_unit", rule="F2"),
        None
        if validity_months is None
        else quantity(validity_months, "validity_months", rule="F6"),
    )


def buyer_email(value: object) -> str:
    """F3, V5: the address the confirmation goes to."""
    return email(value, "the buyer's email")


def sales_reference_of(value: object) -> str | None:
    """None or blank text is F1's missing reference; other text must be an identifier (V5)."""
    if value is None or (type(value) is str and not value.strip()):
        return value
    return identifier(value, "sales_reference")


def new_book(
    org: Organization,
    clock: object,
    order_id: object,
    channel: OrderChannel,
    buyer: str | None,
    requested_by: str | None,
    reference: str | None,
    bought: tuple[int, int, int | None],
) -> OrderBook:
    """The book of a new order, created now on `clock`, with `bought` units (F1, F2)."""
    units, per_unit, validity = bought
    terms = OrderTerms(
        _order_id(order_id),
        org.org_id,
        org.billing_timezone,
        channel,
        buyer,
        requested_by,
        reference,
        per_unit,
        validity,
        read_clock(has_method(clock, "now", "clock")),
    )
    return OrderBook(terms, UnitBalance.bought(units))


def _order_id(order_id: object) -> str:
    if order_id is None:
        return f"co-{uuid.uuid4().hex[:12]}"
    return identifier(order_id, "order_id")
