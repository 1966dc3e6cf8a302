"""The store against its floors, in one run, on SQLite (a file in WAL) and PostgreSQL.

    python benchmarks/bench_store.py [--backends sqlite,postgresql] [--requests 2000]
        [--orgs 20000] [--workers 1,2,4] [--memory-orgs 10000,40000]
        [--repeat 2] [--no-requests] [--no-rollover]

Requests: a write (`store.update` with an idempotency key: a pending downgrade, then its
revocation) and a read (`store.plan(...).to_dict()`) beside a hand-written floor that sends the
statements a correct store needs through the driver itself, and beside the same statements
through SQLAlchemy Core built once (see `store_floors.py`). The three take turns request by
request, each request timed on its own, and each figure is the median microseconds per request;
`ratio` is the library's median over the floor's, `p90` the same for the 90th percentiles. (On
a shared machine the speed drifts by a third within seconds, and a SQLite checkpoint now and
then costs one request milliseconds: taking turns request by request meets both alike, and
the median is not moved by either. Timing rounds of many requests and keeping each one's best
round swung the write ratio between 1.3 and 1.8 from run to run.) The rollover: N plans
with a pending change in five billing zones, brought up to date by `rollover` with 1, 2 and 4
workers beside a set-based floor (COPY into a temporary table and one ``UPDATE ... FROM`` per
batch on PostgreSQL; on SQLite the faster of ``UPDATE ... FROM`` a temporary table and
``executemany``), each run `--repeat` times in turn and the best rate of each kept, and the
job's peak memory at growing counts.

Every timed result is checked: each write's revision, each read's dict, and afterwards every
row, audit entry and idempotency key the run should have left. A plain script: it prints
figures and ratios; no test fails on a timing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_floors import OWNER, CoreRequests, DriverRequests, rollover_floor, toggle

import support_flows as sf
from support_flows.store import Store
from support_flows.store.batches import BATCH_SIZE
from support_flows.store.database import normalise_url
from support_flows.store.due import due_at, policy_of
from support_flows.store.records import micros
from support_flows.store.schema import plans

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
UNTIL = pendulum.datetime(2026, 4, 2, tz="UTC")
POSTGRES = os.environ.get("SUPPORT_FLOWS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1/test")


class Databases:
    """A fresh database per measurement: a SQLite file, or a PostgreSQL schema (dropped at the
    end)."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.schemas: list[str] = []

    def fresh(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / (secrets.token_hex(4) + '.db')}"
        schema = f"speed_store_bench_{secrets.token_hex(4)}"
        engine = sa.create_engine(normalise_url(POSTGRES))
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()
        self.schemas.append(schema)
        return f"{POSTGRES}?options=-csearch_path%3D{schema}"

    def drop(self) -> None:
        if not self.schemas:
            return
        engine = sa.create_engine(normalise_url(POSTGRES))
        with engine.begin() as conn:
            for schema in self.schemas:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def scalar(url: str, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


# -- requests -----------------------------------------------------------------------------------


class Library:
    """The store itself: `store.update` with a key, `store.plan(...).to_dict()`."""

    def __init__(self, url: str, org: sf.Organization, clock: sf.FrozenClock) -> None:
        self.store = Store(url)
        self.org, self.clock = org, clock

    def write(self, key: str) -> int:
        outcome = self.store.update(
            self.org.org_id, toggle, org=self.org, clock=self.clock, idempotency_key=key
        )
        assert not outcome.replayed
        return int(outcome.revision)

    def read(self) -> dict[str, Any]:
        return self.store.plan(self.org.org_id, self.org, clock=self.clock).to_dict()

    def close(self) -> None:
        self.store.close()


def _seed(url: str, orgs: list[sf.Organization], clock: sf.FrozenClock) -> None:
    """Each organization on premium, stored at revision 1."""
    with Store(url) as store:
        for org in orgs:
            plan = sf.SupportPlan(org, clock=clock)
            plan.change("premium", actor=OWNER)
            store.save(plan)


def _interleaved(fns: dict[str, Callable[[], None]], count: int) -> dict[str, list[float]]:
    """Microseconds of each of `count` requests of every implementation, one request of each
    in turn (the order rotating), so they meet the same moments of the machine."""
    names = list(fns)
    times: dict[str, list[float]] = {n: [] for n in names}
    clock = time.perf_counter_ns
    for i in range(count):
        for n in names[i % len(names) :] + names[: i % len(names)]:
            fn = fns[n]
            started = clock()
            fn()
            times[n].append((clock() - started) / 1000)
    return times


def requests(url: str, count: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds of each of `count` writes and reads of the library, the driver floor and
    Core, taking turns request by request."""
    clock = sf.FrozenClock(START)
    names = ("library", "floor", "core")
    orgs = {n: sf.Organization(f"bench-{n}", billing_timezone="Europe/Berlin") for n in names}
    _seed(url, list(orgs.values()), clock)
    audited = {
        n: scalar(url, "SELECT count(*) FROM sf_audit WHERE org_id = :o", o=o.org_id)
        for n, o in orgs.items()
    }
    kinds: dict[str, Any] = {"library": Library, "floor": DriverRequests, "core": CoreRequests}
    made = {n: kinds[n](url, orgs[n], clock) for n in names}
    revision = dict.fromkeys(names, 1)

    def writer(name: str) -> Callable[[], None]:
        def one() -> None:
            revision[name] += 1
            got = made[name].write(f"{name}-{revision[name]}")
            assert got == revision[name], (name, got, revision[name])

        return one

    for n in names:  # warm up: caches, prepared statements, pools
        for _ in range(max(10, count // 10)):
            writer(n)()
    write_times = _interleaved({n: writer(n) for n in names}, count)
    reader_org = orgs["library"]
    readers = {
        "library": made["library"],
        "floor": DriverRequests(url, reader_org, clock),
        "core": CoreRequests(url, reader_org, clock),
    }
    with Store(url) as store:
        stored = store.plan(reader_org.org_id, reader_org, clock=clock).snapshot(history=False)
    expected = sf.SupportPlan.restore(stored, reader_org, clock=clock).to_dict()

    def reader(name: str) -> Callable[[], None]:
        def one() -> None:
            assert readers[name].read() == expected, name

        return one

    for n in names:
        for _ in range(max(10, count // 10)):
            reader(n)()
    read_times = _interleaved({n: reader(n) for n in names}, count)
    for n in ("floor", "core"):
        readers[n].close()
    for thing in made.values():
        thing.close()
    # Every write left its row, its audit entry and its key; all three ended in the same state.
    views = []
    for n, org in orgs.items():
        writes = revision[n] - 1
        stored = scalar(url, "SELECT revision FROM sf_plans WHERE org_id = :o", o=org.org_id)
        assert stored == revision[n], (n, stored, revision[n])
        audits = scalar(url, "SELECT count(*) FROM sf_audit WHERE org_id = :o", o=org.org_id)
        assert audits - audited[n] == writes, (n, audits - audited[n], writes)
        keys = scalar(url, "SELECT count(*) FROM sf_idempotency WHERE org_id = :o", o=org.org_id)
        assert keys == writes, (n, keys, writes)
        with Store(url) as store:
            view = store.plan(org.org_id, org, clock=clock).to_dict()
        views.append({**view, "org_id": None})
    assert views[0] == views[1] == views[2], views
    return {n: {"write": write_times[n], "read": read_times[n]} for n in names}


# -- the rollover -------------------------------------------------------------------------------


def templates() -> list[dict[str, Any]]:
    """One history-less snapshot per zone and kind of pending change (downgrade, cancel)."""
    found = []
    for zone in ZONES:
        for downgrade in (True, False):
            org = sf.Organization("template", billing_timezone=zone)
            plan = sf.SupportPlan(org, clock=sf.FrozenClock(START))
            plan.change("premium", actor=OWNER)
            if downgrade:
                plan.change("developer", actor=OWNER)
            else:
                plan.cancel(actor=OWNER)
            found.append(plan.snapshot(history=False))
    return found


def rows(count: int) -> Iterator[dict[str, Any]]:
    shapes = templates()
    for n in range(count):
        snapshot = copy.deepcopy(shapes[n % len(shapes)])
        snapshot["org_id"] = f"org-{n:07d}"
        yield {
            "org_id": snapshot["org_id"],
            "revision": 1,
            "state": "premium",
            "due_at": due_at(snapshot),
            "policy": policy_of(snapshot),
            "snapshot": snapshot,
        }


def populate(url: str, count: int) -> None:
    """`count` plans, written in batches (the benchmark measures the job, not this)."""
    Store(url).close()  # creates the tables
    engine = sa.create_engine(normalise_url(url))
    batch: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for row in rows(count):
            batch.append(row)
            if len(batch) == 5_000:
                conn.execute(plans.insert(), batch)
                batch = []
        if batch:
            conn.execute(plans.insert(), batch)
    engine.dispose()


def outcomes() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Per template: the snapshot and the applied entries the per-object path gives at UNTIL
    (restore, `apply_due()`, snapshot): what the job must leave for each organization."""
    found = []
    for shape in templates():
        org = sf.Organization("template", billing_timezone=shape["billing_timezone"])
        plan = sf.SupportPlan.restore(shape, org, clock=sf.FrozenClock(UNTIL))
        applied = plan.apply_due()
        found.append((plan.snapshot(history=False), [e.to_dict() for e in applied]))
    return found


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def check_rolled(url: str, count: int) -> None:
    """Every plan brought up to date once, row by row: its revision 2, its columns and snapshot
    those of the per-object path; and exactly one applied audit line each, with its instant,
    event and detail (nothing else in the log)."""
    shapes = outcomes()
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            found = conn.execution_options(stream_results=True, yield_per=5_000).exec_driver_sql(
                "SELECT org_id, revision, state, due_at, policy, snapshot FROM sf_plans "
                "ORDER BY org_id"
            )
            n = -1
            for n, (org_id, revision, state, due, policy, snapshot) in enumerate(found):
                want = {**shapes[n % len(shapes)][0], "org_id": f"org-{n:07d}"}
                assert org_id == want["org_id"], (org_id, n)
                got = (revision, state, due, policy, _json(snapshot))
                assert got == (2, want["state"], due_at(want), policy_of(want), want), org_id
            assert n + 1 == count, (n + 1, count)
        with engine.connect() as conn:
            lines = conn.execution_options(stream_results=True, yield_per=5_000).exec_driver_sql(
                "SELECT org_id, subject, subject_id, at, outcome, request, event, actor, reason, "
                "idempotency_key, detail FROM sf_audit ORDER BY org_id, id"
            )
            n = -1
            for n, line in enumerate(lines):
                org_id = f"org-{n:07d}"
                (entry,) = shapes[n % len(shapes)][1]
                at = micros(pendulum.parse(entry["at"]))
                want = (org_id, "plan", org_id, at, "applied", None, entry["event"], None, None)
                got = (*line[:9], line[9], _json(line[10]))
                assert got == (*want, None, {"entry": entry}), (got, n)
            assert n + 1 == count, (n + 1, count)
    finally:
        engine.dispose()


def job(url: str, workers: int) -> dict[str, Any]:
    """The library's rollover in a process of its own: its report and its peak memory."""
    command = [sys.executable, __file__, "--job", url, "--job-workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"rollover failed: {done.stderr.strip()}")
    return dict(json.loads(done.stdout))


def run_job(url: str, workers: int) -> None:
    """(In the job's process.) Run the rollover; print its report and peak RSS as JSON."""
    from support_flows.store import rollover

    report = rollover(url, until=UNTIL, workers=workers)
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": report.seconds,
                "plans": report.plans,
                "applied": report.applied,
                "rss": mine,
                "worker_rss": children,
            }
        )
    )


def rollovers(
    databases: Databases, count: int, workers: list[int], memory: list[int], repeat: int
) -> Iterator[str]:
    """Rows of the rollover table: each measurement `repeat` times, the library and the floor
    taking turns, the best rate of each (the machine is shared: its worst moments say nothing
    about the code)."""
    sqlite = databases.backend == "sqlite"
    for n in workers:
        library_rate = 0.0
        floors: dict[str, float] = {}
        for _ in range(repeat):
            url = databases.fresh()
            populate(url, count)
            report = job(url, n)
            assert report["plans"] == count, report
            assert report["applied"] == count, report
            check_rolled(url, count)
            library_rate = max(library_rate, count / report["seconds"])
            for set_based in (True, False) if sqlite else (True,):
                url = databases.fresh()
                populate(url, count)
                seconds, saved = rollover_floor(
                    url, UNTIL, 1 if sqlite else n, BATCH_SIZE, set_based=set_based
                )
                assert saved == count, (saved, count)
                check_rolled(url, count)
                how = "UPDATE ... FROM" if set_based else "executemany"
                floors[how] = max(floors.get(how, 0.0), count / seconds)
        how, floor_rate = max(floors.items(), key=lambda item: item[1])
        label = f"rollover, {n} worker{'s' if n > 1 else ''}"
        label += " (runs 1)" if sqlite and n > 1 else ""
        yield (
            f"{databases.backend:<11} {label:<34} {library_rate:>11,.0f} {floor_rate:>11,.0f} "
            f"{library_rate / floor_rate:>7.2f}   orgs/s, best of {repeat}; floor {how}"
        )
    for size in memory:
        url = databases.fresh()
        populate(url, size)
        report = job(url, 1)
        assert report["plans"] == size, report
        check_rolled(url, size)
        yield (
            f"{databases.backend:<11} {f'rollover peak memory, {size:,} orgs':<34} "
            f"{report['rss']:>9.0f} MiB  ({size / report['seconds']:,.0f} orgs/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=2000, help="timed requests of each")
    parser.add_argument("--orgs", type=int, default=20_000, help="organizations per rollover")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--memory-orgs", default="10000,40000")
    parser.add_argument("--repeat", type=int, default=2, help="rollover runs, best taken")
    parser.add_argument("--no-requests", action="store_true")
    parser.add_argument("--no-rollover", action="store_true")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--job-workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        run_job(args.job, args.job_workers)
        return
    workers = [int(w) for w in args.workers.split(",")]
    memory = [int(m) for m in args.memory_orgs.split(",") if m]
    print(f"support_flows from {Path(sf.__file__).parent}")
    print(
        f"{'database':<11} {'measurement':<34} {'library':>11} {'floor':>11} {'ratio':>7}"
        f" {'p90':>7}   {'core':>9} {'core/floor':>10}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            databases = Databases(backend, Path(folder))
            try:
                if not args.no_requests:
                    found = requests(databases.fresh(), args.requests)
                    for kind, label in (
                        ("write", "write store.update (µs)"),
                        ("read", "read store.plan().to_dict() (µs)"),
                    ):
                        lib, floor, core = (
                            statistics.median(found[n][kind]) for n in ("library", "floor", "core")
                        )
                        p90 = tuple(
                            statistics.quantiles(found[n][kind], n=10)[-1]
                            for n in ("library", "floor")
                        )
                        print(
                            f"{backend:<11} {label:<34} {lib:>11,.0f} {floor:>11,.0f} "
                            f"{lib / floor:>7.2f} {p90[0] / p90[1]:>7.2f}"
                            f"   {core:>9,.0f} {core / floor:>10.2f}",
                            flush=True,
                        )
                if not args.no_rollover:
                    for line in rollovers(databases, args.orgs, workers, memory, args.repeat):
                        print(line, flush=True)
            finally:
                databases.drop()


if __name__ == "__main__":
    main()
