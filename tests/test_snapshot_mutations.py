"""Mutated snapshots: restore refuses them whole with invalid_snapshot (V2), or gives back an
object on which every read and action works and whose own snapshot round-trips."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pendulum
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import support_flows as sf
from support_flows.localtime import add_wall_days

T = TypeVar("T")
Path = tuple[Any, ...]

ZONES = ("UTC", "Pacific/Auckland", "Pacific/Kiritimati", "America/St_Johns", "America/Asuncion")
T0 = pendulum.datetime(2025, 12, 1, tz="UTC")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
HUGE = 10**5000
MINUTES_IN_100_DAYS = 100 * 24 * 60
MICROS_IN_400_DAYS = 400 * 24 * 3600 * 10**6


def org_in(tz: str, org_id: str = "org-1") -> sf.Organization:
    return sf.Organization(org_id, projects=(sf.Project("p-1"),), billing_timezone=tz)


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def may_refuse(call: Callable[[], T]) -> T | None:
    """Run `call`; a coded library error (a refusal) is fine, any other exception propagates."""
    try:
        return call()
    except sf.SupportFlowsError as error:
        refusal = error
    assert isinstance(refusal.message, str)
    assert refusal.message
    return None


# -- building valid objects from random sequences of valid actions ---------------------------

waits = st.one_of(st.integers(1, 180), st.integers(1, MINUTES_IN_100_DAYS)).map(
    lambda m: ("wait", m)
)
plan_steps = st.lists(
    st.one_of(
        st.tuples(st.just("change"), st.sampled_from(["developer", "premium", "basic"])),
        st.just(("cancel",)),
        st.just(("revoke",)),
        waits,
    ),
    max_size=12,
)


def build_plan(
    tz: str, start: int, steps: list[tuple[Any, ...]]
) -> tuple[sf.SupportPlan, sf.FrozenClock]:
    """A plan driven through `steps` (refused steps change nothing)."""
    clock = sf.FrozenClock(T0.add(minutes=start))
    plan = sf.SupportPlan(org_in(tz), clock=clock)
    for step in steps:
        try:
            if step[0] == "change":
                plan.change(step[1], actor=OWNER)
            elif step[0] == "cancel":
                plan.cancel(actor=OWNER)
            elif step[0] == "revoke":
                plan.revoke_pending(actor=OWNER)
            else:
                clock.advance(minutes=step[1])
        except sf.Refused:
            pass
    return plan, clock


order_steps = st.lists(
    st.one_of(
        st.tuples(st.just("schedule"), st.integers(1, 60 * 24 * 60), st.integers(1, 3)),
        st.tuples(st.just("cancel"), st.integers(1, 5)),
        st.tuples(st.just("deliver"), st.integers(1, 5)),
        st.just(("confirm",)),
        st.just(("apply_due",)),
        waits,
    ),
    max_size=12,
)


def build_order(
    tz: str,
    start: int,
    console: bool,
    units: int,
    hours_per_unit: int,
    validity: int | None,
    steps: list[tuple[Any, ...]],
) -> tuple[sf.ConsultingOrder, sf.FrozenClock]:
    """An order opened in the console (confirmed) or by a representative, then driven."""
    clock = sf.FrozenClock(T0.add(minutes=start))
    outbox = sf.InMemoryOutbox()
    terms: dict[str, Any] = {
        "units": units,
        "hours_per_unit": hours_per_unit,
        "validity_months": validity,
        "clock": clock,
        "outbox": outbox,
    }
    if console:
        order = sf.ConsultingOrder.start_checkout(org_in(tz), actor=OWNER, **terms)
        order.confirm()
    else:
        order = sf.ConsultingOrder.from_representative(
            org_in(tz), sales_reference="SO-1", email="buyer@example.com", **terms
        )
    for step in steps:
        try:
            if step[0] == "schedule":
                begins = clock.now().add(minutes=step[1])
                order.schedule(start=begins, hours=step[2] * hours_per_unit, actor=OWNER)
            elif step[0] == "cancel":
                order.cancel_session(f"s-{step[1]}", actor=OWNER)
            elif step[0] == "deliver":
                order.deliver(f"s-{step[1]}", actor=OWNER)
            elif step[0] == "confirm":
                order.confirm()
            elif step[0] == "apply_due":
                order.apply_due()
            else:
                clock.advance(minutes=step[1])
        except sf.Refused:
            pass
    return order, clock


built_orders = st.builds(
    build_order,
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 400 * 24 * 60),
    console=st.booleans(),
    units=st.integers(1, 6),
    hours_per_unit=st.sampled_from([1, 2]),
    validity=st.sampled_from([None, 1, 12]),
    steps=order_steps,
)
"""Random orders, each with its clock: opened either way, then driven through random steps."""


# -- one random mutation anywhere in the nested snapshot --------------------------------------

VALID_LOOKING = (
    "",
    "basic",
    "trial",
    "developer",
    "premium",
    "enterprise",
    "cancelled",
    "subscribe",
    "upgrade",
    "downgrade",
    "cancel",
    "revoke",
    "reactivate",
    "end_trial",
    "apply_pending",
    "checkout",
    "purchase",
    "purchased",
    "scheduled",
    "consumed",
    "expired",
    "expire",
    "schedule",
    "cancel_session",
    "deliver",
    "delivered",
    "console",
    "representative",
    "support_plan",
    "consulting_order",
    "org-1",
    "org-2",
    "u-owner",
    "u-other",
    "s-1",
    "s-2",
    "s-9",
    "co-1",
    "SO-1",
    "buyer@example.com",
    "UTC",
    "Pacific/Auckland",
    "Europe/Paris",
    "2026-01-01T00:00:00+00:00",
    "2026-03-01T11:00:00+00:00",
    "2026-02-14T10:30:00+00:00",
)
FAMILIES = (
    ("basic", "trial", "developer", "premium", "enterprise", "cancelled"),
    ("subscribe", "upgrade", "downgrade", "cancel", "revoke", "reactivate", "end_trial"),
    ("apply_pending", "checkout", "purchase", "schedule", "cancel_session", "deliver", "expire"),
    ("checkout", "purchased", "scheduled", "consumed", "expired"),
    ("scheduled", "cancelled", "delivered"),
    ("console", "representative"),
    ("u-owner", "u-other", "org-1", "org-2", "s-1", "s-2", "s-9", "co-1", "SO-1"),
)
"""Strings that stand in for one another: another state, event, status or identifier."""
NEW_VALUES = (0, 1, -1, "x", "developer", "2026-02-01T00:00:00+00:00", True, False, [], {})
NON_STRING_KEYS = (1, None, True, 2.5, ("a",), b"state")
EXTRA_KEYS = ("extra", "ends_at", "since", "tier", "units", "retroactive")


def walk(node: object, path: Path = ()) -> Iterator[tuple[Path, object]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, index))


def at_path(root: object, path: Path) -> Any:
    node: Any = root
    for step in path:
        node = node[step]
    return node


def is_instant(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def mutations(root: object) -> list[tuple[str, Path]]:
    """Every (kind, path) mutation that applies somewhere in `root`."""
    found: list[tuple[str, Path]] = []
    for path, node in walk(root):
        if node is None:
            found.append(("None->value", path))
        else:
            found.append(("value->None", path))
        if path:
            found.append(("huge_int", path))
        if isinstance(node, bool):
            found.append(("bool<->int", path))
        elif isinstance(node, int):
            found += [("int->str", path), ("bool<->int", path)]
        elif isinstance(node, str):
            found += [("str->int", path), ("replace_string", path)]
            if is_instant(node):
                found.append(("shift_instant", path))
        elif isinstance(node, dict):
            found += [("add_key", path), ("non_string_key", path)]
            if node:
                found.append(("drop_key", path))
        elif isinstance(node, list):
            found.append(("list->dict", path))
            if node:
                found += [("duplicate_entry", path), ("delete_entry", path)]
            if len(node) > 1:
                found.append(("swap_entries", path))
    return found


def mutate(data: st.DataObject, snapshot: dict[str, Any]) -> tuple[object, str]:
    """A deep copy of `snapshot` with one random mutation; returns it and the mutation's kind.

    The kind is drawn first, then where it applies, so that rare kinds (an instant to shift, a
    list to reorder) are as likely as the kinds that apply at every leaf."""
    root: Any = copy.deepcopy(snapshot)
    found = mutations(root)
    kind = data.draw(st.sampled_from(sorted({k for k, _ in found})), label="mutation")
    path = data.draw(st.sampled_from([p for k, p in found if k == kind]), label="at")
    node = at_path(root, path)

    def put(value: object) -> None:
        nonlocal root
        if path:
            at_path(root, path[:-1])[path[-1]] = value
        else:
            root = value

    if kind == "value->None":
        put(None)
    elif kind == "None->value":
        put(data.draw(st.sampled_from(NEW_VALUES), label="new value"))
    elif kind == "int->str":
        put(str(node))
    elif kind == "str->int":
        put(data.draw(st.sampled_from([0, 1, len(node)]), label="new value"))
    elif kind == "bool<->int":
        put(int(node) if isinstance(node, bool) else node != 0)
    elif kind == "list->dict":
        put({str(n): v for n, v in enumerate(node)})
    elif kind == "huge_int":
        put(data.draw(st.sampled_from([1, -1]), label="sign of 10**5000") * HUGE)
    elif kind == "drop_key":
        del node[data.draw(st.sampled_from(sorted(node)), label="dropped key")]
    elif kind == "add_key":
        key = data.draw(st.sampled_from(EXTRA_KEYS), label="added key")
        key = key if key not in node else f"{key}_2"
        node[key] = data.draw(st.sampled_from(NEW_VALUES), label="added value")
    elif kind == "non_string_key":
        node[data.draw(st.sampled_from(NON_STRING_KEYS), label="key")] = "x"
    elif kind == "duplicate_entry":
        n = data.draw(st.integers(0, len(node) - 1), label="duplicated")
        node.insert(n, copy.deepcopy(node[n]))
    elif kind == "delete_entry":
        del node[data.draw(st.integers(0, len(node) - 1), label="deleted")]
    elif kind == "swap_entries":
        i, j = data.draw(
            st.lists(st.integers(0, len(node) - 1), min_size=2, max_size=2, unique=True),
            label="swapped",
        )
        node[i], node[j] = node[j], node[i]
    elif kind == "replace_string":
        kin = [s for family in FAMILIES if node in family for s in family]
        pool = VALID_LOOKING if not kin or data.draw(st.booleans(), label="any") else kin
        put(data.draw(st.sampled_from([s for s in pool if s != node]), label="string"))
    else:
        assert kind == "shift_instant"
        micros = data.draw(st.integers(1, MICROS_IN_400_DAYS), label="shift (us)")
        sign = data.draw(st.sampled_from([1, -1]), label="direction")
        moved = dt.datetime.fromisoformat(node) + sign * dt.timedelta(microseconds=micros)
        put(moved.astimezone(dt.UTC).isoformat())
    return root, kind


def assert_invalid_snapshot(error: BaseException) -> None:
    assert isinstance(error, sf.InvalidInput), f"{type(error).__name__}: {error!r}"
    assert error.code == "invalid_snapshot"
    assert error.rule == "V2"
    assert isinstance(error.message, str)
    assert error.message


def count(kind: str, outcome: str) -> None:
    event(f"restore {outcome}")
    event(f"{kind}: {outcome}")


after_snapshot = st.sampled_from([0, 1, 24 * 60, 45 * 24 * 60])


# -- plans --------------------------------------------------------------------------------------


def plan_reads(plan: sf.SupportPlan) -> None:
    for read in (
        lambda: plan.state,
        lambda: plan.pending,
        lambda: plan.trial,
        lambda: plan.billing,
        lambda: plan.entitlements,
        lambda: plan.history,
        plan.snapshot,
    ):
        may_refuse(read)


def exercise_plan(plan: sf.SupportPlan, clock: sf.FrozenClock, org: sf.Organization) -> None:
    """Every read, check and action, and clock moves, raise nothing but coded library errors;
    the plan's own snapshot then restores to an equal snapshot."""
    plan_reads(plan)
    for tier in sf.Tier:
        may_refuse(lambda t=tier: plan.check("change", OWNER, t))
    may_refuse(lambda: plan.check("cancel", OWNER))
    may_refuse(lambda: plan.check("revoke_pending", OWNER))
    actions: list[Callable[[], object]] = [
        *(lambda t=tier: plan.change(t, OWNER) for tier in sf.Tier),
        lambda: plan.cancel(OWNER),
        lambda: plan.revoke_pending(OWNER),
    ]
    for act in actions:
        may_refuse(act)
        plan_reads(plan)
    for days in (1, 400):
        may_refuse(lambda d=days: clock.advance(days=d))
        may_refuse(plan.apply_due)
        plan_reads(plan)
    final = plan.snapshot()
    assert sf.SupportPlan.restore(final, org, clock=clock).snapshot() == final


@given(
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 400 * 24 * 60),
    steps=plan_steps,
    later=after_snapshot,
    data=st.data(),
)
def test_v2_a_mutated_plan_snapshot_is_refused_whole_or_fully_usable(
    tz: str, start: int, steps: list[tuple[Any, ...]], later: int, data: st.DataObject
) -> None:
    """V2: a mutated plan snapshot is refused whole, or restores to a fully usable plan."""
    plan, clock = build_plan(tz, start, steps)
    written = plan.snapshot()
    mutated, kind = mutate(data, written)
    restore_clock = sf.FrozenClock(clock.now().add(minutes=later))
    try:
        restored = sf.SupportPlan.restore(mutated, plan.org, clock=restore_clock)
    except Exception as error:
        assert_invalid_snapshot(error)
        count(kind, "refused")
        return
    count(kind, "accepted")
    again = restored.snapshot()
    assert sf.SupportPlan.restore(again, plan.org, clock=restore_clock).snapshot() == again
    exercise_plan(restored, restore_clock, plan.org)


# -- consulting orders --------------------------------------------------------------------------


def order_reads(order: sf.ConsultingOrder) -> None:
    for read in (
        lambda: order.state,
        lambda: order.units,
        lambda: order.sessions,
        lambda: order.history,
        lambda: order.expires_at,
        lambda: order.purchased_at,
        order.snapshot,
    ):
        may_refuse(read)


def close_every_session(order: sf.ConsultingOrder) -> None:
    sessions = may_refuse(lambda: order.sessions) or ()
    for session in sessions:
        may_refuse(lambda s=session.session_id: order.cancel_session(s, actor=OWNER))
        order_reads(order)
        may_refuse(lambda s=session.session_id: order.deliver(s, actor=OWNER))
        order_reads(order)


def exercise_order(order: sf.ConsultingOrder, clock: sf.FrozenClock, org: sf.Organization) -> None:
    """Every read and action, and clock moves, raise nothing but coded library errors; the
    order's own snapshot then restores to an equal snapshot."""
    order_reads(order)
    may_refuse(order.confirm)
    order_reads(order)
    may_refuse(
        lambda: order.schedule(
            start=clock.now().add(days=1), hours=order.hours_per_unit, actor=OWNER
        )
    )
    order_reads(order)
    close_every_session(order)
    for days in (1, 400):
        may_refuse(lambda d=days: clock.advance(days=d))
        may_refuse(order.apply_due)
        order_reads(order)
        close_every_session(order)
    final = order.snapshot()
    twin = sf.ConsultingOrder.restore(final, org, clock=clock, outbox=sf.InMemoryOutbox())
    assert twin.snapshot() == final


@given(built=built_orders, later=after_snapshot, data=st.data())
def test_v2_a_mutated_order_snapshot_is_refused_whole_or_fully_usable(
    built: tuple[sf.ConsultingOrder, sf.FrozenClock], later: int, data: st.DataObject
) -> None:
    """V2: a mutated order snapshot is refused whole, or restores to a fully usable order."""
    order, clock = built
    written = order.snapshot()
    mutated, kind = mutate(data, written)
    restore_clock = sf.FrozenClock(clock.now().add(minutes=later))
    org = order.org
    outbox = sf.InMemoryOutbox()
    try:
        restored = sf.ConsultingOrder.restore(mutated, org, clock=restore_clock, outbox=outbox)
    except Exception as error:
        assert_invalid_snapshot(error)
        count(kind, "refused")
        return
    count(kind, "accepted")
    again = restored.snapshot()
    twin = sf.ConsultingOrder.restore(again, org, clock=restore_clock, outbox=outbox)
    assert twin.snapshot() == again
    assert outbox.sent == []
    exercise_order(restored, restore_clock, org)


# -- examples: each inconsistency V2 names -------------------------------------------------------


def refusal_of(restore: Callable[[], object]) -> str:
    """The message of the invalid_snapshot (V2) refusal `restore` raises."""
    with pytest.raises(sf.InvalidInput) as info:
        restore()
    assert_invalid_snapshot(info.value)
    return info.value.message


def restore_plan(data: object, tz: str = "UTC", org_id: str = "org-1") -> sf.SupportPlan:
    return sf.SupportPlan.restore(data, org_in(tz, org_id), clock=sf.FrozenClock(utc(2030, 1, 1)))


def restore_order(data: object, tz: str = "UTC", org_id: str = "org-1") -> sf.ConsultingOrder:
    return sf.ConsultingOrder.restore(
        data,
        org_in(tz, org_id),
        clock=sf.FrozenClock(utc(2026, 3, 1)),
        outbox=sf.InMemoryOutbox(),
    )


def developer_then_premium() -> dict[str, Any]:
    """Trial Jan 10, developer from Feb 9, premium on Feb 20: a closed then an open period."""
    clock = sf.FrozenClock(utc(2026, 1, 10, 9))
    plan = sf.SupportPlan(org_in("UTC"), clock=clock)
    plan.change("developer", OWNER)
    clock.set(utc(2026, 2, 20))
    plan.change("premium", OWNER)
    return plan.snapshot()


def premium_pending_cancel() -> dict[str, Any]:
    """Premium from Jan 10 (billed from Feb 1), a cancel requested on Feb 20."""
    clock = sf.FrozenClock(utc(2026, 1, 10, 9))
    plan = sf.SupportPlan(org_in("UTC"), clock=clock)
    plan.change("premium", OWNER)
    clock.set(utc(2026, 2, 20))
    plan.cancel(OWNER)
    return plan.snapshot()


def busy_order() -> dict[str, Any]:
    """6 units, 2 hours each, 12 months: s-1 delivered, s-2 cancelled, s-3 booked."""
    clock = sf.FrozenClock(utc(2026, 1, 10, 9))
    order = sf.ConsultingOrder.start_checkout(
        org_in("UTC"),
        units=6,
        hours_per_unit=2,
        validity_months=12,
        actor=OWNER,
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        order_id="co-1",
    )
    order.confirm()
    first = order.schedule(start=utc(2026, 1, 12, 9), hours=2, actor=OWNER)
    second = order.schedule(start=utc(2026, 1, 13, 9), hours=4, actor=OWNER)
    order.schedule(start=utc(2026, 1, 14, 9), hours=2, actor=OWNER)
    order.cancel_session(second.session_id, actor=OWNER)
    clock.set(utc(2026, 1, 12, 10))
    order.deliver(first.session_id, actor=OWNER)
    return order.snapshot()


def test_v2_a_closed_period_missing_its_end_is_refused_not_reopened() -> None:
    """V2: a billing period whose ends_at is dropped is refused, never defaulted to open."""
    data = developer_then_premium()
    assert data["periods"][0]["ends_at"] is not None
    del data["periods"][0]["ends_at"]
    assert "ends_at" in refusal_of(lambda: restore_plan(data))


def test_v2_overlapping_periods_are_refused() -> None:
    """V2: a closed period that runs past the next period's start is refused (P20)."""
    data = developer_then_premium()
    data["periods"][0]["ends_at"] = "2026-04-01T00:00:00+00:00"
    assert "overlaps" in refusal_of(lambda: restore_plan(data))


def test_v2_a_pending_change_to_trial_is_refused() -> None:
    """V2: a pending change whose target is trial is one P9/P10 never makes."""
    data = premium_pending_cancel()
    data["pending"]["target"] = "trial"
    assert "'trial'" in refusal_of(lambda: restore_plan(data))


def test_v2_a_history_out_of_time_order_is_refused() -> None:
    """V2: a history entry earlier than the one before it is refused, naming the entry."""
    data = premium_pending_cancel()
    data["history"][1]["at"] = "2026-01-09T00:00:00+00:00"
    message = refusal_of(lambda: restore_plan(data))
    assert "history entry 1" in message
    assert "before" in message


def test_v2_a_history_naming_an_unknown_event_is_refused() -> None:
    """V2: a history entry with an event this library never records is refused."""
    data = premium_pending_cancel()
    data["history"][0]["event"] = "refund"
    message = refusal_of(lambda: restore_plan(data))
    assert "'refund'" in message
    assert "unknown event" in message


def test_v2_basic_with_a_last_plan_is_refused() -> None:
    """V2: basic with a last plan would grant a second trial (P4); it is refused."""
    plan = sf.SupportPlan(org_in("UTC"), clock=sf.FrozenClock(utc(2026, 1, 10)))
    data = plan.snapshot()
    data["last_plan"] = {"state": "trial", "ended_at": "2026-01-05T00:00:00+00:00"}
    message = refusal_of(lambda: restore_plan(data))
    assert "'basic'" in message
    assert "last plan" in message or "ended plan" in message


def test_v2_a_session_with_negative_units_is_refused() -> None:
    """V2: a (cancelled) session booking -1 units is refused, naming the session."""
    data = busy_order()
    assert data["sessions"][1]["status"] == "cancelled"
    data["sessions"][1]["units"] = -1
    message = refusal_of(lambda: restore_order(data))
    assert "'s-2'" in message
    assert "positive whole number of units" in message


def test_v2_a_session_whose_units_do_not_match_its_hours_is_refused() -> None:
    """V2: a session of 4 hours at 2 hours per unit booking 1 unit is refused."""
    data = busy_order()
    data["sessions"][1]["units"] = 1
    message = refusal_of(lambda: restore_order(data))
    assert "'s-2'" in message
    assert "units for its hours" in message


def test_v2_a_negative_validity_is_refused() -> None:
    """V2: a validity of -1 months is outside what the product holds (V4)."""
    data = busy_order()
    data["validity_months"] = -1
    assert "validity of -1 months" in refusal_of(lambda: restore_order(data))


def test_v2_a_plan_snapshot_from_another_billing_timezone_is_refused() -> None:
    """V2: a plan snapshot restored for an organization in another billing timezone is refused."""
    data = premium_pending_cancel()
    message = refusal_of(lambda: restore_plan(data, tz="Pacific/Auckland"))
    assert "billing timezone 'UTC'" in message


def test_v2_an_order_snapshot_from_another_billing_timezone_is_refused() -> None:
    """V2: an order snapshot restored for an org in another billing timezone is refused."""
    data = busy_order()
    message = refusal_of(lambda: restore_order(data, tz="America/St_Johns"))
    assert "billing timezone 'UTC'" in message


def test_v2_a_plan_snapshot_of_another_organization_is_refused() -> None:
    """V2: a plan snapshot restored for another organization is refused, naming both."""
    message = refusal_of(lambda: restore_plan(premium_pending_cancel(), org_id="org-2"))
    assert "'org-1'" in message
    assert "'org-2'" in message


def test_v2_an_order_snapshot_of_another_organization_is_refused() -> None:
    """V2: an order snapshot restored for another organization is refused, naming both."""
    message = refusal_of(lambda: restore_order(busy_order(), org_id="org-2"))
    assert "'org-1'" in message
    assert "'org-2'" in message


PLAN_KEY_PLACES: dict[str, Callable[[dict[str, Any]], dict[Any, Any]]] = {
    "top level": lambda d: d,
    "pending": lambda d: d["pending"],
    "a billing period": lambda d: d["periods"][0],
    "a history entry": lambda d: d["history"][-1],
}


@pytest.mark.parametrize("key", [1, None, True, ("a",)], ids=repr)
@pytest.mark.parametrize("place", PLAN_KEY_PLACES.values(), ids=list(PLAN_KEY_PLACES))
def test_v2_a_non_string_key_in_a_plan_snapshot_is_refused(
    place: Callable[[dict[str, Any]], dict[Any, Any]], key: object
) -> None:
    """V2: a plan snapshot with a non-string key, at the top or nested, is refused naming it."""
    data = premium_pending_cancel()
    place(data)[key] = "x"
    assert repr(key) in refusal_of(lambda: restore_plan(data))


ORDER_KEY_PLACES: dict[str, Callable[[dict[str, Any]], dict[Any, Any]]] = {
    "top level": lambda d: d,
    "units": lambda d: d["units"],
    "a session": lambda d: d["sessions"][0],
    "a history entry": lambda d: d["history"][-1],
}


@pytest.mark.parametrize("key", [1, None, True, ("a",)], ids=repr)
@pytest.mark.parametrize("place", ORDER_KEY_PLACES.values(), ids=list(ORDER_KEY_PLACES))
def test_v2_a_non_string_key_in_an_order_snapshot_is_refused(
    place: Callable[[dict[str, Any]], dict[Any, Any]], key: object
) -> None:
    """V2: an order snapshot with a non-string key, at the top or nested, is refused naming it."""
    data = busy_order()
    place(data)[key] = "x"
    assert repr(key) in refusal_of(lambda: restore_order(data))


def put_huge(path: Path) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        at_path(data, path[:-1])[path[-1]] = HUGE

    return change


PLAN_HUGE_PLACES: tuple[Path, ...] = (
    ("version",),
    ("state",),
    ("since",),
    ("pending", "effective_at"),
    ("periods", 0, "starts_at"),
    ("periods", 0, "retroactive"),
    ("history", 0, "tier"),
)


@pytest.mark.parametrize("path", PLAN_HUGE_PLACES, ids=str)
def test_v2_a_huge_int_in_a_plan_snapshot_is_refused_not_a_conversion_error(path: Path) -> None:
    """V2: 10**5000 anywhere in a plan snapshot is invalid_snapshot, not a raw ValueError."""
    data = premium_pending_cancel()
    put_huge(path)(data)
    assert refusal_of(lambda: restore_plan(data))


ORDER_HUGE_PLACES: tuple[Path, ...] = (
    ("version",),
    ("hours_per_unit",),
    ("validity_months",),
    ("units", "purchased"),
    ("units", "available"),
    ("sessions", 0, "hours"),
    ("sessions", 0, "units"),
    ("history", 0, "units"),
    ("created_at",),
)


@pytest.mark.parametrize("path", ORDER_HUGE_PLACES, ids=str)
def test_v2_a_huge_int_in_an_order_snapshot_is_refused_not_a_conversion_error(
    path: Path,
) -> None:
    """V2: 10**5000 anywhere in an order snapshot is invalid_snapshot, not a raw ValueError."""
    data = busy_order()
    put_huge(path)(data)
    assert refusal_of(lambda: restore_order(data))


def test_v2_a_period_boundary_off_a_month_start_is_refused() -> None:
    """V2: a non-retroactive period starting one hour after a month start breaks P20."""
    data = premium_pending_cancel()
    period = data["periods"][0]
    assert period == {
        "tier": "premium",
        "starts_at": "2026-02-01T00:00:00+00:00",
        "ends_at": None,
        "retroactive": False,
    }
    period["starts_at"] = "2026-02-01T01:00:00+00:00"
    message = refusal_of(lambda: restore_plan(data))
    assert "2026-02-01T01:00:00+00:00" in message
    assert "P20" in message


def test_v2_a_premium_stretch_never_billed_is_refused() -> None:
    """V2: premium Mar 14, downgrade Mar 20, without the Mar 14 -> Apr 1 catch-up breaks P21."""
    clock = sf.FrozenClock(utc(2026, 3, 14, 10))
    plan = sf.SupportPlan(org_in("UTC"), clock=clock)
    plan.change("premium", OWNER)
    clock.set(utc(2026, 3, 20, 10))
    plan.change("developer", OWNER)
    clock.set(utc(2026, 4, 2))
    data = plan.snapshot()
    catch_up = data["periods"].pop(0)
    assert catch_up == {
        "tier": "premium",
        "starts_at": "2026-03-14T10:00:00+00:00",
        "ends_at": "2026-04-01T00:00:00+00:00",
        "retroactive": True,
    }
    message = refusal_of(lambda: restore_plan(data))
    assert "billing period 0 (developer from 2026-04-01T00:00:00+00:00)" in message
    assert "premium" in message


@pytest.mark.parametrize(
    "change",
    [
        {"available": 3},
        {"expired": 1},
        {"available": -1, "consumed": 6},
        {"purchased": 7},
    ],
    ids=str,
)
def test_v2_a_unit_balance_breaking_f7_is_refused(change: dict[str, int]) -> None:
    """V2: a unit balance whose parts do not add up, or go negative, is refused naming F7."""
    data = busy_order()
    assert data["units"] == {
        "purchased": 6,
        "available": 4,
        "scheduled": 1,
        "consumed": 1,
        "expired": 0,
    }
    data["units"].update(change)
    assert "(F7)" in refusal_of(lambda: restore_order(data))


def test_v2_a_plan_restored_from_a_snapshot_without_history_writes_one_it_restores() -> None:
    """V2: restore(snapshot(history=False)).snapshot() is a snapshot restore accepts again."""
    clock = sf.FrozenClock(utc(2026, 3, 14, 10))
    plan = sf.SupportPlan(org_in("UTC"), clock=clock)
    plan.change("premium", OWNER)
    restored = sf.SupportPlan.restore(plan.snapshot(history=False), plan.org, clock=clock)
    written = restored.snapshot()
    assert sf.SupportPlan.restore(written, plan.org, clock=clock).snapshot() == written


def test_v2_an_order_restored_from_a_snapshot_without_history_writes_one_it_restores() -> None:
    """V2: an order restored from snapshot(history=False) writes a snapshot restore accepts."""
    clock = sf.FrozenClock(utc(2026, 3, 14, 10))
    order = sf.ConsultingOrder.from_representative(
        org_in("UTC"),
        units=2,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
    )
    data = order.snapshot(history=False)
    restored = sf.ConsultingOrder.restore(
        data, org_in("UTC"), clock=clock, outbox=sf.InMemoryOutbox()
    )
    written = restored.snapshot()
    twin = sf.ConsultingOrder.restore(
        written, org_in("UTC"), clock=clock, outbox=sf.InMemoryOutbox()
    )
    assert twin.snapshot() == written


# -- semantic mutations: one derived fact moved to a value of the right kind -------------------
#
# Each mutant is refused whole, or it is a record the library builds by requests. With its
# history, that is checked exactly: the mutant's history, made again request by request through
# the public API (a new plan or order, the clock set to each entry's instant), writes the
# mutant itself. Without one, no history says which requests made it: the restored mutant is
# driven through random requests and clock moves, and after every step it must keep what every
# request-built object keeps: the T8 floor (no instant recorded before the mutant's
# recorded_at), P20's billing invariants or F7's balance, and a snapshot that restores to an
# equal one with and without its history.


def text_of(moment: pendulum.DateTime) -> str:
    return dt.datetime.isoformat(moment.in_timezone("UTC"))


def instant_near(data: st.DataObject, record: dict[str, Any], text: str | None, tz: str) -> str:
    """Another instant for a derived fact: a month start near `text`, another instant the record
    holds, or `text` shifted a little or a lot."""
    held = sorted({v for _, v in walk(record) if is_instant(v)} - {text})
    base = pendulum.parse(text) if text is not None else T0
    assert isinstance(base, pendulum.DateTime)
    months = [
        text_of(sf.next_month_start(base.subtract(days=days), tz)) for days in (-1, 0, 31, 62)
    ]
    how = data.draw(st.sampled_from(["month start", "held", "shift"]), label="moved to")
    if how == "month start" or (how == "held" and not held):
        return data.draw(st.sampled_from([m for m in months if m != text] or months), label="to")
    if how == "held":
        return data.draw(st.sampled_from(held), label="to")
    micros = data.draw(
        st.sampled_from([1, 3_600 * 10**6, 86_400 * 10**6, MICROS_IN_400_DAYS]), label="by (us)"
    )
    sign = data.draw(st.sampled_from([1, -1]), label="direction")
    return text_of(base.add(microseconds=sign * micros))


def semantic_plan(data: st.DataObject, written: dict[str, Any], tz: str) -> tuple[Any, str]:
    """A copy of a plan snapshot with one semantic mutation, and its kind."""
    d: dict[str, Any] = copy.deepcopy(written)
    periods = d["periods"]
    kinds = ["add_period", "flip_flag", "move_recorded_at", "change_state", "move_fact"]
    if periods:
        kinds += ["shift_boundary", "drop_period"]
    kind = data.draw(st.sampled_from(kinds), label="semantic mutation")
    if kind == "shift_boundary":
        period = data.draw(st.sampled_from(periods), label="period")
        edges = ["starts_at"] + (["ends_at"] if period["ends_at"] is not None else [])
        edge = data.draw(st.sampled_from(edges), label="boundary")
        period[edge] = instant_near(data, d, period[edge], tz)
    elif kind == "add_period":
        starts = instant_near(data, d, d["since"] or d["recorded_at"], tz)
        ends = data.draw(st.sampled_from([None, "month"]), label="ends")
        if ends is not None:
            ends = text_of(sf.next_month_start(pendulum.parse(starts), tz))  # type: ignore[arg-type]
        new = {
            "tier": data.draw(st.sampled_from(["developer", "premium"]), label="tier"),
            "starts_at": starts,
            "ends_at": ends,
            "retroactive": data.draw(st.booleans(), label="retroactive"),
        }
        periods.insert(data.draw(st.integers(0, len(periods)), label="at"), new)
    elif kind == "drop_period":
        del periods[data.draw(st.integers(0, len(periods) - 1), label="dropped")]
    elif kind == "flip_flag":
        flags: list[tuple[dict[str, Any], str]] = [(d, "last_change_applied")]
        flags += [(p, "retroactive") for p in periods]
        holder, name = data.draw(st.sampled_from(flags), label="flag")
        holder[name] = not holder[name]
    elif kind == "move_recorded_at":
        d["recorded_at"] = data.draw(
            st.sampled_from([None, instant_near(data, d, d["recorded_at"], tz)]), label="to"
        )
    elif kind == "change_state":
        d["state"] = data.draw(
            st.sampled_from([s.value for s in sf.PlanState if s.value != d["state"]]), label="to"
        )
    else:
        facts: list[tuple[dict[str, Any], str]] = [
            (holder, name)
            for holder, name in [
                (d, "since"),
                (d, "trial_started_at"),
                (d["pending"] or {}, "requested_at"),
                (d["pending"] or {}, "effective_at"),
                (d["last_plan"] or {}, "ended_at"),
                (d["trial"] or {}, "ends_at"),
            ]
            if holder.get(name) is not None
        ]
        if not facts:
            return d, kind  # nothing to move: the unchanged snapshot
        holder, name = data.draw(st.sampled_from(facts), label="fact")
        holder[name] = instant_near(data, d, holder[name], tz)
    return d, kind


def rebuilt_plan(data: dict[str, Any], org: sf.Organization) -> dict[str, Any]:
    """The snapshot a new plan writes once the requests of `data`'s history are made again, each
    at its instant through the public API (what the clock applied, it applies again)."""
    history = data["history"]
    clock = sf.FrozenClock(pendulum.parse(history[0]["at"]) if history else T0)  # type: ignore[arg-type]
    plan = sf.SupportPlan(org, clock=clock)
    for entry in history:
        clock.set(pendulum.parse(entry["at"]))  # type: ignore[arg-type]
        if entry["requested_by"] is None:
            continue
        actor = sf.Member(entry["requested_by"], org_roles={sf.Role.ORG_OWNER})
        if entry["event"] == "revoke" and entry["tier"] is None:
            plan.revoke_pending(actor)
        elif entry["event"] == "cancel":
            plan.cancel(actor)
        else:
            plan.change(entry["tier"], actor)
    return plan.snapshot()


def round_trips(verdicts: list[Any], history: bool) -> list[Any]:
    """The round-trip verdicts that apply: an object restored without its history writes none,
    so only its snapshot without history is compared."""
    return [v for v in verdicts if history or "with history" not in v.invariant]


def plan_keeps_its_promises(
    plan: sf.SupportPlan, floor: str | None, clock: Any, history: bool
) -> None:
    """What a request-built plan keeps after any step: the T8 floor, P20's invariants, and a
    snapshot restoring to an equal one (with and without its history, when it has one)."""
    from support_flows.verify.plan_checks import round_trip, timeline, view

    data = plan.snapshot()
    if floor is not None:
        assert data["recorded_at"] is not None
        assert data["recorded_at"] >= floor, "an instant recorded before the record's own (T8)"
        entries = [e["at"] for e in data["history"] or ()]
    assert entries == sorted(entries), "history reordered (T8)"
    started = data["trial_started_at"]
    tz = plan.org.billing_timezone
    trial_end = add_wall_days(pendulum.parse(started), 30, tz) if started is not None else None
    trips = round_trips(round_trip(plan, plan.org, clock), history)
    for verdict in [*timeline(view(plan), tz, trial_end), *trips]:
        assert verdict.ok, f"{verdict.rule} {verdict.invariant}: {verdict.message}"


def drive(
    steps: list[tuple[Any, ...]],
    act: Callable[[tuple[Any, ...]], object],
    clock: sf.FrozenClock,
    check: Callable[[], None],
) -> None:
    """Take each step (a wait moves the clock), refusals allowed, then `check()`."""
    check()
    for step in steps:
        if step[0] == "wait":
            clock.advance(minutes=step[1])
        else:
            may_refuse(lambda s=step: act(s))
        check()


def plan_step(plan: sf.SupportPlan, step: tuple[Any, ...]) -> object:
    if step[0] == "change":
        return plan.change(step[1], actor=OWNER)
    if step[0] == "cancel":
        return plan.cancel(actor=OWNER)
    return plan.revoke_pending(actor=OWNER)


@given(
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 400 * 24 * 60),
    first=st.sampled_from(["developer", "premium"]),
    steps=plan_steps,
    history=st.booleans(),
    later=after_snapshot,
    after=plan_steps,
    data=st.data(),
)
def test_v2_a_semantic_plan_mutant_is_refused_or_one_requests_build(
    tz: str,
    start: int,
    first: str,
    steps: list[tuple[Any, ...]],
    history: bool,
    later: int,
    after: list[tuple[Any, ...]],
    data: st.DataObject,
) -> None:
    """V2: a plan snapshot with one derived fact moved (a period boundary shifted, a period
    added or dropped, a flag flipped, recorded_at moved, another state, an instant moved), with
    or without its history, is refused whole, or is a plan requests build (see above)."""
    plan, clock = build_plan(tz, start, [("change", first), *steps])
    written = plan.snapshot(history=history)
    mutant, kind = semantic_plan(data, written, tz)
    kind += ", history" if history else ", no history"
    if mutant == written:
        kind += ", unchanged"
    restore_clock = sf.FrozenClock(clock.now().add(minutes=later))
    try:
        restored = sf.SupportPlan.restore(mutant, plan.org, clock=restore_clock)
    except Exception as error:
        assert_invalid_snapshot(error)
        count(kind, "refused")
        return
    count(kind, "accepted")
    if history:
        assert rebuilt_plan(mutant, plan.org) == mutant
    floor = mutant["recorded_at"]
    drive(
        after,
        lambda step: plan_step(restored, step),
        restore_clock,
        lambda: plan_keeps_its_promises(restored, floor, restore_clock, history),
    )


def semantic_order(data: st.DataObject, written: dict[str, Any], tz: str) -> tuple[Any, str]:
    """A copy of an order snapshot with one semantic mutation, and its kind."""
    d: dict[str, Any] = copy.deepcopy(written)
    sessions = d["sessions"]
    kinds = ["flip_flag", "move_recorded_at", "change_state", "move_units", "move_fact"]
    if sessions:
        kinds.append("session_status")
    kind = data.draw(st.sampled_from(kinds), label="semantic mutation")
    if kind == "flip_flag":
        d["validity_ended"] = not d["validity_ended"]
    elif kind == "move_recorded_at":
        d["recorded_at"] = data.draw(
            st.sampled_from([None, instant_near(data, d, d["recorded_at"], tz)]), label="to"
        )
    elif kind == "change_state":
        d["state"] = data.draw(
            st.sampled_from([s.value for s in sf.OrderState if s.value != d["state"]]), label="to"
        )
    elif kind == "move_units":
        parts = ["available", "scheduled", "consumed", "expired"]
        source, target = data.draw(
            st.lists(st.sampled_from(parts), min_size=2, max_size=2, unique=True), label="parts"
        )
        moved = data.draw(st.integers(1, 3), label="units")
        d["units"][source] -= moved
        d["units"][target] += moved
    elif kind == "session_status":
        session = data.draw(st.sampled_from(sessions), label="session")
        session["status"] = data.draw(
            st.sampled_from([s.value for s in sf.SessionStatus if s.value != session["status"]]),
            label="to",
        )
        if session["status"] == "scheduled":
            session["closed_at"] = session["closed_by"] = None
        elif session["closed_at"] is None:
            session["closed_at"] = instant_near(data, d, session["booked_at"], tz)
            session["closed_by"] = "u-owner"
    else:
        facts: list[tuple[dict[str, Any], str]] = [
            (holder, name)
            for holder, name in [
                (d, "created_at"),
                (d, "purchased_at"),
                (d, "expires_at"),
                *((s, n) for s in sessions for n in ("start", "booked_at", "closed_at")),
            ]
            if holder.get(name) is not None
        ]
        holder, name = data.draw(st.sampled_from(facts), label="fact")
        holder[name] = instant_near(data, d, holder[name], tz)
    return d, kind


def rebuilt_order(data: dict[str, Any], org: sf.Organization) -> dict[str, Any]:
    """The snapshot a new order writes once `data`'s history is made again, each request at its
    instant through the public API (the expiry the clock applies again)."""
    history = data["history"]
    clock = sf.FrozenClock(pendulum.parse(data["created_at"]))  # type: ignore[arg-type]
    terms: dict[str, Any] = {
        "units": data["units"]["purchased"],
        "hours_per_unit": data["hours_per_unit"],
        "validity_months": data["validity_months"],
        "clock": clock,
        "outbox": sf.InMemoryOutbox(),
        "order_id": data["order_id"],
    }
    if data["channel"] == "console":
        buyer = sf.Member(
            data["requested_by"], org_roles={sf.Role.ORG_OWNER}, email=data["buyer_email"]
        )
        order = sf.ConsultingOrder.start_checkout(org, actor=buyer, **terms)
    else:
        order = sf.ConsultingOrder.from_representative(
            org, sales_reference=data["sales_reference"], email=data["buyer_email"], **terms
        )
    sessions = {s["session_id"]: s for s in data["sessions"]}
    for entry in history[1:]:
        clock.set(pendulum.parse(entry["at"]))  # type: ignore[arg-type]
        actor = entry["actor"] and sf.Member(entry["actor"], org_roles={sf.Role.ORG_OWNER})
        if entry["action"] == "purchase":
            order.confirm()
        elif entry["action"] == "schedule":
            session = sessions[entry["session_id"]]
            start = pendulum.parse(session["start"])
            order.schedule(start=start, hours=session["hours"], actor=actor)  # type: ignore[arg-type]
        elif entry["action"] == "cancel_session":
            order.cancel_session(entry["session_id"], actor=actor or None)
        elif entry["action"] == "deliver":
            order.deliver(entry["session_id"], actor=actor or None)
    return order.snapshot()


def order_keeps_its_promises(
    order: sf.ConsultingOrder, floor: str | None, clock: Any, history: bool
) -> None:
    """What a request-built order keeps after any step: the T8 floor, F7's balance, units that
    expire only once the validity ended, and a snapshot restoring to an equal one."""
    from support_flows.verify.consulting_checks import balance, round_trip, view

    data = order.snapshot()
    assert floor is not None, "an order always records its opening (T8)"
    assert data["recorded_at"] >= floor, "an instant recorded before the record's own (T8)"
    entries = [e["at"] for e in data["history"] or ()]
    assert entries == sorted(entries), "history reordered (T8)"
    assert data["validity_ended"] or not data["units"]["expired"], "units expired early (F6)"
    trips = round_trips(round_trip(order, order.org, clock), history)
    for verdict in [balance(view(order)), *trips]:
        assert verdict.ok, f"{verdict.rule} {verdict.invariant}: {verdict.message}"


def order_step(order: sf.ConsultingOrder, clock: sf.FrozenClock, step: tuple[Any, ...]) -> object:
    if step[0] == "schedule":
        begins = clock.now().add(minutes=step[1])
        return order.schedule(start=begins, hours=step[2] * order.hours_per_unit, actor=OWNER)
    if step[0] == "cancel":
        return order.cancel_session(f"s-{step[1]}", actor=OWNER)
    if step[0] == "deliver":
        return order.deliver(f"s-{step[1]}", actor=OWNER)
    if step[0] == "confirm":
        return order.confirm()
    return order.apply_due()


@given(
    built=built_orders,
    history=st.booleans(),
    later=after_snapshot,
    after=order_steps,
    data=st.data(),
)
def test_v2_a_semantic_order_mutant_is_refused_or_one_requests_build(
    built: tuple[sf.ConsultingOrder, sf.FrozenClock],
    history: bool,
    later: int,
    after: list[tuple[Any, ...]],
    data: st.DataObject,
) -> None:
    """V2: an order snapshot with one derived fact moved (the validity flag flipped, recorded_at
    moved, another state, units moved between parts of the balance, a session's status, an
    instant moved), with or without its history, is refused whole, or is an order requests
    build (see above)."""
    order, clock = built
    written = order.snapshot(history=history)
    mutant, kind = semantic_order(data, written, order.org.billing_timezone)
    kind += ", history" if history else ", no history"
    if mutant == written:
        kind += ", unchanged"
    restore_clock = sf.FrozenClock(clock.now().add(minutes=later))
    outbox = sf.InMemoryOutbox()
    try:
        restored = sf.ConsultingOrder.restore(mutant, order.org, clock=restore_clock, outbox=outbox)
    except Exception as error:
        assert_invalid_snapshot(error)
        count(kind, "refused")
        return
    count(kind, "accepted")
    if history:
        assert rebuilt_order(mutant, order.org) == mutant
    floor = mutant["recorded_at"]
    drive(
        after,
        lambda step: order_step(restored, restore_clock, step),
        restore_clock,
        lambda: order_keeps_its_promises(restored, floor, restore_clock, history),
    )
    assert outbox.sent == []


@given(
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 400 * 24 * 60),
    steps=st.lists(plan_steps, min_size=1, max_size=3).map(
        lambda runs: [s for r in runs for s in r]
    ),
)
def test_v2_every_plan_snapshot_requests_build_restores(
    tz: str, start: int, steps: list[tuple[Any, ...]]
) -> None:
    """V2: the derived-fact checks refuse nothing the library writes: after every step of a
    request-built plan, its snapshot with and without history restores to an equal one."""
    clock = sf.FrozenClock(T0.add(minutes=start))
    plan = sf.SupportPlan(org_in(tz), clock=clock)
    for step in steps:
        if step[0] == "wait":
            clock.advance(minutes=step[1])
        else:
            may_refuse(lambda s=step: plan_step(plan, s))
        for history in (True, False):
            data = plan.snapshot(history=history)
            again = sf.SupportPlan.restore(data, plan.org, clock=clock)
            assert again.snapshot(history=history) == data


@given(built=built_orders, after=order_steps)
def test_v2_every_order_snapshot_requests_build_restores(
    built: tuple[sf.ConsultingOrder, sf.FrozenClock], after: list[tuple[Any, ...]]
) -> None:
    """V2: the derived-fact checks refuse nothing the library writes: after every step of a
    request-built order, its snapshot with and without history restores to an equal one."""
    order, clock = built
    for step in [("wait", 0), *after]:
        if step[0] == "wait":
            clock.advance(minutes=step[1])
        else:
            may_refuse(lambda s=step: order_step(order, clock, s))
        for history in (True, False):
            data = order.snapshot(history=history)
            again = sf.ConsultingOrder.restore(
                data, order.org, clock=clock, outbox=sf.InMemoryOutbox()
            )
            assert again.snapshot(history=history) == data
