"""What opening a Flex Consulting order checks first (F1, F2, F3, V4, V5) and the new order's
book, before its chart takes the opening request."""

from __future__ import annotations

import enum
import uuid
from typing import Final

from support_flows.clock import read_clock
from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import email, has_method, identifier, quantity
from support_flows.machines.consulting_book import OrderBook, OrderTerms
from support_flows.snapshots.consulting import OrderChannel
from support_flows.values import Organization
from support_flows.values.consulting import UnitBalance
from support_flows.values.policy import Catalog

__all__ = [
    "FROM_POLICY",
    "FromPolicy",
    "buyer_email",
    "catalog_of",
    "new_book",
    "quantities",
    "sales_reference_of",
]


class FromPolicy(enum.Enum):
    """The default of ``hours_per_unit`` and ``validity_months`` when an order is opened: the
    value of the policy in force at the opening instant (K1, K3)."""

    FROM_POLICY = "from_policy"

    def __repr__(self) -> str:
        return "FROM_POLICY"


FROM_POLICY: Final = FromPolicy.FROM_POLICY

Bought = tuple[int, int | FromPolicy, int | FromPolicy | None]


def quantities(units: object, hours_per_unit: object, validity_months: object) -> Bought:
    """F2 and V4: whole units, hours per unit and months within what the product holds; the
    two terms left to the policy stay `FROM_POLICY` until the opening instant is read."""
    return (
        quantity(units, "units", rule="F2"),
        hours_per_unit
        if hours_per_unit is FROM_POLICY
        else quantity(hours_per_unit, "hours_per_unit", rule="F2"),
        validity_months
        if validity_months is None or validity_months is FROM_POLICY
        else quantity(validity_months, "validity_months", rule="F6"),
    )


def catalog_of(value: object) -> Catalog:
    """The catalog an order is decided under (K); anything else is malformed input (V5)."""
    if type(value) is not Catalog:
        raise invalid(
            Reason.INVALID_VALUE, "V5", f"catalog must be a Catalog, got {describe(value)}"
        )
    return value


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
    bought: Bought,
    catalog: Catalog,
) -> OrderBook:
    """The book of a new order, created now on `clock`, with `bought` units (F1, F2), under
    the version of `catalog` in force now: the terms left to the policy are its (K1, K3)."""
    units, per_unit, validity = bought
    created = read_clock(has_method(clock, "now", "clock"))
    policy = catalog.at(created)
    terms = OrderTerms(
        _order_id(order_id),
        org.org_id,
        org.billing_timezone,
        channel,
        buyer,
        requested_by,
        reference,
        policy.hours_per_unit if per_unit is FROM_POLICY else per_unit,
        policy.validity_months if validity is FROM_POLICY else validity,
        created,
        policy.version,
    )
    return OrderBook(terms, UnitBalance.bought(units))


def _order_id(order_id: object) -> str:
    if order_id is None:
        return f"co-{uuid.uuid4().hex[:12]}"
    return identifier(order_id, "order_id")
