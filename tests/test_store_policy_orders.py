"""Consulting orders in the store under a catalog (RULES.md K3, K4, S5): opened with the terms of
the version in force, expired by the job at those terms whatever versions come later, refused
when the store's catalog lacks their version, and migrated from snapshot version 2. On SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import OWNER, START, rows_by_id, table_rows  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.snapshots import consulting as order_snapshot  # noqa: E402
from support_flows.store import Store, rollover  # noqa: E402
from support_flows.store.database import Database  # noqa: E402
from support_flows.store.due import due_at  # noqa: E402
from support_flows.store.schema import migrate, orders  # noqa: E402

pytest_plugins = ["store_helpers"]

SOLD_FROM = pendulum.datetime(2026, 4, 1, tz="UTC")
CATALOG = sf.Catalog(
    [
        sf.Policy(),
        sf.Policy(
            version="sold-2026", effective_from=SOLD_FROM, hours_per_unit=2, validity_months=6
        ),
    ]
)
"""Atlas's policy, then from April 1st two hours a unit, valid six months."""
LATER = sf.Catalog(
    [
        *CATALOG,
        sf.Policy(
            version="2027",
            effective_from=pendulum.datetime(2026, 6, 1, tz="UTC"),
            hours_per_unit=2,
            validity_months=1,
        ),
    ]
)
"""CATALOG, then from June 1st one month of validity."""
ORG = sf.Organization("org-1")
AFTER = pendulum.datetime(2026, 4, 2, 10, tz="UTC")
EXPIRY = pendulum.datetime(2026, 10, 2, 10, tz="UTC")
BUYER = "buyer@example.com"


def open_orders(store: Store) -> dict[str, Any]:
    """co-atlas before April 1st (atlas's terms), co-sold after it (sold-2026's), co-given after
    it with its terms given; their views."""
    views = {}
    for order_id, at, given in (
        ("co-atlas", START, {}),
        ("co-sold", AFTER, {}),
        ("co-given", AFTER, {"hours_per_unit": 1, "validity_months": None}),
    ):
        outcome = store.from_representative(
            ORG,
            units=4,
            sales_reference=f"SO-{order_id}",
            email=BUYER,
            clock=sf.FrozenClock(at),
            order_id=order_id,
            **given,
        )
        views[order_id] = outcome.result
    return views


def test_k3_the_store_opens_orders_with_the_terms_of_the_version_in_force(db_url: str) -> None:
    """Orders the store opens take the hours per unit and validity of the version in force at
    their opening unless given; the view, the row's policy column and the order name it."""
    with Store(db_url, catalog=CATALOG) as store:
        views = open_orders(store)
        checkout = store.start_checkout(
            ORG, units=2, actor=OWNER, clock=sf.FrozenClock(AFTER), order_id="co-console"
        )
        store.update_order(
            "co-console", lambda o: o.confirm(), org=ORG, clock=sf.FrozenClock(AFTER)
        )
        loaded = store.order("co-console", ORG, clock=sf.FrozenClock(AFTER))
        opening = next(e for e in store.audit(ORG.org_id) if e.subject_id == "co-sold")
    terms = {k: (v["hours_per_unit"], v["expires_at"], v["policy"]) for k, v in views.items()}
    assert terms == {
        "co-atlas": (1, None, "atlas"),
        "co-sold": (2, EXPIRY.isoformat(), "sold-2026"),
        "co-given": (1, None, "sold-2026"),
    }
    assert checkout.result["hours_per_unit"] == 2
    assert (loaded.policy, loaded.expires_at) == ("sold-2026", EXPIRY)
    assert opening.detail["params"]["hours_per_unit"] == "from_policy"
    assert {k: p for k, (_, _, p) in rows_by_id(db_url, "sf_orders").items()} == {
        "co-atlas": "atlas",
        "co-sold": "sold-2026",
        "co-given": "sold-2026",
        "co-console": "sold-2026",
    }


def test_k3_s5_the_job_expires_an_order_at_its_own_terms_whatever_comes_later(
    db_url: str,
) -> None:
    """Under a catalog whose June version gives one month of validity, co-sold (six months,
    opened in April) is not expired in September and is expired in October, at its recorded
    expiry; the orders without validity have nothing due."""
    with Store(db_url, catalog=CATALOG) as store:
        open_orders(store)
    with Store(db_url, catalog=LATER) as store:
        early = store.rollover(until=pendulum.datetime(2026, 9, 1, tz="UTC"))
        assert (early.orders, early.applied) == (0, 0)
        report = store.rollover(until=EXPIRY.add(days=1))
        assert (report.orders, report.applied, report.invalid) == (1, 1, ())
        expired = store.order("co-sold", ORG, clock=sf.FrozenClock(EXPIRY.add(days=1)))
        applied = [e for e in store.audit(ORG.org_id) if e.outcome == "applied"]
    assert (expired.state, expired.units.expired) == ("expired", 4)
    assert [(e.subject_id, e.at) for e in applied] == [("co-sold", EXPIRY)]


def test_k4_a_store_without_the_version_refuses_the_order_and_the_job_leaves_it(
    db_url: str,
) -> None:
    """A store of Atlas's catalog refuses co-sold (`invalid_snapshot` naming "sold-2026") from
    `order` and `update_order`, loads co-atlas, and its job reports co-sold and leaves it."""
    with Store(db_url, catalog=CATALOG) as store:
        open_orders(store)
    after = sf.FrozenClock(EXPIRY.add(days=1))
    with Store(db_url) as atlas:
        before = table_rows(atlas)
        for load in (
            lambda: atlas.order("co-sold", ORG, clock=after),
            lambda: atlas.update_order("co-sold", lambda o: None, org=ORG, clock=after),
        ):
            with pytest.raises(sf.InvalidInput) as refused:
                load()
            assert refused.value.code == "invalid_snapshot"
            assert "'sold-2026'" in refused.value.message
        assert atlas.order("co-atlas", ORG, clock=after).policy == "atlas"
        assert table_rows(atlas) == before
    report = rollover(db_url, until=EXPIRY.add(days=1))
    assert (report.orders, report.invalid) == (0, ("order co-sold",))


def test_k4_save_refuses_an_order_decided_under_another_catalog(store: Store) -> None:
    """An order made under CATALOG cannot be saved to a store of Atlas's catalog."""
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=1,
        sales_reference="SO-1",
        email=BUYER,
        clock=sf.FrozenClock(AFTER),
        outbox=sf.InMemoryOutbox(),
        catalog=CATALOG,
    )
    with pytest.raises(sf.InvalidInput) as refused:
        store.save(order)
    assert (refused.value.code, refused.value.rule) == ("invalid_value", "K4")
    assert table_rows(store)["sf_orders"] == []


def test_k4_schema_4_rewrites_stored_version_2_orders_as_version_3(db_url: str) -> None:
    """Version-2 order snapshots in a schema-3 database become the version-3 snapshots restore
    reads them as (under atlas) when a store opens it, their revisions kept; they load, and
    the job expires the one with a validity once."""
    made = {}
    for order_id, validity in (("co-1", 2), ("co-2", None)):
        order = sf.ConsultingOrder.from_representative(
            ORG,
            units=2,
            sales_reference="SO",
            email=BUYER,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
            validity_months=validity,
            order_id=order_id,
        )
        made[order_id] = order.snapshot(history=False)
    old = {
        k: {**{f: v for f, v in s.items() if f != "policy"}, "version": 2} for k, s in made.items()
    }
    assert {k: order_snapshot.upgraded(s) for k, s in old.items()} == made
    db = Database(db_url)
    migrate(db, target=3)
    with db.write() as conn:
        for order_id, snapshot in old.items():
            conn.execute(
                orders.insert().values(
                    order_id=order_id,
                    org_id=ORG.org_id,
                    revision=2,
                    state=snapshot["state"],
                    due_at=due_at(snapshot),
                    snapshot=snapshot,
                )
            )
    with Store(db_url) as store:
        assert rows_by_id(db_url, "sf_orders") == {
            "co-1": (2, made["co-1"], "atlas"),
            "co-2": (2, made["co-2"], "atlas"),
        }
        clock = sf.FrozenClock(START)
        assert [store.order(k, ORG, clock=clock).snapshot() for k in made] == list(made.values())
        report = store.rollover(until=START.add(months=3))
        assert (report.orders, report.applied, report.invalid) == (1, 1, ())
    db.dispose()
