"""Checks that several machines share, declared once (RULES.md C1/F0 membership, P1/F1 role).

Each reads the asking machine's facts through the same two fields, ``org`` and ``actor``, and
cites the rule of that machine's section.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from support_flows.errors import Reason
from support_flows.guards.registry import shared_check
from support_flows.values import Member, Role

__all__ = ["billing_role_required", "not_org_member"]


@shared_check(Reason.NOT_ORG_MEMBER, "C1", "F0")
def not_org_member(facts: Any) -> str | None:
    """C1 (channels) and F0 (consulting sessions): only members of the organization, holding an
    organization role or a role in one of its projects. No actor (a consulting session closed
    by the host itself) passes: the host vouches for the caller."""
    if facts.actor is None or facts.actor.is_member_of(facts.org):
        return None
    return (
        f"user {facts.actor.user_id!r} holds no role in organization {facts.org.org_id!r} "
        "or in any of its projects"
    )


@shared_check(Reason.BILLING_ROLE_REQUIRED, "P1", "F1")
def billing_role_required(facts: Any) -> str | None:
    """P1 (plan actions) and F1 (console purchases): the policy's billing roles only, Organization
    Owner or Organization Billing Admin under Atlas's (K1). What the clock applies has no actor
    and needs no role (P16)."""
    actor: Member | None = facts.actor
    roles = facts.policy.billing_roles
    if actor is None or actor.holds_any(roles):
        return None
    return (
        f"user {actor.user_id!r} needs {_either(roles)} in organization "
        f"{facts.org.org_id!r} to {facts.purpose}; holds {_held(actor.org_roles)}"
    )


@lru_cache(maxsize=64)
def _either(roles: frozenset[Role]) -> str:
    """The roles a check asks for, in Role's own order ("ORG_OWNER or ORG_BILLING_ADMIN")."""
    return " or ".join(role.value for role in Role if role in roles)


@lru_cache(maxsize=64)
def _held(roles: frozenset[Role]) -> str:
    """The organization roles held, as a refusal names them (few distinct sets recur)."""
    return ", ".join(sorted(roles)) or "no organization role"
