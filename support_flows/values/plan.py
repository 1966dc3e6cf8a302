"""Frozen records of a support plan: trial, pending change, billing periods, history (P, P20)."""

from __future__ import annotations

import attrs
import pendulum

from support_flows.records import Record
from support_flows.values.core import PlanState, Tier


@attrs.frozen
class Trial(Record):
    """The free 30-day developer trial (P4, T5)."""

    started_at: pendulum.DateTime
    ends_at: pendulum.DateTime


@attrs.frozen
class PendingChange(Record):
    """A downgrade or cancel waiting for its effective instant (P9, P10)."""

    target: PlanState
    effective_at: pendulum.DateTime
    requested_at: pendulum.DateTime
    requested_by: str


@attrs.frozen
class BillingPeriod(Record):
    """A billed stretch at one tier; `ends_at` None means open (P20)."""

    tier: Tier
    starts_at: pendulum.DateTime
    ends_at: pendulum.DateTime | None = None
    retroactive: bool = False


@attrs.frozen
class EndedPlan(Record):
    """The last trial or paid plan that ended, for reactivation (P15)."""

    state: PlanState
    ended_at: pendulum.DateTime


@attrs.frozen
class HistoryEntry(Record):
    """One accepted request (`requested_by` set) or one change the clock applied (None)."""

    at: pendulum.DateTime
    event: str
    source: PlanState
    target: PlanState
    requested_by: str | None = None
    tier: Tier | None = None
    effective_at: pendulum.DateTime | None = None

    @property
    def is_request(self) -> bool:
        return self.requested_by is not None
