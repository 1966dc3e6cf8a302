"""Why would a request be refused? Each question builds a real plan, order or organization in the
situation described (on a frozen clock, with an owner setting it up), asks the library, and
returns its decision with every reason, its rule id and the rule's statement."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import Decision, Reason, Refused, describe, invalid
from support_flows.guards.plan import REQUESTS
from support_flows.machines.case import check_case
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import InMemoryOutbox
from support_flows.rules import rule
from support_flows.values import (
    Member,
    Organization,
    PlanState,
    Project,
    Role,
    Scope,
    Tier,
    parse,
)
from support_flows.values.consulting import OrderState
from support_flows.values.events import ConsultingEvent, PlanEvent

__all__ = [
    "Explanation",
    "explain_case",
    "explain_consulting",
    "explain_plan",
    "format_text",
    "member_with",
    "to_dict",
]

OWNER = Member("setup-owner", org_roles={Role.ORG_OWNER}, email="owner@example.com")


@attrs.frozen
class Explanation:
    """A question, the situation it was asked in, and the library's decision."""

    question: str
    situation: tuple[str, ...]
    decision: Decision


def member_with(roles: Iterable[Role | str], project_id: str | None) -> Member:
    """A member holding `roles`: organization roles in the organization, project roles in
    `project_id` (refused as V1 when there is none to hold them in)."""
    held = [parse(Role, r, "role") for r in roles]
    in_project = [r for r in held if not r.is_org_role]
    if in_project and project_id is None:
        raise invalid(Reason.INVALID_VALUE, "V1", "project roles need a project to be held in")
    return Member(
        "u-asking",
        org_roles=[r for r in held if r.is_org_role],
        project_roles={project_id: in_project} if in_project and project_id else None,
        email="asking@example.com",
    )


def _projects(count: int) -> tuple[Project, ...]:
    if not 0 <= count <= 1000:
        raise invalid(Reason.INVALID_VALUE, "V4", f"projects must be 0-1000, got {count}")
    return tuple(Project(f"p-{n}") for n in range(1, count + 1))


def explain_case(
    *,
    plan: PlanState | str,
    roles: Iterable[Role | str],
    projects: int,
    scope: Scope | str,
    project_id: str | None = None,
) -> Explanation:
    """May a member with `roles` open a case at `scope` in an organization with `projects`
    projects on plan `plan`? (C1-C6)"""
    where = parse(Scope, scope, "scope")
    state = parse(PlanState, plan, "plan state")
    org = Organization("org-1", projects=_projects(projects))
    asked = "p-1" if project_id is None else project_id
    target = asked if where is Scope.PROJECT else None
    member = member_with(roles, asked)
    decision = check_case(org, state, member, scope=where, project_id=target)
    at = f" {target}" if target else ""
    return Explanation(
        f"open a support case at {where.value} scope{at}",
        (
            f"organization org-1 with {projects} project(s), on the {state.value} plan",
            f"requester holds {_roles_text(member)}",
        ),
        decision,
    )


def _roles_text(member: Member) -> str:
    held = sorted(member.org_roles) + [
        f"{r} in {p}" for p, roles in member.project_roles.items() for r in sorted(roles)
    ]
    return ", ".join(held) or "no role"


def _plan_in(
    state: PlanState, pending: str, org: Organization, at: pendulum.DateTime
) -> SupportPlan:
    """A plan in `state` as of `at`, set up by an owner through the library's own calls."""
    clock = FrozenClock(at.subtract(days=40))
    plan = SupportPlan(org, clock=clock)
    if state is PlanState.DEVELOPER:
        plan.change("developer", actor=OWNER)
    clock.set(at.subtract(days=1))
    if state in (PlanState.TRIAL, PlanState.CANCELLED):
        plan.change("developer", actor=OWNER)
    elif state is PlanState.PREMIUM:
        plan.change("premium", actor=OWNER)
    if state is PlanState.CANCELLED:
        plan.cancel(actor=OWNER)
    clock.set(at)
    if pending == PlanEvent.CANCEL and state in (PlanState.DEVELOPER, PlanState.PREMIUM):
        plan.cancel(actor=OWNER)
    elif pending == PlanEvent.DOWNGRADE and state is PlanState.PREMIUM:
        plan.change("developer", actor=OWNER)
    elif pending != "none":
        raise invalid(
            Reason.INVALID_VALUE,
            "P9",
            f"a pending {describe(pending)} cannot exist on {state.value}: a cancel is pending "
            "only on developer or premium, a downgrade only on premium",
        )
    return plan


def explain_plan(
    *,
    state: PlanState | str,
    action: str,
    tier: str | None,
    roles: Iterable[Role | str],
    pending: str = "none",
    cross_org_billing: bool = False,
    tz: str = "UTC",
    at: pendulum.DateTime,
) -> Explanation:
    """Would `action` (change, cancel, revoke_pending) be accepted on a plan in `state`? (P)
    A change needs a tier; the other actions take none (V1)."""
    if action not in REQUESTS:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"unknown action {describe(action)}; accepted: {', '.join(REQUESTS)}",
        )
    if (action == "change") is (tier is None):
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"a change needs a tier (--tier: {', '.join(t.value for t in Tier)})"
            if tier is None
            else f"{action} takes no tier, got {describe(tier)} (--tier is for a change)",
        )
    current = parse(PlanState, state, "plan state")
    org = Organization(
        "org-1",
        projects=(Project("p-1"),),
        billing_timezone=tz,
        cross_org_billing=cross_org_billing,
    )
    plan = _plan_in(current, pending, org, at)
    member = member_with(roles, "p-1")
    decision = plan.check(action, actor=member, tier=tier)
    asked = f"{action} to {tier}" if tier else action
    waiting = plan.pending
    return Explanation(
        f"{asked} on a {current.value} plan",
        (
            f"organization org-1, billing timezone {tz}"
            + (", in cross-org billing" if cross_org_billing else ""),
            f"plan {plan.state.value}"
            + (
                f", {waiting.target.value} pending from {waiting.effective_at.isoformat()}"
                if waiting
                else ", nothing pending"
            ),
            f"requester holds {_roles_text(member)}",
        ),
        decision,
    )


def _order_in(
    state: OrderState,
    org: Organization,
    at: pendulum.DateTime,
    units: int,
    validity_months: int | None,
    session_start: pendulum.DateTime,
) -> ConsultingOrder:
    """An order in `state` as of `at`, set up by an owner; a booked session s-1 (one unit)
    starting at `session_start` when scheduled."""
    if state is OrderState.EXPIRED:
        validity_months = validity_months or 1
        opened = at.subtract(months=validity_months, days=1)
    else:
        opened = min(at, session_start).subtract(hours=2)
    clock = FrozenClock(opened)
    order = ConsultingOrder.start_checkout(
        org,
        units=units,
        actor=OWNER,
        clock=clock,
        outbox=InMemoryOutbox(),
        validity_months=validity_months,
        order_id="co-1",
    )
    if state is not OrderState.CHECKOUT:
        order.confirm()
    if state is OrderState.SCHEDULED:
        order.schedule(start=session_start, hours=order.hours_per_unit, actor=OWNER)
    if state is OrderState.CONSUMED:
        session = order.schedule(
            start=opened.add(minutes=30), hours=units * order.hours_per_unit, actor=OWNER
        )
        clock.set(opened.add(hours=1))
        order.deliver(session.session_id, actor=OWNER)
    clock.set(at)
    return order


CONSULTING_ACTIONS = (
    "buy",
    ConsultingEvent.SCHEDULE,
    ConsultingEvent.CANCEL_SESSION,
    ConsultingEvent.DELIVER,
)
"""Buying in the console (F1), or the event a session request is."""


def explain_consulting(
    *,
    action: str,
    state: OrderState | str,
    roles: Iterable[Role | str],
    at: pendulum.DateTime,
    units: int = 10,
    hours: int = 1,
    start: pendulum.DateTime | None = None,
    session: str = "s-1",
    session_start: pendulum.DateTime | None = None,
    validity_months: int | None = None,
    tz: str = "UTC",
) -> Explanation:
    """Would `action` be accepted on an order in `state`? The request is made on an order set
    up that way (F0-F7); buying asks whether the requester may buy in the console (F1)."""
    if action not in CONSULTING_ACTIONS:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"unknown action {describe(action)}; accepted: {', '.join(CONSULTING_ACTIONS)}",
        )
    current = parse(OrderState, state, "order state")
    org = Organization("org-1", projects=(Project("p-1"),), billing_timezone=tz)
    member = member_with(roles, "p-1")
    booked_at = session_start or at.add(days=1)
    order = _order_in(current, org, at, units, validity_months, booked_at)
    situation = [
        f"order co-1 ({units} units, validity "
        f"{f'{validity_months} months' if validity_months else 'none'}): {order.state.value}",
        f"requester holds {_roles_text(member)}",
    ]
    if current is OrderState.SCHEDULED:
        situation.insert(1, f"session s-1 booked from {booked_at.isoformat()}")
    try:
        if action == "buy":
            ConsultingOrder.start_checkout(
                org, units=units, actor=member, clock=FrozenClock(at), outbox=InMemoryOutbox()
            )
        elif action == ConsultingEvent.SCHEDULE:
            order.schedule(start=start or at.add(days=1), hours=hours, actor=member)
        elif action == ConsultingEvent.CANCEL_SESSION:
            order.cancel_session(session, actor=member)
        else:
            order.deliver(session, actor=member)
        decision = Decision()
    except Refused as error:
        decision = Decision(error.reasons)
    asked = (
        f"schedule {hours} h" if action == ConsultingEvent.SCHEDULE else action.replace("_", " ")
    )
    return Explanation(f"{asked} on a {current.value} order", tuple(situation), decision)


def format_text(e: Explanation, width: int = 96) -> str:
    """The decision, then every reason with its rule id, the rule's statement and the message."""
    verdict = "allowed" if e.decision.allowed else "refused"
    out = [f"{verdict}: {e.question}"]
    out += [f"  given {line}" for line in e.situation]
    for v in e.decision.reasons:
        r = rule(v.rule)
        out.append("")
        out.append(f"- {v.code.value} (rule {v.rule}: {r.title})")
        out += textwrap.wrap(
            v.message, width, initial_indent="    why:  ", subsequent_indent="          "
        )
        out += textwrap.wrap(
            r.statement,
            width,
            initial_indent=f"    {v.rule}:  "[:10].ljust(10),
            subsequent_indent="          ",
        )
    return "\n".join(out) + "\n"


def to_dict(e: Explanation) -> dict[str, Any]:
    """JSON-safe: the decision's dict, each reason with its rule's title and statement."""
    data = e.decision.to_dict()
    for item in data["reasons"]:
        r = rule(item["rule"])
        item["rule_title"] = r.title
        item["rule_statement"] = r.statement
    return {"question": e.question, "situation": list(e.situation), **data}
