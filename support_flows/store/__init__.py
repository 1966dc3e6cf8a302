"""Persistence for host applications (RULES.md S1-S6), on SQLAlchemy Core: SQLite by default,
PostgreSQL through psycopg 3. Install with the ``store`` extra. A database that cannot be
reached, opened or written raises `support_flows.Unavailable` (S6), never a driver exception.

    from support_flows.store import Store

    store = Store("sqlite:///support.db")      # or sqlite:// (memory), postgresql://...
    store.save(sf.SupportPlan(org, clock=clock))
    store.update(org, lambda plan: plan.cancel(actor=owner), clock=clock, idempotency_key="k-1")
    store.plan(org, clock=clock)                # the stored plan at its revision

A store is opened with its catalog (`Store(url, catalog=sf.ATLAS)`, K4): every plan and order
it loads or creates is decided under it, and `plans()` / `orders()` walk the stored records
read-only for a review (K5).
"""

from typing import TYPE_CHECKING

from support_flows.extras import require
from support_flows.lazy import lazy_exports

require("support_flows.store", "sqlalchemy")

if TYPE_CHECKING:
    from support_flows.store.jobs import relay, rollover
    from support_flows.store.key_rows import KEY_RETENTION
    from support_flows.store.mail import JsonLinesOutbox
    from support_flows.store.records import AuditEntry, Outcome, QueuedEmail, RolloverReport
    from support_flows.store.schema import LATEST as SCHEMA_VERSION
    from support_flows.store.schema import SchemaError
    from support_flows.store.store import Store
    from support_flows.store.views import order_view, plan_view
    from support_flows.store.walk import StoredRecord

__all__ = [
    "KEY_RETENTION",
    "SCHEMA_VERSION",
    "AuditEntry",
    "JsonLinesOutbox",
    "Outcome",
    "QueuedEmail",
    "RolloverReport",
    "SchemaError",
    "Store",
    "StoredRecord",
    "order_view",
    "plan_view",
    "relay",
    "rollover",
]

# Imported when first read (PEP 562): the command line lists the store's commands without
# SQLAlchemy; `import support_flows.store` without it is one MissingExtra naming the extra.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "support_flows.store.jobs": ("relay", "rollover"),
        "support_flows.store.key_rows": ("KEY_RETENTION",),
        "support_flows.store.mail": ("JsonLinesOutbox",),
        "support_flows.store.records": ("AuditEntry", "Outcome", "QueuedEmail", "RolloverReport"),
        "support_flows.store.schema": ("LATEST as SCHEMA_VERSION", "SchemaError"),
        "support_flows.store.store": ("Store",),
        "support_flows.store.views": ("order_view", "plan_view"),
        "support_flows.store.walk": ("StoredRecord",),
    },
)
