"""What every plan request does in every plan state, asked of the library itself: a plan is
brought to each state on a frozen clock and `SupportPlan.check` answers each request of an
Organization Owner. It shows the refusals no arrow of the diagram carries (enterprise's
`contact_sales`, cancelling nothing), and why the choice of the plan in force is the revoke
event (P11)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.diagrams.graph import compiled
from support_flows.machines.plan import SupportPlan
from support_flows.values import Member, Organization, PlanState, Project, Role, Tier
from support_flows.values.events import PlanRequest
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["REQUESTS", "request_table"]

START = pendulum.datetime(2026, 3, 2, 9, tz="UTC")
OWNER = Member("u-1", org_roles={Role.ORG_OWNER})

REQUESTS: tuple[tuple[str, str, Tier | None], ...] = (
    *((f"choose {t.value}", PlanRequest.CHANGE, t) for t in Tier),
    ("cancel", PlanRequest.CANCEL, None),
    ("revoke the pending change", PlanRequest.REVOKE_PENDING, None),
)
"""(column heading, `check` action, tier chosen) for every request a host can make."""


@attrs.frozen
class _Setup:
    label: str
    state: PlanState
    pending: bool
    steps: Callable[[SupportPlan, FrozenClock], None]


def _trial(plan: SupportPlan, clock: FrozenClock) -> None:
    plan.change(Tier.DEVELOPER, actor=OWNER)


def _developer(plan: SupportPlan, clock: FrozenClock) -> None:
    _trial(plan, clock)
    if plan.trial is not None:
        clock.set(plan.trial.ends_at.add(days=1))


def _cancel_pending(plan: SupportPlan, clock: FrozenClock) -> None:
    _developer(plan, clock)
    plan.cancel(actor=OWNER)


def _premium(plan: SupportPlan, clock: FrozenClock) -> None:
    plan.change(Tier.PREMIUM, actor=OWNER)


def _downgrade_pending(plan: SupportPlan, clock: FrozenClock) -> None:
    _premium(plan, clock)
    plan.change(Tier.DEVELOPER, actor=OWNER)


def _cancelled(plan: SupportPlan, clock: FrozenClock) -> None:
    _cancel_pending(plan, clock)
    if plan.pending is not None:
        clock.set(plan.pending.effective_at.add(days=1))


def _nothing(plan: SupportPlan, clock: FrozenClock) -> None:
    return None


SETUPS = (
    _Setup("basic", PlanState.BASIC, False, _nothing),
    _Setup("trial", PlanState.TRIAL, False, _trial),
    _Setup("developer", PlanState.DEVELOPER, False, _developer),
    _Setup("developer, a cancel pending", PlanState.DEVELOPER, True, _cancel_pending),
    _Setup("premium", PlanState.PREMIUM, False, _premium),
    _Setup("premium, a downgrade pending", PlanState.PREMIUM, True, _downgrade_pending),
    _Setup("cancelled", PlanState.CANCELLED, False, _cancelled),
)


def _cell(plan: SupportPlan, action: str, tier: Tier | None) -> str:
    decision = plan.check(action, actor=OWNER, **({} if tier is None else {"tier": tier}))
    if decision.allowed:
        chart = compiled("plan")
        event = chart.route(plan.state.value, action, tier)
        return f'<td class="allowed">{escape(chart.event_names.get(event, event))}</td>'
    reasons = "<br>".join(
        f'<span class="reason">{escape(v.code.value)}</span> '
        f'<a class="rule" href="#rule-{escape(v.rule)}">{escape(v.rule)}</a>'
        for v in decision.reasons
    )
    return f'<td class="refused">{reasons}</td>'


def request_table(catalog: Catalog = ATLAS) -> str:
    """The table: a row per plan state (and with a change pending), a column per request, each
    cell the event the request takes or the refusals `check` gives, under `catalog`'s version
    in force. A state this version never reaches (no trial, changes at once) has no row."""
    rows = []
    for setup in SETUPS:
        clock = FrozenClock(START)
        org = Organization("org-1", projects=(Project("p-1"),))
        plan = SupportPlan(org, clock=clock, catalog=catalog)
        setup.steps(plan, clock)
        if plan.state is not setup.state or (plan.pending is not None) != setup.pending:
            continue
        cells = "".join(_cell(plan, action, tier) for _, action, tier in REQUESTS)
        rows.append(f'<tr><th scope="row">{escape(setup.label)}</th>{cells}</tr>')
    head = "".join(f'<th scope="col">{escape(words)}</th>' for words, _, _ in REQUESTS)
    return (
        '<div class="wide" tabindex="0" role="region" aria-label="Every request in every plan '
        'state"><table class="requests"><thead><tr><th scope="col">Plan state</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
