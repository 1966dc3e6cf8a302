"""The month-start job (RULES.md S5, T7, P14, F6): each due change applied once, at its recorded
instant, however often the job is killed and rerun and however many workers share it; and its
command line. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import OWNER, START  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import Store, rollover  # noqa: E402
from support_flows.store import cli as store_cli  # noqa: E402
from support_flows.store.database import normalise_url  # noqa: E402
from support_flows.store.due import due_at  # noqa: E402
from support_flows.store.records import micros  # noqa: E402

pytest_plugins = ["store_helpers"]

ZONES = ("UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Auckland")
UNTIL = START.add(days=40)  # past April's 1st everywhere, every trial's end, every expiry


def populate(store: Store, plans: int, trials: int, orders: int) -> dict[str, Any]:
    """Plans with a pending downgrade or cancel, plans in their trial, and orders that expire
    within a month, in several zones; returns each one's expected (kind, state, due instant)."""
    expected = {}
    for n in range(plans + trials):
        org = sf.Organization(f"org-{n}", billing_timezone=ZONES[n % len(ZONES)])
        clock = sf.FrozenClock(START.add(minutes=n))
        plan = sf.SupportPlan(org, clock=clock)
        if n < plans:
            plan.change("premium", actor=OWNER)
            if n % 2:
                plan.change("developer", actor=OWNER)
            else:
                plan.cancel(actor=OWNER)
        else:
            plan.change("developer", actor=OWNER)
        snapshot = plan.snapshot(history=False)
        expected[org.org_id] = ("plan", snapshot, org)
        store.save(plan)
    for n in range(orders):
        org = sf.Organization(f"org-{n}", billing_timezone=ZONES[n % len(ZONES)])
        outcome = store.from_representative(
            org,
            units=2,
            sales_reference=f"SO-{n}",
            email="buyer@example.com",
            clock=sf.FrozenClock(START.add(minutes=n)),
            validity_months=1,
            order_id=f"co-{n}",
        )
        order = store.order(f"co-{n}", org, clock=sf.FrozenClock(START))
        expected[outcome.result["order_id"]] = ("order", order.snapshot(), org)
    return expected


def per_object(expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What restoring each record and calling `apply_due()` at UNTIL gives (the slow path)."""
    clock = sf.FrozenClock(UNTIL)
    done = {}
    for key, (kind, snapshot, org) in expected.items():
        if kind == "plan":
            plan = sf.SupportPlan.restore(snapshot, org, clock=clock)
            plan.apply_due()
            done[key] = plan.snapshot(history=False)
        else:
            order = sf.ConsultingOrder.restore(
                snapshot, org, clock=clock, outbox=sf.InMemoryOutbox()
            )
            order.apply_due()
            done[key] = order.snapshot(history=False)
    return done


def stored(url: str) -> tuple[dict[str, tuple[int, dict[str, Any]]], list[Any]]:
    """Every stored record (revision, snapshot) by id, and every applied audit line."""
    engine = sa.create_engine(normalise_url(url))
    with engine.connect() as conn:
        records = {
            row[0]: (row[1], json.loads(row[2]) if isinstance(row[2], str) else row[2])
            for table, key in (("sf_plans", "org_id"), ("sf_orders", "order_id"))
            for row in conn.exec_driver_sql(f"SELECT {key}, revision, snapshot FROM {table}")
        }
        applied = conn.exec_driver_sql(
            "SELECT subject_id, event, at FROM sf_audit WHERE outcome = 'applied'"
        ).all()
    engine.dispose()
    return records, applied


def check_applied_once(url: str, expected: dict[str, Any]) -> None:
    """Every record is what the per-object path gives, saved once by the job (revision 2), with
    exactly one applied audit line at its recorded instant; nothing is left due."""
    records, applied = stored(url)
    slow = per_object(expected)
    assert {k: snapshot for k, (_, snapshot) in records.items()} == slow
    assert {k: revision for k, (revision, _) in records.items()} == dict.fromkeys(expected, 2)
    by_subject: dict[str, list[Any]] = {}
    for subject_id, event, at in applied:
        by_subject.setdefault(subject_id, []).append((event, at))
    assert sorted(by_subject) == sorted(expected)
    for key, (_, snapshot, _) in expected.items():
        assert len(by_subject[key]) == 1, key
        assert by_subject[key][0][1] == due_at(snapshot)
        assert due_at(slow[key]) is None or due_at(slow[key]) > micros(UNTIL)


def test_s5_rollover_applies_each_due_change_once_at_its_recorded_instant(store: Store) -> None:
    """Trial ends, pending changes and expiries in five zones, applied at their own instants
    (not at the job's), equal to the per-object path; a second run finds nothing to do."""
    expected = populate(store, plans=40, trials=10, orders=10)
    seen: list[int] = []
    report = store.rollover(until=UNTIL, batch_size=7, progress=seen.append)
    assert (report.plans, report.orders, report.applied, report.invalid) == (50, 10, 60, ())
    assert sum(seen) == 60
    assert "50 plans and 10 orders saved, 60 changes applied" in report.summary()
    check_applied_once(store.url, expected)
    again = store.rollover(until=UNTIL)
    assert (again.plans, again.orders, again.applied) == (0, 0, 0)
    check_applied_once(store.url, expected)


def test_s4_the_rollover_audits_each_applied_change_as_saving_the_loaded_record_does(
    store: Store, tmp_path: Path
) -> None:
    """The job's applied audit lines (instant, subject, event, actor, detail) are those a
    record loaded at the same instant and saved writes, line for line."""
    expected = populate(store, plans=6, trials=2, orders=2)
    store.rollover(until=UNTIL, batch_size=3)
    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    populate(reference, plans=6, trials=2, orders=2)
    clock = sf.FrozenClock(UNTIL)
    for key, (kind, _, org) in expected.items():
        loaded: Any = (
            reference.plan(key, org, clock=clock)
            if kind == "plan"
            else reference.order(key, org, clock=clock)
        )
        loaded.apply_due()
        reference.save(loaded)

    def applied(of: Store, org_id: str) -> list[dict[str, Any]]:
        lines = [e.to_dict() for e in of.audit(org_id) if e.outcome == "applied"]
        return [{**line, "entry_id": None} for line in lines]

    for org_id in sorted({org.org_id for _, _, org in expected.values()}):
        assert applied(store, org_id) == applied(reference, org_id), org_id
        assert applied(store, org_id)
    reference.close()


def test_s5_rollover_before_anything_is_due_changes_nothing(store: Store) -> None:
    """Run the day before the 1st: nothing is due yet (T7), nothing is saved."""
    populate(store, plans=10, trials=0, orders=0)
    report = store.rollover(until=pendulum.datetime(2026, 3, 30, tz="UTC"))
    assert (report.plans, report.applied) == (0, 0)


def test_s5_a_record_the_job_cannot_read_is_reported_and_the_rest_go_on(store: Store) -> None:
    """A corrupted snapshot (here: another billing timezone than it was written in) is listed
    as invalid; every other record is applied."""
    populate(store, plans=6, trials=0, orders=0)
    engine = sa.create_engine(store.url)
    with engine.begin() as conn:
        row = conn.exec_driver_sql("SELECT snapshot FROM sf_plans WHERE org_id = 'org-3'").one()
        snapshot = json.loads(row[0]) if isinstance(row[0], str) else row[0]
        snapshot["periods"] = []
        conn.execute(
            sa.text("UPDATE sf_plans SET snapshot = :s WHERE org_id = 'org-3'").bindparams(
                sa.bindparam("s", type_=sa.JSON)
            ),
            {"s": snapshot},
        )
    engine.dispose()
    report = store.rollover(until=UNTIL)
    assert (report.plans, report.invalid) == (5, ("plan org-3",))
    assert "1 invalid (plan org-3)" in report.summary()


def test_s5_workers_share_the_work_without_applying_anything_twice(db_url: str) -> None:
    """`rollover(url, workers=2)`: PostgreSQL runs two processes (SKIP LOCKED), SQLite one;
    either way each change is applied once."""
    store = Store(db_url)
    expected = populate(store, plans=150, trials=20, orders=20)
    report = rollover(db_url, until=UNTIL, workers=2, batch_size=5)
    assert report.workers == (2 if db_url.startswith("postgresql") else 1)
    assert (report.plans + report.orders, report.applied) == (190, 190)
    check_applied_once(db_url, expected)
    store.close()


def test_s5_rollover_killed_at_random_points_and_rerun_applies_everything_exactly_once(
    db_url: str,
) -> None:
    """The job run as a command (two workers on PostgreSQL), SIGKILLed (its whole process group)
    once a random number of changes is applied, three times, then rerun to the end: every due
    change is applied exactly once and the audit log says so."""
    store = Store(db_url)
    expected = populate(store, plans=260, trials=20, orders=20)
    store.close()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    command = [
        sys.executable,
        "-m",
        "support_flows.store",
        "rollover",
        "--db",
        db_url,
        "--until",
        UNTIL.isoformat(),
        "--batch-size",
        "3",
        "--workers",
        "2",
    ]
    engine = sa.create_engine(normalise_url(db_url))

    def applied() -> int:
        with engine.connect() as conn:
            query = "SELECT count(*) FROM sf_audit WHERE outcome = 'applied'"
            return int(conn.exec_driver_sql(query).scalar_one())

    def settled() -> int:
        """The applied count once every transaction still writing the audit log has ended: a
        backend whose client was killed mid-COMMIT may still finish that commit, and SHARE mode
        waits for it (no polling)."""
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":  # SQLite's writer dies with its process
                conn.exec_driver_sql("SET LOCAL lock_timeout = '60s'")
                conn.exec_driver_sql("LOCK TABLE sf_audit IN SHARE MODE")
            query = "SELECT count(*) FROM sf_audit WHERE outcome = 'applied'"
            return int(conn.exec_driver_sql(query).scalar_one())

    kills = []
    deadline = time.monotonic() + 120
    for _ in range(3):
        before = applied()
        if before >= len(expected) - 1:
            break
        threshold = rng.randint(before + 1, len(expected) - 1)
        job = subprocess.Popen(
            command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        while time.monotonic() < deadline:
            try:
                job.wait(timeout=0.01)
                break  # it finished before the threshold
            except subprocess.TimeoutExpired:
                if applied() >= threshold:
                    os.killpg(job.pid, signal.SIGKILL)
                    job.wait(timeout=30)
                    kills.append(settled())
                    break
        else:
            os.killpg(job.pid, signal.SIGKILL)
            pytest.fail(f"the rollover did not reach {threshold} applied changes (seed {seed})")
        job.stdout.close()  # type: ignore[union-attr]
        job.stderr.close()  # type: ignore[union-attr]
    engine.dispose()
    assert kills, f"no run was killed mid-way (seed {seed})"
    final = rollover(db_url, until=UNTIL)
    assert final.applied == len(expected) - kills[-1]
    check_applied_once(db_url, expected)


def test_the_rollover_command_prints_one_line_off_a_terminal(store: Store) -> None:
    """`support-flows rollover --db URL --until INSTANT` prints the summary; naive or malformed
    instants are refused as usage errors."""
    populate(store, plans=4, trials=0, orders=0)
    runner = CliRunner()
    done = runner.invoke(
        store_cli.rollover, ["--db", store.url, "--until", UNTIL.isoformat(), "--workers", "1"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.startswith("rollover until 2026-04-23T10:00:00+00:00: 4 plans and 0 orders")
    assert len(done.output.splitlines()) == 1
    for bad in ("2026-04-01T00:00:00", "tomorrow"):
        refused = runner.invoke(store_cli.rollover, ["--db", store.url, "--until", bad])
        assert refused.exit_code == 2
        assert "--until" in refused.output


def test_the_relay_command_delivers_json_lines_with_message_ids(store: Store) -> None:
    """`support-flows outbox relay --db URL` writes each queued email as a JSON line, once."""
    for n in (1, 2):
        store.from_representative(
            sf.Organization("org-1"),
            units=1,
            sales_reference=f"SO-{n}",
            email="buyer@example.com",
            clock=sf.FrozenClock(START),
        )
    runner = CliRunner()
    done = runner.invoke(store_cli.outbox, ["relay", "--db", store.url])
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["to"] for line in lines] == ["buyer@example.com"] * 2
    assert all(line["message_id"].startswith("sf-") for line in lines)
    assert runner.invoke(store_cli.outbox, ["relay", "--db", store.url]).stdout == ""
    wrong = runner.invoke(store_cli.outbox, ["relay", "--db", store.url, "--outbox", "nope"])
    assert wrong.exit_code == 2


def test_due_column_is_when_apply_due_first_applies_something() -> None:
    """The indexed due instant of a snapshot is the first instant at which `apply_due` applies
    something: nothing a microsecond before, something at it."""
    org = sf.Organization("org-z", billing_timezone="America/St_Johns")
    clock = sf.FrozenClock(START)
    plans = []
    for tiers in (("developer",), ("premium", "developer"), ("premium", "basic"), ()):
        plan = sf.SupportPlan(org, clock=clock)
        for tier in tiers:
            plan.change(tier, actor=OWNER)
        plans.append(plan.snapshot(history=False))
    order = sf.ConsultingOrder.from_representative(
        org,
        units=1,
        sales_reference="SO",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=2,
    )
    for snapshot in [*plans, order.snapshot(history=False)]:
        due = due_at(snapshot)
        if due is None:
            assert snapshot["kind"] == "support_plan"
            assert snapshot["state"] == "basic"
            continue
        at = sf.parse_instant(pendulum.from_timestamp(due / 1_000_000, tz="UTC").isoformat())
        for moment, applies in ((at.subtract(microseconds=1), False), (at, True)):
            if snapshot["kind"] == "support_plan":
                done = sf.SupportPlan.restore(
                    snapshot, org, clock=sf.FrozenClock(moment)
                ).apply_due()
            else:
                done = sf.ConsultingOrder.restore(
                    snapshot, org, clock=sf.FrozenClock(moment), outbox=sf.InMemoryOutbox()
                ).apply_due()
            assert bool(done) is applies
