"""Flex Consulting orders, rule by rule (RULES.md F0-F7, T7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.consulting_chart import COMPILED

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
BILLING_ADMIN = sf.Member("u-billing", org_roles={"ORG_BILLING_ADMIN"}, email="bill@example.com")
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY}, email="read@example.com")
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}}, email="dev@example.com")
STRANGER = sf.Member(
    "u-stranger", project_roles={"p-other": {sf.Role.PROJECT_OWNER}}, email="x@example.com"
)
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def bought(
    units: int = 10,
    at: pendulum.DateTime = START,
    org: sf.Organization = ORG,
    **options: Any,
) -> tuple[sf.ConsultingOrder, sf.FrozenClock, sf.InMemoryOutbox]:
    """A confirmed console order and its clock and outbox."""
    clock = sf.FrozenClock(at)
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.start_checkout(
        org, units=units, actor=OWNER, clock=clock, outbox=outbox, **options
    )
    order.confirm()
    return order, clock, outbox


def balance(order: sf.ConsultingOrder) -> tuple[int, int, int, int, int]:
    u = order.units
    return (u.purchased, u.available, u.scheduled, u.consumed, u.expired)


def codes(error: pytest.ExceptionInfo[sf.SupportFlowsError]) -> list[str]:
    return [r.code.value for r in error.value.reasons]


# -- F0: who may act, and when ----------------------------------------------------------------


def test_f0_non_member_cannot_schedule() -> None:
    """Someone with no role in the organization cannot book a session."""
    order, clock, _ = bought()
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now().add(days=1), hours=1, actor=STRANGER)
    assert codes(error) == ["not_org_member"]
    assert error.value.rule == "F0"


def test_f0_project_member_may_schedule_cancel_and_deliver() -> None:
    """A member through a project role may schedule, cancel and deliver."""
    order, clock, _ = bought()
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=DEV)
    second = order.schedule(start=clock.now().add(days=2), hours=1, actor=DEV)
    order.cancel_session(first.session_id, actor=DEV)
    clock.advance(days=2)
    order.deliver(second.session_id, actor=DEV)
    assert balance(order) == (10, 9, 0, 1, 0)


def test_f0_non_member_cannot_cancel_or_deliver_when_named() -> None:
    """An actor given to cancel_session or deliver must be a member of the organization."""
    order, clock, _ = bought()
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    with pytest.raises(sf.Refused) as cancel:
        order.cancel_session(session.session_id, actor=STRANGER)
    clock.advance(days=1)
    with pytest.raises(sf.Refused) as deliver:
        order.deliver(session.session_id, actor=STRANGER)
    assert codes(cancel) == codes(deliver) == ["not_org_member"]


def test_f0_acting_during_checkout_is_order_not_active() -> None:
    """Before confirmation nothing can be scheduled, cancelled or delivered."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=3, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox()
    )
    calls = [
        lambda: order.schedule(start=START.add(days=1), hours=1, actor=OWNER),
        lambda: order.cancel_session("s-1"),
        lambda: order.deliver("s-1"),
    ]
    for call in calls:
        with pytest.raises(sf.Refused) as error:
            call()
        assert codes(error) == ["order_not_active"]
        assert error.value.rule == "F0"


# -- F1: buying --------------------------------------------------------------------------------


@pytest.mark.parametrize("buyer", [OWNER, BILLING_ADMIN])
def test_f1_console_order_starts_in_checkout_and_confirm_purchases(buyer: sf.Member) -> None:
    """Owners and billing admins start a checkout; confirm() makes it purchased."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=4, actor=buyer, clock=clock, outbox=sf.InMemoryOutbox()
    )
    assert order.state == "checkout"
    assert order.purchased_at is None
    order.confirm()
    assert order.state == "purchased"
    assert order.purchased_at == START


@pytest.mark.parametrize("buyer", [READER, DEV, STRANGER])
def test_f1_console_order_needs_a_billing_role(buyer: sf.Member) -> None:
    """Anyone but an Organization Owner or Billing Admin is refused billing_role_required."""
    with pytest.raises(sf.Refused) as error:
        sf.ConsultingOrder.start_checkout(
            ORG, units=1, actor=buyer, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    assert codes(error) == ["billing_role_required"]
    assert error.value.rule == "F1"


def test_f1_representative_order_starts_purchased() -> None:
    """An order from a representative is purchased at once, at the clock's now."""
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=10,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=sf.FrozenClock(START),
        outbox=sf.InMemoryOutbox(),
    )
    assert order.state == "purchased"
    assert order.purchased_at == START
    assert [e.action for e in order.history] == ["purchase"]


@pytest.mark.parametrize("reference", ["", "   ", None])
def test_f1_representative_order_needs_a_sales_reference(reference: Any) -> None:
    """An empty or missing sales reference is refused sales_reference_required."""
    outbox = sf.InMemoryOutbox()
    with pytest.raises(sf.Refused) as error:
        sf.ConsultingOrder.from_representative(
            ORG,
            units=10,
            sales_reference=reference,
            email="buyer@example.com",
            clock=sf.FrozenClock(START),
            outbox=outbox,
        )
    assert codes(error) == ["sales_reference_required"]
    assert outbox.sent == []


# -- F2: quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize("units", [0, -1, 1.5, True, "3", None])
def test_f2_units_must_be_a_whole_number_at_least_one(units: Any) -> None:
    """Bad quantities are malformed input: InvalidInput invalid_quantity, for both channels."""
    clock = sf.FrozenClock(START)
    with pytest.raises(sf.InvalidInput) as console:
        sf.ConsultingOrder.start_checkout(
            ORG, units=units, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox()
        )
    with pytest.raises(sf.InvalidInput) as representative:
        sf.ConsultingOrder.from_representative(
            ORG,
            units=units,
            sales_reference="SO-1",
            email="b@example.com",
            clock=clock,
            outbox=sf.InMemoryOutbox(),
        )
    assert codes(console) == codes(representative) == ["invalid_quantity"]
    assert console.value.rule == "F2"


@pytest.mark.parametrize("hours_per_unit", [0, -2, 1.5, "2"])
def test_f2_hours_per_unit_must_be_a_whole_number(hours_per_unit: Any) -> None:
    """hours_per_unit is catalog data: a whole number of hours >= 1."""
    with pytest.raises(sf.InvalidInput) as error:
        sf.ConsultingOrder.start_checkout(
            ORG,
            units=1,
            actor=OWNER,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
            hours_per_unit=hours_per_unit,
        )
    assert codes(error) == ["invalid_quantity"]


@pytest.mark.parametrize(
    ("units", "hours_per_unit", "validity_months", "rule"),
    [(0, 1, None, "F2"), (1, 0, None, "F2"), (1, 1, 0, "F6"), (100_001, 1, None, "F2")],
)
def test_f2_malformed_quantities_come_before_the_billing_role(
    units: int, hours_per_unit: int, validity_months: int | None, rule: str
) -> None:
    """A malformed quantity is reported before any rule refusal is considered."""
    with pytest.raises(sf.InvalidInput) as error:
        sf.ConsultingOrder.start_checkout(
            ORG,
            units=units,
            actor=READER,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
            hours_per_unit=hours_per_unit,
            validity_months=validity_months,
        )
    assert codes(error) == ["invalid_quantity"]
    assert error.value.rule == rule


def test_f2_checkout_holds_every_unit_available_but_unusable() -> None:
    """In checkout the balance is (N, N, 0, 0, 0), and nothing can use it yet."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=7, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox()
    )
    assert order.units == sf.UnitBalance(7, 7, 0, 0, 0)
    assert order.expires_at is None
    assert order.hours_per_unit == 1


# -- F3: the confirmation email ----------------------------------------------------------------


def test_f3_confirm_sends_one_email_with_scheduling_instructions() -> None:
    """The buyer gets one email naming the units, hours per unit, expiry and how to schedule."""
    order, _, outbox = bought(units=10, hours_per_unit=2, validity_months=12, order_id="co-7")
    assert len(outbox.sent) == 1
    email = outbox.sent[0]
    assert email == sf.Email(email.to, email.subject, email.body)
    assert email.to == "owner@example.com"
    assert "co-7" in email.subject
    assert "10 units" in email.subject
    assert "Units bought: 10" in email.body
    assert "Hours per unit: 2 (20 hours of consulting in total)" in email.body
    assert "expire on 2027-03-14 10:00 (UTC)" in email.body
    assert "schedule consulting hours" in email.body
    assert order.state == "purchased"


def test_f3_replayed_confirm_changes_nothing_and_sends_nothing() -> None:
    """confirm() past checkout, in any state, is a no-op."""
    order, clock, outbox = bought(units=1, validity_months=1)
    before = order.snapshot()
    order.confirm()
    assert order.snapshot() == before
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    order.confirm()
    clock.advance(days=1)
    order.deliver(session.session_id)
    order.confirm()
    assert order.state == "consumed"
    assert len(outbox.sent) == 1


def test_f3_email_without_expiry_says_units_do_not_expire() -> None:
    """An order with no validity tells the buyer its units do not expire."""
    _, _, outbox = bought()
    assert "do not expire" in outbox.sent[0].body


def test_f3_representative_order_emails_the_given_address_once() -> None:
    """A representative order sends its email at creation; confirm() sends nothing more."""
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=5,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=sf.FrozenClock(START),
        outbox=outbox,
    )
    order.confirm()
    assert [e.to for e in outbox.sent] == ["buyer@example.com"]


def test_f3_restored_purchased_order_never_resends() -> None:
    """Restoring a purchased order and confirming it again sends nothing."""
    order, clock, outbox = bought()
    again = sf.ConsultingOrder.restore(order.snapshot(), ORG, clock=clock, outbox=outbox)
    again.confirm()
    assert len(outbox.sent) == 1


def test_f3_restored_checkout_sends_once_when_confirmed() -> None:
    """A checkout restored from a snapshot sends its one email when it is confirmed."""
    clock = sf.FrozenClock(START)
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.start_checkout(ORG, units=2, actor=OWNER, clock=clock, outbox=outbox)
    restored = sf.ConsultingOrder.restore(order.snapshot(), ORG, clock=clock, outbox=outbox)
    assert outbox.sent == []
    restored.confirm()
    restored.confirm()
    assert len(outbox.sent) == 1


def test_f3_outbox_failure_leaves_the_order_in_checkout() -> None:
    """If the outbox raises, the order is not purchased; a later confirm sends exactly once."""

    class Flaky:
        def __init__(self) -> None:
            self.sent: list[sf.Email] = []
            self.fail = True

        def send(self, email: sf.Email) -> None:
            if self.fail:
                raise ConnectionError("mail relay down")
            self.sent.append(email)

    outbox = Flaky()
    assert isinstance(outbox, sf.Outbox)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=2, actor=OWNER, clock=sf.FrozenClock(START), outbox=outbox
    )
    with pytest.raises(ConnectionError):
        order.confirm()
    assert order.state == "checkout"
    outbox.fail = False
    order.confirm()
    order.confirm()
    assert order.state == "purchased"
    assert len(outbox.sent) == 1


@pytest.mark.parametrize("engine", ["table", "statechart"])
def test_f3_billing_buyer_without_an_email_is_refused_buyer_email_required(engine: str) -> None:
    """F3: an owner with no e-mail address is refused buyer_email_required (a refusal naming
    them, not malformed input); no order, no email."""
    buyer = sf.Member("u-noemail", org_roles={sf.Role.ORG_OWNER})
    outbox = sf.InMemoryOutbox()
    with pytest.raises(sf.Refused) as error:
        sf.ConsultingOrder.start_checkout(
            ORG, units=1, actor=buyer, clock=sf.FrozenClock(START), outbox=outbox, engine=engine
        )
    assert codes(error) == ["buyer_email_required"]
    assert (error.value.rule, "u-noemail" in error.value.message) == ("F3", True)
    assert sf.http_status(error.value) == 422
    assert outbox.sent == []


@pytest.mark.parametrize("engine", ["table", "statechart"])
def test_f3_buyer_without_billing_role_or_email_gets_both_reasons(engine: str) -> None:
    """F1 then F3: a reader with no e-mail address is refused with every failing check,
    billing_role_required first, then buyer_email_required (no longer hidden as invalid_value)."""
    buyer = sf.Member("u-reader-noemail", org_roles={sf.Role.ORG_READ_ONLY})
    with pytest.raises(sf.Refused) as error:
        sf.ConsultingOrder.start_checkout(
            ORG,
            units=1,
            actor=buyer,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
            engine=engine,
        )
    assert [(r.code.value, r.rule) for r in error.value.reasons] == [
        ("billing_role_required", "F1"),
        ("buyer_email_required", "F3"),
    ]


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b@c", " a@b.c", "a @b.c"])
def test_v5_a_member_email_needs_one_at_with_text_on_both_sides(email: str) -> None:
    """V5: an e-mail address is refused when the member is built, naming the value."""
    with pytest.raises(sf.InvalidInput) as error:
        sf.Member("u-noemail", org_roles={sf.Role.ORG_OWNER}, email=email)
    assert (error.value.code, error.value.rule) == ("invalid_value", "V5")
    assert repr(email) in error.value.message


# -- F4: scheduling ----------------------------------------------------------------------------


def test_f4_a_session_books_whole_units() -> None:
    """With 2 hours per unit, a 4-hour session books 2 units; the session is returned."""
    order, clock, _ = bought(units=5, hours_per_unit=2)
    start = clock.now().add(days=2)
    session = order.schedule(start=start, hours=4, actor=OWNER)
    assert session == sf.Session(
        "s-1", start, 4, 2, "scheduled", START, "u-owner", closed_at=None, closed_by=None
    )
    assert session.end == start.add(hours=4)
    assert order.sessions == (session,)
    assert order.state == "scheduled"
    assert balance(order) == (5, 3, 2, 0, 0)


@pytest.mark.parametrize(
    ("hours", "rule"),
    [(3, "F4"), (5, "F4"), (0, "V4"), (-2, "V4"), (2.0, "V4"), (True, "V4"), ("4", "V4")],
)
def test_f4_hours_must_be_a_positive_multiple_of_hours_per_unit(hours: Any, rule: str) -> None:
    """Hours that are not whole units (F4), or not a whole number from 1 to 10,000 (V4), are
    malformed input: invalid_quantity."""
    order, clock, _ = bought(units=5, hours_per_unit=2)
    with pytest.raises(sf.InvalidInput) as error:
        order.schedule(start=clock.now().add(days=2), hours=hours, actor=OWNER)
    assert codes(error) == ["invalid_quantity"]
    assert error.value.rule == rule


def test_f4_at_most_the_available_units() -> None:
    """Booking more units than are available is refused insufficient_units."""
    order, clock, _ = bought(units=3)
    order.schedule(start=clock.now().add(days=1), hours=2, actor=OWNER)
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now().add(days=2), hours=2, actor=OWNER)
    assert codes(error) == ["insufficient_units"]
    order.schedule(start=clock.now().add(days=2), hours=1, actor=OWNER)
    assert balance(order) == (3, 0, 3, 0, 0)


def test_f4_a_session_starts_strictly_after_now() -> None:
    """A session starting now is in the past; one microsecond later is fine."""
    order, clock, _ = bought()
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now(), hours=1, actor=OWNER)
    assert codes(error) == ["session_in_past"]
    order.schedule(start=clock.now().add(microseconds=1), hours=1, actor=OWNER)


def test_f4_a_naive_start_is_malformed_input() -> None:
    """T1: a naive start is refused naive_datetime, before anything else is looked at."""
    order, _, _ = bought()
    with pytest.raises(sf.InvalidInput) as error:
        order.schedule(start=dt.datetime(2026, 4, 1, 10), hours=0, actor=OWNER)
    assert codes(error) == ["naive_datetime"]


def test_f4_any_aware_datetime_is_accepted_and_kept_as_an_instant() -> None:
    """A start in any timezone is stored as the same instant."""
    order, _, _ = bought()
    start = dt.datetime(2026, 3, 20, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    session = order.schedule(start=start, hours=1, actor=OWNER)
    assert session.start == utc(2026, 3, 20, 7)


def test_f4_every_failing_check_is_listed_in_a_fixed_order() -> None:
    """Member, start, expiry and units are all reported, in that order."""
    order, clock, _ = bought(units=2, validity_months=1)
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now().subtract(days=1), hours=24 * 40, actor=STRANGER)
    assert codes(error) == [
        "not_org_member",
        "session_in_past",
        "session_after_expiry",
        "insufficient_units",
    ]
    assert error.value.code == "not_org_member"


# -- F5: cancelling and delivering -------------------------------------------------------------


def test_f5_cancel_one_microsecond_before_start_returns_the_units() -> None:
    """Cancelling just before the start frees the units and returns the order to purchased."""
    order, clock, _ = bought(units=4)
    session = order.schedule(start=clock.now().add(days=1), hours=3, actor=OWNER)
    clock.set(session.start.subtract(microseconds=1))
    cancelled = order.cancel_session(session.session_id)
    assert cancelled.status == "cancelled"
    assert cancelled.closed_at == session.start.subtract(microseconds=1)
    assert order.state == "purchased"
    assert balance(order) == (4, 4, 0, 0, 0)


def test_f5_cancel_at_the_start_is_too_late() -> None:
    """At its start a session has started: session_already_started."""
    order, clock, _ = bought()
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    clock.set(session.start)
    with pytest.raises(sf.Refused) as error:
        order.cancel_session(session.session_id)
    assert codes(error) == ["session_already_started"]


@pytest.mark.parametrize("engine", ["table", "statechart"])
@pytest.mark.parametrize("actor", [None, STRANGER])
def test_f5_f6_cancelling_the_last_session_after_the_expiry_is_too_late(
    engine: str, actor: sf.Member | None
) -> None:
    """F5/F6: after the validity ended the last booked session has started (it ends by the
    expiry), so cancelling it is session_already_started (with not_org_member for a stranger),
    never V3, and changes nothing: the chart has no edge for it, only this explanation."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.start_checkout(
        ORG,
        units=2,
        actor=OWNER,
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=1,
        engine=engine,
    )
    order.confirm()
    assert order.expires_at is not None
    session = order.schedule(start=order.expires_at.subtract(hours=1), hours=1, actor=OWNER)
    clock.set(order.expires_at)
    assert (order.state, balance(order)) == ("scheduled", (2, 0, 1, 0, 1))
    before = order.snapshot()
    with pytest.raises(sf.Refused) as error:
        order.cancel_session(session.session_id, actor=actor)
    assert codes(error) == (
        ["session_already_started"]
        if actor is None
        else ["not_org_member", "session_already_started"]
    )
    assert order.snapshot() == before


@pytest.mark.structure
def test_f5_f6_the_chart_declares_no_edge_a_request_cannot_take() -> None:
    """F5/F6: cancel_session has no edge to expired (no request can take it); its refusal is
    declared among the chart's refusals without an edge."""
    targets = {e.target for e in COMPILED.edges if e.event == "cancel_session"}
    assert targets == {"scheduled", "purchased"}
    explained = {c.__name__ for group in COMPILED.refusals_without_edge for c in group}
    assert "session_already_started" in explained


def test_f5_deliver_exactly_at_the_start_consumes_the_units() -> None:
    """A session can be delivered at its start; its units are consumed."""
    order, clock, _ = bought(units=4)
    session = order.schedule(start=clock.now().add(days=1), hours=3, actor=OWNER)
    clock.set(session.start)
    delivered = order.deliver(session.session_id, actor=OWNER)
    assert (delivered.status, delivered.closed_at, delivered.closed_by) == (
        "delivered",
        session.start,
        "u-owner",
    )
    assert order.state == "purchased"
    assert balance(order) == (4, 1, 0, 3, 0)


def test_f5_deliver_before_the_start_is_refused() -> None:
    """One microsecond before its start a session is not started."""
    order, clock, _ = bought()
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    clock.set(session.start.subtract(microseconds=1))
    with pytest.raises(sf.Refused) as error:
        order.deliver(session.session_id)
    assert codes(error) == ["session_not_started"]


def test_f5_unknown_session() -> None:
    """An id the order never issued is refused unknown_session, for cancel and deliver."""
    order, _, _ = bought()
    for call in (order.cancel_session, order.deliver):
        with pytest.raises(sf.Refused) as error:
            call("s-99")
        assert codes(error) == ["unknown_session"]


def test_f5_a_closed_session_cannot_be_cancelled_or_delivered_again() -> None:
    """A cancelled or delivered session answers event_not_allowed (V3), after not_org_member
    for a stranger (F0): every failing check of the chart's refusals without an edge."""
    order, clock, _ = bought()
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    second = order.schedule(start=clock.now().add(days=2), hours=1, actor=OWNER)
    order.cancel_session(first.session_id)
    clock.set(second.start)
    order.deliver(second.session_id)
    for session_id in (first.session_id, second.session_id):
        for call in (order.cancel_session, order.deliver):
            with pytest.raises(sf.Refused) as error:
                call(session_id)
            assert codes(error) == ["event_not_allowed"]
    with pytest.raises(sf.Refused) as error:
        order.cancel_session(first.session_id, actor=STRANGER)
    assert codes(error) == ["not_org_member", "event_not_allowed"]


def test_f5_v3_closing_sessions_while_another_stays_booked() -> None:
    """F5/V3 in the scheduled state (another session still booked): a closed session answers
    event_not_allowed, a started one cannot be cancelled (session_already_started), and each
    refusal changes nothing."""
    order, clock, _ = bought()
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    second = order.schedule(start=clock.now().add(days=2), hours=1, actor=OWNER)
    order.schedule(start=clock.now().add(days=3), hours=1, actor=OWNER)
    order.cancel_session(first.session_id)
    clock.set(second.start)
    before = order.snapshot()
    refusals = [
        (lambda: order.cancel_session(first.session_id), ["event_not_allowed"]),
        (lambda: order.deliver(first.session_id), ["event_not_allowed"]),
        (lambda: order.cancel_session(second.session_id), ["session_already_started"]),
    ]
    for call, expected in refusals:
        with pytest.raises(sf.Refused) as error:
            call()
        assert codes(error) == expected
        assert order.snapshot() == before
    assert order.state == "scheduled"


def test_f5_delivering_every_unit_makes_the_order_consumed() -> None:
    """When the last unit is delivered the order is consumed, a final state."""
    order, clock, _ = bought(units=2)
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    second = order.schedule(start=clock.now().add(days=2), hours=1, actor=OWNER)
    clock.set(second.start)
    order.deliver(first.session_id)
    assert order.state == "scheduled"
    order.deliver(second.session_id)
    assert order.state == "consumed"
    assert balance(order) == (2, 0, 0, 2, 0)


# -- F6: validity ------------------------------------------------------------------------------


def test_f6_feb29_plus_12_months_clamps_to_feb28() -> None:
    """A purchase on Feb 29 with 12 months of validity expires on Feb 28, same wall time."""
    order, _, outbox = bought(at=utc(2024, 2, 29, 15, 30), validity_months=12)
    assert order.expires_at == utc(2025, 2, 28, 15, 30)
    assert "2025-02-28 15:30" in outbox.sent[0].body


def test_f6_jan31_plus_one_month_clamps_to_the_end_of_february() -> None:
    """Jan 31 + 1 month is Feb 28 (Feb 29 in a leap year)."""
    assert bought(at=utc(2026, 1, 31, 8), validity_months=1)[0].expires_at == utc(2026, 2, 28, 8)
    assert bought(at=utc(2028, 1, 31, 8), validity_months=1)[0].expires_at == utc(2028, 2, 29, 8)


def test_f6_expiry_is_computed_in_the_billing_timezone() -> None:
    """The clamp and the wall time use the organization's billing timezone, across DST."""
    org = sf.Organization("org-1", projects=("p-1",), billing_timezone="America/New_York")
    # Jan 31 23:30 in New York is Feb 1 in UTC: the local date decides the clamp.
    order, _, outbox = bought(at=utc(2026, 2, 1, 4, 30), org=org, validity_months=1)
    assert order.expires_at == pendulum.datetime(2026, 2, 28, 23, 30, tz="America/New_York")
    assert "2026-02-28 23:30 (America/New_York)" in outbox.sent[0].body
    summer, _, _ = bought(at=utc(2026, 1, 15, 15), org=org, validity_months=6)
    assert summer.expires_at == pendulum.datetime(2026, 7, 15, 10, tz="America/New_York")
    assert summer.expires_at == utc(2026, 7, 15, 14)


def test_f6_validity_runs_from_confirmation_not_checkout() -> None:
    """The purchase instant is when the order becomes purchased."""
    clock = sf.FrozenClock(utc(2026, 1, 10))
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=1, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox(), validity_months=2
    )
    clock.advance(days=5)
    order.confirm()
    assert order.expires_at == utc(2026, 3, 15)


@pytest.mark.parametrize("months", [0, -1, 1.5, "12"])
def test_f6_validity_months_must_be_a_whole_number(months: Any) -> None:
    """A validity that is not None or a whole number of months >= 1 is malformed input."""
    with pytest.raises(sf.InvalidInput) as error:
        bought(validity_months=months)
    assert codes(error) == ["invalid_quantity"]
    assert error.value.rule == "F6"


def test_f6_a_session_may_end_exactly_at_expiry() -> None:
    """end == expiry is allowed; one minute later is refused session_after_expiry."""
    order, _, _ = bought(validity_months=1)
    expiry = order.expires_at
    assert expiry is not None
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=expiry.subtract(minutes=59), hours=1, actor=OWNER)
    assert codes(error) == ["session_after_expiry"]
    session = order.schedule(start=expiry.subtract(hours=1), hours=1, actor=OWNER)
    assert session.end == expiry


def test_f6_unused_units_expire_at_the_expiry_instant() -> None:
    """One microsecond before expiry nothing has expired; at expiry the order is expired."""
    order, clock, _ = bought(units=3, validity_months=1)
    expiry = order.expires_at
    assert expiry is not None
    clock.set(expiry.subtract(microseconds=1))
    assert order.state == "purchased"
    clock.set(expiry)
    assert order.state == "expired"
    assert balance(order) == (3, 0, 0, 0, 3)


def test_f6_booked_sessions_survive_expiry_and_stay_deliverable() -> None:
    """At expiry available units expire, booked ones stay; the last delivery ends in expired."""
    order, clock, _ = bought(units=5, validity_months=1)
    expiry = order.expires_at
    assert expiry is not None
    session = order.schedule(start=expiry.subtract(hours=2), hours=2, actor=OWNER)
    clock.set(expiry.add(days=3))
    assert order.state == "scheduled"
    assert balance(order) == (5, 0, 2, 0, 3)
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now().add(hours=1), hours=1, actor=OWNER)
    assert codes(error) == ["session_after_expiry", "insufficient_units"]
    delivered = order.deliver(session.session_id)
    assert delivered.closed_at == expiry.add(days=3)
    assert order.state == "expired"
    assert balance(order) == (5, 0, 0, 2, 3)


def test_f6_every_unit_booked_at_expiry_then_delivered_is_consumed() -> None:
    """With nothing left to expire, delivering every booked unit ends in consumed."""
    order, clock, _ = bought(units=2, validity_months=1)
    expiry = order.expires_at
    assert expiry is not None
    session = order.schedule(start=expiry.subtract(hours=2), hours=2, actor=OWNER)
    clock.set(expiry)
    assert [(e.action, e.units) for e in order.apply_due()] == [("expire", 0)]
    assert order.state == "scheduled"
    order.deliver(session.session_id)
    assert order.state == "consumed"


def test_f6_without_validity_units_never_expire() -> None:
    """No validity: apply_due never expires anything."""
    order, clock, _ = bought(units=2)
    clock.advance(years=30)
    assert order.apply_due() == ()
    assert order.state == "purchased"


# -- T7: observed as of now --------------------------------------------------------------------


def test_t7_apply_due_records_the_expiry_at_its_instant_even_when_late() -> None:
    """A late apply_due applies the expiry at the expiry instant and returns it; again: nothing."""
    order, clock, _ = bought(units=3, validity_months=1)
    clock.advance(months=5)
    applied = order.apply_due()
    assert [(e.at, e.action, e.units) for e in applied] == [(order.expires_at, "expire", 3)]
    assert order.apply_due() == ()
    assert order.history[-1] == applied[0]


def test_t7_reads_and_actions_see_the_expiry_without_apply_due() -> None:
    """Reading or acting after expiry behaves as if apply_due had run at the expiry."""
    late, late_clock, _ = bought(units=3, validity_months=1, order_id="co-1")
    punctual, punctual_clock, _ = bought(units=3, validity_months=1, order_id="co-1")
    expiry = punctual.expires_at
    assert expiry is not None
    punctual_clock.set(expiry)
    punctual.apply_due()
    punctual_clock.advance(days=40)
    late_clock.set(expiry.add(days=40))
    with pytest.raises(sf.Refused) as error:
        late.cancel_session("s-1")
    assert codes(error) == ["order_not_active"]
    assert late.snapshot() == punctual.snapshot()


# -- F7: the balance and final states ----------------------------------------------------------


def test_f7_a_final_order_answers_order_not_active_before_any_other_rule() -> None:
    """Well-formed requests on an expired order are answered with order_not_active alone, even
    from a stranger; malformed input is still malformed first (V4)."""
    order, clock, _ = bought(validity_months=1)
    clock.advance(months=2)
    with pytest.raises(sf.Refused) as error:
        order.schedule(start=clock.now().subtract(days=1), hours=999, actor=STRANGER)
    assert codes(error) == ["order_not_active"]
    assert error.value.rule == "F7"
    with pytest.raises(sf.InvalidInput) as malformed:
        order.schedule(start=dt.datetime(2026, 1, 1), hours=0, actor=STRANGER)
    assert codes(malformed) == ["naive_datetime"]


def test_f7_a_consumed_order_refuses_every_action() -> None:
    """Once every unit is consumed, scheduling, cancelling and delivering are order_not_active."""
    order, clock, _ = bought(units=1)
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    clock.set(session.start)
    order.deliver(session.session_id)
    calls = [
        lambda: order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER),
        lambda: order.cancel_session(session.session_id),
        lambda: order.deliver(session.session_id),
    ]
    for call in calls:
        with pytest.raises(sf.Refused) as error:
            call()
        assert codes(error) == ["order_not_active"]


def test_f7_a_refusal_changes_nothing() -> None:
    """A refused action leaves the snapshot exactly as it was."""
    order, clock, outbox = bought(units=2, validity_months=1)
    order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    before = order.snapshot()
    for call in [
        lambda: order.schedule(start=clock.now().add(days=1), hours=2, actor=OWNER),
        lambda: order.schedule(start=clock.now().add(days=1), hours=1, actor=STRANGER),
        lambda: order.deliver("s-1"),
        lambda: order.cancel_session("s-2"),
    ]:
        with pytest.raises(sf.Refused):
            call()
        assert order.snapshot() == before
    assert len(outbox.sent) == 1


def test_f7_history_records_every_step_in_order() -> None:
    """History lists checkout, purchase, schedule, cancel, deliver and expire with their actors."""
    order, clock, _ = bought(units=3, validity_months=1)
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    second = order.schedule(start=clock.now().add(days=2), hours=1, actor=DEV)
    order.cancel_session(first.session_id, actor=DEV)
    clock.set(second.start)
    order.deliver(second.session_id)
    clock.advance(months=1)
    assert [(e.action, e.units, e.session_id, e.actor) for e in order.history] == [
        ("checkout", 3, None, "u-owner"),
        ("purchase", 3, None, "u-owner"),
        ("schedule", 1, "s-1", "u-owner"),
        ("schedule", 1, "s-2", "u-dev"),
        ("cancel_session", 1, "s-1", "u-dev"),
        ("deliver", 1, "s-2", None),
        ("expire", 2, None, None),
    ]
    assert balance(order) == (3, 0, 0, 1, 2)
