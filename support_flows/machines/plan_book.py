"""The plan chart's model: the mutable record that the chart's actions change (P4-P15, P20)."""

from __future__ import annotations

from typing import Any

import attrs
import pendulum

from support_flows.localtime import add_wall_days, next_month_start
from support_flows.machines.plan_records import (
    BillingPeriod,
    EndedPlan,
    HistoryEntry,
    PendingChange,
    Trial,
    close_open,
)
from support_flows.values import PlanState, Tier

TRIAL_DAYS = 30
RETROACTIVE_DAYS = 90


@attrs.frozen
class Due:
    """Something the clock applies when it comes due: the trial's end or a pending change."""

    at: pendulum.DateTime
    event: str
    tier: PlanState


@attrs.define
class PlanBook:
    """A plan's record. Only the chart's actions change it; the facade reads it."""

    timezone: str
    state: PlanState = PlanState.BASIC
    trial: Trial | None = None
    pending: PendingChange | None = None
    periods: tuple[BillingPeriod, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    last_plan: EndedPlan | None = None

    def next_month(self, now: pendulum.DateTime) -> pendulum.DateTime:
        return next_month_start(now, self.timezone)

    def next_due(self) -> Due | None:
        if self.trial is not None:
            return Due(self.trial.ends_at, "end_trial", PlanState.DEVELOPER)
        if self.pending is not None:
            return Due(self.pending.effective_at, "apply_pending", self.pending.target)
        return None

    def last_change_applied(self) -> bool:
        """Whether a pending change took effect with no request after it (P12)."""
        for entry in reversed(self.history):
            if entry.is_request:
                return False
            if entry.event == "apply_pending":
                return True
        return False

    def timeline(self) -> tuple[BillingPeriod, ...]:
        """Billed periods, including what the trial's end or the pending change schedules (P20)."""
        periods = self.periods
        if self.trial is not None:
            periods = after_trial(periods, self.trial)
        if self.pending is not None:
            periods = after_pending(periods, self.pending)
        return periods

    # Actions, called by the chart on its transitions.

    def begin_trial(self, now: pendulum.DateTime) -> None:
        self.trial = Trial(now, add_wall_days(now, TRIAL_DAYS, self.timezone))

    def begin_premium(self, now: pendulum.DateTime) -> None:
        self.periods += (BillingPeriod(Tier.PREMIUM, self.next_month(now)),)

    def upgrade_from_trial(self, now: pendulum.DateTime) -> None:
        assert self.trial is not None
        starts = min(self.next_month(now), self.trial.ends_at)
        self.trial = None
        self.periods += (BillingPeriod(Tier.PREMIUM, starts),)

    def upgrade_from_developer(self, now: pendulum.DateTime) -> None:
        starts = self.next_month(now)
        self.pending = None
        self.periods = (*close_open(self.periods, starts), BillingPeriod(Tier.PREMIUM, starts))

    def schedule_downgrade(self, now: pendulum.DateTime, actor_id: str) -> None:
        self.pending = PendingChange(PlanState.DEVELOPER, self.next_month(now), now, actor_id)

    def schedule_cancel(self, now: pendulum.DateTime, actor_id: str) -> None:
        if self.pending is not None and self.pending.target is PlanState.CANCELLED:
            return
        self.pending = PendingChange(PlanState.CANCELLED, self.next_month(now), now, actor_id)

    def cancel_trial(self, now: pendulum.DateTime) -> None:
        self.trial = None
        self.last_plan = EndedPlan(PlanState.TRIAL, now)

    def drop_pending(self) -> None:
        self.pending = None

    def convert_trial(self) -> None:
        assert self.trial is not None
        self.periods = after_trial(self.periods, self.trial)
        self.trial = None

    def apply_downgrade(self) -> None:
        assert self.pending is not None
        self.periods = after_pending(self.periods, self.pending)
        self.pending = None

    def apply_cancel(self, source: Any) -> None:
        assert self.pending is not None
        self.periods = after_pending(self.periods, self.pending)
        self.last_plan = EndedPlan(PlanState(source.value), self.pending.effective_at)
        self.pending = None

    def reactivate_plan(self, now: pendulum.DateTime, tier: Tier) -> None:
        assert self.last_plan is not None
        ended = self.last_plan
        if tier is Tier.PREMIUM and ended.state in (PlanState.TRIAL, PlanState.DEVELOPER):
            self.periods += (BillingPeriod(Tier.PREMIUM, self.next_month(now)),)
            return
        floor = add_wall_days(now, -RETROACTIVE_DAYS, self.timezone)
        starts = max(ended.ended_at, floor)
        self.periods += (BillingPeriod(tier, starts, None, retroactive=True),)

    def record(
        self,
        event: str,
        source: PlanState,
        now: pendulum.DateTime,
        actor_id: str | None = None,
        tier: Tier | None = None,
    ) -> HistoryEntry:
        """Append what just happened to the history (P10: every request is kept)."""
        scheduled = None
        if self.pending is not None and event in ("downgrade", "cancel"):
            scheduled = self.pending.effective_at
        entry = HistoryEntry(now, event, source, self.state, actor_id, tier, scheduled)
        self.history += (entry,)
        return entry


def after_trial(periods: tuple[BillingPeriod, ...], trial: Trial) -> tuple[BillingPeriod, ...]:
    """Developer billing from the trial's end (P6)."""
    return (*periods, BillingPeriod(Tier.DEVELOPER, trial.ends_at))


def after_pending(
    periods: tuple[BillingPeriod, ...], pending: PendingChange
) -> tuple[BillingPeriod, ...]:
    """The current period ends at the effective instant; a downgrade bills developer (P9)."""
    periods = close_open(periods, pending.effective_at)
    if pending.target is PlanState.DEVELOPER:
        periods = (*periods, BillingPeriod(Tier.DEVELOPER, pending.effective_at))
    return periods
