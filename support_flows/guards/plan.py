"""Pure checks of the support plan lifecycle (RULES.md P1-P17): facts in, violation or None out."""

from __future__ import annotations

from collections.abc import Mapping

from support_flows.values import Channel, PlanState

BASIC_CHANNELS = frozenset({Channel.CHAT, Channel.DEVELOPER_RESOURCES})
PAID_CHANNELS = BASIC_CHANNELS | {Channel.SUPPORT_CASE}

ENTITLEMENTS: Mapping[PlanState, frozenset[Channel]] = {
    PlanState.BASIC: BASIC_CHANNELS,
    PlanState.TRIAL: PAID_CHANNELS,
    PlanState.DEVELOPER: PAID_CHANNELS,
    PlanState.PREMIUM: PAID_CHANNELS,
    PlanState.CANCELLED: BASIC_CHANNELS,
}
"""P17: what each plan state entitles an organization to. The single table; others read it."""
