"""The `Store` facade (S1-S6): opening a database, and the methods hosts call to load, save
and command plans and orders, read the audit log, relay the outbox and run the month-start job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, overload

from support_flows.clock import Clock, SystemClock
from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import has_method, of_type
from support_flows.machines.consulting import FROM_POLICY, ConsultingOrder, FromPolicy
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import Outbox
from support_flows.store import arguments, audit_log, batches, commands, key_rows, mail, saving
from support_flows.store.backend import Backend
from support_flows.store.compiled import Tx
from support_flows.store.database import Database
from support_flows.store.key_rows import KEY_RETENTION
from support_flows.store.keys import check_key
from support_flows.store.records import AuditEntry, Outcome, RolloverReport
from support_flows.store.schema import migrate
from support_flows.store.spec import Spec
from support_flows.store.tracked import Stored, tracking
from support_flows.store.walk import StoredRecord, walk
from support_flows.values import Member, Organization
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["KEY_RETENTION", "Store"]

_ONE: Any = object()
"""No second organization argument: the call names the organization once (the id is its own)."""


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

    Every plan and order the store loads is restored under `catalog`, and every one it creates
    is decided under it (K3); a stored record naming a version the catalog lacks is refused
    `invalid_snapshot` wherever it is loaded, as `restore` refuses it (K4).

    One store serves every thread. On a SQLite file each thread keeps its own connection (made
    on its first request, closed by `close()` or when the thread ends); PostgreSQL's come from
    SQLAlchemy's connection pool.
    """

    def __init__(
        self, url: str = "sqlite://", *, catalog: Catalog = ATLAS, retries: int = 5
    ) -> None:
        if type(retries) is not int or not 0 <= retries <= 100:
            raise invalid(
                Reason.INVALID_VALUE, "S1", f"retries must be 0-100, got {describe(retries)}"
            )
        self._catalog = of_type(catalog, Catalog, "catalog")
        self._db = Database(url)
        try:
            migrate(self._db)
        except BaseException:
            self._db.dispose()
            raise
        self._retries = retries
        self._backend = Backend.of(self._db, SystemClock(), self._catalog)

    @property
    def catalog(self) -> Catalog:
        """The catalog the store loads and creates plans and orders under (K4)."""
        return self._catalog

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

    # -- loading and saving ----------------------------------------------------------------

    @overload
    def plan(self, org: Organization, /, *, clock: Clock) -> SupportPlan: ...

    @overload
    def plan(self, org_id: str, org: Organization, /, *, clock: Clock) -> SupportPlan: ...

    def plan(self, first: object, second: object = _ONE, /, *, clock: Clock) -> SupportPlan:
        """The organization's stored plan at its current revision; `not_found` if none (S5).

        ``store.plan(org, clock=clock)``: the id is the organization's own. The older form
        ``store.plan(org_id, org, clock=clock)`` still works (the id must name `org`).
        """
        org = arguments.organization(*((None, first) if second is _ONE else (first, second)))
        return saving.read_plan(self._backend, org, clock)

    def order(
        self, order_id: str, org: Organization, *, clock: Clock, outbox: Outbox | None = None
    ) -> ConsultingOrder:
        """The stored order at its current revision; `not_found` if none in this organization.

        Its emails go to the store's outbox when it is saved (S3); with `outbox`, `save` also
        delivers them through it right after the commit (what `relay` would do later).
        """
        org = arguments.organization(None, org)
        named = arguments.name(order_id, "order_id")
        return saving.read_order(self._backend, named, org, clock, outbox)

    @staticmethod
    def revision(obj: Stored) -> int:
        """The stored revision `obj` was loaded at, or last saved at (0: never stored) (S1)."""
        t = tracking(obj)
        return 0 if t is None else t.revision

    def save(self, obj: Stored) -> int:
        """Write a plan or order; returns its new revision.

        An object loaded from this store is written only if its stored revision is still the
        one it was loaded at, else `stale_revision` and nothing changes (S1): load it again and
        retry (or use `update`). Any other object is inserted as new (`stale_revision` if its
        plan or order is already stored). Its new history, and the requests a loaded object
        recorded, go to the audit log in the same transaction (S4); an order's confirmation
        email to the outbox (S3). An object decided under another catalog than the store's is
        refused (`invalid_value`, K4): the store could not load it back.
        """
        if not isinstance(obj, SupportPlan | ConsultingOrder):
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"save takes a SupportPlan or ConsultingOrder: {describe(obj)}",
            )
        self._same_catalog(obj)
        try:
            with self._db.transaction() as tx:
                written = saving.write(self._backend, tx, obj, None, self._put)
        except saving.Conflict as conflict:
            raise conflict.error from None
        saving.saved(self._backend, obj, written)
        return written.revision

    def _same_catalog(self, obj: Stored) -> None:
        """K4: the store holds only records its catalog loads, so an object decided under
        another catalog is refused before anything is written."""
        theirs = obj.catalog
        if theirs is not self._catalog and theirs != self._catalog:
            raise invalid(
                Reason.INVALID_VALUE,
                "K4",
                f"{describe(obj)} is decided under another catalog (versions "
                f"{', '.join(theirs.ids)}) than the store's ({', '.join(self._catalog.ids)}): "
                "create it with catalog=store.catalog",
            )

    def _put(self, tx: Tx, plan: bool, subject_id: str, revision: int, snapshot: Any) -> int:
        """Every save's row write (`saving.Put`): insert, or update under the revision check."""
        return saving.put(self._backend, tx, plan, subject_id, revision, snapshot)

    # -- commands --------------------------------------------------------------------------

    def update(
        self,
        org_id: str | Organization,
        fn: Callable[[SupportPlan], object],
        *,
        org: Organization | object = _ONE,
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

        ``store.update(org, fn, clock=clock)`` takes the id from the organization; the older
        ``store.update(org_id, fn, org=org, clock=clock)`` still works (the id must name `org`).
        """
        org = arguments.organization(*((None, org_id) if org is _ONE else (org_id, org)))
        arguments.flag(create, "create", "S5")
        spec = Spec("plan", org, org.org_id, check_key(idempotency_key), request, clock)
        backend = self._backend
        return commands.command(
            backend,
            self._retries,
            spec,
            lambda tx: saving.load_plan(
                backend, tx, org, clock, lock=True, create=create, key=spec.key
            ),
            fn,
            self._put,
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
        org = arguments.organization(None, org)
        named = arguments.name(order_id, "order_id")
        if outbox is not None:
            has_method(outbox, "send", "outbox")
        spec = Spec("order", org, named, check_key(idempotency_key), request, clock)
        backend = self._backend
        return commands.command(
            backend,
            self._retries,
            spec,
            lambda tx: saving.load_order(
                backend, tx, named, org, clock, outbox, lock=True, key=spec.key
            ),
            fn,
            self._put,
        )

    def start_checkout(
        self,
        org: Organization,
        *,
        units: int,
        actor: Member,
        clock: Clock,
        hours_per_unit: int | FromPolicy = FROM_POLICY,
        validity_months: int | FromPolicy | None = FROM_POLICY,
        order_id: str | None = None,
        idempotency_key: str | None = None,
        outbox: Outbox | None = None,
    ) -> Outcome:
        """Open a console order (F1) under the store's catalog and store it; the result is the
        order's view (with its `order_id`). Hours per unit and validity not given are those of
        the version in force now (K1, K3). With an idempotency key, a repeated "buy" opens one
        order (S2)."""
        raw = {
            "units": units,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity_months,
            "order_id": order_id,
        }
        return commands.create(
            self._backend,
            self._retries,
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
                catalog=self._catalog,
            ),
            self._put,
        )

    def from_representative(
        self,
        org: Organization,
        *,
        units: int,
        sales_reference: str,
        email: str,
        clock: Clock,
        hours_per_unit: int | FromPolicy = FROM_POLICY,
        validity_months: int | FromPolicy | None = FROM_POLICY,
        order_id: str | None = None,
        idempotency_key: str | None = None,
        outbox: Outbox | None = None,
    ) -> Outcome:
        """Store an order placed by a representative (F1) under the store's catalog: purchased
        at once, its confirmation email queued in the same transaction (S3); hours per unit
        and validity as in `start_checkout`."""
        raw = {
            "units": units,
            "sales_reference": sales_reference,
            "email": email,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity_months,
            "order_id": order_id,
        }
        return commands.create(
            self._backend,
            self._retries,
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
                catalog=self._catalog,
            ),
            self._put,
        )

    def prune_keys(
        self, *, now: dt.datetime | None = None, keep: dt.timedelta = KEY_RETENTION
    ) -> int:
        """Forget idempotency keys older than `keep` (never less than 24 hours, S2; at most
        ten years)."""
        return key_rows.prune(self._backend, now, keep)

    # -- reading every record (K5) -----------------------------------------------------------

    def plans(self) -> Iterator[StoredRecord]:
        """Every stored plan, as stored, in organization id order: read-only (nothing is
        applied, saved or audited, whatever has come due), a page of rows per short read
        transaction, so a review (K5) can walk a large store while hosts keep writing. Each
        `StoredRecord` holds the snapshot, its revision and its policy version; restore it
        under `catalog` to read it as `plan()` would."""
        return walk(self._db, "plan")

    def orders(self) -> Iterator[StoredRecord]:
        """Every stored order, as stored, in order id order: read-only, as `plans()`."""
        return walk(self._db, "order")

    # -- the audit log, the outbox, the month-start job -----------------------------------

    def audit(self, org_id: str) -> tuple[AuditEntry, ...]:
        """The organization's audit entries, oldest first (S4)."""
        named = arguments.name(org_id, "org_id")
        return audit_log.entries(self._db, named)

    def relay(self, outbox: Outbox, *, limit: int | None = None) -> int:
        """Deliver queued emails through any Outbox and mark them sent; returns how many (S3).

        Each goes out as a `QueuedEmail` (an `Email` with a stable `message_id`), at least once.
        """
        return mail.relay(self._db, outbox, self._backend.clock, limit=limit)

    def rollover(
        self,
        *,
        until: dt.datetime | None = None,
        batch_size: int = batches.BATCH_SIZE,
        progress: Callable[[int], object] | None = None,
    ) -> RolloverReport:
        """The month-start job in this process (one worker), under the store's catalog: see
        `support_flows.store.rollover`."""
        arguments.callback(progress, "progress", "S5")
        return batches.run(
            self._db,
            until=until,
            batch_size=batch_size,
            progress=progress,
            catalog=self._catalog,
        )
