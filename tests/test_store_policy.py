"""The store, bulk and the month-start job under a catalog (RULES.md K3, K4, S5, U1): records
loaded, created and brought up to date under the store's catalog, each due change kept at the
terms of the version that scheduled it; records naming a version the catalog lacks refused; the
schema migration to snapshot version 3; a read-only walk of the stored records (for K5); and
``rollover --policy FILE``. Store tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest
from click.testing import CliRunner

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import OWNER, START, rows_by_id, table_rows  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows import bulk  # noqa: E402
from support_flows.cli import main  # noqa: E402
from support_flows.snapshots import plan as plan_snapshot  # noqa: E402
from support_flows.store import SCHEMA_VERSION, Store, StoredRecord, rollover, walk  # noqa: E402
from support_flows.store.database import Database  # noqa: E402
from support_flows.store.due import due_at  # noqa: E402
from support_flows.store.schema import migrate, plans, version_of  # noqa: E402

pytest_plugins = ["store_helpers"]

SHORT_FROM = pendulum.datetime(2026, 4, 1, tz="UTC")
CATALOG = sf.Catalog(
    [
        sf.Policy(),
        sf.Policy(version="short", effective_from=SHORT_FROM, trial_days=14, retroactive_days=30),
    ]
)
"""Atlas's policy, then from April 1st 14-day trials and a 30-day retroactive cap."""
UTC = sf.Organization("org-a")
LATER = sf.Organization("org-b")
DOWN = sf.Organization("org-c")
UNTIL = pendulum.datetime(2026, 5, 2, tz="UTC")  # past every trial's end and May 1st


def request(store: Store, org: sf.Organization, at: pendulum.DateTime, tier: str) -> None:
    """`change(tier)` on the organization's stored plan at `at`, creating it if none."""
    store.update(
        org.org_id,
        lambda plan: plan.change(tier, actor=OWNER),
        org=org,
        clock=sf.FrozenClock(at),
        create=True,
    )


def populate(store: Store) -> None:
    """org-a: a trial under atlas (30 days, from March 14th); org-b: a trial under "short" (14
    days, from April 2nd); org-c: premium, then a downgrade requested under "short"."""
    request(store, UTC, START, "developer")
    request(store, LATER, pendulum.datetime(2026, 4, 2, 10, tz="UTC"), "developer")
    request(store, DOWN, START, "premium")
    request(store, DOWN, pendulum.datetime(2026, 4, 5, tz="UTC"), "developer")


def per_object(snapshot: dict[str, Any], org: sf.Organization) -> dict[str, Any]:
    """What restoring the record under CATALOG and applying what is due at UNTIL gives."""
    plan = sf.SupportPlan.restore(snapshot, org, clock=sf.FrozenClock(UNTIL), catalog=CATALOG)
    plan.apply_due()
    return plan.snapshot(history=False)


# -- K3: what the store creates and what the job applies keep their version's terms ---------------


def test_k3_the_store_creates_plans_under_its_catalog(db_url: str) -> None:
    """A plan `update(create=True)` makes is decided by the version in force at the request:
    a 30-day trial under atlas before April 1st, a 14-day one under "short" after it."""
    with Store(db_url, catalog=CATALOG) as store:
        assert store.catalog is CATALOG
        populate(store)
        a = store.plan("org-a", UTC, clock=sf.FrozenClock(START))
        b = store.plan("org-b", LATER, clock=sf.FrozenClock(SHORT_FROM.add(days=1)))
    assert a.trial is not None
    assert b.trial is not None
    assert (a.trial.policy, a.trial.ends_at) == ("atlas", START.add(days=30))
    assert (b.trial.policy, b.trial.ends_at) == ("short", pendulum.datetime(2026, 4, 16, 10))
    assert {k: policy for k, (_, _, policy) in rows_by_id(db_url).items()} == {
        "org-a": "atlas",
        "org-b": "short",
        "org-c": "short",
    }


def test_k3_s5_the_rollover_applies_each_due_change_under_the_version_that_scheduled_it(
    db_url: str,
) -> None:
    """Run after April 1st, the job ends org-a's trial at its atlas end (day 30) and org-b's at
    its "short" end (day 14), and applies org-c's downgrade on May 1st: each equal to the
    object path under the catalog, each applied line naming its version."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
        before = rows_by_id(db_url)
        report = store.rollover(until=UNTIL)
        assert (report.plans, report.applied, report.invalid) == (3, 3, ())
        after = rows_by_id(db_url)
        orgs = {"org-a": UTC, "org-b": LATER, "org-c": DOWN}
        assert {k: s for k, (_, s, _) in after.items()} == {
            k: per_object(before[k][1], orgs[k]) for k in orgs
        }
        applied = {
            k: [(e.event, e.at, e.detail["entry"]["policy"]) for e in store.audit(k)][-1]
            for k in orgs
        }
    assert applied == {
        "org-a": ("end_trial", START.add(days=30), "atlas"),
        "org-b": ("end_trial", pendulum.datetime(2026, 4, 16, 10), "short"),
        "org-c": ("apply_pending", pendulum.datetime(2026, 5, 1), "short"),
    }
    developer_from = {
        k: s["periods"][0]["starts_at"] for k, (_, s, _) in after.items() if k != "org-c"
    }
    assert developer_from == {
        "org-a": "2026-04-13T10:00:00+00:00",
        "org-b": "2026-04-16T10:00:00+00:00",
    }
    assert {k: policy for k, (_, _, policy) in after.items()} == dict.fromkeys(orgs)


def test_k3_s5_rollover_workers_apply_under_the_catalog_they_are_given(db_url: str) -> None:
    """`rollover(url, workers=2, catalog=...)`: the worker processes (PostgreSQL; SQLite runs
    one) decide under the catalog given, so a record under "short" is applied, not refused."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
    report = rollover(db_url, until=UNTIL, workers=2, catalog=CATALOG)
    assert (report.plans, report.applied, report.invalid) == (3, 3, ())


def test_k3_bulk_apply_due_keeps_the_terms_of_the_version_that_scheduled_each_record() -> None:
    """`bulk.apply_due(..., catalog=)` gives what restore and apply_due give under that catalog,
    for trials under either version."""
    records = []
    for org, at in ((UTC, START), (LATER, pendulum.datetime(2026, 4, 2, 10, tz="UTC"))):
        plan = sf.SupportPlan(org, clock=sf.FrozenClock(at), catalog=CATALOG)
        plan.change("developer", actor=OWNER)
        records.append((plan.snapshot(history=False), org))
    results = list(bulk.apply_due(records, until=UNTIL, catalog=CATALOG))
    assert [r[0] for r in results] == [per_object(s, org) for s, org in records]  # type: ignore[index]
    assert [[e.policy for e in r[1]] for r in results] == [["atlas"], ["short"]]  # type: ignore[index]


# -- K4: a record under a version the catalog lacks is refused --------------------------------


def test_k4_a_store_refuses_to_load_a_record_under_a_version_its_catalog_lacks(
    db_url: str,
) -> None:
    """A store opened with Atlas's catalog refuses org-b's plan (its trial names "short")
    as restore does: `invalid_snapshot` naming the version, from `plan` and from `update`,
    and nothing changes; org-a's plan (under atlas) loads."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
    with Store(db_url) as atlas:
        before = table_rows(atlas)
        clock = sf.FrozenClock(SHORT_FROM.add(days=2))
        for load in (
            lambda: atlas.plan("org-b", LATER, clock=clock),
            lambda: atlas.update("org-b", lambda p: p.cancel(actor=OWNER), org=LATER, clock=clock),
        ):
            with pytest.raises(sf.InvalidInput) as refused:
                load()
            assert refused.value.code == "invalid_snapshot"
            assert "'short'" in refused.value.message
            assert "K4" in refused.value.message
        assert atlas.plan("org-a", UTC, clock=clock).state == "trial"
        assert table_rows(atlas) == before


def test_k4_a_store_refuses_a_record_whose_version_has_other_terms(db_url: str) -> None:
    """A catalog naming "short" with a 10-day trial does not hold the 14-day trial org-b's
    record was given: refused `invalid_snapshot`."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
    other = sf.Catalog([sf.Policy(), sf.Policy(version="short", effective_from=SHORT_FROM)])
    with Store(db_url, catalog=other) as changed, pytest.raises(sf.InvalidInput) as refused:
        changed.plan("org-b", LATER, clock=sf.FrozenClock(UNTIL))
    assert refused.value.code == "invalid_snapshot"


def test_k4_s5_the_rollover_leaves_a_record_under_an_unknown_version_and_reports_it(
    db_url: str,
) -> None:
    """The job under Atlas's catalog lists org-b and org-c (under "short") as invalid and
    leaves them as they are; org-a is applied."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
    before = rows_by_id(db_url)
    report = rollover(db_url, until=UNTIL)
    assert (report.plans, report.applied) == (1, 1)
    assert sorted(report.invalid) == ["plan org-b", "plan org-c"]
    after = rows_by_id(db_url)
    assert {k: after[k] for k in ("org-b", "org-c")} == {k: before[k] for k in ("org-b", "org-c")}


def test_k4_bulk_refuses_a_record_under_a_version_the_catalog_lacks_and_goes_on() -> None:
    """`bulk.apply_due` under Atlas's catalog yields the refusal of a "short" record and goes on
    to the next; a catalog that is no Catalog is refused at the call."""
    short = sf.SupportPlan(LATER, clock=sf.FrozenClock(SHORT_FROM), catalog=CATALOG)
    short.change("developer", actor=OWNER)
    atlas = sf.SupportPlan(UTC, clock=sf.FrozenClock(START))
    atlas.change("developer", actor=OWNER)
    records = [(short.snapshot(), LATER), (atlas.snapshot(), UTC)]
    first, second = bulk.apply_due(records, until=UNTIL)
    assert isinstance(first, sf.InvalidInput)
    assert first.code == "invalid_snapshot"
    assert "'short'" in first.message
    assert not isinstance(second, sf.InvalidInput)
    assert second[1][0].event == "end_trial"
    with pytest.raises(sf.InvalidInput) as refused:
        bulk.apply_due(records, until=UNTIL, catalog=CATALOG.to_toml())  # type: ignore[arg-type]
    assert refused.value.code == "invalid_value"


def test_k4_save_refuses_an_object_decided_under_another_catalog(store: Store) -> None:
    """A plan made under CATALOG cannot be saved to a store of Atlas's catalog (the store could
    not load it back): `invalid_value`, nothing written."""
    plan = sf.SupportPlan(UTC, clock=sf.FrozenClock(SHORT_FROM), catalog=CATALOG)
    plan.change("developer", actor=OWNER)
    before = table_rows(store)
    with pytest.raises(sf.InvalidInput) as refused:
        store.save(plan)
    assert (refused.value.code, refused.value.rule) == ("invalid_value", "K4")
    assert table_rows(store) == before


class Raising:
    """An object whose comparisons and attributes all raise."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(name)

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    __hash__ = None  # type: ignore[assignment]


NOT_CATALOGS = [None, "atlas", CATALOG.to_toml(), sf.Policy(), [sf.Policy()], Raising()]


@pytest.mark.parametrize("entry", ["Store", "rollover", "bulk.apply_due"])
def test_v5_store_entry_points_take_only_a_catalog(tmp_path: Path, entry: str) -> None:
    """`Store(url, catalog=)`, `rollover(url, catalog=)` and `bulk.apply_due(..., catalog=)`
    refuse anything but a Catalog (`invalid_value`, V5) before the database is touched."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    calls = {
        "Store": lambda catalog: Store(url, catalog=catalog),
        "rollover": lambda catalog: rollover(url, catalog=catalog),
        "bulk.apply_due": lambda catalog: bulk.apply_due([], until=UNTIL, catalog=catalog),
    }
    for catalog in NOT_CATALOGS:
        with pytest.raises(sf.InvalidInput) as refused:
            calls[entry](catalog)
        assert (refused.value.code, refused.value.rule) == ("invalid_value", "V5")
    assert not (tmp_path / "store.db").exists()


RESHAPED = sf.Catalog(
    [
        sf.Policy(),
        sf.Policy(
            version="2026-04",
            effective_from=SHORT_FROM,
            trial_days=0,
            change_timing="immediately",
        ),
    ]
)
"""Atlas's policy, then from April 1st no trial and changes in force at the request."""


def test_k3_s5_what_atlas_scheduled_is_applied_at_its_terms_after_a_reshaping_version(
    db_url: str,
) -> None:
    """Under a catalog whose April version has no trial and immediate changes, the job still
    ends org-a's atlas trial on day 30 and applies org-c's atlas downgrade at April 1st 00:00,
    the version's own effective instant; org-n, subscribed and cancelled under the April
    version, has nothing pending (developer at once, cancelled at once)."""
    with Store(db_url, catalog=RESHAPED) as store:
        request(store, UTC, START, "developer")
        request(store, DOWN, START, "premium")
        request(store, DOWN, START.add(days=6), "developer")
        none = sf.Organization("org-n")
        request(store, none, pendulum.datetime(2026, 4, 2, tz="UTC"), "developer")
        request(store, none, pendulum.datetime(2026, 4, 3, tz="UTC"), "basic")
        report = store.rollover(until=UNTIL)
        lines = {
            k: [(e.event, e.at, e.detail["entry"]["policy"]) for e in store.audit(k)]
            for k in ("org-a", "org-c", "org-n")
        }
    assert (report.plans, report.applied, report.invalid) == (2, 2, ())
    assert lines["org-a"][-1] == ("end_trial", START.add(days=30), "atlas")
    assert lines["org-c"][-1] == ("apply_pending", SHORT_FROM, "atlas")
    assert [(event, policy) for event, _, policy in lines["org-n"]] == [
        ("subscribe", "2026-04"),
        ("cancel", "2026-04"),
    ]
    assert rows_by_id(db_url)["org-n"][1]["state"] == "cancelled"


# -- the schema: version 4 matches snapshot version 3 ------------------------------------------


def as_version_2(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The version-2 snapshot the library wrote before policies, for the same plan."""
    old = dict(snapshot, version=2)
    for part in ("trial", "pending"):
        if old[part] is not None:
            old[part] = {k: v for k, v in old[part].items() if k != "policy"}
    if old["history"] is not None:
        old["history"] = [{k: v for k, v in e.items() if k != "policy"} for e in old["history"]]
    return old


def version_2_plans() -> dict[str, tuple[sf.Organization, dict[str, Any]]]:
    """A plan in its trial, one with a pending downgrade, one on Basic: their version-3
    snapshots (under atlas), by organization id."""
    made = {}
    for org_id, tiers in (
        ("org-t", ("developer",)),
        ("org-p", ("premium", "developer")),
        ("org-n", ()),
    ):
        org = sf.Organization(org_id)
        plan = sf.SupportPlan(org, clock=sf.FrozenClock(START))
        for tier in tiers:
            plan.change(tier, actor=OWNER)
        made[org_id] = (org, plan.snapshot(history=False))
        assert plan_snapshot.upgraded(as_version_2(made[org_id][1])) == made[org_id][1]
    return made


def insert_rows(db: Database, rows: dict[str, Any], revision: int = 3) -> None:
    """Rows as an older library stored them (no policy column written)."""
    with db.write() as conn:
        for org_id, snapshot in rows.items():
            conn.execute(
                plans.insert().values(
                    org_id=org_id,
                    revision=revision,
                    state=snapshot["state"] if isinstance(snapshot, dict) else "basic",
                    due_at=due_at(snapshot) if isinstance(snapshot, dict) else None,
                    snapshot=snapshot,
                )
            )


@pytest.mark.parametrize("old", [1, 3])
def test_k4_schema_4_rewrites_stored_version_2_plans_as_version_3(db_url: str, old: int) -> None:
    """A database at schema 1 or 3 holding version-2 snapshots is migrated to 4 when a store
    opens it: each snapshot becomes the version-3 one restore reads it as (under atlas), its
    revision kept, its policy column filled; a row no library wrote is left as it is. The
    plans then load, save nothing when unchanged, and the job applies what is due once."""
    made = version_2_plans()
    db = Database(db_url)
    assert migrate(db, target=old) == old
    insert_rows(db, {k: as_version_2(s) for k, (_, s) in made.items()})
    insert_rows(db, {"org-x": ["not", "a", "snapshot"]})
    with Store(db_url) as store:
        with db.read() as conn:
            assert version_of(conn) == SCHEMA_VERSION == 4
        rows = rows_by_id(db_url)
        assert rows == {
            "org-t": (3, made["org-t"][1], "atlas"),
            "org-p": (3, made["org-p"][1], "atlas"),
            "org-n": (3, made["org-n"][1], None),
            "org-x": (3, ["not", "a", "snapshot"], None),
        }
        for org_id, (org, snapshot) in made.items():
            plan = store.plan(org_id, org, clock=sf.FrozenClock(START))
            assert plan.snapshot(history=False) == snapshot
            assert store.save(plan) == 3  # unchanged: nothing written
        report = store.rollover(until=UNTIL)
        assert (report.plans, report.applied, report.invalid) == (2, 2, ())
        assert {e.detail["entry"]["policy"] for e in store.audit("org-t")} == {"atlas"}
    db.dispose()


def test_k4_a_version_2_row_written_after_the_migration_is_read_and_rewritten_at_its_save(
    store: Store,
) -> None:
    """A version-2 snapshot an older library writes into a migrated database (a rolling
    upgrade) is still read as decided under atlas, and its next save writes version 3 with its
    policy column."""
    org, snapshot = version_2_plans()["org-p"]
    db = Database(store.url)
    insert_rows(db, {"org-p": as_version_2(snapshot)})
    db.dispose()
    clock = sf.FrozenClock(START.add(days=1))
    assert (
        store.plan("org-p", org, clock=clock).pending
        == sf.SupportPlan.restore(snapshot, org, clock=clock).pending
    )
    store.update("org-p", lambda p: p.cancel(actor=OWNER), org=org, clock=clock)
    revision, saved, policy = rows_by_id(store.url)["org-p"]
    assert (revision, saved["version"], saved["pending"]["policy"], policy) == (
        4,
        3,
        "atlas",
        "atlas",
    )


def test_k4_migrated_records_are_atlas_s_and_refused_by_a_catalog_without_it(db_url: str) -> None:
    """Version-2 records are decided under atlas: a store whose catalog lacks that version
    refuses them `invalid_snapshot` (K4), as restore refuses the version-2 snapshot."""
    made = version_2_plans()
    db = Database(db_url)
    migrate(db, target=3)
    insert_rows(db, {"org-t": as_version_2(made["org-t"][1])})
    db.dispose()
    renamed = sf.Catalog([sf.Policy(version="ours")])
    with Store(db_url, catalog=renamed) as store, pytest.raises(sf.InvalidInput) as refused:
        store.plan("org-t", made["org-t"][0], clock=sf.FrozenClock(START))
    assert refused.value.code == "invalid_snapshot"
    assert "'atlas'" in refused.value.message


# -- K5: the stored records, walked read-only -------------------------------------------------


def test_k5_plans_and_orders_walk_every_stored_record_and_write_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Store.plans()` / `orders()` yield every stored record, a page at a time, with its
    revision, state, policy and snapshot, as stored, though much has come due: nothing is
    applied, saved or audited; each restores under the store's catalog."""
    monkeypatch.setattr(walk, "PAGE", 2)
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
        request(store, sf.Organization("org-d"), START, "premium")
        request(store, sf.Organization("org-e"), START, "premium")
        for n in range(3):
            store.from_representative(
                sf.Organization(f"org-{n}"),
                units=2,
                sales_reference=f"SO-{n}",
                email="buyer@example.com",
                clock=sf.FrozenClock(START),
                validity_months=1,
                order_id=f"co-{n}",
            )
        before = table_rows(store)
        found = list(store.plans())
        orders = list(store.orders())
        assert table_rows(store) == before
    rows = rows_by_id(db_url)
    assert all(isinstance(r, StoredRecord) for r in found + orders)
    assert [r.subject_id for r in found] == ["org-a", "org-b", "org-c", "org-d", "org-e"]
    assert {r.subject_id: (r.revision, r.snapshot, r.policy) for r in found} == rows
    assert [(r.kind, r.org_id, r.state) for r in found][:2] == [
        ("plan", "org-a", "trial"),
        ("plan", "org-b", "trial"),
    ]
    assert [(r.subject_id, r.org_id, r.kind, r.policy) for r in orders] == [
        (f"co-{n}", f"org-{n}", "order", "atlas") for n in range(3)
    ]
    assert {r.subject_id: (r.revision, r.snapshot) for r in orders} == {
        k: (revision, snapshot)
        for k, (revision, snapshot, _) in rows_by_id(db_url, "sf_orders").items()
    }
    late = sf.FrozenClock(UNTIL)
    for record in found:
        assert record.org == sf.Organization(record.org_id)
        plan = sf.SupportPlan.restore(record.snapshot, record.org, clock=late, catalog=CATALOG)
        assert plan.state in ("developer", "premium")  # what came due, read, not stored
    assert rows_by_id(db_url) == rows


# -- U1: rollover --policy FILE ---------------------------------------------------------------


def test_u1_k4_rollover_policy_file_decides_under_that_catalog(db_url: str, tmp_path: Path) -> None:
    """`support-flows rollover --policy FILE`: without it, the records under "short" are left and
    reported (exit 1, `invalid_snapshot`); with the TOML catalog they are applied (exit 0)."""
    with Store(db_url, catalog=CATALOG) as store:
        populate(store)
    policy = tmp_path / "policy.toml"
    policy.write_text(CATALOG.to_toml(), encoding="utf-8")
    runner = CliRunner()
    args = ["rollover", "--db", db_url, "--until", UNTIL.isoformat()]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1, refused.output
    assert refused.stderr.startswith("error: [invalid_snapshot, V2] 2 stored records")
    done = runner.invoke(main, [*args, "--policy", str(policy)])
    assert done.exit_code == 0, done.output
    assert "2 plans and 0 orders saved, 2 changes applied" in done.stdout


@pytest.mark.parametrize(
    ("text", "start"),
    [
        (None, "error: [invalid_value, K2] --policy: catalog: cannot read"),
        ("[[version]\nid = 'x'", "error: [invalid_value, K2] --policy: catalog: not TOML"),
        ("[[version]]\nid = 'atlas'\ntrial_weeks = 2\n", "error: [invalid_value, K2] --policy:"),
        ("[[version]]\nid = 'atlas'\ntrial_days = 400\n", "error: [invalid_value, K2] --policy:"),
        (
            "[[version]]\nid = 'atlas'\n[[version]]\nid = 'atlas'\n"
            "effective_from = 2027-01-01T00:00:00Z\n",
            "error: [invalid_value, K2] --policy:",
        ),
    ],
    ids=["missing", "not-toml", "unknown-field", "out-of-range", "duplicate-id"],
)
def test_u1_a_bad_policy_file_is_one_line_and_exit_2(
    tmp_path: Path, text: str | None, start: str
) -> None:
    """A policy file that is missing, not TOML, or states a malformed or unsupported policy is
    malformed input: one line `error: [invalid_value, K...] --policy: ...`, exit 2, and the
    database is not touched."""
    policy = tmp_path / "policy.toml"
    if text is not None:
        policy.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'store.db'}"
    result = CliRunner().invoke(main, ["rollover", "--db", url, "--policy", str(policy)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "store.db").exists()
