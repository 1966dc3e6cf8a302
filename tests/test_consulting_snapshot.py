"""Consulting order snapshots round-trip, and anything else is refused (V2); the chart (F)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.consulting_chart import COMPILED

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone="Europe/Paris")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
START = pendulum.datetime(2026, 3, 14, 10, tz="Europe/Paris")


def busy_order() -> tuple[sf.ConsultingOrder, sf.FrozenClock, sf.InMemoryOutbox]:
    """An order with a delivered, a cancelled and a booked session."""
    clock = sf.FrozenClock(START)
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=6, actor=OWNER, clock=clock, outbox=outbox, validity_months=1, order_id="co-1"
    )
    order.confirm()
    first = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    second = order.schedule(start=clock.now().add(days=2), hours=2, actor=OWNER)
    order.schedule(start=clock.now().add(days=3), hours=2, actor=OWNER)
    order.cancel_session(second.session_id)
    clock.set(first.start)
    order.deliver(first.session_id, actor=OWNER)
    return order, clock, outbox


def test_v2_snapshot_round_trips_through_json() -> None:
    """restore(snapshot) behaves like the original: same reads, same next steps, no email."""
    order, clock, outbox = busy_order()
    data = json.loads(json.dumps(order.snapshot()))
    twin = sf.FrozenClock(clock.now())
    restored = sf.ConsultingOrder.restore(data, ORG, clock=twin, outbox=outbox)
    assert restored.snapshot() == order.snapshot()
    assert (restored.state, restored.units, restored.sessions, restored.history) == (
        order.state,
        order.units,
        order.sessions,
        order.history,
    )
    for each, its_clock in ((order, clock), (restored, twin)):
        its_clock.set(START.add(days=3))
        each.deliver("s-3")
        its_clock.advance(months=1)
    assert restored.snapshot() == order.snapshot()
    assert restored.state == "expired"
    assert len(outbox.sent) == 1


def test_v2_restore_applies_what_came_due_since_the_snapshot() -> None:
    """A snapshot taken before expiry, restored after it, is observed expired at its instant."""
    clock = sf.FrozenClock(START)
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=2,
        sales_reference="SO-1",
        email="b@example.com",
        clock=clock,
        outbox=outbox,
        validity_months=1,
    )
    data = order.snapshot()
    clock.advance(months=2)
    restored = sf.ConsultingOrder.restore(data, ORG, clock=clock, outbox=outbox)
    assert restored.state == "expired"
    assert restored.history[-1].at == order.expires_at


def corrupt(change: Any) -> dict[str, Any]:
    order, _, _ = busy_order()
    data = copy.deepcopy(order.snapshot())
    change(data)
    return data


BAD_SNAPSHOTS = {
    "unknown state": lambda d: d.update(state="refunded"),
    "missing field": lambda d: d.pop("expires_at"),
    "extra field": lambda d: d.update(colour="blue"),
    "mistyped field": lambda d: d.update(hours_per_unit="1"),
    "bool for int": lambda d: d["units"].update(purchased=True),
    "naive instant": lambda d: d.update(created_at="2026-03-14T10:00:00"),
    "balance off": lambda d: d["units"].update(available=99),
    "negative part": lambda d: d["units"].update(available=-1, consumed=d["units"]["consumed"] + 1),
    "state not the balance": lambda d: d.update(state="purchased"),
    "sessions not the balance": lambda d: d["sessions"][2].update(status="cancelled"),
    "session ids": lambda d: d["sessions"][0].update(session_id="x"),
    "other organization": lambda d: d.update(org_id="org-2"),
    "expiry without validity": lambda d: d.update(validity_months=None),
    "partial units": lambda d: d["sessions"][1].update(hours=3),
    "unknown session status": lambda d: d["sessions"][1].update(status="lost"),
}


@pytest.mark.parametrize("change", BAD_SNAPSHOTS.values(), ids=list(BAD_SNAPSHOTS))
def test_v2_a_snapshot_this_library_did_not_write_is_refused(change: Any) -> None:
    """Unknown states, missing, extra or mistyped fields and impossible orders: invalid_snapshot."""
    with pytest.raises(sf.InvalidInput) as error:
        sf.ConsultingOrder.restore(
            corrupt(change), ORG, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    assert error.value.code == "invalid_snapshot"
    assert error.value.rule == "V2"


@pytest.mark.parametrize("data", [None, [], "order", 3])
def test_v2_a_snapshot_is_a_dict(data: Any) -> None:
    """Anything but a dict is refused invalid_snapshot."""
    with pytest.raises(sf.InvalidInput) as error:
        sf.ConsultingOrder.restore(
            data, ORG, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    assert error.value.code == "invalid_snapshot"


@pytest.mark.structure
def test_f_chart_declares_the_order_states_and_carries_the_guards() -> None:
    """The chart has the five F states (two final) behind its opening state, and its edges carry
    the F guards; the compiled table is what the orders run."""
    assert COMPILED.initial == "new"
    assert set(COMPILED.states) == {
        "new",
        "checkout",
        "purchased",
        "scheduled",
        "consumed",
        "expired",
    }
    assert COMPILED.finals == {"consumed", "expired"}
    table = COMPILED.transitions_table()
    guards = {name for row in table for name in row[3]}
    assert {
        "billing_role_required",
        "sales_reference_required",
        "not_org_member",
        "session_in_past",
        "session_after_expiry",
        "insufficient_units",
        "unknown_session",
        "session_already_started",
        "session_not_started",
    } <= guards
    assert ("confirm", "checkout", "purchased", ()) in table


@pytest.mark.parametrize("engine", ["table", "statechart"])
def test_f_chart_refuses_events_its_state_has_no_transition_for(engine: str) -> None:
    """An event the state has no edge for, on an active order, is event_not_allowed (V3)."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=2,
        sales_reference="SO-1",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        engine=engine,
    )
    with pytest.raises(sf.Refused) as error:
        order._run("confirm")
    assert error.value.code == "event_not_allowed"


def test_v2_a_history_closing_no_session_is_refused_not_a_crash() -> None:
    """V2: a history whose cancel_session entry names no session (the expiry relabelled) is a
    record the library never writes: restore refuses it with invalid_snapshot, not an error."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 1, 10, 9, tz="UTC"))
    org = sf.Organization("org-1", projects=("p-1",), billing_timezone="UTC")
    owner = sf.Member("u-1", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
    order = sf.ConsultingOrder.from_representative(
        org,
        units=2,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=1,
    )
    order.schedule(start=clock.now().add(days=2), hours=1, actor=owner)
    clock.set(order.expires_at)
    order.apply_due()
    data = order.snapshot()
    assert [e["action"] for e in data["history"]] == ["purchase", "schedule", "expire"]
    data["history"][2]["action"] = "cancel_session"
    with pytest.raises(sf.InvalidInput) as error:
        sf.ConsultingOrder.restore(data, org, clock=clock, outbox=sf.InMemoryOutbox())
    assert (error.value.code, error.value.rule) == ("invalid_snapshot", "V2")
    assert "names none" in error.value.message
