"""Idempotency keys (RULES.md S2): every command replayed with its key changes nothing and
answers the same; a key reused for another request is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pendulum
import pytest

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import ORG, OWNER, READER, START, table_rows  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import Outcome, Store  # noqa: E402

pytest_plugins = ["store_helpers"]

Command = Callable[[Store, sf.FrozenClock, str], Outcome]


def plan_command(fn: Callable[[Any], object]) -> Command:
    return lambda store, clock, key: store.update(
        ORG.org_id, fn, org=ORG, clock=clock, idempotency_key=key, create=True
    )


def order_command(fn: Callable[[Any], object]) -> Command:
    return lambda store, clock, key: store.update_order(
        "co-1", fn, org=ORG, clock=clock, idempotency_key=key
    )


SESSION_START = START.add(days=3)
COMMANDS: list[tuple[str, Command]] = [
    ("subscribe", plan_command(lambda p: p.change("premium", actor=OWNER))),
    ("downgrade", plan_command(lambda p: p.change("developer", actor=OWNER))),
    ("refused change", plan_command(lambda p: p.change("premium", actor=READER))),
    ("revoke", plan_command(lambda p: p.revoke_pending(actor=OWNER))),
    ("cancel", plan_command(lambda p: p.cancel(actor=OWNER))),
    (
        "buy",
        lambda store, clock, key: store.start_checkout(
            ORG, units=4, actor=OWNER, clock=clock, order_id="co-1", idempotency_key=key
        ),
    ),
    (
        "refused buy",
        lambda store, clock, key: store.start_checkout(
            ORG, units=4, actor=READER, clock=clock, idempotency_key=key
        ),
    ),
    ("confirm", order_command(lambda o: o.confirm())),
    (
        "schedule",
        order_command(lambda o: o.schedule(start=SESSION_START, hours=2, actor=OWNER)),
    ),
    (
        "schedule too much",
        order_command(lambda o: o.schedule(start=SESSION_START, hours=9, actor=OWNER)),
    ),
    ("cancel session", order_command(lambda o: o.cancel_session("s-1", actor=OWNER))),
    (
        "schedule again",
        order_command(lambda o: o.schedule(start=SESSION_START, hours=1, actor=OWNER)),
    ),
    (
        "representative",
        lambda store, clock, key: store.from_representative(
            ORG,
            units=2,
            sales_reference="SO-7",
            email="buyer@example.com",
            clock=clock,
            order_id="co-2",
            idempotency_key=key,
        ),
    ),
]


def run(command: Command, store: Store, clock: sf.FrozenClock, key: str) -> Any:
    """The outcome, or the refusal's dict."""
    try:
        return command(store, clock, key)
    except sf.SupportFlowsError as error:
        return error.to_dict()


def test_s2_replaying_every_command_with_its_key_changes_nothing_and_answers_the_same(
    store: Store,
) -> None:
    """Plan and order commands, accepted and refused, run once; replayed later (the clock has
    moved, the state is another) they answer exactly as the first time, marked replayed, and
    not one row of any table changes."""
    clock = sf.FrozenClock(START)
    first = [run(command, store, clock, f"k-{name}") for name, command in COMMANDS]
    assert [type(o).__name__ for o in first].count("Outcome") == 10
    assert first[2]["code"] == "billing_role_required"
    assert first[6]["code"] == "billing_role_required"
    assert first[9]["code"] == "insufficient_units"
    before = table_rows(store)
    clock.advance(hours=1)
    again = [run(command, store, clock, f"k-{name}") for name, command in COMMANDS]
    for was, now in zip(first, again, strict=True):
        if isinstance(was, Outcome):
            assert now == Outcome(was.result, was.revision, replayed=True)
        else:
            assert now == was
    assert table_rows(store) == before


def test_s2_a_key_reused_for_another_request_is_refused(store: Store) -> None:
    """The same key with another tier, another organization's... (any other request):
    idempotency_key_reused, 409, nothing written."""
    clock = sf.FrozenClock(START)
    store.update(
        ORG.org_id,
        lambda p: p.change("premium", actor=OWNER),
        org=ORG,
        clock=clock,
        idempotency_key="k-1",
        create=True,
    )
    store.start_checkout(ORG, units=3, actor=OWNER, clock=clock, idempotency_key="k-buy")
    before = table_rows(store)
    for reuse in (
        lambda: store.update(
            ORG.org_id,
            lambda p: p.change("developer", actor=OWNER),
            org=ORG,
            clock=clock,
            idempotency_key="k-1",
        ),
        lambda: store.start_checkout(
            ORG, units=4, actor=OWNER, clock=clock, idempotency_key="k-buy"
        ),
        lambda: store.start_checkout(ORG, units=3, actor=OWNER, clock=clock, idempotency_key="k-1"),
    ):
        with pytest.raises(sf.Refused) as refused:
            reuse()
        assert (refused.value.code, refused.value.rule) == ("idempotency_key_reused", "S2")
        assert sf.http_status(refused.value) == 409
    assert table_rows(store) == before


def test_s2_two_identical_buys_open_one_order(store: Store) -> None:
    """The "buy" retried by a client with its key: one order, one answer."""
    clock = sf.FrozenClock(START)
    first = store.start_checkout(ORG, units=3, actor=OWNER, clock=clock, idempotency_key="b")
    second = store.start_checkout(ORG, units=3, actor=OWNER, clock=clock, idempotency_key="b")
    assert second.result == first.result
    assert second.replayed
    assert len(table_rows(store)["sf_orders"]) == 1


def test_s2_a_given_request_is_the_fingerprint(store: Store) -> None:
    """With `request=` (e.g. an HTTP method, path and body) the replay does not call `fn` at
    all, and another request under the key is refused."""
    clock = sf.FrozenClock(START)
    calls = []

    def change(plan: sf.SupportPlan) -> object:
        calls.append(plan.state)
        return plan.change("premium", actor=OWNER)

    request = ["POST", "/orgs/org-1/plan/change", {"tier": "premium"}]
    first = store.update(
        ORG.org_id, change, org=ORG, clock=clock, idempotency_key="h", request=request, create=True
    )
    replay = store.update(
        ORG.org_id, change, org=ORG, clock=clock, idempotency_key="h", request=request
    )
    assert (replay.result, replay.replayed, len(calls)) == (first.result, True, 1)
    with pytest.raises(sf.Refused, match="idempotency_key_reused"):
        store.update(
            ORG.org_id, change, org=ORG, clock=clock, idempotency_key="h", request=[*request, 1]
        )


def test_s2_keys_belong_to_one_organization(store: Store) -> None:
    """Another organization may use the same key for its own request."""
    clock = sf.FrozenClock(START)
    other = sf.Organization("org-2")
    for org in (ORG, other):
        outcome = store.update(
            org.org_id,
            lambda p: p.change("premium", actor=OWNER),
            org=org,
            clock=clock,
            idempotency_key="same",
            create=True,
        )
        assert not outcome.replayed


def test_s2_a_result_that_cannot_be_stored_is_refused_and_nothing_changes(store: Store) -> None:
    """A command whose result is not JSON (here: the plan's clock) is refused before commit."""
    clock = sf.FrozenClock(START)
    with pytest.raises(sf.InvalidInput, match="cannot be stored as JSON"):
        store.update(
            ORG.org_id,
            lambda p: (p.change("premium", actor=OWNER), p.clock)[1],
            org=ORG,
            clock=clock,
            create=True,
        )
    assert table_rows(store)["sf_plans"] == []
    assert pendulum.instance(clock.now()) == START
