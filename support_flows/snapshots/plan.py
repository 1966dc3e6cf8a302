"""A support plan's snapshot: the record `SupportPlan.snapshot()` writes (RULES.md V2)."""

from __future__ import annotations

import attrs
import pendulum

from support_flows.values import PlanState
from support_flows.values.plan import BillingPeriod, EndedPlan, HistoryEntry, PendingChange, Trial

__all__ = ["KIND", "SNAPSHOT_VERSION", "PlanSnapshot", "upgraded"]

SNAPSHOT_VERSION = 3
"""3 since policies (K4): the trial, the pending change and each history entry name the version
that decided them. A version-2 snapshot is read as decided under `atlas` (`upgraded`)."""
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


def _decided_by_atlas(value: object) -> object:
    if type(value) is dict and "policy" not in value:
        return {**value, "policy": "atlas"}
    return value


def upgraded(data: object) -> object:
    """A version-2 snapshot as the version-3 one the same plan writes now: what it decided was
    decided under Atlas's policy, `atlas`, the only one the library knew. Anything else is
    returned as it is, for restore to judge."""
    if type(data) is not dict:
        return data
    version, kind = data.get("version"), data.get("kind")
    if type(version) is not int or version != 2 or type(kind) is not str or kind != KIND:
        return data  # compared only once known to be plain values (V5)
    parts = [data.get("trial"), data.get("pending")]
    if type(history := data.get("history")) is list:
        parts += history
    if any(type(part) is dict and "policy" in part for part in parts):
        return data  # version 2 never named a policy: refused as the version it claims
    found = dict(data)
    found["version"] = SNAPSHOT_VERSION
    found["trial"] = _decided_by_atlas(found.get("trial"))
    found["pending"] = _decided_by_atlas(found.get("pending"))
    history = found.get("history")
    if type(history) is list:
        found["history"] = [_decided_by_atlas(entry) for entry in history]
    return found
