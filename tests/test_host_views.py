"""What a host returns: plan and order views, records and instants as JSON-safe data."""

from __future__ import annotations

import json

import pendulum
import pytest

import support_flows as sf

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
ORG = sf.Organization("org-1", projects=("p-1",), billing_timezone="Europe/Berlin")
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")


def test_plan_to_dict_and_next_due_at() -> None:
    """A plan's view shows its state, pending change, billing and entitlements as JSON; its next
    due instant is the pending change's (P9), then none once applied (T7)."""
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    view = json.loads(json.dumps(plan.to_dict()))
    assert view["state"] == "premium"
    assert view["pending"]["target"] == "developer"
    assert view["pending"]["effective_at"] == "2026-03-31T22:00:00+00:00"
    assert [p["tier"] for p in view["billing"]] == ["premium", "developer"]
    assert view["entitlements"] == ["chat", "developer_resources", "support_case"]
    assert plan.next_due_at == pendulum.datetime(2026, 3, 31, 22, tz="UTC")
    clock.set(plan.next_due_at)
    assert plan.next_due_at is None


def test_order_to_dict_and_next_due_at() -> None:
    """An order's view shows its units and sessions as JSON; its next due instant is its expiry
    (F6) until the validity ends."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=3,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=1,
        order_id="co-1",
    )
    order.schedule(start=START.add(days=1), hours=1, actor=OWNER)
    view = json.loads(json.dumps(order.to_dict()))
    assert (view["order_id"], view["state"], view["units"]["scheduled"]) == ("co-1", "scheduled", 1)
    assert view["sessions"][0]["session_id"] == "s-1"
    assert order.next_due_at == order.expires_at
    assert order.expires_at is not None
    clock.set(order.expires_at)
    assert order.next_due_at is None


@pytest.mark.parametrize(
    ("text", "hour"),
    [
        ("2026-03-01T00:00:00+01:00", 23),
        ("2026-03-01T00:00:00Z", 24),
        ("2026-03-01T02:00:00+02:00", 24),
    ],
)
def test_parse_instant_accepts_iso_text_with_an_offset(text: str, hour: int) -> None:
    """T1: ISO 8601 text with an offset is that instant, kept in UTC."""
    assert sf.parse_instant(text) == pendulum.datetime(2026, 2, 28, tz="UTC").add(hours=hour)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-03-01T00:00:00", "naive_datetime"),
        ("tomorrow", "invalid_value"),
        (5, "invalid_value"),
    ],
)
def test_parse_instant_refuses_naive_or_malformed_text(text: object, code: str) -> None:
    """T1: naive text is naive_datetime; anything else is invalid_value, naming the value."""
    with pytest.raises(sf.InvalidInput) as caught:
        sf.parse_instant(text)
    assert caught.value.code == code
    assert repr(text) in caught.value.message


def test_http_status_maps_every_reason() -> None:
    """Every reason has an HTTP status; an allowed decision is 200."""
    assert {sf.http_status(reason) for reason in sf.Reason} <= {400, 402, 403, 404, 409, 422, 503}
    assert sf.http_status(sf.Decision()) == 200
    with pytest.raises(sf.Refused) as caught:
        sf.SupportPlan(ORG, clock=sf.FrozenClock(START)).cancel(actor=OWNER)
    assert sf.http_status(caught.value) == 409
