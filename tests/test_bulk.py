"""bulk.apply_due over streams of snapshots equals the per-object path exactly (P14, F6, T7, V2)."""

from __future__ import annotations

import gc
import random
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows import bulk
from support_flows.localtime import next_month_start

ZONES = (
    "UTC",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/St_Johns",
    "America/Asuncion",
    "America/Havana",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
OWNER = sf.Member("owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
START = pendulum.datetime(2025, 12, 20, tz="UTC")
MICRO = pendulum.duration(microseconds=1)


def random_plan(rng: random.Random, n: int) -> tuple[dict[str, Any], sf.Organization]:
    """A plan driven through a few random requests and clock moves, then snapshotted."""
    org = sf.Organization(f"org-{n}", billing_timezone=rng.choice(ZONES))
    clock = sf.FrozenClock(START.add(hours=rng.randrange(24 * 60)))
    plan = sf.SupportPlan(org, clock=clock)
    for _ in range(rng.randrange(1, 6)):
        try:
            if rng.random() < 0.2:
                plan.cancel(actor=OWNER)
            else:
                plan.change(rng.choice(("developer", "premium", "basic")), actor=OWNER)
        except sf.Refused:
            pass
        clock.advance(days=rng.randrange(0, 40), minutes=rng.randrange(0, 600))
    return plan.snapshot(history=rng.random() < 0.5), org


def random_order(rng: random.Random, n: int) -> tuple[dict[str, Any], sf.Organization]:
    """An order bought, with sessions booked and some closed, then snapshotted."""
    org = sf.Organization(f"org-{n}", projects=("p-1",), billing_timezone=rng.choice(ZONES))
    clock = sf.FrozenClock(START.add(hours=rng.randrange(24 * 60)))
    order = sf.ConsultingOrder.from_representative(
        org,
        units=rng.randrange(1, 6),
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=rng.choice((None, 1, 2)),
        order_id=f"co-{n}",
    )
    for _ in range(rng.randrange(0, 4)):
        try:
            session = order.schedule(
                start=clock.now().add(days=rng.randrange(1, 20)), hours=1, actor=OWNER
            )
            clock.advance(days=rng.randrange(0, 25))
            if rng.random() < 0.5:
                order.deliver(session.session_id)
        except sf.Refused:
            pass
    return order.snapshot(history=rng.random() < 0.5), org


def per_object(data: dict[str, Any], org: sf.Organization, until: pendulum.DateTime) -> Any:
    """What a host would write without bulk: restore, apply_due, snapshot, one by one."""
    clock = sf.FrozenClock(until)
    keep = data["history"] is not None
    if data["kind"] == "support_plan":
        plan = sf.SupportPlan.restore(data, org, clock=clock)
        applied: Any = plan.apply_due()
        return plan.snapshot(history=keep), applied
    order = sf.ConsultingOrder.restore(data, org, clock=clock, outbox=sf.InMemoryOutbox())
    applied = order.apply_due()
    return order.snapshot(history=keep), applied


def untils(rng: random.Random, tz: str) -> Iterator[pendulum.DateTime]:
    """Instants just before, at and after a month start in the record's zone, and one between."""
    first = next_month_start(START.add(days=rng.randrange(20, 160)), tz)
    yield from (first - MICRO, first, first + MICRO, first.add(days=13))


def test_bulk_equals_the_per_object_path_over_ten_thousand_records() -> None:
    """P14/T7: for 10,000 random plans and orders in many zones, with due instants just before,
    at and after month starts, bulk.apply_due yields exactly what restore + apply_due + snapshot
    gives, record by record."""
    rng = random.Random(20261126)
    records = [random_plan(rng, n) if n % 5 else random_order(rng, n) for n in range(10_000)]
    compared = 0
    for n, (data, org) in enumerate(records):
        instants = list(untils(rng, org.billing_timezone))
        for until in instants if n < 500 else [rng.choice(instants)]:
            expected = per_object(data, org, until)
            (got,) = bulk.apply_due([(data, org)], until=until)
            assert not isinstance(got, Exception)
            assert got[0] == expected[0]
            assert got[1] == expected[1]
            compared += 1
    for data, org in records[:500]:  # a whole stream at once gives the same, in order
        until = next_month_start(START.add(days=90), org.billing_timezone)
        stream = list(bulk.apply_due([(data, org)] * 4, until=until))
        assert all(not isinstance(r, Exception) and r == stream[0] for r in stream)
        compared += 4
    assert compared >= 10_000 + 1_500


def test_bulk_yields_the_refusal_of_a_bad_record_and_goes_on() -> None:
    """V2: a bad record yields its InvalidInput in its place; the records after it still run."""
    rng = random.Random(7)
    good, org = random_plan(rng, 1)
    bad = {**good, "state": "gold"}
    other = {**good, "org_id": "org-2"}
    until = START.add(days=200)
    results = list(
        bulk.apply_due([(good, org), (bad, org), (other, org), (good, org)], until=until)
    )
    assert isinstance(results[1], sf.InvalidInput)
    assert results[1].code == "invalid_snapshot"
    assert isinstance(results[2], sf.InvalidInput)
    assert results[0] == results[3]
    assert not isinstance(results[0], Exception)


@pytest.mark.parametrize("data", [None, [], "plan", {"kind": "invoice"}])
def test_bulk_refuses_what_is_no_snapshot(data: Any) -> None:
    """V2: something that is no plan or order snapshot yields invalid_snapshot."""
    (result,) = bulk.apply_due([(data, sf.Organization("org-1"))], until=START)
    assert isinstance(result, sf.InvalidInput)
    assert result.code == "invalid_snapshot"


def test_bulk_is_lazy_and_holds_one_record_at_a_time() -> None:
    """The stream is consumed one record at a time: memory does not grow with its length."""
    rng = random.Random(3)
    template, _ = random_plan(rng, 0)
    zone = template["billing_timezone"]

    def stream(count: int) -> Iterator[tuple[dict[str, Any], sf.Organization]]:
        for n in range(count):
            yield (
                {**template, "org_id": f"org-{n}"},
                sf.Organization(f"org-{n}", billing_timezone=zone),
            )

    until = START.add(days=200)
    peaks = []
    for count in (500, 5_000):
        gc.collect()
        tracemalloc.start()
        for _ in bulk.apply_due(stream(count), until=until):
            pass
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 2 + 512 * 1024


def test_p21_a_premium_record_s_timeline_is_computed_once_for_the_check_and_the_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P21, V2: rolling over a premium plan with a downgrade due computes its billing timeline
    once: the restore's P21 check and the pending change's action share it."""
    from support_flows.machines import plan_book

    org = sf.Organization("org-once", billing_timezone="Pacific/Auckland")
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(org, clock=clock)
    plan.change("premium", actor=OWNER)
    clock.advance(days=40)
    plan.change("developer", actor=OWNER)
    data = plan.snapshot(history=False)
    computed = []
    real = plan_book.after_pending

    def counted(*args: Any) -> Any:
        computed.append(args)
        return real(*args)

    monkeypatch.setattr(plan_book, "after_pending", counted)
    [(written, applied)] = list(bulk.apply_due([(data, org)], until=START.add(days=120)))
    assert [entry.event for entry in applied] == ["apply_pending"]
    assert written["state"] == "developer"
    assert len(computed) == 1
