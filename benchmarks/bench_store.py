"""The month-start job on a real database: organizations per second, SQLite and PostgreSQL.

    python benchmarks/bench_store.py [--orgs 100000] [--backends sqlite,postgresql]

Stores N organizations' plans, each with a pending downgrade or cancel, in five billing zones,
then runs `support-flows rollover` (as a command, the way a scheduler would) with 1 and 2
workers, and beside it the same work done plan by plan through `store.update` (on a sample of
`--update-sample` organizations, the rate extrapolated). Prints one table: seconds,
organizations per second, and the job's peak memory (RSS of the command's main process).
A plain script: it prints figures, no test fails on a timing.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pendulum
import sqlalchemy as sa

import support_flows as sf
from support_flows.store import Store
from support_flows.store.database import normalise_url
from support_flows.store.due import due_at
from support_flows.store.schema import plans

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
UNTIL = pendulum.datetime(2026, 4, 2, tz="UTC")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
POSTGRES = os.environ.get("SUPPORT_FLOWS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1/test")


def templates() -> list[dict[str, object]]:
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


def rows(count: int) -> Iterator[dict[str, object]]:
    shapes = templates()
    for n in range(count):
        snapshot = copy.deepcopy(shapes[n % len(shapes)])
        snapshot["org_id"] = f"org-{n}"
        yield {
            "org_id": f"org-{n}",
            "revision": 1,
            "state": "premium",
            "due_at": due_at(snapshot),
            "snapshot": snapshot,
        }


def populate(url: str, count: int) -> None:
    """`count` plans, written in batches (the benchmark measures the job, not this)."""
    Store(url).close()  # creates the tables
    engine = sa.create_engine(normalise_url(url))
    batch: list[dict[str, object]] = []
    with engine.begin() as conn:
        for row in rows(count):
            batch.append(row)
            if len(batch) == 5_000:
                conn.execute(plans.insert(), batch)
                batch = []
        if batch:
            conn.execute(plans.insert(), batch)
    engine.dispose()


class Database:
    """A fresh database per measurement: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.schemas: list[str] = []

    def fresh(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / (secrets.token_hex(4) + '.db')}"
        schema = f"bench_{secrets.token_hex(4)}"
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


def job(url: str, workers: int) -> tuple[float, int, float]:
    """Run the rollover command; its own seconds, plans saved, and peak RSS (MiB)."""
    command = [
        sys.executable,
        "-m",
        "support_flows.store",
        "rollover",
        "--db",
        url,
        "--until",
        UNTIL.isoformat(),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"rollover failed: {output}")
    found = re.search(r": (\d+) plans .*, ([\d.]+) s \(", output)
    assert found, output
    return float(found.group(2)), int(found.group(1)), usage.ru_maxrss / 1024


def per_update(url: str, sample: int) -> float:
    """Seconds for `sample` organizations, each loaded, applied and saved by `store.update`."""
    store = Store(url)
    clock = sf.FrozenClock(UNTIL)
    started = time.perf_counter()
    for n in range(sample):
        org = sf.Organization(f"org-{n}", billing_timezone=ZONES[(n % 10) // 2])
        store.update(org.org_id, lambda plan: plan.apply_due(), org=org, clock=clock)
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--update-sample", type=int, default=5_000)
    args = parser.parse_args()
    sample = min(args.orgs, args.update_sample)
    print(f"rollover of {args.orgs:,} organizations (pending downgrades and cancels, 5 zones)")
    print(f"{'database':<11} {'path':<36} {'seconds':>9} {'orgs/s':>9} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends.split(","):
            databases = Database(backend, Path(folder))
            try:
                for workers in (1, 2):
                    url = databases.fresh()
                    populate(url, args.orgs)
                    seconds, saved, rss = job(url, workers)
                    assert saved == args.orgs, (saved, args.orgs)
                    label = f"rollover, {workers} worker{'s' if workers > 1 else ''}"
                    if backend == "sqlite" and workers > 1:
                        label += " (SQLite: runs 1)"
                    print(
                        f"{backend:<11} {label:<36} {seconds:>9.2f} "
                        f"{args.orgs / seconds:>9,.0f} {rss:>9.0f}"
                    )
                url = databases.fresh()
                populate(url, sample)
                seconds = per_update(url, sample)
                label = f"store.update per plan ({sample:,} run)"
                print(
                    f"{backend:<11} {label:<36} {seconds * args.orgs / sample:>9.2f} "
                    f"{sample / seconds:>9,.0f} {'':>9}"
                )
            finally:
                databases.drop()


if __name__ == "__main__":
    main()
