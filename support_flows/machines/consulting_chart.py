"""The Flex Consulting order's chart (RULES.md F0-F7): every step of an order, from opening it
(in the console or by a representative) to its expiry: the checks that refuse each step, the
selectors that pick the next state from the balance the step leaves, and the book's actions that
change the record. Compiled once."""

from __future__ import annotations

from statemachine import Event, State

from support_flows.guards.common import billing_role_required, not_org_member
from support_flows.guards.consulting import (
    CONSULTING,
    buyer_email_required,
    event_not_allowed,
    every_unit_consumed,
    insufficient_units,
    invalid_quantity,
    order_not_active,
    sales_reference_required,
    session_after_expiry,
    session_already_started,
    session_in_past,
    session_not_started,
    sessions_still_booked,
    units_expired_nothing_booked,
    units_left_nothing_booked,
    unknown_session,
)
from support_flows.machines.chart import BaseChart, edge
from support_flows.machines.consulting_book import OrderBook
from support_flows.machines.engine import compile_chart
from support_flows.values.events import ConsultingEvent

__all__ = ["COMPILED", "ConsultingChart"]

CHECKOUT = [billing_role_required, buyer_email_required]
SCHEDULE = [
    invalid_quantity,
    not_org_member,
    session_in_past,
    session_after_expiry,
    insufficient_units,
]
CANCEL = [not_org_member, unknown_session, event_not_allowed, session_already_started]
DELIVER = [not_org_member, unknown_session, event_not_allowed, session_not_started]


class ConsultingChart(BaseChart):
    """new -> checkout -> purchased <-> scheduled -> consumed | expired (RULES.md F)."""

    registry = CONSULTING
    named_by = ConsultingEvent
    model_class = OrderBook
    refusals_without_edge = (
        (order_not_active,),
        # A session closed where its event has no edge: unknown or already closed (purchased),
        # or the last booked one cancelled after the validity ended, which has no edge because
        # it has always started by then (F6: a session ends by the expiry; F5).
        tuple(CANCEL),
    )

    new = State("New order", initial=True)
    checkout = State("Checkout")
    purchased = State("Purchased")
    scheduled = State("Scheduled")
    consumed = State("Consumed", final=True)
    expired = State("Expired", final=True)

    start_checkout = Event(
        edge(new, checkout, unless=CHECKOUT, on="open_order"),
        name="Buy in the console",
    )
    buy_from_representative = Event(
        edge(
            new,
            purchased,
            unless=[sales_reference_required],
            on=["purchase", "send_confirmation"],
        ),
        name="Bought through a representative",
    )
    confirm = Event(
        edge(checkout, purchased, on=["purchase", "send_confirmation"]),
        name="Confirm the purchase",
    )
    schedule = Event(
        edge(purchased, scheduled, unless=SCHEDULE, on="book_session")
        | edge(scheduled, unless=SCHEDULE, on="book_session"),
        name="Schedule a session",
    )
    cancel_session = Event(
        (
            edge(scheduled, when=[sessions_still_booked], unless=CANCEL, on="release_session")
            | edge(
                scheduled,
                purchased,
                when=[units_left_nothing_booked],
                unless=CANCEL,
                on="release_session",
            )
        ),
        name="Cancel a session",
    )
    deliver = Event(
        (
            edge(scheduled, when=[sessions_still_booked], unless=DELIVER, on="consume_session")
            | edge(
                scheduled,
                purchased,
                when=[units_left_nothing_booked],
                unless=DELIVER,
                on="consume_session",
            )
            | edge(
                scheduled,
                consumed,
                when=[every_unit_consumed],
                unless=DELIVER,
                on="consume_session",
            )
            | edge(
                scheduled,
                expired,
                when=[units_expired_nothing_booked],
                unless=DELIVER,
                on="consume_session",
            )
        ),
        name="Deliver a session",
    )
    expire = Event(
        edge(purchased, expired, on="expire_units") | edge(scheduled, on="expire_units"),
        name="The validity ends",
    )


COMPILED = compile_chart(ConsultingChart)
