"""Derived facts must be derivable (V2): with its history, a snapshot's billing periods, flags,
balances and instants are what that history produces; without it, what some accepted requests
could have produced from the rest of the record. Each example here was once accepted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum
import pytest

import support_flows as sf

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def refusal(restore: Callable[[], object]) -> str:
    """The message of the invalid_snapshot (V2) refusal `restore` raises."""
    with pytest.raises(sf.InvalidInput) as info:
        restore()
    assert info.value.code == "invalid_snapshot"
    assert info.value.rule == "V2"
    return info.value.message


def restore_plan(data: dict[str, Any]) -> sf.SupportPlan:
    return sf.SupportPlan.restore(data, ORG, clock=sf.FrozenClock(utc(2026, 1, 10, 9)))


def restore_order(data: dict[str, Any]) -> sf.ConsultingOrder:
    return sf.ConsultingOrder.restore(
        data, ORG, clock=sf.FrozenClock(utc(2026, 1, 10, 9)), outbox=sf.InMemoryOutbox()
    )


def plan_at(steps: list[tuple[pendulum.DateTime, str]], until: pendulum.DateTime) -> sf.SupportPlan:
    """A plan driven by the owner: each step a tier chosen ("basic" cancels) at its instant."""
    clock = sf.FrozenClock(steps[0][0])
    plan = sf.SupportPlan(ORG, clock=clock)
    for at, tier in steps:
        clock.set(at)
        plan.change(tier, OWNER)
    clock.set(until)
    return plan


def trial() -> sf.SupportPlan:
    """A trial from Jan 10 09:00 (it ends Feb 9 09:00)."""
    return plan_at([(utc(2026, 1, 10, 9), "developer")], utc(2026, 1, 10, 9))


def developer() -> sf.SupportPlan:
    """A trial from Jan 10 that converted on Feb 9: developer billed from Feb 9 09:00."""
    return plan_at([(utc(2026, 1, 10, 9), "developer")], utc(2026, 3, 2))


def period(tier: str, starts: str, ends: str | None, retroactive: bool = False) -> dict[str, Any]:
    return {"tier": tier, "starts_at": starts, "ends_at": ends, "retroactive": retroactive}


@pytest.mark.parametrize("history", [True, False], ids=["history", "no history"])
def test_v2_a_trial_with_a_closed_developer_period_is_refused(history: bool) -> None:
    """V2, P20: a trial is free; a trial snapshot with an extra closed developer period (which
    a later read would bill out of order) is refused."""
    data = trial().snapshot(history=history)
    data["periods"] = [
        period("developer", "2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00")
    ]
    assert "billing period" in refusal(lambda: restore_plan(data))


@pytest.mark.parametrize(
    "starts", ["1990-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"], ids=["1990", "2030"]
)
def test_v2_developer_billing_its_history_contradicts_is_refused(starts: str) -> None:
    """V2, P6: with the full history, developer billed from 1990 or only from 2030 is refused,
    the message naming the period and the trial's end it is billed from."""
    data = developer().snapshot()
    assert data["periods"] == [period("developer", "2026-02-09T09:00:00+00:00", None)]
    data["periods"][0]["starts_at"] = starts
    message = refusal(lambda: restore_plan(data))
    assert f"billing period 0 (developer from {starts})" in message
    assert "2026-02-09T09:00:00+00:00" in message


def test_v2_premium_billed_retroactively_on_a_first_subscription_is_refused() -> None:
    """V2, P5, P15: premium chosen from basic is billed from the 1st of next month; billed
    retroactively from 2020 (only a reactivation is) it is refused, with its history."""
    data = plan_at([(utc(2026, 1, 10, 9), "premium")], utc(2026, 1, 20)).snapshot()
    assert data["periods"] == [period("premium", "2026-02-01T00:00:00+00:00", None)]
    data["periods"][0].update(starts_at="2020-01-01T00:00:00+00:00", retroactive=True)
    message = refusal(lambda: restore_plan(data))
    assert "2020-01-01T00:00:00+00:00" in message


def test_v2_a_cancelled_plan_billed_until_2030_is_refused() -> None:
    """V2, P9: a developer plan cancelled on Feb 20 is billed until Mar 1; a snapshot billing it
    until 2030 is refused, with its history and without it."""
    plan = plan_at(
        [(utc(2026, 1, 10, 9), "developer"), (utc(2026, 2, 20), "basic")], utc(2026, 3, 2)
    )
    for history in (True, False):
        data = plan.snapshot(history=history)
        assert data["state"] == "cancelled"
        assert data["periods"][-1]["ends_at"] == "2026-03-01T00:00:00+00:00"
        data["periods"][-1]["ends_at"] = "2030-01-01T00:00:00+00:00"
        assert "2030-01-01T00:00:00+00:00" in refusal(lambda d=data: restore_plan(d))


def test_v2_a_flipped_retroactive_flag_is_refused() -> None:
    """V2, P6: the developer period a trial's end starts is not retroactive; flipping the flag
    (which P20 reads as a licence for any boundary) is refused, with its history."""
    data = developer().snapshot()
    data["periods"][0]["retroactive"] = True
    message = refusal(lambda: restore_plan(data))
    assert "billing period 0 (developer from 2026-02-09T09:00:00+00:00)" in message
    assert "retroactively" in message


def test_v2_a_plan_record_its_history_contradicts_is_refused_naming_the_path() -> None:
    """V2: with its history, a record is exactly what replaying the history gives: premium
    chosen Jan 10 but recorded since Jan 12 (which nothing else in the record contradicts) is
    refused, naming the JSON path and both values."""
    data = plan_at([(utc(2026, 1, 10, 9), "premium")], utc(2026, 1, 20)).snapshot()
    data.update(since="2026-01-12T09:00:00+00:00", recorded_at="2026-01-12T09:00:00+00:00")
    restore_plan(data | {"history": None})  # without its history, a record some requests make
    message = refusal(lambda: restore_plan(data))
    assert "$.since is '2026-01-12T09:00:00+00:00'" in message
    assert "replaying its history gives '2026-01-10T09:00:00+00:00'" in message


def test_v2_an_order_record_its_history_contradicts_is_refused_naming_the_path() -> None:
    """V2: with its history, an order is exactly what replaying the history gives: a purchase
    recorded half an hour before its history says is refused, naming the JSON path and both."""
    clock = sf.FrozenClock(utc(2026, 1, 10, 9))
    made = sf.ConsultingOrder.start_checkout(
        ORG, units=2, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox(), order_id="co-1"
    )
    clock.set(utc(2026, 1, 10, 10))
    made.confirm()
    data = made.snapshot()
    data.update(purchased_at="2026-01-10T09:30:00+00:00", recorded_at="2026-01-10T09:30:00+00:00")
    restore_order(data | {"history": None})  # without its history, a record some requests make
    message = refusal(lambda: restore_order(data))
    assert "$.purchased_at is '2026-01-10T09:30:00+00:00'" in message
    assert "replaying its history gives '2026-01-10T10:00:00+00:00'" in message


def test_v2_recorded_at_after_the_pending_change_is_refused() -> None:
    """V2, T7, T8: without a history, recorded_at after the pending change's effective instant
    (a read would move it back, losing the T8 floor) is refused."""
    plan = plan_at(
        [(utc(2026, 1, 10, 9), "premium"), (utc(2026, 1, 20), "basic")], utc(2026, 1, 25)
    )
    data = plan.snapshot(history=False)
    assert data["pending"]["effective_at"] == "2026-02-01T00:00:00+00:00"
    data["recorded_at"] = "2026-02-15T00:00:00+00:00"
    message = refusal(lambda: restore_plan(data))
    assert "recorded_at 2026-02-15T00:00:00+00:00" in message
    assert "2026-02-01T00:00:00+00:00" in message


def test_v2_recorded_at_after_the_trials_end_is_refused() -> None:
    """V2, T7, T8: without a history, a trial's recorded_at after the trial's end is refused."""
    data = trial().snapshot(history=False)
    data["recorded_at"] = "2026-03-01T00:00:00+00:00"
    assert "recorded_at 2026-03-01T00:00:00+00:00" in refusal(lambda: restore_plan(data))


@pytest.mark.parametrize("requester", ["", " u-owner", "u\nowner"], ids=repr)
def test_v2_a_pending_change_by_no_identifier_is_refused(requester: str) -> None:
    """V2, V5: without a history, a pending change requested by something that is not an
    identifier is refused, naming the field."""
    plan = plan_at(
        [(utc(2026, 1, 10, 9), "premium"), (utc(2026, 1, 20), "basic")], utc(2026, 1, 25)
    )
    data = plan.snapshot(history=False)
    data["pending"]["requested_by"] = requester
    message = refusal(lambda: restore_plan(data))
    assert "requested_by" in message
    assert "(V5)" in message


def order(validity: int | None = 12, clock: Any = None) -> sf.ConsultingOrder:
    """A console order of 3 units, confirmed Jan 10 09:00."""
    clock = clock or sf.FrozenClock(utc(2026, 1, 10, 9))
    made = sf.ConsultingOrder.start_checkout(
        ORG,
        units=3,
        validity_months=validity,
        actor=OWNER,
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        order_id="co-1",
    )
    made.confirm()
    return made


def test_v2_an_order_without_recorded_at_is_refused() -> None:
    """V2, T8: without a history, an order with no recorded_at (a lagging clock would then
    record the purchase before the order existed) is refused."""
    data = order().snapshot(history=False)
    data["recorded_at"] = None
    assert "recorded_at none" in refusal(lambda: restore_order(data))


def test_v2_validity_ended_on_the_purchase_day_is_refused() -> None:
    """V2, F6: without a history, validity_ended on the purchase day, a year before the expiry
    (a cancelled session's units would then expire), is refused."""
    data = order().snapshot(history=False)
    data["validity_ended"] = True
    assert "2027-01-10T09:00:00+00:00" in refusal(lambda: restore_order(data))


def test_v2_an_order_expired_a_year_before_its_expiry_is_refused() -> None:
    """V2, F6: without a history, state expired with its units expired while the record says
    nothing happened after the purchase, a year before the expiry, is refused."""
    data = order().snapshot(history=False)
    data.update(state="expired", validity_ended=True)
    data["units"].update(available=0, expired=3)
    assert "2027-01-10T09:00:00+00:00" in refusal(lambda: restore_order(data))


def test_v2_a_session_cancelled_before_it_was_booked_is_refused() -> None:
    """V2, F5: without a history, a session cancelled before it was booked is refused."""
    clock = sf.FrozenClock(utc(2026, 1, 10, 9))
    made = order(clock=clock)
    clock.set(utc(2026, 1, 11, 9))
    session = made.schedule(start=utc(2026, 1, 20, 9), hours=1, actor=OWNER)
    clock.set(utc(2026, 1, 12, 9))
    made.cancel_session(session.session_id, actor=OWNER)
    data = made.snapshot(history=False)
    data["sessions"][0]["closed_at"] = "2026-01-10T10:00:00+00:00"
    message = refusal(lambda: restore_order(data))
    assert "'s-1'" in message
    assert "before it was booked" in message


class Ticking:
    """A clock that moves on one microsecond at every reading, like a real one."""

    def __init__(self, start: pendulum.DateTime) -> None:
        self.at = start

    def now(self) -> pendulum.DateTime:
        self.at = self.at.add(microseconds=1)
        return self.at


@pytest.mark.parametrize("console", [True, False], ids=["console", "representative"])
def test_v2_an_order_opened_with_a_moving_clock_restores_its_own_snapshot(console: bool) -> None:
    """V2, F1: an order is opened at its creation instant, so an order made with a clock that
    moves at every reading writes snapshots that restore (they once were refused)."""
    clock = Ticking(utc(2026, 1, 10, 9))
    if console:
        made = order(clock=clock)
    else:
        made = sf.ConsultingOrder.from_representative(
            ORG,
            units=2,
            sales_reference="SO-1",
            email="buyer@example.com",
            clock=clock,
            outbox=sf.InMemoryOutbox(),
        )
    for history in (True, False):
        data = made.snapshot(history=history)
        restored = sf.ConsultingOrder.restore(data, ORG, clock=clock, outbox=sf.InMemoryOutbox())
        assert restored.snapshot(history=history)["history"] == data["history"]
