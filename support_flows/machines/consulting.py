"""`ConsultingOrder`, the Flex Consulting order host applications drive (RULES.md F0-F7, T7): it
validates input, builds the facts, and runs the order chart (`consulting_chart`)."""

from __future__ import annotations

from typing import Any, Self

import pendulum

from support_flows.clock import Clock
from support_flows.codec import unstructure
from support_flows.guards.consulting import OrderFacts
from support_flows.inputs import flag, has_method, identifier, of_type, quantity
from support_flows.localtime import instant
from support_flows.machines.base_object import HELD, Held, ObjectBase
from support_flows.machines.consulting_book import OrderBook
from support_flows.machines.consulting_chart import COMPILED
from support_flows.machines.consulting_email import confirmation
from support_flows.machines.consulting_open import (
    FROM_POLICY,
    Bought,
    FromPolicy,
    buyer_email,
    catalog_of,
    new_book,
    quantities,
    sales_reference_of,
)
from support_flows.machines.consulting_record import book_from_snapshot
from support_flows.machines.engine import engine_for
from support_flows.outbox import Outbox
from support_flows.snapshots.consulting import OrderAction, OrderChannel, OrderEvent
from support_flows.values import Member, Organization
from support_flows.values.consulting import OrderState, Session, SessionStatus, UnitBalance
from support_flows.values.events import ConsultingEvent
from support_flows.values.policy import ATLAS, Catalog, Policy

__all__ = [
    "FROM_POLICY",
    "ConsultingOrder",
    "FromPolicy",
    "OrderAction",
    "OrderChannel",
    "OrderEvent",
    "OrderState",
    "Session",
    "SessionStatus",
    "UnitBalance",
]


class ConsultingOrder(ObjectBase[OrderBook]):
    """A Flex Consulting order, observed as of its clock's now (T7).

    Build one with `start_checkout`, `from_representative` or `restore`. Every public call holds
    the order's lock (V6) and refuses a call from inside itself (V7); a step that fails for any
    reason leaves the order as it was. Each request is decided under the catalog's version in
    force at its instant (K3); the order's terms are those of the version that decided its
    opening, whose id `policy` names (K4).
    """

    __slots__ = ("_catalog", "_org", "_outbox")

    def __init__(
        self,
        book: OrderBook,
        org: Organization,
        *,
        clock: Clock,
        outbox: Outbox,
        engine: str = "table",
        catalog: Catalog = ATLAS,
        _opening: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """The order `book` records; `_opening` is the request that opens a new one, made at
        its creation instant."""
        self._org = of_type(org, Organization, "org")
        self._catalog = catalog_of(catalog)
        self._outbox = has_method(outbox, "send", "outbox")
        self._setup(
            book,
            engine_for(COMPILED, engine),
            has_method(clock, "now", "clock"),
            f"order {book.terms.order_id!r}",
        )
        if _opening is not None:
            request, more = _opening
            with self._lock:
                self._run(request, opened=True, **more)

    # -- creating ---------------------------------------------------------------------------

    @classmethod
    def start_checkout(
        cls,
        org: Organization,
        *,
        units: int,
        actor: Member,
        clock: Clock,
        outbox: Outbox,
        hours_per_unit: int | FromPolicy = FROM_POLICY,
        validity_months: int | FromPolicy | None = FROM_POLICY,
        order_id: str | None = None,
        engine: str = "table",
        catalog: Catalog = ATLAS,
    ) -> Self:
        """A console order (F1), in `checkout` until `confirm()`.

        Input is checked first (quantities V4/F2); then the chart's checks, every failing one:
        the billing role (F1, the roles of the version in force now), and the buyer's e-mail
        address for the confirmation (F3). Hours per unit and validity not given are the
        version's (K1); the order keeps them whatever versions come later (K3).
        """
        of_type(actor, Member, "actor")
        bought = quantities(units, hours_per_unit, validity_months)
        return cls._open(
            org,
            clock,
            outbox,
            engine,
            catalog,
            order_id,
            OrderChannel.CONSOLE,
            actor.email,
            actor.user_id,
            None,
            bought,
            ConsultingEvent.START_CHECKOUT,
            {"actor": actor},
        )

    @classmethod
    def from_representative(
        cls,
        org: Organization,
        *,
        units: int,
        sales_reference: str,
        email: str,
        clock: Clock,
        outbox: Outbox,
        hours_per_unit: int | FromPolicy = FROM_POLICY,
        validity_months: int | FromPolicy | None = FROM_POLICY,
        order_id: str | None = None,
        engine: str = "table",
        catalog: Catalog = ATLAS,
    ) -> Self:
        """An order placed by a representative (F1): `purchased` at once, its email sent (F3).

        Input is checked first (quantities V4/F2, the buyer's email V5/F3); then the sales
        reference (F1). Hours per unit and validity not given are those of the version in force
        at the purchase (K1); the order keeps them whatever versions come later (K3).
        """
        bought = quantities(units, hours_per_unit, validity_months)
        buyer = buyer_email(email)
        reference = sales_reference_of(sales_reference)
        return cls._open(
            org,
            clock,
            outbox,
            engine,
            catalog,
            order_id,
            OrderChannel.REPRESENTATIVE,
            buyer,
            None,
            reference,
            bought,
            ConsultingEvent.BUY_FROM_REPRESENTATIVE,
            {"sales_reference": reference},
        )

    @classmethod
    def _open(
        cls,
        org: object,
        clock: object,
        outbox: object,
        engine: str,
        catalog: object,
        order_id: object,
        channel: OrderChannel,
        buyer: str | None,
        requested_by: str | None,
        reference: str | None,
        bought: Bought,
        request: str,
        more: dict[str, Any],
    ) -> Self:
        """The order, its opening `request` made at its creation instant."""
        organization = of_type(org, Organization, "org")
        has_method(outbox, "send", "outbox")
        versions = catalog_of(catalog)
        book = new_book(
            organization, clock, order_id, channel, buyer, requested_by, reference, bought, versions
        )
        return cls(
            book,
            organization,
            clock=clock,  # type: ignore[arg-type]
            outbox=outbox,  # type: ignore[arg-type]
            engine=engine,
            catalog=versions,
            _opening=(request, more),
        )

    @classmethod
    def restore(
        cls,
        data: object,
        org: Organization,
        *,
        clock: Clock,
        outbox: Outbox,
        engine: str = "table",
        catalog: Catalog = ATLAS,
    ) -> Self:
        """The order a `snapshot()` describes; it never resends the confirmation email.

        Anything that is not a snapshot this library wrote is refused with `invalid_snapshot`,
        a snapshot decided under a version `catalog` lacks included (K4). A version-2 snapshot
        (written before policies) is read as decided under Atlas's policy, version ``atlas``.
        """
        organization = of_type(org, Organization, "org")
        versions = catalog_of(catalog)
        book = book_from_snapshot(data, organization, versions)
        return cls(book, organization, clock=clock, outbox=outbox, engine=engine, catalog=versions)

    # -- reading (T7: each read first applies what has come due) ------------------------------

    @property
    def order_id(self) -> str:
        return self._book.terms.order_id

    @property
    def org(self) -> Organization:
        """The organization the order belongs to (its billing timezone, F6)."""
        return self._org

    @property
    def state(self) -> OrderState:
        return self._read(lambda b: OrderState(b.state))

    @property
    def units(self) -> UnitBalance:
        return self._read(lambda b: b.units)

    @property
    def expires_at(self) -> pendulum.DateTime | None:
        return self._read(lambda b: b.expires_at)

    @property
    def purchased_at(self) -> pendulum.DateTime | None:
        return self._read(lambda b: b.purchased_at)

    @property
    def hours_per_unit(self) -> int:
        return self._book.terms.hours_per_unit

    @property
    def validity_months(self) -> int | None:
        """The months the units stay valid from the purchase (F6), None for no limit."""
        return self._book.terms.validity_months

    @property
    def policy(self) -> str:
        """The id of the catalog version that decided the order's opening: its terms (K4)."""
        return self._book.terms.policy

    @property
    def catalog(self) -> Catalog:
        """The catalog the order's requests are decided under (K)."""
        return self._catalog

    @property
    def sessions(self) -> tuple[Session, ...]:
        return self._read(lambda b: tuple(b.sessions))

    @property
    def history(self) -> tuple[OrderEvent, ...]:
        return self._read(lambda b: tuple(b.history))

    @property
    def next_due_at(self) -> pendulum.DateTime | None:
        """When the clock next applies something (the expiry, F6), or None."""
        return self._read(OrderBook.next_due_at)

    def to_dict(self) -> dict[str, Any]:
        """The order as a host shows it: JSON-safe, instants as ISO 8601 UTC."""
        return self._read(OrderBook.view)

    def snapshot(self, *, history: bool | Held = HELD) -> dict[str, Any]:
        """A JSON-serialisable dict; `ConsultingOrder.restore` turns it back into this order.

        `history=False` leaves the history out (a store keeps it in its audit log).
        """
        if self._heard is None:  # nobody listens (the "order request" rows)
            return self._snapshot(history)
        return self._call("snapshot", {"history": history}, lambda: self._snapshot(history))

    def _snapshot(self, history: bool | Held) -> dict[str, Any]:
        whole = history is HELD or flag(history, "history")
        return self._read(lambda b: unstructure(b.snapshot(history=whole)))

    def __repr__(self) -> str:
        """For debugging: it takes no lock and applies nothing due, so it answers anywhere, from
        inside the order's own callbacks too (V7 refuses every other call there)."""
        b = self._book
        return f"ConsultingOrder({b.terms.order_id!r}, state={b.state!r}, units={b.units!r})"

    # -- acting -------------------------------------------------------------------------------

    def apply_due(self) -> tuple[OrderEvent, ...]:
        """Apply the expiry if it has come (F6), at its recorded instant; return what it applied."""
        return self._call("apply_due", {}, self._apply_due)

    def _apply_due(self) -> tuple[OrderEvent, ...]:
        with self._lock:
            return self._atomic(lambda: self._expire_until(self._now()))

    def confirm(self) -> None:
        """Checkout -> purchased, queuing the one confirmation email (F1, F3).

        Past checkout it does nothing (replays are safe). The email goes to the outbox once the
        purchase is complete, still inside this call: if the outbox raises (whatever it raises,
        a `reentrant_call` refusal of a confirm it tried included), the order stays in checkout,
        the error propagates, and a later `confirm()` sends the email once.
        """
        self._call("confirm", {}, self._confirm)

    def _confirm(self) -> None:
        with self._lock:
            self._atomic(self._confirming)

    def _confirming(self) -> None:
        now = self._now()
        self._expire_until(now)
        if self._book.state == OrderState.CHECKOUT:
            self._step(ConsultingEvent.CONFIRM, now)

    def schedule(self, *, start: pendulum.DateTime, hours: int, actor: Member) -> Session:
        """Book a session of whole units (F0, F4, F6); input (T1, V4, V5) is checked first."""
        if self._heard is None:  # nobody listens (the "order request, writing" rows)
            return self._schedule(start, hours, actor)
        return self._call(
            "schedule",
            {"start": start, "hours": hours, "actor": actor},
            lambda: self._schedule(start, hours, actor),
        )

    def _schedule(self, start: pendulum.DateTime, hours: int, actor: Member) -> Session:
        of_type(actor, Member, "actor")
        begins = instant(start, "session start")
        booked = quantity(hours, "hours")
        with self._lock:
            self._run(ConsultingEvent.SCHEDULE, actor=actor, start=begins, hours=booked)
            return self._book.sessions[-1]

    def cancel_session(self, session_id: str, *, actor: Member | None = None) -> Session:
        """Cancel a booked session before it starts; its units return to available (F5)."""
        return self._call(
            "cancel_session",
            {"session_id": session_id, "actor": actor},
            lambda: self._close(ConsultingEvent.CANCEL_SESSION, session_id, actor),
        )

    def deliver(self, session_id: str, *, actor: Member | None = None) -> Session:
        """Record a booked session as delivered, at or after its start, consuming its units (F5)."""
        return self._call(
            "deliver",
            {"session_id": session_id, "actor": actor},
            lambda: self._close(ConsultingEvent.DELIVER, session_id, actor),
        )

    # -- internals ----------------------------------------------------------------------------

    def _observe(self, now: pendulum.DateTime) -> None:
        if self._book.expiry_due(now):
            self._atomic(lambda: self._expire_until(now))

    def _settle(self) -> None:
        """The emails the step queued, sent once it is complete (F3); raising undoes it."""
        book = self._book
        for _ in range(book.confirmations_due):
            self._outbox.send(confirmation(book, book.terms.timezone))
        book.commit()

    def _save(self, book: OrderBook) -> Any:
        """The saved fields, and the sessions as they are (a closed one is replaced in place)."""
        return (book.save(), tuple(book.sessions))

    def _restore(self, book: OrderBook, saved: Any) -> None:
        fields, sessions = saved
        book.restore(fields)
        book.sessions[:] = sessions

    def _facts(self, request: str, now: pendulum.DateTime, **more: Any) -> OrderFacts:
        b = self._book
        policy = more.pop("policy", None) or self._policy_at(now)
        return OrderFacts(
            self._org,
            more.pop("actor", None),
            request,
            now,
            b.state,
            b.units,
            b.terms.hours_per_unit,
            b.expires_at,
            b.validity_ended,
            policy=policy,
            **more,
        )

    def _policy_at(self, now: pendulum.DateTime) -> Policy:
        """K3: the version in force at the request's instant (T8's floor already applied)."""
        return self._catalog.at(now)

    def _expire_until(self, now: pendulum.DateTime) -> tuple[OrderEvent, ...]:
        book = self._book
        if not book.expiry_due(now):
            return ()
        assert book.expires_at is not None
        # The expiry applies the validity the opening version gave the order: its terms (K3).
        opening = self._catalog[book.terms.policy]
        expire = ConsultingEvent.EXPIRE
        self._engine.run(book, expire, self._facts(expire, book.expires_at, policy=opening))
        return (book.history[-1],)

    def _step(self, request: str, now: pendulum.DateTime, **more: Any) -> None:
        """One request, at `now`: the one clock reading of the public call that makes it."""
        self._engine.run(self._book, request, self._facts(request, now, **more))

    def _run(self, request: str, opened: bool = False, **more: Any) -> None:
        """One request in its own atomic step; the caller holds the lock. The request that opens
        the order is made at its creation instant."""

        def step() -> None:
            now = self._book.terms.created_at if opened else self._now()
            self._expire_until(now)
            self._step(request, now, **more)

        self._atomic(step)

    def _close(self, request: str, session_id: object, actor: object) -> Session:
        if actor is not None:
            of_type(actor, Member, "actor")
        named = identifier(session_id, "session_id")
        with self._lock:

            def step() -> Session:
                now = self._now()
                self._expire_until(now)
                session = self._book.session(named)
                self._step(request, now, actor=actor, session_id=named, session=session)
                closed = self._book.session(named)
                assert closed is not None
                return closed

            return self._atomic(step)
