"""The month-start job (S5) and the outbox relay (S3), as functions a scheduler or the command
line calls with a database URL.

`rollover` applies what is due a batch at a time (see `support_flows.store.batches`): safe to
kill and rerun, nothing is applied twice. On PostgreSQL several worker processes share the work
(``SELECT ... FOR UPDATE SKIP LOCKED``); SQLite has one writer, so one worker.
"""

from __future__ import annotations

import datetime as dt

from support_flows.clock import SystemClock
from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import has_method, of_type
from support_flows.outbox import Outbox
from support_flows.store import mail
from support_flows.store.arguments import callback, count_limit
from support_flows.store.batches import BATCH_SIZE, Progress, check_batch_size, run, until_now
from support_flows.store.database import Database
from support_flows.store.records import RolloverReport
from support_flows.store.schema import migrate
from support_flows.store.workers import in_processes
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["relay", "rollover"]


def rollover(
    url: str,
    *,
    until: dt.datetime | None = None,
    workers: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    catalog: Catalog = ATLAS,
) -> RolloverReport:
    """Apply everything due by `until` (default: now) to the stored plans and orders (S5),
    under `catalog`: each due change keeps the terms of the version that scheduled it (K3); a
    record naming a version the catalog lacks is reported invalid and left as it is (K4).

    `workers` processes share the work on PostgreSQL; SQLite always uses one. `progress` is
    called with the number of records each batch handled. Safe to interrupt and rerun.
    """
    if type(workers) is not int or not 1 <= workers <= 64:
        raise invalid(Reason.INVALID_VALUE, "S5", f"workers must be 1-64, got {describe(workers)}")
    check_batch_size(batch_size)
    callback(progress, "progress", "S5")
    versions = of_type(catalog, Catalog, "catalog")
    at = until_now(until)
    db = Database(url)
    try:
        migrate(db)
        if workers == 1 or not db.is_postgres:
            return run(db, until=at, batch_size=batch_size, progress=progress, catalog=versions)
    finally:
        db.dispose()
    return in_processes(db.url, at, workers, batch_size, progress, versions)


def relay(url: str, outbox: Outbox, *, limit: int | None = None) -> int:
    """Deliver the store's queued emails through `outbox`, marking each sent (S3)."""
    has_method(outbox, "send", "outbox")
    count_limit(limit, "limit")
    db = Database(url)
    try:
        migrate(db)
        return mail.relay(db, outbox, SystemClock(), limit=limit)
    finally:
        db.dispose()
