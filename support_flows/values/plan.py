"""A support plan's values: its tables (P5, P7, P8, P15, P17) and its frozen records: trial,
pending change, billing periods, history (P, P20)."""

from __future__ import annotations

import attrs
import pendulum

from support_flows.codec import Record
from support_flows.values.core import Channel, PlanState, Tier

BASIC_CHANNELS = frozenset({Channel.CHAT, Channel.DEVELOPER_RESOURCES})
PAID_CHANNELS = BASIC_CHANNELS | {Channel.SUPPORT_CASE}

RANK = {Tier.BASIC: 0, Tier.DEVELOPER: 1, Tier.PREMIUM: 2, Tier.ENTERPRISE: 3}
"""P8: basic < developer < premium (< enterprise, which is never self-serve)."""

IN_FORCE = {
    PlanState.BASIC: Tier.BASIC,
    PlanState.TRIAL: Tier.DEVELOPER,
    PlanState.DEVELOPER: Tier.DEVELOPER,
    PlanState.PREMIUM: Tier.PREMIUM,
    PlanState.CANCELLED: Tier.BASIC,
}
"""The tier each state gives: a trial is developer, a cancelled plan is basic."""


@attrs.frozen
class Trial(Record):
    """The free developer trial (P4, T5): 30 days under Atlas's policy, `policy` the version that
    granted it (K4), whose `trial_days` it keeps (K3)."""

    started_at: pendulum.DateTime
    ends_at: pendulum.DateTime
    policy: str = "atlas"


@attrs.frozen
class PendingChange(Record):
    """A downgrade or cancel waiting for its effective instant (P9, P10)."""

    target: PlanState
    effective_at: pendulum.DateTime
    requested_at: pendulum.DateTime
    requested_by: str
    policy: str = "atlas"


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
    """One accepted request (`requested_by` set) or one change the clock applied (None);
    `policy` is the version that decided it (K4): the request's, or for what the clock applied,
    the version that scheduled it."""

    at: pendulum.DateTime
    event: str
    source: PlanState
    target: PlanState
    requested_by: str | None = None
    tier: Tier | None = None
    effective_at: pendulum.DateTime | None = None
    policy: str = "atlas"

    @property
    def is_request(self) -> bool:
        return self.requested_by is not None
