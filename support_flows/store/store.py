"""The store: plans and orders with revisions (S1), commands with idempotency keys (S2), a
transactional outbox (S3), an append-only audit log (S4), `not_found` for what is absent (S5),
and coded errors for bad URLs, failing databases and values no database holds (S6).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from support_flows.clock import Clock, SystemClock, read_clock
from support_flows.errors import (
    InvalidInput,
    Reason,
    Refused,
    SupportFlowsError,
    Violation,
    describe,
    invalid,
)
from support_flows.inputs import has_method, is_identifier, of_type
from support_flows.localtime import instant
from support_flows.machines.consulting import ConsultingOrder, OrderAction, OrderEvent
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Outbox
from support_flows.store import arguments, batches, mail
from support_flows.store._db import Database
from support_flows.store.due import due_at
from support_flows.store.journal import Subject, audit_rows, bounded, error_detail, refusal_row
from support_flows.store.keys import check_key, error_from, error_record, fingerprint, jsonable
from support_flows.store.records import AuditEntry, Outcome, RolloverReport, from_micros, micros
from support_flows.store.schema import audit, idempotency, migrate, orders, plans
from support_flows.store.tracked import Call, Mailbag, Stored, Tracking, param, track, tracking
from support_flows.store.views import order_view
from support_flows.values import Member, Organization

__all__ = ["KEY_RETENTION", "Store"]

T = TypeVar("T")
KEY_RETENTION = dt.timedelta(hours=24)
"""S2: idempotency keys are kept at least this long."""


class _HostFailure(Exception):
    """Carries an exception the host's own code raised (not a refusal) out of the transaction,
    which rolls back, so that it reaches the caller unchanged (never taken for a driver's)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


def _host(fn: Callable[[Any], T], obj: Any) -> T:
    """`fn(obj)`: a refusal as it is, any other exception carried out (see `_HostFailure`)."""
    try:
        return fn(obj)
    except SupportFlowsError:
        raise
    except Exception as error:
        raise _HostFailure(error) from None


class _Conflict(Exception):
    """A write lost to a concurrent one; the transaction rolls back and a command retries."""

    def __init__(self, error: Refused) -> None:
        super().__init__(str(error))
        self.error = error


@attrs.frozen
class _Spec:
    """A command: on what (a plan, an order), of which organization, under which key."""

    kind: str
    org: Organization
    subject_id: str | None
    key: str | None
    request: object
    clock: object


@attrs.frozen
class _Written:
    revision: int
    history_length: int
    snapshot: dict[str, Any]
    emails: tuple[str, ...]


def _refused(code: Reason, rule: str, message: str) -> Refused:
    return Refused(Violation(code, rule, message))


class Store:
    """Plans and orders in SQLite (the default: a file, or ``sqlite://`` in memory) or PostgreSQL.

    Opening a store creates or migrates its tables. Objects loaded with `plan()` / `order()`
    carry their revision; `save()` writes one only if nobody saved it since (S1). Commands
    (`update`, `update_order`, `start_checkout`, `from_representative`) load, act and save in
    one transaction, retried a bounded number of times on a lost race, and take an idempotency
    key (S2). Every request, accepted or refused, and every change the clock applied goes to the
    audit log (S4); confirmation emails go to the outbox table in the same transaction (S3).
    The URL names the backend (else `invalid_value`); a database that cannot be reached, opened
    or written raises `Unavailable` (`store_unavailable`) from any method (S6).
    """

    def __init__(self, url: str = "sqlite://", *, retries: int = 5) -> None:
        if type(retries) is not int or not 0 <= retries <= 100:
            raise invalid(
                Reason.INVALID_VALUE, "S1", f"retries must be 0-100, got {describe(retries)}"
            )
        self._db = Database(url)
        try:
            migrate(self._db)
        except BaseException:
            self._db.dispose()
            raise
        self._retries = retries
        self._clock: Clock = SystemClock()
        self._insert: Any = postgresql.insert if self._db.is_postgres else sqlite.insert

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (for `rollover` workers and the command line)."""
        return self._db.engine.url.render_as_string(hide_password=False)

    def close(self) -> None:
        self._db.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._db.engine.url.render_as_string(hide_password=True)!r})"

    # -- loading ---------------------------------------------------------------------------

    def plan(self, org_id: str, org: Organization, *, clock: Clock) -> SupportPlan:
        """The organization's stored plan at its current revision; `not_found` if none (S5)."""
        org = self._org(org_id, org)
        with self._db.read() as conn:
            return self._load_plan(conn, org, clock, lock=False, create=False)

    def order(
        self, order_id: str, org: Organization, *, clock: Clock, outbox: Outbox | None = None
    ) -> ConsultingOrder:
        """The stored order at its current revision; `not_found` if none in this organization.

        Its emails go to the store's outbox when it is saved (S3); with `outbox`, `save` also
        delivers them through it right after the commit (what `relay` would do later).
        """
        org = self._org(None, org)
        named = arguments.name(order_id, "order_id")
        with self._db.read() as conn:
            return self._load_order(conn, named, org, clock, outbox, lock=False)

    @staticmethod
    def revision(obj: Stored) -> int:
        """The stored revision `obj` was loaded at, or last saved at (0: never stored) (S1)."""
        t = tracking(obj)
        return 0 if t is None else t.revision

    def _load_plan(
        self, conn: sa.Connection, org: Organization, clock: Clock, *, lock: bool, create: bool
    ) -> SupportPlan:
        query = sa.select(plans.c.revision, plans.c.snapshot).where(plans.c.org_id == org.org_id)
        row = conn.execute(query.with_for_update() if lock and self._db.is_postgres else query)
        found = row.first()
        if found is None:
            if not create:
                raise _refused(
                    Reason.NOT_FOUND, "S5", f"no support plan is stored for {org.org_id!r}"
                )
            plan = SupportPlan(org, clock=clock)
            track(plan, clock).loaded = plan.snapshot(history=False)
            return plan
        plan = SupportPlan.restore(found.snapshot, org, clock=clock)
        _bind(track(plan, clock), found.revision, found.snapshot)
        return plan

    def _load_order(
        self,
        conn: sa.Connection,
        order_id: str,
        org: Organization,
        clock: Clock,
        outbox: Outbox | None,
        *,
        lock: bool,
    ) -> ConsultingOrder:
        if outbox is not None:
            has_method(outbox, "send", "outbox")
        query = sa.select(orders.c.org_id, orders.c.revision, orders.c.snapshot).where(
            orders.c.order_id == order_id
        )
        found = conn.execute(
            query.with_for_update() if lock and self._db.is_postgres else query
        ).first()
        if found is None or found.org_id != org.org_id:
            raise _refused(
                Reason.NOT_FOUND,
                "S5",
                f"no consulting order {order_id!r} is stored for {org.org_id!r}",
            )
        bag = Mailbag()
        order = ConsultingOrder.restore(found.snapshot, org, clock=clock, outbox=bag)
        t = track(order, clock, bag)
        _bind(t, found.revision, found.snapshot)
        t.deliver = outbox
        return order

    # -- saving ----------------------------------------------------------------------------

    def save(self, obj: Stored) -> int:
        """Write a plan or order; returns its new revision.

        An object loaded from this store is written only if its stored revision is still the
        one it was loaded at, else `stale_revision` and nothing changes (S1): load it again and
        retry (or use `update`). Any other object is inserted as new (`stale_revision` if its
        plan or order is already stored). Its new history, and the requests a loaded object
        recorded, go to the audit log in the same transaction (S4); an order's confirmation
        email to the outbox (S3).
        """
        if not isinstance(obj, SupportPlan | ConsultingOrder):
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"save takes a SupportPlan or ConsultingOrder: {describe(obj)}",
            )
        try:
            with self._db.write() as conn:
                written = self._write(conn, obj, None)
        except _Conflict as conflict:
            raise conflict.error from None
        self._saved(obj, written)
        return written.revision

    def _write(self, conn: sa.Connection, obj: Stored, key: str | None) -> _Written:
        t = tracking(obj)
        history, snapshot = _observed(obj)
        plan = isinstance(obj, SupportPlan)
        org_id = str(snapshot["org_id"])
        subject_id = org_id if plan else str(snapshot["order_id"])
        emitted = 0 if t is None else t.emitted
        subject = Subject("plan" if plan else "order", org_id, subject_id, key)
        rows = list(
            audit_rows(subject, history, emitted, () if t is None else t.calls, self._now())
        )
        revision = 0 if t is None else t.revision
        if t is None or t.loaded != snapshot:
            revision = self._put(conn, plan, subject_id, revision, snapshot)
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
                queued = mail.queue(conn, self._insert, org_id, subject_id, emails, self._clock)
        return _Written(revision, len(history), snapshot, tuple(queued))

    def _put(
        self, conn: sa.Connection, plan: bool, subject_id: str, revision: int, snapshot: Any
    ) -> int:
        """Insert (revision 0) or update (if still at `revision`) the row; the new revision."""
        table, id_column = (plans, plans.c.org_id) if plan else (orders, orders.c.order_id)
        values: dict[str, Any] = {
            "revision": revision + 1,
            "state": snapshot["state"],
            "due_at": due_at(snapshot),
            "snapshot": snapshot,
        }
        what = f"the support plan of {subject_id!r}" if plan else f"order {subject_id!r}"
        if revision == 0:
            values[id_column.name] = subject_id
            if not plan:
                values["org_id"] = snapshot["org_id"]
            done = conn.execute(
                self._insert(table).values(**values).on_conflict_do_nothing().returning(id_column)
            )
            if done.first() is None:
                raise _Conflict(
                    _refused(
                        Reason.STALE_REVISION,
                        "S1",
                        f"{what} is already stored: load it and apply the change to that",
                    )
                )
            return revision + 1
        done = conn.execute(
            table.update()
            .where(id_column == subject_id, table.c.revision == revision)
            .values(**values)
        )
        if done.rowcount:
            return revision + 1
        if conn.execute(sa.select(id_column).where(id_column == subject_id)).first() is None:
            raise _refused(Reason.NOT_FOUND, "S5", f"{what} is no longer stored")
        raise _Conflict(
            _refused(
                Reason.STALE_REVISION,
                "S1",
                f"{what} was saved by someone else since revision {revision} was loaded; "
                "load it again and retry",
            )
        )

    def _saved(self, obj: Stored, written: _Written) -> None:
        t = tracking(obj)
        if t is None:
            return
        t.saved(written.revision, written.history_length, written.snapshot)
        if t.deliver is not None and written.emails:
            mail.relay(self._db, t.deliver, self._clock, only=written.emails)

    # -- commands --------------------------------------------------------------------------

    def update(
        self,
        org_id: str,
        fn: Callable[[SupportPlan], object],
        *,
        org: Organization,
        clock: Clock,
        idempotency_key: str | None = None,
        request: object = None,
        create: bool = False,
    ) -> Outcome:
        """Load the organization's plan, run `fn` on it, save it: one transaction, the row
        locked, retried on a lost race (S1). `create` starts from a new Basic plan when none is
        stored (else `not_found`).

        A refusal `fn` raises (any `SupportFlowsError`: a call on the plan refused, or one the
        host's own code raises) changes nothing, whatever `fn` did before it, and is recorded
        (audit log, idempotency key) and raised again (S4); so is a result that cannot be
        stored. Any other exception from `fn` is the host's failure, not a refusal: the
        transaction rolls back, nothing is recorded, and it reaches the caller unchanged. With
        an `idempotency_key`, a replay returns the first outcome (`replayed=True`) and changes
        nothing; the key on another request is `idempotency_key_reused` (S2). The request is
        `request` (e.g. the HTTP method, path and body) or, by default, the calls `fn` makes; a
        request holding a value no database holds (NaN, an infinity, text with NUL, nesting
        deeper than 64 levels) is refused as malformed input before `fn` runs, and recorded (S6).
        """
        org = self._org(org_id, org)
        arguments.flag(create, "create", "S5")
        spec = _Spec("plan", org, org.org_id, check_key(idempotency_key), request, clock)
        return self._command(
            spec, lambda conn: self._load_plan(conn, org, clock, lock=True, create=create), fn
        )

    def update_order(
        self,
        order_id: str,
        fn: Callable[[ConsultingOrder], object],
        *,
        org: Organization,
        clock: Clock,
        idempotency_key: str | None = None,
        request: object = None,
        outbox: Outbox | None = None,
    ) -> Outcome:
        """`update` for a stored order (`outbox` as in `order()`)."""
        org = self._org(None, org)
        named = arguments.name(order_id, "order_id")
        if outbox is not None:
            has_method(outbox, "send", "outbox")
        spec = _Spec("order", org, named, check_key(idempotency_key), request, clock)
        return self._command(
            spec,
            lambda conn: self._load_order(conn, named, org, clock, outbox, lock=True),
            fn,
        )

    def _command(
        self, spec: _Spec, load: Callable[[sa.Connection], Any], fn: Callable[[Any], object]
    ) -> Outcome:
        if not callable(fn):
            raise invalid(Reason.INVALID_VALUE, "V5", f"fn must be callable, got {describe(fn)}")
        has_method(spec.clock, "now", "clock")
        malformed = _unholdable_request(spec.request)
        if malformed is not None:
            with self._db.write() as conn:
                conn.execute(audit.insert(), [self._refusal_row(spec, malformed)])
            raise malformed
        last: Refused | None = None
        failure: Exception | None = None
        for _ in range(self._retries + 1):
            try:
                return self._run(spec, load, fn)
            except _Conflict as conflict:
                last = conflict.error
            except _HostFailure as carried:
                failure = carried.error
                break
        if failure is not None:
            raise failure  # outside the handler: unchanged, with no carrier as its context
        assert last is not None
        raise last

    def _run(
        self, spec: _Spec, load: Callable[[sa.Connection], Any], fn: Callable[[Any], object]
    ) -> Outcome:
        error: SupportFlowsError | None = None
        with self._db.write() as conn:
            obj = load(conn)
            stored = self._stored_key(conn, spec)
            if stored is not None:
                return self._replay(stored, spec, obj, fn)
            try:
                result = jsonable(_host(fn, obj))
            except SupportFlowsError as refusal:
                error = refusal
                self._refused(conn, spec, obj, refusal)
            else:
                written = self._write(conn, obj, spec.key)
                if spec.key is not None:
                    request = self._request(spec, obj)
                    self._remember(conn, spec, request, None, result, written.revision)
        if error is not None:
            raise error
        self._saved(obj, written)
        return Outcome(result, written.revision or None)

    def _refused(
        self, conn: sa.Connection, spec: _Spec, obj: Any, refusal: SupportFlowsError
    ) -> None:
        """A command `fn` refused: nothing it did is saved; its refused calls, and the refusal
        itself when the host's code raised it, go to the audit log (S4), with the key (S2)."""
        calls: list[Call] = _calls(obj)
        subject = Subject(spec.kind, spec.org.org_id, spec.subject_id, spec.key)
        now = self._now()
        rows = [refusal_row(subject, call, now) for call in calls if call.error is not None]
        if not any(call.error is refusal for call in calls):
            rows.append(self._refusal_row(spec, refusal))
        conn.execute(audit.insert(), rows)
        if spec.key is not None:
            self._remember(conn, spec, self._request(spec, obj), refusal, None, None)

    def _refusal_row(self, spec: _Spec, error: SupportFlowsError) -> dict[str, Any]:
        """The audit row of a refusal no call on the object made: the host's own, a result
        that cannot be stored, a request no database holds."""
        subject = Subject(spec.kind, spec.org.org_id, spec.subject_id, spec.key)
        detail: dict[str, Any] = {"error": error_detail(error)}
        if spec.request is not None:
            detail["params"] = {"request": bounded(spec.request)}
        return subject.row(self._at(spec.clock), "refused", reason=error.code, detail=detail)

    @staticmethod
    def _request(spec: _Spec, obj: Any) -> object:
        return spec.request if spec.request is not None else _calls(obj)

    def start_checkout(
        self,
        org: Organization,
        *,
        units: int,
        actor: Member,
        clock: Clock,
        hours_per_unit: int = 1,
        validity_months: int | None = None,
        order_id: str | None = None,
        idempotency_key: str | None = None,
        outbox: Outbox | None = None,
    ) -> Outcome:
        """Open a console order (F1) and store it; the result is the order's view (with its
        `order_id`). With an idempotency key, a repeated "buy" opens one order (S2)."""
        raw = {
            "units": units,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity_months,
            "order_id": order_id,
        }
        return self._create(
            org,
            "start_checkout",
            raw,
            actor,
            clock,
            idempotency_key,
            outbox,
            lambda bag: ConsultingOrder.start_checkout(
                org,
                units=units,
                actor=actor,
                clock=clock,
                outbox=bag,
                hours_per_unit=hours_per_unit,
                validity_months=validity_months,
                order_id=order_id,
            ),
        )

    def from_representative(
        self,
        org: Organization,
        *,
        units: int,
        sales_reference: str,
        email: str,
        clock: Clock,
        hours_per_unit: int = 1,
        validity_months: int | None = None,
        order_id: str | None = None,
        idempotency_key: str | None = None,
        outbox: Outbox | None = None,
    ) -> Outcome:
        """Store an order placed by a representative (F1): purchased at once, its confirmation
        email queued in the same transaction (S3)."""
        raw = {
            "units": units,
            "sales_reference": sales_reference,
            "email": email,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity_months,
            "order_id": order_id,
        }
        return self._create(
            org,
            "from_representative",
            raw,
            None,
            clock,
            idempotency_key,
            outbox,
            lambda bag: ConsultingOrder.from_representative(
                org,
                units=units,
                sales_reference=sales_reference,
                email=email,
                clock=clock,
                outbox=bag,
                hours_per_unit=hours_per_unit,
                validity_months=validity_months,
                order_id=order_id,
            ),
        )

    def _create(
        self,
        org: Organization,
        request: str,
        raw: Mapping[str, object],
        actor: object,
        clock: Clock,
        key: object,
        outbox: Outbox | None,
        build: Callable[[Mailbag], ConsultingOrder],
    ) -> Outcome:
        """Open an order with `build`; `raw` holds the request's values, and the console buyer
        `actor` (None for a representative's order) is recorded with them."""
        params = {name: param(value) for name, value in raw.items()}
        if actor is not None:
            params["actor"] = param(actor)
        org = self._org(None, org)
        if outbox is not None:
            has_method(outbox, "send", "outbox")
        spec = _Spec("order", org, None, check_key(key), [request, params], clock)
        actor_id = actor.user_id if isinstance(actor, Member) else None
        malformed = arguments.malformed(raw, _OPTIONAL)
        if malformed is not None:  # S6: refused before any statement, then audited
            with self._db.write() as conn:
                self._refuse_creation(conn, spec, request, params, actor_id, clock, malformed)
            raise malformed
        last: Refused | None = None
        failure: Exception | None = None
        for _ in range(self._retries + 1):
            error: SupportFlowsError | None = None
            try:
                with self._db.write() as conn:
                    stored = self._stored_key(conn, spec)
                    if stored is not None:
                        return self._replay(stored, spec, None, None)
                    bag = Mailbag()
                    try:
                        order = _host(build, bag)
                    except SupportFlowsError as refusal:
                        error = refusal
                        self._refuse_creation(conn, spec, request, params, actor_id, clock, error)
                        if spec.key is not None:
                            self._remember(conn, spec, spec.request, error, None, None)
                    else:
                        history = order.history
                        t = track(order, clock, bag)
                        t.calls.append(
                            Call(request, params, actor_id, history[-1].at, 0, len(history))
                        )
                        t.deliver = outbox
                        written = self._write(conn, order, spec.key)
                        result = jsonable(order_view(order))
                        if spec.key is not None:
                            self._remember(conn, spec, spec.request, None, result, written.revision)
            except _Conflict as conflict:
                last = conflict.error
                continue
            except _HostFailure as carried:  # the host's clock or outbox failed
                failure = carried.error
                break
            if error is not None:
                raise error
            self._saved(order, written)
            return Outcome(result, written.revision)
        if failure is not None:
            raise failure
        assert last is not None
        raise last

    def _refuse_creation(
        self,
        conn: sa.Connection,
        spec: _Spec,
        request: str,
        params: dict[str, Any],
        actor_id: str | None,
        clock: Clock,
        error: SupportFlowsError,
    ) -> None:
        at = self._at(clock)
        order_id = params.get("order_id")
        subject = Subject(
            "order", spec.org.org_id, order_id if is_identifier(order_id) else None, spec.key
        )
        call = Call(request, params, actor_id, at, 0, 0, error)
        conn.execute(audit.insert(), [refusal_row(subject, call, at)])

    # -- idempotency keys (S2) -------------------------------------------------------------

    def _stored_key(self, conn: sa.Connection, spec: _Spec) -> Any:
        if spec.key is None:
            return None
        return conn.execute(
            sa.select(idempotency).where(
                idempotency.c.org_id == spec.org.org_id, idempotency.c.key == spec.key
            )
        ).first()

    def _replay(self, stored: Any, spec: _Spec, obj: Any, fn: Any) -> Outcome:
        """The first outcome of a key, if this is the same request; nothing is written."""
        request = spec.request
        if request is None:  # the request is the calls `fn` makes: make them on a copy
            with contextlib.suppress(SupportFlowsError):
                _host(fn, obj)
            request = _calls(obj)
        if fingerprint(spec.kind, spec.subject_id, request) != stored.fingerprint:
            raise _refused(
                Reason.IDEMPOTENCY_KEY_REUSED,
                "S2",
                f"idempotency key {spec.key!r} was first used for a different request; "
                "use a new key for a new request",
            )
        if stored.outcome == "refused":
            raise error_from(stored.response["error"])
        return Outcome(stored.response["result"], stored.revision, replayed=True)

    def _remember(
        self,
        conn: sa.Connection,
        spec: _Spec,
        request: object,
        error: SupportFlowsError | None,
        result: object,
        revision: int | None,
    ) -> None:
        done = conn.execute(
            self._insert(idempotency)
            .values(
                org_id=spec.org.org_id,
                key=spec.key,
                fingerprint=fingerprint(spec.kind, spec.subject_id, request),
                outcome="refused" if error is not None else "accepted",
                response={"error": error_record(error)} if error else {"result": result},
                revision=revision or None,
                created_at=micros(self._now()),
            )
            .on_conflict_do_nothing()
            .returning(idempotency.c.key)
        )
        if done.first() is None:  # the same key committed meanwhile: retry, which replays it
            raise _Conflict(
                _refused(
                    Reason.STALE_REVISION,
                    "S2",
                    f"a concurrent request stored idempotency key {spec.key!r} first",
                )
            )

    def prune_keys(
        self, *, now: dt.datetime | None = None, keep: dt.timedelta = KEY_RETENTION
    ) -> int:
        """Forget idempotency keys older than `keep` (never less than 24 hours, S2; at most
        ten years)."""
        at = self._now() if now is None else instant(now, "now")
        cutoff = micros(instant(at - arguments.retention(keep, KEY_RETENTION), "now - keep"))
        with self._db.write() as conn:
            done = conn.execute(idempotency.delete().where(idempotency.c.created_at < cutoff))
            return int(done.rowcount)

    # -- the audit log, the outbox, the month-start job -----------------------------------

    def audit(self, org_id: str) -> tuple[AuditEntry, ...]:
        """The organization's audit entries, oldest first (S4)."""
        named = arguments.name(org_id, "org_id")
        query = sa.select(audit).where(audit.c.org_id == named).order_by(audit.c.at, audit.c.id)
        with self._db.read() as conn:
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

    def relay(self, outbox: Outbox, *, limit: int | None = None) -> int:
        """Deliver queued emails through any Outbox and mark them sent; returns how many (S3).

        Each goes out as a `QueuedEmail` (an `Email` with a stable `message_id`), at least once.
        """
        return mail.relay(self._db, outbox, self._clock, limit=limit)

    def rollover(
        self,
        *,
        until: dt.datetime | None = None,
        batch_size: int = batches.BATCH_SIZE,
        progress: Callable[[int], object] | None = None,
    ) -> RolloverReport:
        """The month-start job in this process (one worker): see `support_flows.store.rollover`."""
        arguments.callback(progress, "progress", "S5")
        return batches.run(self._db, until=until, batch_size=batch_size, progress=progress)

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> Any:
        return read_clock(self._clock)

    def _at(self, clock: object) -> Any:
        """The instant of a refusal: `clock`'s reading, or the store's when it cannot be read
        (the refusal is raised either way)."""
        try:
            return read_clock(clock)  # type: ignore[arg-type]
        except Exception:
            return self._now()

    @staticmethod
    def _org(org_id: object, org: object) -> Organization:
        organization = of_type(org, Organization, "org")
        if org_id is not None and arguments.name(org_id, "org_id") != organization.org_id:
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"org_id {org_id!r} does not name the organization given ({organization.org_id!r})",
            )
        return organization


_OPTIONAL = frozenset({"validity_months", "order_id"})


def _unholdable_request(request: object) -> InvalidInput | None:
    """The error for a request holding a value no database holds (S6), or None."""
    try:
        jsonable(request, strict=False, what="the request")
    except InvalidInput as error:
        return error
    return None


def _calls(obj: Stored) -> list[Call]:
    t = tracking(obj)
    assert t is not None  # every object a command runs on was loaded or created here
    return t.calls


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
