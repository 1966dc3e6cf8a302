"""JSON-safe views of a plan and an order, as a host answers them (instants ISO 8601 UTC)."""

from __future__ import annotations

from typing import Any

from support_flows.inputs import of_type
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan

__all__ = ["order_view", "plan_view"]


def _iso(at: Any) -> str | None:
    return None if at is None else str(at.isoformat())


def plan_view(plan: SupportPlan) -> dict[str, Any]:
    """State, trial, pending change, billing timeline and entitlements, as of the clock's now."""
    plan = of_type(plan, SupportPlan, "plan")
    pending, trial = plan.pending, plan.trial
    return {
        "org_id": plan.org.org_id,
        "state": plan.state.value,
        "trial": None if trial is None else trial.to_dict(),
        "pending": None if pending is None else pending.to_dict(),
        "billing": [p.to_dict() for p in plan.billing],
        "entitlements": sorted(c.value for c in plan.entitlements),
    }


def order_view(order: ConsultingOrder) -> dict[str, Any]:
    """State, unit balance, purchase and expiry instants and sessions, as of the clock's now,
    and the policy version whose terms the order holds (K4)."""
    order = of_type(order, ConsultingOrder, "order")
    return {
        "order_id": order.order_id,
        "state": order.state.value,
        "units": order.units.to_dict(),
        "hours_per_unit": order.hours_per_unit,
        "policy": order.policy,
        "purchased_at": _iso(order.purchased_at),
        "expires_at": _iso(order.expires_at),
        "sessions": [s.to_dict() for s in order.sessions],
    }
