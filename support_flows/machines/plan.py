"""The support plan lifecycle: its chart and `SupportPlan`, the object host applications drive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum
from statemachine import State

from support_flows.clock import Clock
from support_flows.errors import Decision, Reason, error_for, invalid
from support_flows.guards.plan import (
    ENTITLEMENTS,
    IN_FORCE,
    PlanFacts,
    billing_role_required,
    cross_org_billing,
    failing,
    pending_change_required,
)
from support_flows.localtime import instant
from support_flows.machines._base import BaseChart
from support_flows.machines.plan_book import PlanBook
from support_flows.machines.plan_records import (
    BillingPeriod,
    EndedPlan,
    HistoryEntry,
    PendingChange,
    Trial,
)
from support_flows.snapshots import structure, unstructure
from support_flows.values import Channel, Member, Organization, PlanState, Tier, parse

SNAPSHOT_VERSION = 1


def to_developer(tier: str) -> bool:
    return tier == "developer"


def to_premium(tier: str) -> bool:
    return tier == "premium"


def to_cancelled(tier: str) -> bool:
    return tier == "cancelled"


PURCHASE = [billing_role_required, cross_org_billing]
ROLE = [billing_role_required]
REVOKE = [billing_role_required, pending_change_required]


class PlanChart(BaseChart):
    """basic -> trial -> developer / premium -> cancelled, as a reviewer reads it (RULES.md P)."""

    basic = State("Basic", value=PlanState.BASIC, initial=True)
    trial = State("Trial", value=PlanState.TRIAL)
    developer = State("Developer", value=PlanState.DEVELOPER)
    premium = State("Premium", value=PlanState.PREMIUM)
    cancelled = State("Cancelled", value=PlanState.CANCELLED)

    subscribe = basic.to(trial, cond=to_developer, unless=PURCHASE, on="begin_trial") | basic.to(
        premium, cond=to_premium, unless=PURCHASE, on="begin_premium"
    )
    upgrade = trial.to(premium, unless=PURCHASE, on="upgrade_from_trial") | developer.to(
        premium, unless=PURCHASE, on="upgrade_from_developer"
    )
    downgrade = premium.to.itself(internal=True, unless=ROLE, on="schedule_downgrade")
    cancel = (
        trial.to(cancelled, unless=ROLE, on="cancel_trial")
        | developer.to.itself(internal=True, unless=ROLE, on="schedule_cancel")
        | premium.to.itself(internal=True, unless=ROLE, on="schedule_cancel")
    )
    revoke = developer.to.itself(internal=True, unless=REVOKE, on="drop_pending") | (
        premium.to.itself(internal=True, unless=REVOKE, on="drop_pending")
    )
    end_trial = trial.to(developer, on="convert_trial")
    apply_pending = (
        premium.to(developer, cond=to_developer, on="apply_downgrade")
        | developer.to(cancelled, cond=to_cancelled, on="apply_cancel")
        | premium.to(cancelled, cond=to_cancelled, on="apply_cancel")
    )
    reactivate = cancelled.to(
        developer, cond=to_developer, unless=PURCHASE, on="reactivate_plan"
    ) | cancelled.to(premium, cond=to_premium, unless=PURCHASE, on="reactivate_plan")


@attrs.frozen
class PlanSnapshot:
    """What `SupportPlan.snapshot()` writes."""

    version: int
    org_id: str
    state: PlanState
    trial: Trial | None
    pending: PendingChange | None
    periods: tuple[BillingPeriod, ...]
    history: tuple[HistoryEntry, ...]
    last_plan: EndedPlan | None


ACTIONS = ("change", "cancel", "revoke_pending")


class SupportPlan:
    """One organization's support plan, observed as of its clock's now (T7)."""

    def __init__(self, org: Organization, *, clock: Clock, _book: PlanBook | None = None) -> None:
        if not isinstance(org, Organization):
            raise invalid(Reason.INVALID_VALUE, "V1", f"expected an Organization, got {org!r}")
        self.org = org
        self.clock = clock
        self._book = _book if _book is not None else PlanBook(org.billing_timezone)
        self._chart = PlanChart(self._book, clock=clock)

    # Reads: each first applies what has come due (T7).

    @property
    def state(self) -> PlanState:
        return self._observe().state

    @property
    def pending(self) -> PendingChange | None:
        return self._observe().pending

    @property
    def trial(self) -> Trial | None:
        return self._observe().trial

    @property
    def billing(self) -> tuple[BillingPeriod, ...]:
        return self._observe().timeline()

    @property
    def entitlements(self) -> frozenset[Channel]:
        return ENTITLEMENTS[self._observe().state]

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        return self._observe().history

    def check(self, action: str, actor: Member, tier: Tier | str | None = None) -> Decision:
        """Whether `action` ("change", "cancel", "revoke_pending") would be accepted now."""
        return Decision(failing(action, self._facts(action, actor, tier, self._now())))

    # Actions: each reads the clock once, applies what is due, then checks every rule.

    def change(self, tier: Tier | str, actor: Member) -> HistoryEntry:
        """Subscribe, upgrade, downgrade, reactivate, or revoke by re-choosing; "basic" cancels."""
        return self._act("change", actor, tier)

    def cancel(self, actor: Member) -> HistoryEntry:
        """Cancel: at once during the trial (P7), otherwise at the next month's start (P9)."""
        return self._act("cancel", actor, None)

    def revoke_pending(self, actor: Member) -> HistoryEntry:
        """Drop the pending downgrade or cancel before it takes effect (P12)."""
        return self._act("revoke_pending", actor, None)

    def apply_due(self) -> tuple[HistoryEntry, ...]:
        """Apply, at their recorded instants, the trial's end and pending changes now due (P14)."""
        return self._apply_until(self._now())

    def snapshot(self) -> dict[str, Any]:
        """A JSON-serialisable record of this plan; `restore` gives back an equal plan."""
        book = self._observe()
        record = PlanSnapshot(
            SNAPSHOT_VERSION,
            self.org.org_id,
            book.state,
            book.trial,
            book.pending,
            book.periods,
            book.history,
            book.last_plan,
        )
        return unstructure(record)

    @classmethod
    def restore(cls, data: object, org: Organization, *, clock: Clock) -> SupportPlan:
        """The plan `snapshot()` wrote; anything else is refused whole (V2)."""
        record = structure(data, PlanSnapshot, "support plan")
        _check_record(record, org)
        book = PlanBook(
            org.billing_timezone,
            PlanState(PlanChart.check_state_name(record.state.value)),
            record.trial,
            record.pending,
            record.periods,
            record.history,
            record.last_plan,
        )
        return cls(org, clock=clock, _book=book)

    def __repr__(self) -> str:
        return f"SupportPlan({self.org.org_id!r}, state={self._book.state.value!r})"

    # Internals.

    def _now(self) -> pendulum.DateTime:
        return instant(self.clock.now(), "clock time")

    def _observe(self) -> PlanBook:
        self._apply_until(self._now())
        return self._book

    def _apply_until(self, now: dt.datetime) -> tuple[HistoryEntry, ...]:
        applied = []
        while (due := self._book.next_due()) is not None and due.at <= now:
            source = self._book.state
            self._chart.fire(due.event, now=due.at, tier=due.tier)
            applied.append(self._book.record(due.event, source, due.at))
        return tuple(applied)

    def _facts(
        self, action: str, actor: Member, tier: Tier | str | None, now: dt.datetime
    ) -> PlanFacts:
        if action not in ACTIONS:
            raise invalid(
                Reason.INVALID_VALUE,
                "V1",
                f"unknown action {action!r}; accepted: {', '.join(ACTIONS)}",
            )
        if not isinstance(actor, Member):
            raise invalid(Reason.INVALID_VALUE, "V1", f"actor must be a Member, got {actor!r}")
        self._apply_until(now)
        book = self._book
        if action == "change":
            if tier is None:
                raise invalid(Reason.INVALID_VALUE, "V1", "a change needs a tier")
            chosen = parse(Tier, tier, "tier")
        else:
            chosen = Tier.BASIC if action == "cancel" else IN_FORCE[book.state]
        pending = book.pending.target if book.pending is not None else None
        return PlanFacts(self.org, actor, book.state, chosen, pending, book.last_change_applied())

    def _act(self, action: str, actor: Member, tier: Tier | str | None) -> HistoryEntry:
        now = self._now()
        facts = self._facts(action, actor, tier, now)
        reasons = failing(action, facts)
        event = "revoke" if action == "revoke_pending" else facts.event
        if reasons:
            raise error_for(reasons)
        assert event is not None, "every choice without an event fails a check (P2, P11, P13)"
        self._chart.fire(event, now=now, facts=facts, tier=facts.tier, actor_id=actor.user_id)
        return self._book.record(event, facts.state, now, actor.user_id, facts.tier)


def _check_record(record: PlanSnapshot, org: Organization) -> None:
    problems = []
    if record.version != SNAPSHOT_VERSION:
        problems.append(f"version {record.version} (this library writes {SNAPSHOT_VERSION})")
    if record.org_id != org.org_id:
        problems.append(f"org_id {record.org_id!r} but restored for {org.org_id!r}")
    if (record.state is PlanState.TRIAL) != (record.trial is not None):
        problems.append(f"state {record.state.value!r} with trial {record.trial!r}")
    if record.pending is not None and record.state not in (
        PlanState.DEVELOPER,
        PlanState.PREMIUM,
    ):
        problems.append(f"a pending change in state {record.state.value!r}")
    if record.state is PlanState.CANCELLED and record.last_plan is None:
        problems.append("state 'cancelled' without the plan that ended")
    if problems:
        raise invalid(
            Reason.INVALID_SNAPSHOT,
            "V2",
            "not a support plan snapshot this library wrote: " + "; ".join(problems),
        )
