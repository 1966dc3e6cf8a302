"""Pure checks of the support plan lifecycle (RULES.md P1-P17): facts in, violation or None out."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from support_flows.errors import Reason, Violation
from support_flows.values import Channel, Member, Organization, PlanState, Tier

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

SELF_SERVE_PURCHASES = frozenset({"subscribe", "upgrade", "reactivate"})
"""Events that P3 refuses to an organization in cross-org billing."""


@attrs.frozen
class PlanFacts:
    """Everything a plan check needs, read when the request is made (P16)."""

    org: Organization
    actor: Member
    state: PlanState
    tier: Tier
    pending_target: PlanState | None = None
    last_change_applied: bool = False

    @property
    def event(self) -> str | None:
        return route(self.state, self.tier, self.pending_target)


def route(state: PlanState, tier: Tier, pending_target: PlanState | None) -> str | None:
    """The chart event that choosing `tier` in `state` means, or None when no event applies."""
    if tier is Tier.ENTERPRISE:
        return None
    if tier is Tier.BASIC:
        return None if state in (PlanState.BASIC, PlanState.CANCELLED) else "cancel"
    current = IN_FORCE[state]
    if state is PlanState.BASIC:
        return "subscribe"
    if state is PlanState.CANCELLED:
        return "reactivate"
    if tier is current:
        return "revoke" if pending_target is not None else None
    return "upgrade" if RANK[tier] > RANK[current] else "downgrade"


def billing_role_required(facts: PlanFacts) -> Violation | None:
    """P1: plan actions need Organization Owner or Organization Billing Admin."""
    if facts.actor.has_billing_role:
        return None
    return Violation(
        Reason.BILLING_ROLE_REQUIRED,
        "P1",
        f"{facts.actor.user_id} needs ORG_OWNER or ORG_BILLING_ADMIN in {facts.org.org_id} "
        f"to change its support plan; holds {_roles(facts.actor)}",
    )


def contact_sales(facts: PlanFacts) -> Violation | None:
    """P2: enterprise is sold by the sales team, never self-serve."""
    if facts.tier is not Tier.ENTERPRISE:
        return None
    return Violation(
        Reason.CONTACT_SALES,
        "P2",
        f"the enterprise plan cannot be chosen self-serve for {facts.org.org_id}; contact sales",
    )


def cross_org_billing(facts: PlanFacts) -> Violation | None:
    """P3: cross-org billing forbids self-serve subscribe, reactivate and upgrade."""
    if not facts.org.cross_org_billing or facts.event not in SELF_SERVE_PURCHASES:
        return None
    return Violation(
        Reason.CROSS_ORG_BILLING,
        "P3",
        f"{facts.org.org_id} is in cross-org billing: it cannot {facts.event} to "
        f"{facts.tier.value} self-serve (it can still downgrade, cancel and revoke)",
    )


def already_on_plan(facts: PlanFacts) -> Violation | None:
    """P11: choosing the plan in force with nothing pending, or developer during the trial."""
    if facts.tier in (Tier.BASIC, Tier.ENTERPRISE) or facts.tier is not IN_FORCE[facts.state]:
        return None
    if facts.state in (PlanState.BASIC, PlanState.CANCELLED):
        return None
    if facts.state is not PlanState.TRIAL and facts.pending_target is not None:
        return None
    why = "the trial converts to developer by itself" if facts.state is PlanState.TRIAL else ""
    return Violation(
        Reason.ALREADY_ON_PLAN,
        "P11",
        f"{facts.org.org_id} is already on {facts.state.value} with no pending change"
        + (f"; {why}" if why else ""),
    )


def nothing_to_cancel(facts: PlanFacts) -> Violation | None:
    """P13: there is no trial or paid plan to cancel on basic or cancelled."""
    if facts.tier is not Tier.BASIC or facts.state not in (PlanState.BASIC, PlanState.CANCELLED):
        return None
    return Violation(
        Reason.NOTHING_TO_CANCEL,
        "P13",
        f"{facts.org.org_id} is on {facts.state.value}: there is no trial or paid plan to cancel",
    )


def pending_change_required(facts: PlanFacts) -> Violation | None:
    """P12: revoking needs a pending change that has not yet taken effect."""
    if facts.pending_target is not None:
        return None
    if facts.last_change_applied:
        return Violation(
            Reason.CHANGE_ALREADY_EFFECTIVE,
            "P12",
            f"the last change of {facts.org.org_id} has already taken effect "
            f"(it is now {facts.state.value}); there is nothing left to revoke",
        )
    return Violation(
        Reason.NO_PENDING_CHANGE,
        "P12",
        f"{facts.org.org_id} has no pending change to revoke (it is {facts.state.value})",
    )


Check = Callable[[PlanFacts], Violation | None]

CHECKS: Mapping[str, tuple[Check, ...]] = {
    "change": (
        billing_role_required,
        contact_sales,
        cross_org_billing,
        already_on_plan,
        nothing_to_cancel,
    ),
    "cancel": (billing_role_required, nothing_to_cancel),
    "revoke_pending": (billing_role_required, pending_change_required),
}
"""The checks of each plan action, in rule order."""


def failing(action: str, facts: PlanFacts) -> tuple[Violation, ...]:
    """Every failing check of `action`, in rule order."""
    return tuple(v for check in CHECKS[action] if (v := check(facts)) is not None)


def _roles(member: Member) -> str:
    return ", ".join(sorted(member.org_roles)) or "no organization role"
