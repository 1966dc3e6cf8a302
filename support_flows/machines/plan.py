"""`SupportPlan`, the object host applications drive through the plan chart (RULES.md P)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, TypeVar

import pendulum

from support_flows.clock import Clock
from support_flows.errors import Decision, Reason, describe, invalid
from support_flows.guards.plan import REQUESTS, PlanFacts
from support_flows.inputs import choice, flag, has_method, of_type
from support_flows.machines.base_object import HELD, Held, ObjectBase
from support_flows.machines.engine import engine_for
from support_flows.machines.plan_book import PlanBook
from support_flows.machines.plan_chart import COMPILED, apply_until
from support_flows.machines.plan_record import book_from_snapshot, snapshot_of
from support_flows.values import Channel, Member, Organization, PlanState, Tier, parse
from support_flows.values.events import PlanRequest
from support_flows.values.plan import (
    BillingPeriod,
    HistoryEntry,
    PendingChange,
    Trial,
)
from support_flows.values.policy import ATLAS, Catalog, Policy

__all__ = [
    "SupportPlan",
]

T = TypeVar("T")


class SupportPlan(ObjectBase[PlanBook]):
    """One organization's support plan, observed as of its clock's now (T7).

    Every public call holds the plan's lock (V6), refuses a call from inside itself (V7) and
    reads the clock once; a step that fails for any reason leaves the plan as it was. Listeners
    (`listen`) are told each request, its outcome and each edge taken; `memento` / `rewind` go
    back to an earlier point.
    """

    __slots__ = ("_only", "catalog", "org")

    def __init__(
        self,
        org: Organization,
        *,
        clock: Clock,
        engine: str = "table",
        catalog: Catalog = ATLAS,
        _book: PlanBook | None = None,
    ) -> None:
        self.org = of_type(org, Organization, "org")
        self.catalog = of_type(catalog, Catalog, "catalog")
        # A catalog of one version decides every request with it: no lookup per request.
        self._only = catalog.versions[0] if len(catalog.versions) == 1 else None
        self._setup(
            _book if _book is not None else PlanBook(org.billing_timezone),
            engine_for(COMPILED, engine),
            has_method(clock, "now", "clock"),
            f"the support plan of organization {self.org.org_id!r}",
        )

    # Reads: each first applies what has come due (T7).

    @property
    def state(self) -> PlanState:
        return self._read(lambda book: book.state)

    @property
    def pending(self) -> PendingChange | None:
        return self._read(lambda book: book.pending)

    @property
    def trial(self) -> Trial | None:
        return self._read(lambda book: book.trial)

    @property
    def billing(self) -> tuple[BillingPeriod, ...]:
        return self._read(PlanBook.timeline)

    @property
    def entitlements(self) -> frozenset[Channel]:
        """P17 under the policy in force now (K1's `case_states`)."""
        return self._read_under_policy(lambda book, policy: policy.entitlements(book.state))

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        return self._read(lambda book: tuple(book.history))

    @property
    def next_due_at(self) -> pendulum.DateTime | None:
        """When the clock next applies something (the trial's end or the pending change), or
        None: what a month-start job indexes to find the plans it must visit."""
        return self._read(lambda book: due[0] if (due := book.next_due()) else None)

    def to_dict(self) -> dict[str, Any]:
        """The plan as a host shows it: JSON-safe, instants as ISO 8601 UTC."""
        return self._read_under_policy(
            lambda book, policy: {
                "org_id": self.org.org_id,
                "state": book.state.value,
                "pending": book.pending.to_dict() if book.pending else None,
                "trial": book.trial.to_dict() if book.trial else None,
                "billing": [period.to_dict() for period in book.timeline()],
                "entitlements": sorted(
                    channel.value for channel in policy.entitlements(book.state)
                ),
            }
        )

    def check(self, action: str, actor: Member, tier: Tier | str | None = None) -> Decision:
        """Whether `action` ("change", "cancel", "revoke_pending") would be accepted now: the
        guards of the edge its event would take, never building a chart."""
        choice(action, REQUESTS, "action")
        with self._lock:
            facts, event = self._request(action, actor, tier)
            return Decision(COMPILED.decide(facts.state, event, facts))

    # Actions: each reads the clock once, applies what is due, then takes one edge or refuses.

    def change(self, tier: Tier | str, actor: Member) -> HistoryEntry:
        """Subscribe, upgrade, downgrade, reactivate, or revoke by re-choosing; "basic" cancels."""
        if self._heard is None:  # nobody listens ("one event on a live plan")
            return self._act(PlanRequest.CHANGE, actor, tier)
        return self._call(
            "change",
            {"tier": tier, "actor": actor},
            lambda: self._act(PlanRequest.CHANGE, actor, tier),
        )

    def cancel(self, actor: Member) -> HistoryEntry:
        """Cancel: at once during the trial (P7), otherwise at the next month's start (P9)."""
        return self._call(
            "cancel", {"actor": actor}, lambda: self._act(PlanRequest.CANCEL, actor, None)
        )

    def revoke_pending(self, actor: Member) -> HistoryEntry:
        """Drop the pending downgrade or cancel before it takes effect (P12)."""
        return self._call(
            "revoke_pending",
            {"actor": actor},
            lambda: self._act(PlanRequest.REVOKE_PENDING, actor, None),
        )

    def apply_due(self) -> tuple[HistoryEntry, ...]:
        """Apply, at their recorded instants, the trial's end and pending changes now due (P14)."""
        if self._heard is None:  # nobody listens ("per object" rollover)
            return self._apply_due()
        return self._call("apply_due", {}, self._apply_due)

    def snapshot(self, *, history: bool | Held = HELD) -> dict[str, Any]:
        """A JSON-serialisable record of this plan; `restore` gives back an equal plan.

        `history=False` leaves the history out (a store keeps it in its audit log): the record
        still holds everything the rules need, and restoring it costs the same however long the
        history was. A plan restored from such a snapshot holds only what happened since, and
        writes no history either way.
        """
        if self._heard is None:  # nobody listens (the "request" rows and "per object" rollover)
            return self._snapshot(history)
        return self._call("snapshot", {"history": history}, lambda: self._snapshot(history))

    @classmethod
    def restore(
        cls,
        data: object,
        org: Organization,
        *,
        clock: Clock,
        engine: str = "table",
        catalog: Catalog = ATLAS,
    ) -> Self:
        """The plan `snapshot()` wrote; anything else is refused whole (V2), as is a record
        naming a version `catalog` lacks or holding facts that version's terms do not give (K4).
        A version-2 snapshot (before policies) is read as decided under `atlas`."""
        of_type(org, Organization, "org")
        book = book_from_snapshot(data, org, of_type(catalog, Catalog, "catalog"))
        return cls(org, clock=clock, engine=engine, catalog=catalog, _book=book)

    def __repr__(self) -> str:
        return f"SupportPlan({self.org.org_id!r}, state={self._book.state.value!r})"

    # Internals.

    def _snapshot(self, history: bool | Held) -> dict[str, Any]:
        whole = history is HELD or flag(history, "history")
        return self._read(lambda book: snapshot_of(book, self.org, history=whole))

    def _apply_due(self) -> tuple[HistoryEntry, ...]:
        with self._lock:
            return self._atomic(lambda: self._apply_until(self._now()))

    def _save(self, book: PlanBook) -> Any:
        """The whole record (its fields are values; the history is copied), so a plan of the
        same organization can rewind to it too."""
        return (book.save(), tuple(book.history), book.history_complete)

    def _restore(self, book: PlanBook, saved: Any) -> None:
        fields, history, complete = saved
        book.restore(fields)
        book.history[:] = history
        book.history_complete = complete

    def _takes_from(self, other: object) -> bool:
        return type(other) is type(self) and other.org == self.org

    def _observe(self, now: pendulum.DateTime) -> None:
        due = self._book.next_due()
        if due is not None and due[0] <= now:
            self._atomic(lambda: self._apply_until(now))

    def _apply_until(self, now: pendulum.DateTime) -> tuple[HistoryEntry, ...]:
        return apply_until(self._book, self.org, self._engine, now, self.catalog)

    def _read_under_policy(self, read: Callable[[PlanBook, Policy], T]) -> T:
        """A read as of the clock's now (T7), with the version in force then (K2): the clock
        read once."""
        with self._lock:
            now = self._now()
            self._observe(now)
            return read(self._book, self.catalog.at(now))

    def _request(
        self, action: str, actor: Member, tier: Tier | str | None
    ) -> tuple[PlanFacts, str]:
        if action not in REQUESTS:
            raise invalid(
                Reason.INVALID_VALUE,
                "V1",
                f"unknown action {describe(action)}; accepted: {', '.join(REQUESTS)}",
            )
        of_type(actor, Member, "actor")
        chosen: Tier | None
        if action == PlanRequest.CHANGE:
            chosen = parse(Tier, tier, "tier")
        else:
            chosen = Tier.BASIC if action == PlanRequest.CANCEL else None
        now = self._now()
        self._observe(now)
        book = self._book
        facts = PlanFacts(
            self.org,
            actor,
            action,
            chosen,
            book.state,
            book.pending,
            book.last_change_applied,
            now,
            self._only or self.catalog.at(now),
        )
        return facts, COMPILED.route(book.state, action, chosen)

    def _act(self, action: str, actor: Member, tier: Tier | str | None) -> HistoryEntry:
        with self._lock:
            return self._atomic(lambda: self._take(action, actor, tier))

    def _take(self, action: str, actor: Member, tier: Tier | str | None) -> HistoryEntry:
        facts, event = self._request(action, actor, tier)
        self._engine.run(self._book, event, facts)
        return self._book.record(
            event, facts.state, facts.now, facts.actor_id, facts.tier, facts.policy.version
        )
