"""A read-only walk over the stored plans and orders (for the review of a change, K5): each
record as the store holds it, a page at a time, nothing applied, saved or audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import sqlalchemy as sa

from support_flows.errors import SupportFlowsError
from support_flows.store.database import Database
from support_flows.store.schema import orders, plans
from support_flows.values import Organization

__all__ = ["PAGE", "StoredRecord", "walk"]

PAGE = 500
"""Rows read per transaction: no lock or transaction is held while the caller works."""


@attrs.frozen
class StoredRecord:
    """One stored plan or order, as the store holds it.

    `kind` is "plan" or "order"; `subject_id` the organization's id for a plan, the order's for
    an order; `revision` its stored revision (S1); `state` and `policy` its columns (the
    version whose terms it holds for what is still to come, K4; None for a plan with nothing
    scheduled); `snapshot` the history-less snapshot stored, not yet judged. Restore it to read
    it as the library does, e.g. ``sf.SupportPlan.restore(r.snapshot, r.org, clock=clock,
    catalog=store.catalog)``: a record naming a version that catalog lacks is refused (K4).
    """

    kind: str
    subject_id: str
    org_id: str
    revision: int
    state: str
    policy: str | None
    snapshot: Any

    @property
    def org(self) -> Organization | None:
        """The organization as the record names it (its id and billing timezone; the store
        keeps no projects or cross-org billing), or None when the snapshot names no valid one."""
        data = self.snapshot
        zone = data.get("billing_timezone") if type(data) is dict else None
        if type(zone) is not str:
            return None
        try:
            return Organization(self.org_id, billing_timezone=zone)
        except SupportFlowsError:
            return None


def walk(db: Database, kind: str) -> Iterator[StoredRecord]:
    """Every stored record of `kind` ("plan" or "order") in id order, `PAGE` rows per read-only
    transaction. Rows saved while the walk runs are seen if their id is still ahead of it."""
    table, key = (plans, plans.c.org_id) if kind == "plan" else (orders, orders.c.order_id)
    columns = (key, table.c.org_id, table.c.revision, table.c.state, table.c.policy)
    after: str | None = None
    while True:
        query = sa.select(*columns, table.c.snapshot).order_by(key).limit(PAGE)
        if after is not None:
            query = query.where(key > after)
        with db.read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield StoredRecord(kind, row[0], row[1], row[2], row[3], row[4], row[5])
        after = rows[-1][0]
