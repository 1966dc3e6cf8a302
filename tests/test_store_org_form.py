"""The store names an organization once: `store.plan(org)` and `store.update(org, fn)` take the
id from the organization; the older forms that also pass the id keep working (S1, S5, V5)."""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("store_helpers")

from store_helpers import ORG, OWNER, START  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import Store  # noqa: E402

pytest_plugins = ["store_helpers"]


def test_s5_plan_takes_the_id_from_the_organization(store: Store) -> None:
    """`store.plan(org)` loads the plan `store.plan(org_id, org)` loads, at the same revision."""
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    store.save(plan)
    once = store.plan(ORG, clock=clock)
    twice = store.plan(ORG.org_id, ORG, clock=clock)
    assert once.to_dict() == twice.to_dict()
    assert store.revision(once) == store.revision(twice) == 1


def test_s5_plan_of_an_organization_never_stored_is_not_found(store: Store) -> None:
    """`store.plan(org)` for an organization with no stored plan is refused `not_found` (S5)."""
    with pytest.raises(sf.Refused) as refused:
        store.plan(ORG, clock=sf.FrozenClock(START))
    assert refused.value.code == "not_found"


def test_s1_update_takes_the_id_from_the_organization(store: Store) -> None:
    """`store.update(org, fn)` runs `fn` on that organization's plan and saves it, as the form
    with `org_id` and `org=` does; an idempotency key replays across the two forms (S2)."""
    clock = sf.FrozenClock(START)
    first = store.update(
        ORG,
        lambda p: p.change("premium", actor=OWNER),
        clock=clock,
        idempotency_key="k-1",
        create=True,
    )
    again = store.update(
        ORG.org_id,
        lambda p: p.change("premium", actor=OWNER),
        org=ORG,
        clock=clock,
        idempotency_key="k-1",
        create=True,
    )
    assert (first.revision, first.result["event"]) == (1, "subscribe")
    assert (again.result, again.replayed) == (first.result, True)
    assert store.plan(ORG, clock=clock).state == "premium"


def test_v5_the_one_organization_argument_must_be_an_organization(store: Store) -> None:
    """An id alone where the organization is expected is a coded error naming it (V5)."""
    clock = sf.FrozenClock(START)
    with pytest.raises(sf.InvalidInput, match="org must be a Organization, got 'org-1'"):
        store.plan(ORG.org_id, clock=clock)  # type: ignore[call-overload]
    with pytest.raises(sf.InvalidInput, match="got 'org-1'"):
        store.update(ORG.org_id, lambda p: None, clock=clock, create=True)
