"""Checks and selectors of the support plan (RULES.md P1-P17): one facts object in, a violation
or None out. Also how a chosen tier relates to the one in force (the chart routes on it)."""

from __future__ import annotations

import enum
from typing import ClassVar, NamedTuple

import pendulum

from support_flows.errors import Reason
from support_flows.guards.common import billing_role_required
from support_flows.guards.registry import Registry
from support_flows.values import Member, Organization, PlanState, Tier
from support_flows.values.events import PlanRequest
from support_flows.values.plan import IN_FORCE, RANK, PendingChange
from support_flows.values.policy import ATLAS_POLICY, Policy

__all__ = [
    "PLAN",
    "PlanFacts",
    "TierRelation",
    "relation",
]

REQUESTS = PlanRequest.members


class _PlanFields(NamedTuple):
    org: Organization
    actor: Member | None
    request: str | None
    tier: Tier | None
    state: PlanState
    pending: PendingChange | None
    last_change_applied: bool
    now: pendulum.DateTime
    policy: Policy = ATLAS_POLICY


class PlanFacts(_PlanFields):
    """Everything a plan check, selector or action reads, fixed when the request is made (P16).

    `request` is None and `actor` is None for what the clock applies (a trial's end, a pending
    change coming due). A named tuple: immutable, and built on every request at a tuple's cost.
    """

    __slots__ = ()
    section: ClassVar[str] = "P"
    purpose: ClassVar[str] = "change its support plan"

    @property
    def actor_id(self) -> str | None:
        return None if self.actor is None else self.actor.user_id


class TierRelation(enum.StrEnum):
    """How the tier a request chooses relates to the tier in force: what the plan chart's routes
    name (P4, P8, P9, P11, P15)."""

    ANY = "any"
    """No tier chosen (a cancel or revoke): the relation routes do not look at."""
    BASIC = "basic"
    """basic chosen: a cancel (P9)."""
    SAME = "same"
    """the tier in force chosen again: revoking what is pending (P11)."""
    HIGHER = "higher"
    """a higher tier: subscribe, upgrade or reactivate (P4, P5, P8, P15)."""
    LOWER = "lower"
    """a lower paid tier: a downgrade (P9)."""


def relation(state: PlanState, chosen: Tier | None) -> TierRelation:
    """How the tier `chosen` relates to the tier `state` is in force at (the plan chart routes
    on it)."""
    if chosen is None:
        return TierRelation.ANY
    if chosen is Tier.BASIC:
        return TierRelation.BASIC
    current = IN_FORCE[state]
    if chosen is current:
        return TierRelation.SAME
    return TierRelation.HIGHER if RANK[chosen] > RANK[current] else TierRelation.LOWER


PLAN = Registry("plan", "P")
PLAN.add(billing_role_required)


@PLAN.check(Reason.CONTACT_SALES, "P2")
def contact_sales(f: PlanFacts) -> str | None:
    """P2: enterprise is sold by the sales team, never self-serve."""
    if f.tier is not Tier.ENTERPRISE:
        return None
    return f"the enterprise plan cannot be chosen self-serve for {f.org.org_id!r}; contact sales"


@PLAN.check(Reason.CROSS_ORG_BILLING, "P3")
def cross_org_billing(f: PlanFacts) -> str | None:
    """P3: an organization in cross-org billing cannot subscribe, reactivate or upgrade."""
    if not f.org.cross_org_billing:
        return None
    chosen = f.tier.value if f.tier is not None else "a paid plan"
    return (
        f"{f.org.org_id!r} is in cross-org billing: it cannot move to {chosen} self-serve "
        "(it can still downgrade, cancel and revoke)"
    )


@PLAN.check(Reason.ALREADY_ON_PLAN, "P11")
def already_on_plan(f: PlanFacts) -> str | None:
    """P11: choosing the plan in force with nothing pending, or developer during the trial."""
    if f.request != PlanRequest.CHANGE or f.tier is None or f.tier is not IN_FORCE[f.state]:
        return None
    if f.state in (PlanState.BASIC, PlanState.CANCELLED):
        return None
    if f.state is PlanState.TRIAL:
        return f"{f.org.org_id!r} is in the trial, which converts to developer by itself"
    if f.pending is not None:
        return None
    return f"{f.org.org_id!r} is already on {f.state.value} with no pending change"


@PLAN.check(Reason.NOTHING_TO_CANCEL, "P13")
def nothing_to_cancel(f: PlanFacts) -> str | None:
    """P13: there is no trial or paid plan to cancel on basic or cancelled."""
    if f.tier is not Tier.BASIC or f.state not in (PlanState.BASIC, PlanState.CANCELLED):
        return None
    return f"{f.org.org_id!r} is on {f.state.value}: there is no trial or paid plan to cancel"


@PLAN.check(Reason.CHANGE_ALREADY_EFFECTIVE, "P12")
def change_already_effective(f: PlanFacts) -> str | None:
    """P12: the last change took effect and no request came after it: too late to revoke."""
    if (
        f.request != PlanRequest.REVOKE_PENDING
        or f.pending is not None
        or not f.last_change_applied
    ):
        return None
    return (
        f"the last change of {f.org.org_id!r} has already taken effect "
        f"(it is now {f.state.value}); there is nothing left to revoke"
    )


@PLAN.check(Reason.NO_PENDING_CHANGE, "P12")
def no_pending_change(f: PlanFacts) -> str | None:
    """P12: revoking needs a pending change."""
    if f.request != PlanRequest.REVOKE_PENDING or f.pending is not None or f.last_change_applied:
        return None
    return f"{f.org.org_id!r} has no pending change to revoke (it is {f.state.value})"


@PLAN.selector
def chose_developer(facts: PlanFacts) -> bool:
    """developer chosen"""
    return facts.tier is Tier.DEVELOPER


@PLAN.selector
def chose_premium(facts: PlanFacts) -> bool:
    """premium chosen"""
    return facts.tier is Tier.PREMIUM


@PLAN.selector
def downgrade_due(facts: PlanFacts) -> bool:
    """a downgrade is pending"""
    return facts.pending is not None and facts.pending.target is PlanState.DEVELOPER


@PLAN.selector
def cancel_due(facts: PlanFacts) -> bool:
    """a cancel is pending"""
    return facts.pending is not None and facts.pending.target is PlanState.CANCELLED


@PLAN.choice
def has_trial(facts: PlanFacts) -> bool:
    """the policy offers a trial"""
    return facts.policy.has_trial


@PLAN.choice
def may_be_in_trial(facts: PlanFacts) -> bool:
    """a trial may be running"""
    return facts.policy.has_trial or facts.state is PlanState.TRIAL


@PLAN.choice
def no_trial(facts: PlanFacts) -> bool:
    """the policy offers no trial"""
    return not facts.policy.has_trial


@PLAN.choice
def changes_later(facts: PlanFacts) -> bool:
    """changes take effect on the 1st of next month"""
    return not facts.policy.changes_now


@PLAN.choice
def changes_now(facts: PlanFacts) -> bool:
    """changes take effect at the request"""
    return facts.policy.changes_now


@PLAN.choice
def may_be_pending(facts: PlanFacts) -> bool:
    """a change may be pending"""
    return not facts.policy.changes_now or facts.pending is not None
