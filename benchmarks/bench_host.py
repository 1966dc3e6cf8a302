"""The example host app under load, beside a bare FastAPI app doing the same I/O by hand
(issue 20): writes per second and latency at 1 and 16 connections, on PostgreSQL.

Run it: `python benchmarks/bench_host.py [--requests N] [--rounds R] [--orgs N]
[--postgres URL]` (default: the server the tests use, ``$SUPPORT_FLOWS_TEST_POSTGRES`` or
postgres@127.0.0.1:5432).

It makes a database of its own (dropped at the end), stores the same Developer-then-Premium
plan for each organization through the store and in the floor's tables, and serves both apps
with uvicorn (one worker each, on 127.0.0.1 only; see benchmarks/host_apps.py). A load
generator (httpx, asyncio) then drives a bounded number of plan changes at each concurrency:
each connection owns its own organizations and alternates a downgrade (pending) and an upgrade
(which revokes it), each with a fresh Idempotency-Key, and every answer is checked: status 200,
no replay, the state and pending change the request must give. Apps and concurrencies run in
turns, `rounds` times; the best round of each is printed with its p50 and p99 latency and the
server's CPU time per write (on a machine of few cores, where the load generator, both servers
and PostgreSQL share them, the steadier figure). No test depends on these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import attrs
import httpx
import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LEVELS = (1, 16)
LIBRARY, FLOOR, AGAINST = "library (examples/host_app)", "floor (bare FastAPI)", "--against's app"
MOST = max(LEVELS)


@contextmanager
def database(server: str) -> Iterator[str]:
    """A database of its own on `server` (a URL), dropped afterwards; yields its URL."""
    base = sa.make_url(server).set(drivername="postgresql+psycopg")
    name = f"speed_cli_bench_host_{secrets.token_hex(4)}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, orgs: int) -> None:
    """Each organization's plan: subscribed to Developer (a trial) and upgraded to Premium, in
    the store and in the floor's tables."""
    sys.path.insert(0, str(HERE))
    import host_apps

    import support_flows as sf
    from support_flows.store import Store

    store = Store(url)
    clock = sf.SystemClock()
    snapshots = {}
    for org_id, org in host_apps.organizations(orgs).items():
        plan = sf.SupportPlan(org, clock=clock)
        plan.change("developer", actor=host_apps.OWNER)
        plan.change("premium", actor=host_apps.OWNER)
        store.save(plan)
        snapshots[org_id] = plan.snapshot(history=False)
    store.close()
    host_apps.seed_floor(url.replace("postgresql+psycopg://", "postgresql://"), snapshots)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@attrs.frozen
class Served:
    """A served app: its base URL and its server's process."""

    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """The CPU time the server has used (Linux's /proc; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(factory: str, url: str, orgs: int, checkout: Path = ROOT) -> Iterator[Served]:
    """uvicorn serving `factory` (in benchmarks/host_apps.py) on 127.0.0.1, with the library and
    examples of `checkout`."""
    port = free_port()
    env = {
        **os.environ,
        "BENCH_HOST_DB": url,
        "BENCH_HOST_ORGS": str(orgs),
        "BENCH_HOST_CHECKOUT": str(checkout),
        "PYTHONPATH": os.pathsep.join([str(checkout), str(HERE)]),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", f"host_apps:{factory}"]
    command += ["--host", HOST, "--port", str(port), "--workers", "1", "--no-access-log"]
    command += ["--log-level", "warning"]
    server = subprocess.Popen(command, cwd=HERE, env=env)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1.0)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{factory}: the server did not start") from None
                time.sleep(0.05)
        yield Served(base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def drive(base: str, connections: int, requests: int, orgs: int) -> tuple[float, list[float]]:
    """`requests` plan changes over `connections` connections; (seconds, latencies)."""
    assert base.startswith(f"http://{HOST}:")
    latencies: list[float] = []
    owned = orgs // MOST
    per = (requests // connections) // (2 * owned) * (2 * owned)  # each org ends where it began
    assert per > 0

    async def one(worker: int, client: httpx.AsyncClient) -> None:
        for n in range(per):
            org_id = f"org-{worker * owned + n % owned}"
            down = (n // owned) % 2 == 0
            tier = "developer" if down else "premium"
            began = time.perf_counter()
            response = await client.post(
                f"{base}/orgs/{org_id}/plan/change",
                json={"tier": tier},
                headers={"X-User-Id": "u-owner", "Idempotency-Key": uuid.uuid4().hex},
            )
            latencies.append(time.perf_counter() - began)
            data = response.json()
            pending = data.get("pending") if isinstance(data, dict) else None
            if (
                response.status_code != 200
                or "Idempotent-Replayed" in response.headers
                or data.get("state") != "premium"
                or (pending or {}).get("target") != ("developer" if down else None)
            ):
                raise SystemExit(f"{base} {org_id} {tier}: {response.status_code} {data}")

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(w, client) for w in range(connections)))
        return time.perf_counter() - began, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=512, help="Writes per run.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orgs", type=int, default=64, help="A multiple of 16.")
    parser.add_argument(
        "--postgres", default=os.environ.get("SUPPORT_FLOWS_TEST_POSTGRES", DEFAULT_PG)
    )
    parser.add_argument(
        "--against",
        type=Path,
        default=None,
        help="Another checkout (say the main branch): its host app is served and timed too.",
    )
    options = parser.parse_args()
    levels = LEVELS
    best: dict[tuple[str, int], tuple[float, list[float], float]] = {}
    with database(options.postgres) as url:
        seed(url, options.orgs)
        with ExitStack() as servers:
            apps = {
                LIBRARY: servers.enter_context(serve("library_app", url, options.orgs)),
                FLOOR: servers.enter_context(serve("floor_app", url, options.orgs)),
            }
            if options.against is not None:
                apps[AGAINST] = servers.enter_context(
                    serve("library_app", url, options.orgs, options.against)
                )
            for app in apps.values():  # warm both: imports, pools, caches
                asyncio.run(drive(app.base, MOST, 2 * options.orgs, options.orgs))
            for _ in range(options.rounds):
                for level in levels:
                    for name, app in apps.items():
                        cpu = app.cpu_seconds()
                        seconds, latencies = asyncio.run(
                            drive(app.base, level, options.requests, options.orgs)
                        )
                        cpu = (app.cpu_seconds() - cpu) / len(latencies)
                        rate = len(latencies) / seconds
                        if rate > best.get((name, level), (0.0, [], 0.0))[0]:
                            best[name, level] = (rate, latencies, cpu)
    print(
        f"PostgreSQL, uvicorn one worker each, {options.requests} checked writes per run, "
        f"best of {options.rounds}; cpu ms: the server process's CPU time per write"
    )
    print(
        f"{'':30} {'conns':>5} {'writes/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms':>7} "
        f"{'ratio':>6}"
    )
    for level in levels:
        floor_rate = best[FLOOR, level][0]
        for name in (n for n in (LIBRARY, AGAINST, FLOOR) if (n, level) in best):
            rate, latencies, cpu = best[name, level]
            cuts = statistics.quantiles(latencies, n=100)
            print(
                f"{name:30} {level:5} {rate:9.0f} {statistics.median(latencies) * 1e3:7.1f} "
                f"{cuts[98] * 1e3:7.1f} {cpu * 1e3:7.2f} {rate / floor_rate:6.2f}"
            )
    print("target: library >= 0.8x the floor's writes/s at 1 and 16 connections")


if __name__ == "__main__":
    main()
