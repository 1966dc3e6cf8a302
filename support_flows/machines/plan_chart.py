"""The support plan's chart (RULES.md P): its states, events, edges, guards and routes, compiled
once; and `apply_until`, what the clock applies to a plan's book."""

from __future__ import annotations

import pendulum
from statemachine import Event, State

from support_flows.guards.common import billing_role_required
from support_flows.guards.plan import (
    PLAN,
    PlanFacts,
    TierRelation,
    already_on_plan,
    cancel_due,
    change_already_effective,
    changes_later,
    changes_now,
    chose_developer,
    chose_premium,
    contact_sales,
    cross_org_billing,
    downgrade_due,
    has_trial,
    may_be_in_trial,
    may_be_pending,
    no_pending_change,
    no_trial,
    nothing_to_cancel,
    relation,
)
from support_flows.machines.chart import BaseChart, Route, edge
from support_flows.machines.engine import Engine, compile_chart
from support_flows.machines.plan_book import PlanBook
from support_flows.values import Organization, PlanState, Tier
from support_flows.values.events import PlanEvent, PlanRequest
from support_flows.values.plan import HistoryEntry
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["COMPILED", "PlanChart", "apply_until"]

PURCHASE = [billing_role_required, cross_org_billing]
ROLE = [billing_role_required]
REVOKE = [billing_role_required, already_on_plan, change_already_effective, no_pending_change]


class PlanChart(BaseChart):
    """basic -> trial -> developer / premium -> cancelled, as a reviewer reads it (RULES.md P)."""

    registry = PLAN
    model_class = PlanBook
    named_by = PlanEvent
    refusals_without_edge = (
        (
            billing_role_required,
            contact_sales,
            already_on_plan,
            change_already_effective,
            no_pending_change,
            nothing_to_cancel,
        ),
    )

    basic = State("Basic", value=PlanState.BASIC, initial=True)
    trial = State("Trial", value=PlanState.TRIAL)
    developer = State("Developer", value=PlanState.DEVELOPER)
    premium = State("Premium", value=PlanState.PREMIUM)
    cancelled = State("Cancelled", value=PlanState.CANCELLED)

    # Edges whose `when` holds a policy choice (has_trial, changes_now, ...) exist only under
    # the policies that choose them (K1): the diagrams and the verifier read them so.
    subscribe = Event(
        edge(basic, trial, when=[chose_developer, has_trial], unless=PURCHASE, on="begin_trial")
        | edge(
            basic,
            developer,
            when=[chose_developer, no_trial],
            unless=PURCHASE,
            on="begin_developer",
        )
        | edge(basic, premium, when=[chose_premium], unless=PURCHASE, on="begin_premium"),
        name="Subscribe",
    )
    upgrade = Event(
        edge(
            trial,
            premium,
            when=[chose_premium, may_be_in_trial],
            unless=PURCHASE,
            on="upgrade_from_trial",
        )
        | edge(
            developer, premium, when=[chose_premium], unless=PURCHASE, on="upgrade_from_developer"
        ),
        name="Upgrade",
    )
    downgrade = Event(
        edge(premium, when=[chose_developer, changes_later], unless=ROLE, on="schedule_downgrade")
        | edge(
            premium,
            developer,
            when=[chose_developer, changes_now],
            unless=ROLE,
            on="downgrade_now",
        ),
        name="Downgrade",
    )
    cancel = Event(
        (
            edge(trial, cancelled, when=[may_be_in_trial], unless=ROLE, on="cancel_trial")
            | edge(developer, when=[changes_later], unless=ROLE, on="schedule_cancel")
            | edge(premium, when=[changes_later], unless=ROLE, on="schedule_cancel")
            | edge(developer, cancelled, when=[changes_now], unless=ROLE, on="cancel_now")
            | edge(premium, cancelled, when=[changes_now], unless=ROLE, on="cancel_now")
        ),
        name="Cancel",
    )
    revoke = Event(
        edge(developer, when=[may_be_pending], unless=REVOKE, on="drop_pending")
        | edge(premium, when=[may_be_pending], unless=REVOKE, on="drop_pending"),
        name="Revoke the pending change",
    )
    end_trial = Event(
        edge(trial, developer, when=[may_be_in_trial], on="convert_trial"),
        name="The trial ends",
    )
    apply_pending = Event(
        (
            edge(premium, developer, when=[downgrade_due, may_be_pending], on="apply_downgrade")
            | edge(developer, cancelled, when=[cancel_due, may_be_pending], on="apply_cancel")
            | edge(premium, cancelled, when=[cancel_due, may_be_pending], on="apply_cancel")
        ),
        name="The pending change takes effect",
    )
    reactivate = Event(
        edge(cancelled, developer, when=[chose_developer], unless=PURCHASE, on="reactivate_plan")
        | edge(cancelled, premium, when=[chose_premium], unless=PURCHASE, on="reactivate_plan"),
        name="Reactivate",
    )

    # What each request of SupportPlan.change / cancel / revoke_pending means (P4, P8, P9,
    # P11-P13, P15): where several answer alike, the one with an edge from the state is taken.
    routes = (
        Route(PlanEvent.REVOKE, PlanRequest.REVOKE_PENDING),
        Route(PlanEvent.CANCEL, PlanRequest.CANCEL),
        Route(PlanEvent.CANCEL, PlanRequest.CHANGE, TierRelation.BASIC),
        Route(PlanEvent.REVOKE, PlanRequest.CHANGE, TierRelation.SAME),
        Route(PlanEvent.UPGRADE, PlanRequest.CHANGE, TierRelation.HIGHER),
        Route(PlanEvent.SUBSCRIBE, PlanRequest.CHANGE, TierRelation.HIGHER),
        Route(PlanEvent.REACTIVATE, PlanRequest.CHANGE, TierRelation.HIGHER),
        Route(PlanEvent.DOWNGRADE, PlanRequest.CHANGE, TierRelation.LOWER),
    )
    route_choices = (None, *Tier)
    route_relation = staticmethod(relation)


COMPILED = compile_chart(PlanChart)


def apply_until(
    book: PlanBook,
    org: Organization,
    engine: Engine,
    now: pendulum.DateTime,
    catalog: Catalog = ATLAS,
) -> tuple[HistoryEntry, ...]:
    """Take, at their recorded instants, the edges of what has come due by `now` (P6, P9, P14):
    what a plan does when its clock moves, and what a bulk rollover does to each record. Each
    is decided under the version that scheduled it (K3), which its history entry names (K4)."""
    applied = []
    while (due := book.next_due()) is not None and due[0] <= now:
        at, event = due
        source = book.state
        version = book.due_policy()
        policy = catalog[version]
        facts = PlanFacts(
            org, None, None, None, source, book.pending, book.last_change_applied, at, policy
        )
        engine.run(book, event, facts)
        applied.append(book.record(event, source, at, policy=version))
    return tuple(applied)
