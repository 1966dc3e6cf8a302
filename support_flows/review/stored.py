"""How many stored plans and orders a proposed version would treat differently at their next
request (K5), by rule, changing none of them.

Each record is restored in memory (never saved) at the instant the proposal could first decide
its next request: now, or the proposal's effective instant if later. Every request it could
receive next is made on a fresh copy under the version in force and under the proposal, by an
actor holding each role either version lets change a plan; the outcomes (allowed or refused, and
what it schedules) are compared. A record that differs is counted under each changed field whose
change alone already makes it differ, so the counts name the rules that field tunes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import SupportFlowsError
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import InMemoryOutbox
from support_flows.review.proposal import Proposal
from support_flows.values import Member, Organization, Role, Tier
from support_flows.values.policy import FIELDS, Catalog, Policy

__all__ = ["Impact", "KindImpact", "impact"]

_ID = "k5-proposal"
"""The id a proposal is evaluated under: in memory only, apart from the catalog's own ids."""


@attrs.frozen
class KindImpact:
    """Plans or orders: how many were read, how many the proposal treats differently, and, per
    changed field (with the rules it tunes), how many its change alone treats differently."""

    kind: str
    seen: int
    differ: int
    unreadable: int
    by_field: tuple[tuple[str, tuple[str, ...], int], ...]


@attrs.frozen
class Impact:
    at: pendulum.DateTime
    plans: KindImpact
    orders: KindImpact


def _evaluated(policy: Policy, at: pendulum.DateTime, taken: Iterable[str]) -> Policy:
    name = _ID
    while name in set(taken):
        name += "-x"
    return attrs.evolve(policy, version=name, effective_from=at)


def _with_only(current: Policy, proposed: Policy, field: str) -> Policy:
    return attrs.evolve(current, **{field: getattr(proposed, field)})


def _role_actor(role: Role) -> Member:
    return Member(f"u-{role.value.lower()}", org_roles={role}, email="reviewer@example.com")


def _outcome(request: Callable[[], object]) -> tuple[object, ...]:
    """("allowed", what it leaves scheduled) or ("refused", its reason codes)."""
    try:
        return ("allowed", request())
    except SupportFlowsError as error:
        return ("refused", tuple(str(r.code) for r in error.reasons))


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.in_timezone("UTC").isoformat()


def _plan_terms(plan: SupportPlan) -> tuple[object, ...]:
    pending, trial = plan.pending, plan.trial
    return (
        plan.state.value,
        None if trial is None else _iso(trial.ends_at),
        None if pending is None else (pending.target.value, _iso(pending.effective_at)),
        tuple(
            (p.tier.value, _iso(p.starts_at), _iso(p.ends_at), p.retroactive) for p in plan.billing
        ),
    )


@attrs.frozen
class _PlanRequest:
    """One request a stored plan could receive next, made on a fresh in-memory copy."""

    snapshot: Any
    org: Organization
    catalog: Catalog
    at: pendulum.DateTime
    actor: Member
    action: str
    tier: Tier | None = None

    def __call__(self) -> tuple[object, ...]:
        plan = SupportPlan.restore(
            self.snapshot, self.org, clock=FrozenClock(self.at), catalog=self.catalog
        )
        if self.action == "cancel":
            plan.cancel(actor=self.actor)
        elif self.action == "revoke_pending":
            plan.revoke_pending(actor=self.actor)
        else:
            assert self.tier is not None
            plan.change(self.tier, actor=self.actor)
        return _plan_terms(plan)


def _plan_outcomes(
    snapshot: Any, org: Organization, catalog: Catalog, at: pendulum.DateTime, roles: Sequence[Role]
) -> tuple[object, ...]:
    SupportPlan.restore(snapshot, org, clock=FrozenClock(at), catalog=catalog)  # readable (K4)
    found = []
    for role in roles:
        actor = _role_actor(role)
        requests = [
            *(_PlanRequest(snapshot, org, catalog, at, actor, "change", t) for t in Tier),
            _PlanRequest(snapshot, org, catalog, at, actor, "cancel"),
            _PlanRequest(snapshot, org, catalog, at, actor, "revoke_pending"),
        ]
        found += [_outcome(request) for request in requests]
    return tuple(found)


@attrs.frozen
class _Schedule:
    """A one-unit session a week later on a fresh copy of a stored order (F1, F4)."""

    snapshot: Any
    org: Organization
    catalog: Catalog
    at: pendulum.DateTime
    actor: Member

    def __call__(self) -> tuple[object, ...]:
        order = ConsultingOrder.restore(
            self.snapshot,
            self.org,
            clock=FrozenClock(self.at),
            outbox=InMemoryOutbox(),
            catalog=self.catalog,
        )
        order.schedule(start=self.at.add(days=7), hours=order.hours_per_unit, actor=self.actor)
        return (order.state.value, order.units.available)


@attrs.frozen
class _NewOrder:
    """A new one-unit console order of the same organization: who may buy it (F1), and the
    hours per unit and validity it gets (F2, F6)."""

    org: Organization
    catalog: Catalog
    at: pendulum.DateTime
    actor: Member

    def __call__(self) -> tuple[object, ...]:
        order = ConsultingOrder.start_checkout(
            self.org,
            units=1,
            actor=self.actor,
            clock=FrozenClock(self.at),
            outbox=InMemoryOutbox(),
            order_id="k5-new-order",
            catalog=self.catalog,
        )
        return (order.hours_per_unit, order.validity_months)


def _order_outcomes(
    snapshot: Any, org: Organization, catalog: Catalog, at: pendulum.DateTime, roles: Sequence[Role]
) -> tuple[object, ...]:
    ConsultingOrder.restore(
        snapshot, org, clock=FrozenClock(at), outbox=InMemoryOutbox(), catalog=catalog
    )  # readable (K4)
    found = []
    for role in roles:
        actor = _role_actor(role)
        found.append(_outcome(_Schedule(snapshot, org, catalog, at, actor)))
        found.append(_outcome(_NewOrder(org, catalog, at, actor)))
    return tuple(found)


Outcomes = Callable[[Any, Organization, Catalog, pendulum.DateTime, Sequence[Role]], object]


def _kind(
    kind: str,
    records: Iterable[Any],
    outcomes: Outcomes,
    current: Catalog,
    variants: dict[str, Catalog],
    proposed: Catalog,
    at: pendulum.DateTime,
    roles: Sequence[Role],
) -> KindImpact:
    seen = differ = unreadable = 0
    counts = dict.fromkeys(variants, 0)
    for record in records:
        seen += 1
        org = record.org
        try:
            if org is None:
                raise ValueError("no organization")
            before = outcomes(record.snapshot, org, current, at, roles)
            after = outcomes(record.snapshot, org, proposed, at, roles)
        except (SupportFlowsError, ValueError):  # a record this catalog cannot read (K4)
            unreadable += 1
            continue
        if before == after:
            continue
        differ += 1
        for field, catalog in variants.items():
            if outcomes(record.snapshot, org, catalog, at, roles) != before:
                counts[field] += 1
    by_field = tuple((f, FIELDS[f].rules, counts[f]) for f in variants)
    return KindImpact(kind, seen, differ, unreadable, by_field)


def impact(proposal: Proposal, plans: Iterable[Any], orders: Iterable[Any]) -> Impact:
    """Stored plans and orders (`Store.plans()`, `Store.orders()`: StoredRecords, read-only)
    decided at their next request under the version in force and under the proposal."""
    current, proposed = proposal.current, proposal.proposed
    base = [
        v for v in proposal.catalog if v.effective_from is None or v.effective_from <= proposal.now
    ]
    start = current.effective_from
    at = max(
        [proposal.now, *(m for m in (proposed.effective_from,) if m is not None)]
        + ([start.add(seconds=1)] if start is not None else [])
    )
    ids = [v.version for v in base]

    def under(policy: Policy) -> Catalog:
        return Catalog([*base, _evaluated(policy, at, ids)])

    changed = list(proposed.changes_from(current))
    variants = {f: under(_with_only(current, proposed, f)) for f in changed}
    roles = sorted(current.billing_roles | proposed.billing_roles | {Role.ORG_OWNER})
    now_catalog = Catalog(base)
    proposed_catalog = under(proposed)
    plan_fields = {
        f: c for f, c in variants.items() if f not in ("hours_per_unit", "validity_months")
    }
    order_fields = {
        f: c
        for f, c in variants.items()
        if f in ("billing_roles", "hours_per_unit", "validity_months")
    }
    return Impact(
        at,
        _kind(
            "plans", plans, _plan_outcomes, now_catalog, plan_fields, proposed_catalog, at, roles
        ),
        _kind(
            "orders",
            orders,
            _order_outcomes,
            now_catalog,
            order_fields,
            proposed_catalog,
            at,
            roles,
        ),
    )
