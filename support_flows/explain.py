"""Why would a request be refused? Each question builds a real plan, order or organization in the
situation described (on a frozen clock, with an owner setting it up), asks the library, and
returns its decision with every reason, its rule id and the rule's statement.

Each question is asked under a catalog (RULES.md K, default Atlas's): the set-up requests and the
question itself are each decided by the version in force at their instants (K3), and the answer
names the version that decided the question. A situation the catalog cannot produce (a trial
under a version without one, a pending change under immediate changes) is malformed input."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import Decision, Reason, Refused, describe, invalid
from support_flows.guards.plan import REQUESTS
from support_flows.machines.case import check_case
from support_flows.machines.consulting import FROM_POLICY, ConsultingOrder, FromPolicy
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
from support_flows.values.core import ORG_ROLES
from support_flows.values.events import ConsultingEvent, PlanEvent
from support_flows.values.policy import ATLAS, ATLAS_POLICY, FIELDS, Catalog, Policy

__all__ = [
    "Explanation",
    "explain_case",
    "explain_consulting",
    "explain_plan",
    "format_text",
    "member_with",
    "to_dict",
]

OWNER = Member("setup-owner", org_roles=ORG_ROLES, email="owner@example.com")
"""Who sets a situation up: every organization role, so whichever billing roles a policy names
(K1) it holds them."""


@attrs.frozen
class Explanation:
    """A question, the situation it was asked in, the library's decision, and the policy
    version that decided it (K3)."""

    question: str
    situation: tuple[str, ...]
    decision: Decision
    policy: str = "atlas"
    tuned: Mapping[str, tuple[Any, Any]] = attrs.field(factory=dict)
    """The deciding version's K1 fields that differ from Atlas's: name -> (Atlas's, its)."""


def _explained(
    policy: Policy, question: str, situation: Iterable[str], decision: Decision
) -> Explanation:
    return Explanation(
        question, tuple(situation), decision, policy.version, policy.changes_from(ATLAS_POLICY)
    )


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
    at: pendulum.DateTime | None = None,
    catalog: Catalog = ATLAS,
) -> Explanation:
    """May a member with `roles` open a case at `scope` in an organization with `projects`
    projects on plan `plan`? (C1-C6) Decided under the version of `catalog` in force `at`
    (which a catalog of one version does not need)."""
    where = parse(Scope, scope, "scope")
    state = parse(PlanState, plan, "plan state")
    org = Organization("org-1", projects=_projects(projects))
    asked = "p-1" if project_id is None else project_id
    target = asked if where is Scope.PROJECT else None
    member = member_with(roles, asked)
    clock = None if at is None else FrozenClock(at)
    decision = check_case(
        org, state, member, scope=where, project_id=target, catalog=catalog, clock=clock
    )
    policy = catalog.versions[0] if clock is None else catalog.at(clock.now())
    there = f" {target}" if target else ""
    return _explained(
        policy,
        f"open a support case at {where.value} scope{there}",
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


_SETUPS: Mapping[PlanState, tuple[tuple[tuple[int, str], ...], ...]] = {
    PlanState.BASIC: ((),),
    PlanState.TRIAL: (((24, "developer"),), ((1, "developer"),)),
    PlanState.DEVELOPER: (((960, "developer"),), ((9600, "developer"),)),
    PlanState.PREMIUM: (((24, "premium"),),),
    PlanState.CANCELLED: (
        ((24, "developer"), (24, "cancel")),
        ((960, "developer"), (960, "cancel")),
    ),
}
"""How an owner sets a plan up in each state: requests (hours before the question, the tier
chosen or "cancel"), tried in turn until one reaches the state under the catalog. The first is
Atlas's; the others cover what a policy tunes: a trial that ends within a day or lasts up to a
year (T5), a cancel that waits for the 1st or has no trial to end (P9, K1)."""


def _set_up(
    state: PlanState, org: Organization, at: pendulum.DateTime, catalog: Catalog
) -> tuple[SupportPlan, FrozenClock]:
    """A plan in `state` as of `at`, set up by an owner through the library's own calls."""
    for steps in _SETUPS[state]:
        clock = FrozenClock(at.subtract(hours=steps[0][0]) if steps else at)
        plan = SupportPlan(org, clock=clock, catalog=catalog)
        for hours, what in steps:
            clock.set(at.subtract(hours=hours))
            if what == "cancel":
                plan.cancel(actor=OWNER)
            else:
                plan.change(what, actor=OWNER)
        clock.set(at)
        if plan.state is state:
            return plan, clock
    policy = catalog.at(at)
    why = f" (its trial_days is {policy.trial_days})" if state is PlanState.TRIAL else ""
    raise invalid(
        Reason.INVALID_VALUE,
        "K1",
        f"no plan is in {state.value} at {at.isoformat()} under policy {policy.version}{why}: "
        "ask about a state its terms can reach",
    )


_PENDING_ON = {
    "none": tuple(PlanState),
    PlanEvent.CANCEL: (PlanState.DEVELOPER, PlanState.PREMIUM),
    PlanEvent.DOWNGRADE: (PlanState.PREMIUM,),
}
"""P9: the states a pending change of each kind can exist on."""


def _plan_in(
    state: PlanState, pending: str, org: Organization, at: pendulum.DateTime, catalog: Catalog
) -> SupportPlan:
    """A plan in `state` as of `at` with `pending` requested at `at`, set up by an owner (in an
    organization outside cross-org billing, which may subscribe; restored into `org`)."""
    if state not in _PENDING_ON.get(pending, ()):
        raise invalid(
            Reason.INVALID_VALUE,
            "P9",
            f"a pending {describe(pending)} cannot exist on {state.value}: a cancel is pending "
            "only on developer or premium, a downgrade only on premium",
        )
    setup_org = attrs.evolve(org, cross_org_billing=False)
    plan, clock = _set_up(state, setup_org, at, catalog)
    if pending == PlanEvent.CANCEL:
        plan.cancel(actor=OWNER)
    elif pending == PlanEvent.DOWNGRADE:
        plan.change("developer", actor=OWNER)
    if pending != "none" and plan.pending is None:
        raise invalid(
            Reason.INVALID_VALUE,
            "K1",
            f"a pending {pending} cannot exist at {at.isoformat()} under policy "
            f"{catalog.at(at).version}: its change_timing is immediately, so a {pending} "
            "takes effect when it is requested",
        )
    return SupportPlan.restore(plan.snapshot(), org, clock=clock, catalog=catalog)


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
    catalog: Catalog = ATLAS,
) -> Explanation:
    """Would `action` (change, cancel, revoke_pending) be accepted on a plan in `state`? (P)
    A change needs a tier; the other actions take none (V1). Decided under the version of
    `catalog` in force `at`."""
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
    plan = _plan_in(current, pending, org, at, catalog)
    member = member_with(roles, "p-1")
    decision = plan.check(action, actor=member, tier=tier)
    asked = f"{action} to {tier}" if tier else action
    waiting, trial = plan.pending, plan.trial
    return _explained(
        catalog.at(at),
        f"{asked} on a {current.value} plan",
        (
            f"organization org-1, billing timezone {tz}"
            + (", in cross-org billing" if cross_org_billing else ""),
            f"plan {plan.state.value}"
            + (
                f" ({catalog[trial.policy].trial_days}-day trial under {trial.policy}, ends "
                f"{trial.ends_at.isoformat()})"
                if trial
                else ""
            )
            + (
                f", {waiting.target.value} pending from {waiting.effective_at.isoformat()}"
                f" (under {waiting.policy})"
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
    validity_months: int | FromPolicy | None,
    session_start: pendulum.DateTime,
    catalog: Catalog,
) -> ConsultingOrder:
    """An order in `state` as of `at`, set up by an owner; a booked session s-1 (one unit)
    starting at `session_start` when scheduled. Terms not given are the policy's (K1), but an
    expired order needs a validity: the policy's in force at `at`, else one month."""
    if state is OrderState.EXPIRED:
        if validity_months is FROM_POLICY or validity_months is None:
            validity_months = catalog.at(at).validity_months or 1
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
        catalog=catalog,
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
    hours: int | None = None,
    start: pendulum.DateTime | None = None,
    session: str = "s-1",
    session_start: pendulum.DateTime | None = None,
    validity_months: int | FromPolicy | None = FROM_POLICY,
    tz: str = "UTC",
    catalog: Catalog = ATLAS,
) -> Explanation:
    """Would `action` be accepted on an order in `state`? The request is made on an order set
    up that way (F0-F7); buying asks whether the requester may buy in the console (F1). The
    order's terms not given are the policy's, and `hours` defaults to one unit's; decided
    under the version of `catalog` in force `at`."""
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
    order = _order_in(current, org, at, units, validity_months, booked_at, catalog)
    per, months = order.hours_per_unit, order.validity_months
    hours = per if hours is None else hours
    situation = [
        f"order co-1 ({units} units of {per} h, validity "
        f"{f'{months} months' if months else 'none'}, terms of {order.policy}): "
        f"{order.state.value}",
        f"requester holds {_roles_text(member)}",
    ]
    if current is OrderState.SCHEDULED:
        situation.insert(1, f"session s-1 booked from {booked_at.isoformat()}")
    try:
        if action == "buy":
            ConsultingOrder.start_checkout(
                org,
                units=units,
                actor=member,
                clock=FrozenClock(at),
                outbox=InMemoryOutbox(),
                catalog=catalog,
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
    return _explained(catalog.at(at), f"{asked} on a {current.value} order", situation, decision)


def format_text(e: Explanation, width: int = 96) -> str:
    """The decision, then every reason with its rule id, the rule's statement and the message."""
    verdict = "allowed" if e.decision.allowed else "refused"
    out = [f"{verdict}: {e.question}"]
    out += [f"  given {line}" for line in e.situation]
    unlike = "; ".join(f"{name} {_term(now)}" for name, (_, now) in e.tuned.items())
    out.append(
        f"  decided under policy {e.policy}" + (f" (unlike Atlas's: {unlike})" if unlike else "")
    )
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
        out += [
            f"    K1:   under {e.policy}, {name} is {_term(now)} (Atlas's: {_term(atlas)})"
            for name, (atlas, now) in e.tuned.items()
            if v.rule in FIELDS[name].rules
        ]
    return "\n".join(out) + "\n"


def _term(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return "none" if value is None else str(value)


def to_dict(e: Explanation) -> dict[str, Any]:
    """JSON-safe: the decision's dict, each reason with its rule's title and statement."""
    data = e.decision.to_dict()
    for item in data["reasons"]:
        r = rule(item["rule"])
        item["rule_title"] = r.title
        item["rule_statement"] = r.statement
    return {
        "question": e.question,
        "situation": list(e.situation),
        "policy": e.policy,
        "tuned": {name: {"atlas": atlas, "policy": now} for name, (atlas, now) in e.tuned.items()},
        **data,
    }
