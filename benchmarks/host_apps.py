"""The two apps benchmarks/bench_host.py serves with uvicorn, on the PostgreSQL database named by
``$BENCH_HOST_DB``, each with ``$BENCH_HOST_ORGS`` organizations owned by u-owner:

- `library_app`: examples/host_app as it is, of ``$BENCH_HOST_CHECKOUT`` (default this one):
  FastAPI, the store a dependency, sync handlers in FastAPI's thread pool;
- `floor_app`: bare FastAPI doing the same I/O by hand with psycopg, one transaction per write:
  lock and read the plan's row, insert the idempotency key with the answer (a replay reads it
  back), update the row with its new snapshot and revision, insert the new history as audit
  rows; the library's own in-memory restore, change and snapshot in between (what any host
  of the library does). Its pool holds as many connections as the store's.
"""

from __future__ import annotations

import json
import os
import queue
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import psycopg
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

import support_flows as sf
from support_flows.store import Store, plan_view

CHECKOUT = Path(os.environ.get("BENCH_HOST_CHECKOUT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(CHECKOUT / "examples"))
from host_app.app import Directory, create_app  # noqa: E402

__all__ = ["OWNER", "floor_app", "library_app", "organizations", "seed_floor"]

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
POOL = 12
"""The floor's connections: as many as the store's PostgreSQL pool keeps open."""

FLOOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_plans (
    org_id text PRIMARY KEY, revision integer NOT NULL, snapshot jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS floor_keys (
    key text PRIMARY KEY, org_id text NOT NULL, answer jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS floor_audit (
    id bigserial PRIMARY KEY, org_id text NOT NULL, entry jsonb NOT NULL);
"""


def organizations(count: int) -> dict[str, sf.Organization]:
    return {f"org-{n}": sf.Organization(f"org-{n}") for n in range(count)}


def _settings() -> tuple[str, dict[str, sf.Organization]]:
    return os.environ["BENCH_HOST_DB"], organizations(int(os.environ["BENCH_HOST_ORGS"]))


def library_app() -> FastAPI:
    """examples/host_app on a PostgreSQL store."""
    url, orgs = _settings()
    directory = Directory(orgs, {(org_id, "u-owner"): OWNER for org_id in orgs})
    return create_app(Store(url), sf.SystemClock(), directory)


def seed_floor(conninfo: str, snapshots: dict[str, dict[str, Any]]) -> None:
    """The floor's tables, holding the same plans as the store."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(FLOOR_SCHEMA)
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO floor_plans VALUES (%s, 1, %s)",
                [(org_id, json.dumps(data)) for org_id, data in snapshots.items()],
            )


def _entry(entry: sf.HistoryEntry) -> str:
    return json.dumps(attrs.asdict(entry), default=str)


class _Pool:
    def __init__(self, conninfo: str, size: int) -> None:
        self.free: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
        for _ in range(size):
            self.free.put(psycopg.connect(conninfo))

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        conn = self.free.get()
        try:
            yield conn
        finally:
            self.free.put(conn)


def floor_app() -> FastAPI:
    """Bare FastAPI: the plan change written by hand, in the statements a correct write needs."""
    url, orgs = _settings()
    pool = _Pool(url.replace("postgresql+psycopg://", "postgresql://"), POOL)
    clock = sf.SystemClock()
    app = FastAPI()

    @app.post("/orgs/{org_id}/plan/change")
    def change_plan(
        org_id: str,
        body: dict[str, Any],
        request: Request,
        key: str = Header(alias="Idempotency-Key"),
        user: str = Header(alias="X-User-Id"),
    ) -> JSONResponse:
        org = orgs[org_id]
        with pool.connection() as conn, conn.transaction():
            revision, snapshot = conn.execute(
                "SELECT revision, snapshot FROM floor_plans WHERE org_id = %s FOR UPDATE",
                (org_id,),
            ).fetchone()
            plan = sf.SupportPlan.restore(snapshot, org, clock=clock)
            before = len(plan.history)
            plan.change(body["tier"], actor=OWNER if user == "u-owner" else sf.Member(user))
            answer = plan_view(plan)
            inserted = conn.execute(
                "INSERT INTO floor_keys VALUES (%s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                (key, org_id, json.dumps(answer)),
            ).fetchone()
            if inserted is None:
                raise RuntimeError("the benchmark never replays a key")
            conn.execute(
                "UPDATE floor_plans SET snapshot = %s, revision = %s WHERE org_id = %s",
                (json.dumps(plan.snapshot(history=False)), revision + 1, org_id),
            )
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO floor_audit (org_id, entry) VALUES (%s, %s)",
                    [(org_id, _entry(entry)) for entry in plan.history[before:]],
                )
        return JSONResponse(answer)

    return app
