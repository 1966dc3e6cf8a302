"""Flex Consulting, start to finish: buy 10 units, schedule, cancel, deliver, let the rest expire.

Run it with `python examples/consulting_order.py`; it prints the unit balance after each step and
the confirmation email that was sent.
"""

from __future__ import annotations

import pendulum

import support_flows as sf


def show(step: str, order: sf.ConsultingOrder) -> None:
    u = order.units
    print(
        f"{step:<44} state {order.state.value:<9} purchased {u.purchased}, available "
        f"{u.available}, scheduled {u.scheduled}, consumed {u.consumed}, expired {u.expired}"
    )


def main() -> None:
    clock = sf.FrozenClock(pendulum.datetime(2024, 2, 29, 9, tz="Europe/Paris"))
    org = sf.Organization("org-1", projects=("p-1",), billing_timezone="Europe/Paris")
    owner = sf.Member("u-1", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
    outbox = sf.InMemoryOutbox()

    order = sf.ConsultingOrder.start_checkout(
        org, units=10, actor=owner, clock=clock, outbox=outbox, validity_months=12, order_id="co-42"
    )
    show("checkout of 10 units", order)
    order.confirm()
    order.confirm()
    show("confirmed (twice: one email)", order)
    assert order.expires_at is not None
    local_expiry = order.expires_at.in_timezone(org.billing_timezone)
    print(f"expires at {local_expiry} (Feb 29 + 12 months, clamped to Feb 28)")

    kickoff = order.schedule(start=clock.now().add(days=7), hours=3, actor=owner)
    review = order.schedule(start=clock.now().add(days=14), hours=2, actor=owner)
    show(f"scheduled {kickoff.session_id} (3 h) and {review.session_id} (2 h)", order)

    try:
        order.schedule(start=clock.now().add(days=20), hours=6, actor=owner)
    except sf.Refused as refusal:
        print(f"refused ({refusal.code}, {refusal.rule}): {refusal.message}")

    order.cancel_session(review.session_id, actor=owner)
    show(f"cancelled {review.session_id}", order)

    clock.set(kickoff.start)
    order.deliver(kickoff.session_id, actor=owner)
    show(f"delivered {kickoff.session_id} at its start", order)

    clock.advance(years=2)
    applied = order.apply_due()
    for event in applied:
        local = event.at.in_timezone(org.billing_timezone)
        print(f"applied {event.action.value} of {event.units} units at {local}")
    show("two years later", order)

    print()
    for email in outbox.sent:
        print(f"To: {email.to}\nSubject: {email.subject}\n\n{email.body}")


if __name__ == "__main__":
    main()
