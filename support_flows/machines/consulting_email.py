"""The confirmation email of a Flex Consulting purchase (RULES.md F3)."""

from __future__ import annotations

import textwrap
from typing import Any

from support_flows.localtime import in_zone
from support_flows.outbox import Email


def _hours(n: int) -> str:
    return f"{n} hour" if n == 1 else f"{n} hours"


def confirmation(book: Any, tz: str) -> Email:
    """F3: the one email of a purchase (an order's record, as it is once purchased), telling the
    buyer how to schedule their hours."""
    record = book.terms
    units = book.units.purchased
    per_unit = record.hours_per_unit
    if book.expires_at is None:
        validity = "Your units do not expire."
        deadline = ""
    else:
        local = in_zone(book.expires_at, tz).format("YYYY-MM-DD HH:mm")
        validity = f"Your units expire on {local} ({tz}); unused units expire then."
        deadline = " and ending by the expiry"
    body = "\n".join(
        [
            f"Thank you for purchasing Flex Consulting for organization {record.org_id}.",
            "",
            f"Order: {record.order_id}",
            f"Units bought: {units}",
            f"Hours per unit: {per_unit} ({_hours(units * per_unit)} of consulting in total)",
            validity,
            "",
            textwrap.fill(
                "How to use your hours: Flex Consulting units are used only through scheduled "
                "sessions, so you must schedule consulting hours to use them. Book each session "
                f"for a whole number of units (a multiple of {_hours(per_unit)}), starting in "
                f"the future{deadline}. A session can be cancelled until it starts; its units "
                "then return to your balance.",
                width=72,
            ),
        ]
    )
    subject = f"Flex Consulting order {record.order_id}: {units} units confirmed"
    return Email(to=record.buyer_email, subject=subject, body=body)
