"""bulk.apply_due over streams of snapshots equals the per-object path exactly (P14, F6, T7, V2)."""

from __future__ import annotations

import datetime as dt
import gc
import random
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pendulum
import pytest
from hostile_objects import hostile_class

import support_flows as sf
from support_flows import bulk
from support_flows.errors import describe
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


IterationRaises = hostile_class(object, ("__iter__", "__len__", "__getitem__"))
PairRaises = hostile_class(tuple, ("__iter__", "__len__", "__getitem__", "__eq__", "__hash__"))

NOT_PAIRS: list[tuple[str, Callable[[dict[str, Any], sf.Organization], object]]] = [
    ("()", lambda good, org: ()),
    ("a 3-tuple", lambda good, org: (good, org, org)),
    ("None", lambda good, org: None),
    ("42", lambda good, org: 42),
    ("a string", lambda good, org: "plan"),
    ("the snapshot alone", lambda good, org: good),
    ("a list pair", lambda good, org: [good, org]),
    ("the pair swapped", lambda good, org: (org, good)),
    ("an org id for the org", lambda good, org: (good, org.org_id)),
    ("a string for the snapshot", lambda good, org: ("plan", org)),
    ("an org whose __class__ raises", lambda good, org: (good, hostile_class(object, ())())),
    ("a dict subclass snapshot", lambda good, org: (hostile_class(dict, ("get",))(good), org)),
    ("an object whose __iter__ raises", lambda good, org: IterationRaises()),
    ("a tuple subclass whose __len__ raises", lambda good, org: PairRaises((good, org))),
]


@pytest.mark.parametrize(("label", "make"), NOT_PAIRS, ids=[label for label, _ in NOT_PAIRS])
def test_v5_an_item_that_is_no_pair_yields_its_error_and_the_stream_goes_on(
    label: str, make: Callable[[dict[str, Any], sf.Organization], object]
) -> None:
    """V5, V2: an item that is no (snapshot, Organization) tuple yields its error; the rest run."""
    good, org = random_plan(random.Random(11), 2)
    until = START.add(days=200)
    results = list(bulk.apply_due([(good, org), make(good, org), (good, org)], until=until))
    assert len(results) == 3
    assert isinstance(results[1], sf.InvalidInput), results[1]
    assert results[1].code in ("invalid_value", "invalid_snapshot")
    assert not isinstance(results[0], Exception)
    assert results[0] == results[2]


@pytest.mark.parametrize(
    "make",
    [
        *(lambda: 42, lambda: None, lambda: {"kind": "support_plan"}),
        *(lambda: "plan", lambda: b"p", IterationRaises),
    ],
    ids=["42", "None", "a dict", "a str", "bytes", "__iter__ raises"],
)
def test_v5_records_that_are_no_stream_are_refused_at_the_call(make: Callable[[], object]) -> None:
    """V5: records that are no stream (42, None, a dict, text) are refused at the call, named."""
    records = make()
    with pytest.raises(sf.InvalidInput) as caught:
        bulk.apply_due(records, until=START)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.rule) == ("invalid_value", "V5")
    assert describe(records) in caught.value.message


@pytest.mark.parametrize(
    ("until", "code", "rule"),
    [
        (dt.datetime(2026, 3, 1), "naive_datetime", "T1"),
        (dt.datetime(3000, 1, 1, tzinfo=dt.UTC), "invalid_value", "V4"),
        (dt.datetime(1969, 12, 31, tzinfo=dt.UTC), "invalid_value", "V4"),
        ("2026-03-01T00:00:00+00:00", "invalid_value", "T1"),
        (None, "invalid_value", "T1"),
    ],
    ids=["naive", "year 3000", "year 1969", "text", "None"],
)
def test_t1_v4_an_until_that_is_no_instant_in_range_is_refused_at_the_call(
    until: object, code: str, rule: str
) -> None:
    """T1, V4: a naive, out-of-range or non-datetime `until` is refused at the call."""
    with pytest.raises(sf.InvalidInput) as caught:
        bulk.apply_due([], until=until)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.rule) == (code, rule)


def test_v5_a_stream_whose_iteration_fails_midway_ends_with_a_coded_error() -> None:
    """V5: a stream whose own iteration raises midway ends with invalid_value, not the raw error."""
    good, org = random_plan(random.Random(5), 1)

    def stream() -> Iterator[tuple[dict[str, Any], sf.Organization]]:
        yield (good, org)
        raise RuntimeError("the host's cursor broke")

    results = bulk.apply_due(stream(), until=START.add(days=40))
    assert not isinstance(next(results), Exception)
    with pytest.raises(sf.InvalidInput) as caught:
        next(results)
    assert caught.value.code == "invalid_value"
    assert "after record 1: RuntimeError" in caught.value.message
