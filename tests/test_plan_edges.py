"""Every way a plan request can go, from every state, as RULES.md says (P1, P3, P4-P15): who may
make it, what it does, and that a refusal changes nothing. Written from the rules, not the chart."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plan_helpers import BILLING_ADMIN, OWNER, READER, make_plan, utc

import support_flows as sf

Setup = Callable[[sf.SupportPlan, sf.FrozenClock], None]


def basic(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    """A new plan."""


def trial(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    plan.change("developer", actor=OWNER)


def developer(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    trial(plan, clock)
    clock.advance(days=31)


def developer_cancelling(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    developer(plan, clock)
    plan.cancel(actor=OWNER)


def premium(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    plan.change("premium", actor=OWNER)


def premium_downgrading(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    premium(plan, clock)
    plan.change("developer", actor=OWNER)


def cancelled(plan: sf.SupportPlan, clock: sf.FrozenClock) -> None:
    developer_cancelling(plan, clock)
    clock.advance(days=40)


# (setup, request, tier, state after, pending target after, purchase: refused by cross-org billing)
PATHS = [
    (basic, "change", "developer", "trial", None, True),
    (basic, "change", "premium", "premium", None, True),
    (trial, "change", "premium", "premium", None, True),
    (trial, "cancel", None, "cancelled", None, False),
    (trial, "change", "basic", "cancelled", None, False),
    (developer, "change", "premium", "premium", None, True),
    (developer, "cancel", None, "developer", "cancelled", False),
    (developer_cancelling, "cancel", None, "developer", "cancelled", False),
    (developer_cancelling, "change", "developer", "developer", None, False),
    (developer_cancelling, "revoke_pending", None, "developer", None, False),
    (developer_cancelling, "change", "premium", "premium", None, True),
    (premium, "change", "developer", "premium", "developer", False),
    (premium, "cancel", None, "premium", "cancelled", False),
    (premium_downgrading, "cancel", None, "premium", "cancelled", False),
    (premium_downgrading, "revoke_pending", None, "premium", None, False),
    (premium_downgrading, "change", "premium", "premium", None, False),
    (cancelled, "change", "developer", "developer", None, True),
    (cancelled, "change", "premium", "premium", None, True),
]
IDS = [f"{setup.__name__}-{request}-{tier}" for setup, request, tier, *_ in PATHS]


def request(plan: sf.SupportPlan, kind: str, tier: str | None, actor: sf.Member) -> object:
    if kind == "change":
        assert tier is not None
        return plan.change(tier, actor=actor)
    return getattr(plan, kind)(actor=actor)


@pytest.mark.parametrize(("setup", "kind", "tier", "state", "pending", "purchase"), PATHS, ids=IDS)
def test_each_request_does_what_the_rules_say(
    setup: Setup, kind: str, tier: str | None, state: str, pending: str | None, purchase: bool
) -> None:
    """P4-P15: the request, made by an Owner or a Billing Admin, leads to the state and pending
    change the rules give, and is recorded in the history by its requester."""
    for actor in (OWNER, BILLING_ADMIN):
        plan, clock = make_plan(utc(2026, 1, 10, 9))
        setup(plan, clock)
        entry = request(plan, kind, tier, actor)
        assert isinstance(entry, sf.HistoryEntry)
        assert entry.requested_by == actor.user_id
        assert plan.state == state
        assert (plan.pending.target if plan.pending else None) == pending
        assert plan.history[-1] == entry


@pytest.mark.parametrize(("setup", "kind", "tier", "state", "pending", "purchase"), PATHS, ids=IDS)
def test_p1_each_request_needs_a_billing_role(
    setup: Setup, kind: str, tier: str | None, state: str, pending: str | None, purchase: bool
) -> None:
    """P1: the same request by a member without Owner or Billing Admin is refused with exactly
    billing_role_required, and changes nothing; check() answers the same."""
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    setup(plan, clock)
    before = plan.snapshot()
    decision = plan.check(kind, actor=READER, tier=tier)
    with pytest.raises(sf.Refused) as caught:
        request(plan, kind, tier, READER)
    assert [str(r) for r in caught.value.reasons] == ["billing_role_required"]
    assert caught.value.reasons == decision.reasons
    assert plan.snapshot() == before


@pytest.mark.parametrize(("setup", "kind", "tier", "state", "pending", "purchase"), PATHS, ids=IDS)
def test_p3_cross_org_billing_refuses_exactly_the_purchases(
    setup: Setup, kind: str, tier: str | None, state: str, pending: str | None, purchase: bool
) -> None:
    """P3: in cross-org billing, subscribe, upgrade and reactivate are refused cross_org_billing;
    downgrade, cancel and revoke go through as usual."""
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    setup(plan, clock)
    crossed_org = sf.Organization("org-1", projects=("p-1",), cross_org_billing=True)
    crossed = sf.SupportPlan.restore(plan.snapshot(), crossed_org, clock=clock)
    if purchase:
        before = crossed.snapshot()
        with pytest.raises(sf.Refused) as caught:
            request(crossed, kind, tier, OWNER)
        assert [str(r) for r in caught.value.reasons] == ["cross_org_billing"]
        assert crossed.snapshot() == before
    else:
        request(crossed, kind, tier, OWNER)
        assert crossed.state == state


def test_p6_p9_what_the_clock_applies_needs_no_role() -> None:
    """P6, P9, P16: the trial's end and a pending change apply with no requester, even after the
    requester lost the role."""
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    trial(plan, clock)
    clock.advance(days=31)
    assert plan.history[-1].event == "end_trial"
    assert plan.history[-1].requested_by is None
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    clock.advance(days=40)
    assert (plan.state, plan.history[-1].event) == ("developer", "apply_pending")
    plan.cancel(actor=OWNER)
    clock.advance(days=40)
    assert (plan.state, plan.history[-1].event) == ("cancelled", "apply_pending")
