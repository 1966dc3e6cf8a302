"""A support plan's snapshot: the record `SupportPlan.snapshot()` writes (RULES.md V2)."""

from __future__ import annotations

import attrs
import pendulum

from support_flows.values import PlanState
from support_flows.values.plan import BillingPeriod, EndedPlan, HistoryEntry, PendingChange, Trial

__all__ = ["KIND", "SNAPSHOT_VERSION", "PlanSnapshot"]

SNAPSHOT_VERSION = 2
KIND = "support_plan"


@attrs.frozen(slots=False)  # read once per restore; a dict class is built faster
class PlanSnapshot:
    """What `SupportPlan.snapshot()` writes: every field required on restore.

    `history` is None in a snapshot written without it (a store keeps it in its audit log); the
    record still holds what the rules need: when the state began (`since`), when the one trial
    began (`trial_started_at`), and whether the last change took effect with no request since
    (`last_change_applied`, P12), and the instant of its latest history entry (`recorded_at`, T8).
    """

    kind: str
    version: int
    org_id: str
    billing_timezone: str
    state: PlanState
    since: pendulum.DateTime | None
    trial_started_at: pendulum.DateTime | None
    last_change_applied: bool
    recorded_at: pendulum.DateTime | None
    trial: Trial | None
    pending: PendingChange | None
    periods: tuple[BillingPeriod, ...]
    last_plan: EndedPlan | None
    history: tuple[HistoryEntry, ...] | None
