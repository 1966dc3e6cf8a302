"""Reading the audit log back (S4): an organization's entries, oldest first."""

from __future__ import annotations

import sqlalchemy as sa

from support_flows.store.database import Database
from support_flows.store.records import AuditEntry, from_micros
from support_flows.store.schema import audit

__all__ = ["entries"]


def entries(db: Database, org_id: str) -> tuple[AuditEntry, ...]:
    """The audit entries of the organization `org_id` names, oldest first."""
    query = sa.select(audit).where(audit.c.org_id == org_id).order_by(audit.c.at, audit.c.id)
    with db.read() as conn:
        rows = conn.execute(query).all()
    return tuple(
        AuditEntry(
            r.id,
            r.org_id,
            r.subject,
            r.subject_id,
            from_micros(r.at),
            r.outcome,
            r.request,
            r.event,
            r.actor,
            r.reason,
            r.idempotency_key,
            r.detail,
        )
        for r in rows
    )
