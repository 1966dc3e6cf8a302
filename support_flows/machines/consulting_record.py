"""A Flex Consulting order's restore: a snapshot read back into a book only when the library could
have written it (RULES.md V2): the record's own checks (`snapshots.consulting`), then, with a
history, replaying it (`consulting_replay`)."""

from __future__ import annotations

from support_flows.codec import unstructure
from support_flows.machines.consulting_book import OrderBook, OrderTerms
from support_flows.machines.consulting_replay import derive
from support_flows.snapshots.consulting import KIND, OrderSnapshot, inconsistency, upgraded
from support_flows.snapshots.strict import differs, read, refuse
from support_flows.values import Organization
from support_flows.values.policy import Catalog

__all__ = ["book_from_snapshot"]


def book_from_snapshot(data: object, org: Organization, catalog: Catalog) -> OrderBook:
    """The order record `data` describes (a version-2 snapshot read as version 3 under Atlas's
    policy), or `invalid_snapshot` naming its first inconsistency under `catalog` (V2, K4);
    without a history, the book holds only what happens next."""
    record = read(upgraded(data), OrderSnapshot, KIND, "consulting order")
    problem = inconsistency(record, org, catalog)
    if problem is None and record.history is not None:
        problem = _derived(record, org, catalog)
    if problem is not None:
        raise refuse("consulting order", problem)
    return _book(record)


def _derived(r: OrderSnapshot, org: Organization, catalog: Catalog) -> str | None:
    """With its history, the record is exactly what replaying that history writes (V2)."""
    derived = derive(r, org, catalog)
    if isinstance(derived, str):
        return derived
    written = derived.snapshot()
    if written == r:
        return None
    return differs(unstructure(r), unstructure(written), "replaying its history")


def _book(record: OrderSnapshot) -> OrderBook:
    terms = OrderTerms(
        record.order_id,
        record.org_id,
        record.billing_timezone,
        record.channel,
        record.buyer_email,
        record.requested_by,
        record.sales_reference,
        record.hours_per_unit,
        record.validity_months,
        record.created_at,
        record.policy,
    )
    book = OrderBook(
        terms,
        record.units,
        record.state.value,
        record.purchased_at,
        record.expires_at,
        record.validity_ended,
        list(record.sessions),
        list(record.history or ()),
        record.recorded_at,
    )
    book.history_complete = record.history is not None
    return book
