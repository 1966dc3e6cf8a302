"""Loading a stored plan or order, and saving one under its revision check (S1), with its new
history and requests in the audit log (S4) and its purchase email in the outbox table (S3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import sqlalchemy as sa

from support_flows.clock import Clock
from support_flows.errors import Reason, Refused, Violation
from support_flows.inputs import has_method
from support_flows.localtime import instant
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Outbox
from support_flows.snapshots.consulting import OrderAction, OrderEvent
from support_flows.store import mail
from support_flows.store.backend import Backend
from support_flows.store.due import due_at, policy_of
from support_flows.store.journal import Subject, audit_rows
from support_flows.store.schema import audit, orders, plans
from support_flows.store.tracked import Mailbag, Stored, Tracking, track, tracking
from support_flows.values import Organization

__all__ = [
    "Conflict",
    "Put",
    "Written",
    "load_order",
    "load_plan",
    "put",
    "refusal",
    "saved",
    "write",
]

Put = Callable[[sa.Connection, bool, str, int, Any], int]
"""How a save writes its row: (connection, a plan?, its id, the revision it was loaded at, the
snapshot) -> the new revision. A store passes `put` bound to its backend."""


class Conflict(Exception):
    """A write lost to a concurrent one; the transaction rolls back and a command retries."""

    def __init__(self, error: Refused) -> None:
        super().__init__(str(error))
        self.error = error


@attrs.frozen
class Written:
    """What a save wrote: the new revision, and the history and snapshot it covered."""

    revision: int
    history_length: int
    snapshot: dict[str, Any]
    emails: tuple[str, ...]


def refusal(code: Reason, rule: str, message: str) -> Refused:
    return Refused(Violation(code, rule, message))


def load_plan(
    backend: Backend,
    conn: sa.Connection,
    org: Organization,
    clock: Clock,
    *,
    lock: bool,
    create: bool,
) -> SupportPlan:
    """The organization's stored plan (a new one with `create`), tracked, under the store's
    catalog: `not_found` if none; `invalid_snapshot` if the catalog lacks a version it names
    or it is not one the library wrote (V2, K4)."""
    query = sa.select(plans.c.revision, plans.c.snapshot).where(plans.c.org_id == org.org_id)
    row = conn.execute(query.with_for_update() if lock and backend.db.is_postgres else query)
    found = row.first()
    if found is None:
        if not create:
            raise refusal(Reason.NOT_FOUND, "S5", f"no support plan is stored for {org.org_id!r}")
        plan = SupportPlan(org, clock=clock, catalog=backend.catalog)
        track(plan, clock).loaded = plan.snapshot(history=False)
        return plan
    plan = SupportPlan.restore(found.snapshot, org, clock=clock, catalog=backend.catalog)
    _bind(track(plan, clock), found.revision, found.snapshot)
    return plan


def load_order(
    backend: Backend,
    conn: sa.Connection,
    order_id: str,
    org: Organization,
    clock: Clock,
    outbox: Outbox | None,
    *,
    lock: bool,
) -> ConsultingOrder:
    """The stored order, tracked, its emails kept for the outbox table, under the store's
    catalog: `not_found` if none in this organization; `invalid_snapshot` as for a plan."""
    if outbox is not None:
        has_method(outbox, "send", "outbox")
    query = sa.select(orders.c.org_id, orders.c.revision, orders.c.snapshot).where(
        orders.c.order_id == order_id
    )
    found = conn.execute(
        query.with_for_update() if lock and backend.db.is_postgres else query
    ).first()
    if found is None or found.org_id != org.org_id:
        raise refusal(
            Reason.NOT_FOUND,
            "S5",
            f"no consulting order {order_id!r} is stored for {org.org_id!r}",
        )
    bag = Mailbag()
    order = ConsultingOrder.restore(
        found.snapshot, org, clock=clock, outbox=bag, catalog=backend.catalog
    )
    t = track(order, clock, bag)
    _bind(t, found.revision, found.snapshot)
    t.deliver = outbox
    return order


def write(backend: Backend, conn: sa.Connection, obj: Stored, key: str | None, put: Put) -> Written:
    """Write `obj` (through `put`) if it changed, its audit rows, and its purchase email;
    `Conflict` if it was saved by someone else since it was loaded."""
    t = tracking(obj)
    history, snapshot = _observed(obj)
    plan = isinstance(obj, SupportPlan)
    org_id = str(snapshot["org_id"])
    subject_id = org_id if plan else str(snapshot["order_id"])
    emitted = 0 if t is None else t.emitted
    subject = Subject("plan" if plan else "order", org_id, subject_id, key)
    rows = list(audit_rows(subject, history, emitted, () if t is None else t.calls, backend.now()))
    revision = 0 if t is None else t.revision
    if t is None or t.loaded != snapshot:
        revision = put(conn, plan, subject_id, revision, snapshot)
    if rows:
        conn.execute(audit.insert(), rows)
    queued: list[str] = []
    if t is not None and t.mail is not None and t.mail.emails:
        purchased = any(
            isinstance(e, OrderEvent) and e.action is OrderAction.PURCHASE
            for e in history[emitted:]
        )
        if purchased:
            emails = [(mail.PURCHASE, t.mail.emails[-1])]
            queued = mail.queue(conn, backend.insert, org_id, subject_id, emails, backend.clock)
    return Written(revision, len(history), snapshot, tuple(queued))


def put(
    backend: Backend,
    conn: sa.Connection,
    plan: bool,
    subject_id: str,
    revision: int,
    snapshot: Any,
) -> int:
    """Insert (revision 0) or update (if still at `revision`) the row; the new revision."""
    table, id_column = (plans, plans.c.org_id) if plan else (orders, orders.c.order_id)
    values: dict[str, Any] = {
        "revision": revision + 1,
        "state": snapshot["state"],
        "due_at": due_at(snapshot),
        "policy": policy_of(snapshot),
        "snapshot": snapshot,
    }
    what = f"the support plan of {subject_id!r}" if plan else f"order {subject_id!r}"
    if revision == 0:
        values[id_column.name] = subject_id
        if not plan:
            values["org_id"] = snapshot["org_id"]
        done = conn.execute(
            backend.insert(table).values(**values).on_conflict_do_nothing().returning(id_column)
        )
        if done.first() is None:
            raise Conflict(
                refusal(
                    Reason.STALE_REVISION,
                    "S1",
                    f"{what} is already stored: load it and apply the change to that",
                )
            )
        return revision + 1
    done = conn.execute(
        table.update().where(id_column == subject_id, table.c.revision == revision).values(**values)
    )
    if done.rowcount:
        return revision + 1
    if conn.execute(sa.select(id_column).where(id_column == subject_id)).first() is None:
        raise refusal(Reason.NOT_FOUND, "S5", f"{what} is no longer stored")
    raise Conflict(
        refusal(
            Reason.STALE_REVISION,
            "S1",
            f"{what} was saved by someone else since revision {revision} was loaded; "
            "load it again and retry",
        )
    )


def saved(backend: Backend, obj: Stored, written: Written) -> None:
    """After the commit: `obj` is at its new revision, and its emails go out if it was loaded
    with an outbox."""
    t = tracking(obj)
    if t is None:
        return
    t.saved(written.revision, written.history_length, written.snapshot)
    if t.deliver is not None and written.emails:
        mail.relay(backend.db, t.deliver, backend.clock, only=written.emails)


def _bind(t: Tracking, revision: int, snapshot: dict[str, Any]) -> None:
    t.revision = revision
    t.loaded = snapshot
    recorded = snapshot.get("recorded_at")
    t.floor = None if recorded is None else instant(dt.datetime.fromisoformat(recorded))


def _observed(obj: Stored) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The history and the history-less snapshot, read at one moment: with a moving clock,
    something may come due between two reads, so read until both agree."""
    while True:
        history = obj.history
        snapshot = obj.snapshot(history=False)
        again = obj.history
        if len(again) == len(history):
            return history, snapshot
