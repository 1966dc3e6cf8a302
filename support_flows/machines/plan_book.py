"""The plan chart's model: the record that the chart's actions change (P4-P15, P20, P21)."""

from __future__ import annotations

import operator
from typing import Any

import pendulum

from support_flows.guards.plan import PlanFacts
from support_flows.localtime import add_wall_days, next_month_start
from support_flows.machines.engine import action
from support_flows.machines.plan_billing import Periods, after_pending, after_trial, close_open
from support_flows.values import PlanState, Tier
from support_flows.values.events import PlanEvent
from support_flows.values.plan import (
    IN_FORCE,
    BillingPeriod,
    EndedPlan,
    HistoryEntry,
    PendingChange,
    Trial,
)

__all__ = ["PlanBook"]

_SCHEDULING = frozenset({PlanEvent.DOWNGRADE, PlanEvent.CANCEL})
"""The requests that leave a change pending (P9, P10): their entries record its instant."""


_FIELDS = (
    "state",
    "trial",
    "pending",
    "periods",
    "since",
    "last_plan",
    "last_change_applied",
    "trial_started_at",
    "recorded_at",
)
_SAVED = operator.attrgetter(*_FIELDS)


class PlanBook:
    """A plan's record. Only the chart's actions (and `record`) change it; the facade reads it.

    `since` is when the current state began (None on basic); `trial_started_at` when the one
    trial began (P4); `last_change_applied` whether a pending change took effect with no request
    since (P12); `recorded_at` the instant of the latest history entry (T8). `history` only
    grows, so an action costs the same however long it is; `history_complete` is False when the
    record was restored without its history (only what happened since is held).
    """

    __slots__ = ("history", "history_complete", "timezone", *_FIELDS)
    # The state a chart target names: a dict lookup (calling an enum class is slow).
    state_of = staticmethod(PlanState._value2member_map_.__getitem__)

    def __init__(
        self,
        timezone: str,
        state: PlanState = PlanState.BASIC,
        trial: Trial | None = None,
        pending: PendingChange | None = None,
        periods: tuple[BillingPeriod, ...] = (),
        since: pendulum.DateTime | None = None,
        last_plan: EndedPlan | None = None,
        history: list[HistoryEntry] | None = None,
        last_change_applied: bool = False,
        trial_started_at: pendulum.DateTime | None = None,
        recorded_at: pendulum.DateTime | None = None,
    ) -> None:
        self.timezone = timezone
        self.state = state
        self.trial = trial
        self.pending = pending
        self.periods = periods
        self.since = since
        self.last_plan = last_plan
        self.history: list[HistoryEntry] = [] if history is None else history
        self.last_change_applied = last_change_applied
        self.trial_started_at = trial_started_at
        self.recorded_at = recorded_at
        self.history_complete = True

    def save(self) -> tuple[Any, ...]:
        """What `restore` needs to undo a step that failed half-way."""
        return (_SAVED(self), len(self.history))

    def restore(self, saved: tuple[Any, ...]) -> None:
        values, length = saved
        for name, value in zip(_FIELDS, values, strict=True):
            setattr(self, name, value)
        del self.history[length:]

    def next_month(self, now: pendulum.DateTime) -> pendulum.DateTime:
        return next_month_start(now, self.timezone)

    def due_policy(self) -> str:
        """The version whose terms scheduled what the clock applies next (K3, K4)."""
        if self.trial is not None:
            return self.trial.policy
        assert self.pending is not None
        return self.pending.policy

    def next_due(self) -> tuple[pendulum.DateTime, str] | None:
        """When the clock next applies something, and which event: the trial's end or the
        pending change coming due."""
        if self.trial is not None:
            return (self.trial.ends_at, PlanEvent.END_TRIAL)
        if self.pending is not None:
            return (self.pending.effective_at, PlanEvent.APPLY_PENDING)
        return None

    def timeline(self) -> tuple[BillingPeriod, ...]:
        """Billed periods, with what the trial's end or the pending change schedules (P20, P21)."""
        periods = self.periods
        if self.trial is not None:
            periods = after_trial(periods, self.trial)
        if self.pending is not None:
            periods = self.billed_after_pending(periods, IN_FORCE[self.state])
        return periods

    def billed_after_pending(self, periods: tuple[BillingPeriod, ...], tier: Tier) -> Periods:
        """`periods` once the pending change ends `tier` (P9, P21): the timeline a restore checks
        (P21) and the one the change applies are the same function's answer."""
        pending, since = self.pending, self.since
        assert pending is not None
        assert since is not None
        return after_pending(periods, pending, tier, since)

    # Actions, run by the chart's edges.

    def billed_from(self, facts: PlanFacts) -> pendulum.DateTime:
        """When a higher tier's billing starts (P5, P8): the 1st of next month, or the request
        instant under a policy whose `upgrade_billing` is `immediately` (K1)."""
        if facts.policy.bills_upgrade_now:
            return facts.now
        return self.next_month(facts.now)

    @action("P4", "the {trial_days}-day trial starts now; developer billing starts at its end")
    def begin_trial(self, facts: PlanFacts) -> None:
        policy = facts.policy
        ends = add_wall_days(facts.now, policy.trial_days, self.timezone)
        self.trial = Trial(facts.now, ends, policy.version)
        self.since = self.trial_started_at = facts.now

    @action("K1", "developer now, no trial; billed from {billed_from}")
    def begin_developer(self, facts: PlanFacts) -> None:
        self.periods += (BillingPeriod(Tier.DEVELOPER, self.billed_from(facts)),)
        self.since = facts.now

    @action("P5", "premium now; billed from {billed_from}")
    def begin_premium(self, facts: PlanFacts) -> None:
        self.periods += (BillingPeriod(Tier.PREMIUM, self.billed_from(facts)),)
        self.since = facts.now

    @action("P8", "premium now; billed from {billed_from_trial}")
    def upgrade_from_trial(self, facts: PlanFacts) -> None:
        assert self.trial is not None
        starts = min(self.billed_from(facts), self.trial.ends_at)
        self.trial = None
        self.periods += (BillingPeriod(Tier.PREMIUM, starts),)
        self.since = facts.now

    @action("P8", "premium now; billed from {billed_from}")
    def upgrade_from_developer(self, facts: PlanFacts) -> None:
        starts = self.billed_from(facts)
        self.pending = None
        self.periods = (*close_open(self.periods, starts), BillingPeriod(Tier.PREMIUM, starts))
        self.since = facts.now

    @action("P9", "pending until the 1st of next month")
    def schedule_downgrade(self, facts: PlanFacts) -> None:
        assert facts.actor_id is not None
        self.pending = PendingChange(
            PlanState.DEVELOPER,
            self.next_month(facts.now),
            facts.now,
            facts.actor_id,
            facts.policy.version,
        )

    @action("P9", "pending until the 1st of next month")
    def schedule_cancel(self, facts: PlanFacts) -> None:
        assert facts.actor_id is not None
        if self.pending is not None and self.pending.target is PlanState.CANCELLED:
            return
        self.pending = PendingChange(
            PlanState.CANCELLED,
            self.next_month(facts.now),
            facts.now,
            facts.actor_id,
            facts.policy.version,
        )

    @action("K1", "in force now; billing of premium ends now")
    def downgrade_now(self, facts: PlanFacts) -> None:
        self._change_now(facts, PlanState.DEVELOPER)

    @action("K1", "in force now; billing ends now")
    def cancel_now(self, facts: PlanFacts) -> None:
        self.last_plan = EndedPlan(facts.state, facts.now)
        self._change_now(facts, PlanState.CANCELLED)

    def _change_now(self, facts: PlanFacts, target: PlanState) -> None:
        """P9 under K1's `immediately`: the change takes effect at the request, billed as one
        that came due then (P21's catch-up for a tier never billed)."""
        assert facts.actor_id is not None
        self.pending = PendingChange(
            target, facts.now, facts.now, facts.actor_id, facts.policy.version
        )
        self._apply_pending(facts)

    @action("P7", "billing stops now")
    def cancel_trial(self, facts: PlanFacts) -> None:
        self.trial = None
        self.last_plan = EndedPlan(PlanState.TRIAL, facts.now)
        self.since = facts.now

    @action("P12", "the pending change is dropped")
    def drop_pending(self, facts: PlanFacts) -> None:
        self.pending = None

    @action("P6", "at the trial's end; developer billed from then")
    def convert_trial(self, facts: PlanFacts) -> None:
        assert self.trial is not None
        self.periods = after_trial(self.periods, self.trial)
        self.since = self.trial.ends_at
        self.trial = None

    @action("P9", "at its effective instant")
    def apply_downgrade(self, facts: PlanFacts) -> None:
        self._apply_pending(facts)

    @action("P9", "at its effective instant")
    def apply_cancel(self, facts: PlanFacts) -> None:
        assert self.pending is not None
        self.last_plan = EndedPlan(facts.state, self.pending.effective_at)
        self._apply_pending(facts)

    def _apply_pending(self, f: PlanFacts) -> None:
        assert self.pending is not None
        self.periods = self.billed_after_pending(self.periods, IN_FORCE[f.state])
        self.since = self.pending.effective_at
        self.pending = None

    @action("P15", "in force now; {retroactive}")
    def reactivate_plan(self, facts: PlanFacts) -> None:
        assert self.last_plan is not None
        assert facts.tier is not None
        ended = self.last_plan
        self.since = facts.now
        if facts.tier is Tier.PREMIUM and ended.state in (PlanState.TRIAL, PlanState.DEVELOPER):
            self.periods += (BillingPeriod(Tier.PREMIUM, self.next_month(facts.now)),)
            return
        floor = add_wall_days(facts.now, -facts.policy.retroactive_days, self.timezone)
        starts = max(ended.ended_at, floor)
        self.periods += (BillingPeriod(facts.tier, starts, None, retroactive=True),)

    def record(
        self,
        event: str,
        source: PlanState,
        now: pendulum.DateTime,
        actor_id: str | None = None,
        tier: Tier | None = None,
        policy: str = "atlas",
    ) -> HistoryEntry:
        """Append what just happened to the history (P10: every request is kept), with the
        version that decided it (K4)."""
        scheduled = None
        if self.pending is not None and event in _SCHEDULING:
            scheduled = self.pending.effective_at
        entry = HistoryEntry(now, event, source, self.state, actor_id, tier, scheduled, policy)
        self.history.append(entry)
        self.recorded_at = now
        self.last_change_applied = event == PlanEvent.APPLY_PENDING or (
            self.last_change_applied and actor_id is None
        )
        return entry
