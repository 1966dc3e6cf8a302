"""Loading a stored plan or order, and saving one under its revision check (S1), with its new
history and requests in the audit log (S4) and its purchase email in the outbox table (S3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import sqlalchemy as sa

from support_flows.clock import Clock
from support_flows.errors import Reason, Refused, Violation
from support_flows.inputs import has_method
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Outbox
from support_flows.snapshots.consulting import OrderAction, OrderEvent
from support_flows.store import mail
from support_flows.store.backend import Backend
from support_flows.store.compiled import Statement, Tx, dumps, insert_new, loads
from support_flows.store.due import due_at, policy_of
from support_flows.store.journal import Subject, append, audit_rows
from support_flows.store.schema import idempotency, orders, plans
from support_flows.store.tracked import Mailbag, Stored, Tracking, track, tracking
from support_flows.values import Organization

__all__ = [
    "Conflict",
    "KeyRow",
    "Put",
    "Written",
    "load_order",
    "load_plan",
    "order_from",
    "plan_from",
    "put",
    "read_order",
    "read_plan",
    "refusal",
    "saved",
    "stored_key",
    "write",
]

Put = Callable[[Tx, bool, str, int, Any], int]
"""How a save writes its row: (transaction, a plan?, its id, the revision it was loaded at, the
snapshot) -> the new revision. A store passes `put` bound to its backend."""


class Conflict(Exception):
    """A write lost to a concurrent one; the transaction rolls back and a command retries."""

    def __init__(self, error: Refused) -> None:
        super().__init__(str(error))
        self.error = error


class Written(NamedTuple):
    """What a save wrote: the new revision, and the history and snapshot it covered."""

    revision: int
    history_length: int
    snapshot: dict[str, Any]
    emails: tuple[str, ...]
    stamp: int
    """The store clock's reading when it was written (`Backend.stamp`): an idempotency key's
    row remembered with it is dated by it."""
    tracked: Tracking | None
    """The store's listener on what was saved (None for an object it never saw)."""


def refusal(code: Reason, rule: str, message: str) -> Refused:
    return Refused(Violation(code, rule, message))


class KeyRow(NamedTuple):
    """An idempotency key's first outcome, as stored (S2)."""

    fingerprint: str
    outcome: str
    response: Any
    revision: int | None


_KEY_COLUMNS = (
    idempotency.c.fingerprint,
    idempotency.c.outcome,
    idempotency.c.response,
    idempotency.c.revision,
)


def _loads(table: sa.Table, *columns: sa.Column[Any]) -> dict[tuple[bool, bool], Statement]:
    """The row's load, built once: (locked?, with the key's row?) -> statement. A key's row is
    read in the same statement (an outer join), so a command costs no round trip for it."""
    key = table.primary_key.columns[0]
    found: dict[tuple[bool, bool], Statement] = {}
    for keyed in (False, True):
        query = sa.select(*columns, *(_KEY_COLUMNS if keyed else ())).where(
            key == sa.bindparam("id")
        )
        if keyed:
            query = query.select_from(
                table.outerjoin(
                    idempotency,
                    sa.and_(
                        idempotency.c.org_id == sa.bindparam("org_id"),
                        idempotency.c.key == sa.bindparam("key"),
                    ),
                )
            )
        found[False, keyed] = Statement(query)
        found[True, keyed] = Statement(query.with_for_update(of=table))
    return found


_LOAD_PLAN = _loads(plans, plans.c.revision, plans.c.snapshot)
_LOAD_ORDER = _loads(orders, orders.c.revision, orders.c.snapshot, orders.c.org_id)
_KEY = Statement(
    sa.select(*_KEY_COLUMNS).where(
        idempotency.c.org_id == sa.bindparam("org_id"), idempotency.c.key == sa.bindparam("key")
    )
)


def stored_key(tx: Tx, org_id: str, key: str | None) -> KeyRow | None:
    """The row of an idempotency key, if it was used before (None without a key)."""
    if key is None:
        return None
    return _key_row(tx, _KEY.run(tx, {"org_id": org_id, "key": key}).fetchone(), 0)


def _key_row(tx: Tx, row: Any, at: int) -> KeyRow | None:
    if row is None or row[at] is None:
        return None
    return KeyRow(row[at], row[at + 1], loads(tx.dialect, row[at + 2]), row[at + 3])


def _load(
    tx: Tx,
    statements: dict[tuple[bool, bool], Statement],
    subject_id: str,
    org_id: str,
    key: str | None,
    lock: bool,
) -> Any:
    params = {"id": subject_id} if key is None else {"id": subject_id, "org_id": org_id, "key": key}
    return statements[lock, key is not None].run(tx, params).fetchone()


def load_plan(
    backend: Backend,
    tx: Tx,
    org: Organization,
    clock: Clock,
    *,
    lock: bool,
    create: bool,
    key: str | None = None,
) -> tuple[SupportPlan, KeyRow | None]:
    """The organization's stored plan (a new one with `create`), tracked, under the store's
    catalog, with the row of the idempotency `key` if it was used before: `not_found` if none;
    `invalid_snapshot` if the catalog lacks a version it names or it is not one the library
    wrote (V2, K4)."""
    found = _load(tx, _LOAD_PLAN, org.org_id, org.org_id, key, lock)
    if found is None and create:
        plan = SupportPlan(org, clock=clock, catalog=backend.catalog)
        track(plan, clock, empty=True).loaded = plan.snapshot(history=False)
        return plan, stored_key(tx, org.org_id, key)
    plan = plan_from(backend, tx.dialect, found, org, clock)
    return plan, None if key is None else _key_row(tx, found, 2)


def read_plan(backend: Backend, org: Organization, clock: Clock) -> SupportPlan:
    """The organization's stored plan, read in one statement outside any transaction."""
    found = backend.db.query_one(_LOAD_PLAN[False, False], {"id": org.org_id})
    return plan_from(backend, backend.db.reader.dialect, found, org, clock)


def plan_from(
    backend: Backend, dialect: sa.Dialect, found: Any, org: Organization, clock: Clock
) -> SupportPlan:
    """The plan a row (revision, snapshot) holds, tracked; `not_found` for no row."""
    if found is None:
        raise refusal(Reason.NOT_FOUND, "S5", f"no support plan is stored for {org.org_id!r}")
    snapshot = loads(dialect, found[1])
    plan = SupportPlan.restore(snapshot, org, clock=clock, catalog=backend.catalog)
    _bind(track(plan, clock, empty=snapshot.get("history") is None), found[0], snapshot)
    return plan


def load_order(
    backend: Backend,
    tx: Tx,
    order_id: str,
    org: Organization,
    clock: Clock,
    outbox: Outbox | None,
    *,
    lock: bool,
    key: str | None = None,
) -> tuple[ConsultingOrder, KeyRow | None]:
    """The stored order, tracked, its emails kept for the outbox table, under the store's
    catalog, with the row of the idempotency `key` as for a plan: `not_found` if none in this
    organization; `invalid_snapshot` as for a plan."""
    found = _load(tx, _LOAD_ORDER, order_id, org.org_id, key, lock)
    order = order_from(backend, tx.dialect, found, order_id, org, clock, outbox)
    return order, None if key is None else _key_row(tx, found, 3)


def read_order(
    backend: Backend, order_id: str, org: Organization, clock: Clock, outbox: Outbox | None
) -> ConsultingOrder:
    """The stored order, read in one statement outside any transaction."""
    found = backend.db.query_one(_LOAD_ORDER[False, False], {"id": order_id})
    return order_from(backend, backend.db.reader.dialect, found, order_id, org, clock, outbox)


def order_from(
    backend: Backend,
    dialect: sa.Dialect,
    found: Any,
    order_id: str,
    org: Organization,
    clock: Clock,
    outbox: Outbox | None,
) -> ConsultingOrder:
    """The order a row (revision, snapshot, org_id) holds, tracked; `not_found` for no row or
    another organization's."""
    if outbox is not None:
        has_method(outbox, "send", "outbox")
    if found is None or found[2] != org.org_id:
        raise refusal(
            Reason.NOT_FOUND,
            "S5",
            f"no consulting order {order_id!r} is stored for {org.org_id!r}",
        )
    bag = Mailbag()
    snapshot = loads(dialect, found[1])
    order = ConsultingOrder.restore(snapshot, org, clock=clock, outbox=bag, catalog=backend.catalog)
    t = track(order, clock, bag)
    _bind(t, found[0], snapshot)
    t.deliver = outbox
    return order


def write(
    backend: Backend,
    tx: Tx,
    obj: Stored,
    key: str | None,
    put: Put,
    result: tuple[object, Any] | None = None,
) -> Written:
    """Write `obj` (through `put`) if it changed, its audit rows, and its purchase email;
    `Conflict` if it was saved by someone else since it was loaded. `result` is what the
    command's function returned and its JSON data (a history entry's, written once)."""
    t = tracking(obj)
    history, snapshot = _observed(obj, t)
    plan = isinstance(obj, SupportPlan)
    org_id = str(snapshot["org_id"])
    subject_id = org_id if plan else str(snapshot["order_id"])
    emitted = 0 if t is None else t.emitted
    subject = Subject("plan" if plan else "order", org_id, subject_id, key)
    rows = list(
        audit_rows(subject, history, emitted, [] if t is None else t.calls, backend.now, result)
    )
    revision = 0 if t is None else t.revision
    if t is None or t.loaded != snapshot:
        revision = put(tx, plan, subject_id, revision, snapshot)
    append(tx, rows)
    queued: list[str] = []
    if t is not None and t.mail is not None and t.mail.emails:
        purchased = any(
            isinstance(e, OrderEvent) and e.action is OrderAction.PURCHASE
            for e in history[emitted:]
        )
        if purchased:
            emails = [(mail.PURCHASE, t.mail.emails[-1])]
            queued = mail.queue(tx, org_id, subject_id, emails, backend.clock)
    return Written(revision, len(history), snapshot, tuple(queued), backend.stamp(), t)


def _rows(table: sa.Table, *extra: str) -> tuple[Statement, Statement]:
    """A row's insert (nothing on a conflict; the id it inserted) and its update under the
    revision check, built once."""
    key = table.primary_key.columns[0]
    columns = ["revision", "state", "due_at", "policy", "snapshot"]
    update = (
        table.update()
        .where(key == sa.bindparam("b_id"), table.c.revision == sa.bindparam("b_revision"))
        .values({name: sa.bindparam(f"v_{name}") for name in columns})
    )
    return insert_new(table, key, [key.name, *extra, *columns]), Statement(update)


_PLAN_ROWS = _rows(plans)
_ORDER_ROWS = _rows(orders, "org_id")
_PLAN_EXISTS = Statement(sa.select(plans.c.org_id).where(plans.c.org_id == sa.bindparam("id")))
_ORDER_EXISTS = Statement(
    sa.select(orders.c.order_id).where(orders.c.order_id == sa.bindparam("id"))
)


def put(
    backend: Backend,
    tx: Tx,
    plan: bool,
    subject_id: str,
    revision: int,
    snapshot: Any,
) -> int:
    """Insert (revision 0) or update (if still at `revision`) the row; the new revision."""
    state, due, policy, text = (
        snapshot["state"],
        due_at(snapshot),
        policy_of(snapshot),
        dumps(snapshot),
    )
    if revision:
        changed = (_PLAN_ROWS if plan else _ORDER_ROWS)[1].run(
            tx,
            {
                "v_revision": revision + 1,
                "v_state": state,
                "v_due_at": due,
                "v_policy": policy,
                "v_snapshot": text,
                "b_id": subject_id,
                "b_revision": revision,
            },
        )
        if changed.rowcount:
            return revision + 1
        exists = (_PLAN_EXISTS if plan else _ORDER_EXISTS).run(tx, {"id": subject_id})
        if exists.fetchone() is None:
            raise refusal(Reason.NOT_FOUND, "S5", f"{_what(plan, subject_id)} is no longer stored")
        raise Conflict(
            refusal(
                Reason.STALE_REVISION,
                "S1",
                f"{_what(plan, subject_id)} was saved by someone else since revision {revision} "
                "was loaded; load it again and retry",
            )
        )
    values: dict[str, Any] = {
        "revision": 1,
        "state": state,
        "due_at": due,
        "policy": policy,
        "snapshot": text,
        ("org_id" if plan else "order_id"): subject_id,
    }
    if not plan:
        values["org_id"] = snapshot["org_id"]
    if (_PLAN_ROWS if plan else _ORDER_ROWS)[0].run(tx, values).fetchone() is None:
        raise Conflict(
            refusal(
                Reason.STALE_REVISION,
                "S1",
                f"{_what(plan, subject_id)} is already stored: load it and apply the change to "
                "that",
            )
        )
    return 1


def _what(plan: bool, subject_id: str) -> str:
    return f"the support plan of {subject_id!r}" if plan else f"order {subject_id!r}"


def saved(backend: Backend, obj: Stored, written: Written) -> None:
    """After the commit: `obj` is at its new revision, and its emails go out if it was loaded
    with an outbox."""
    t = written.tracked
    if t is None:
        return
    t.saved(written.revision, written.history_length, written.snapshot)
    if t.deliver is not None and written.emails:
        mail.relay(backend.db, t.deliver, backend.clock, only=written.emails)


def _bind(t: Tracking, revision: int, snapshot: dict[str, Any]) -> None:
    t.revision = revision
    t.loaded = snapshot
    t.recorded = snapshot.get("recorded_at")


def _observed(obj: Stored, t: Tracking | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The history and the history-less snapshot, read at one moment: with a moving clock,
    something may come due between two reads (the clock applies it by a chart edge, which the
    object's `Tracking` hears), so read until nothing moved between them."""
    while True:
        history = obj.history
        if t is not None:
            taken = t.taken
            snapshot = obj.snapshot(history=False)
            if t.taken == taken:
                return history, snapshot
            continue
        snapshot = obj.snapshot(history=False)
        if len(obj.history) == len(history):
            return history, snapshot
