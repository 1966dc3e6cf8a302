"""P21: no paid tier is held for free, with P20's second invariant, in every way into premium."""

from __future__ import annotations

import pendulum
import pytest
from plan_helpers import OWNER, make_plan, periods, utc

import support_flows as sf
from support_flows.localtime import add_wall_days, is_month_start
from support_flows.snapshots.plan_invariants import (
    premium_stretches,
    stray_boundaries,
    unbilled_stretch,
)

Z = "+00:00"


def premium_stretches_billed(plan: sf.SupportPlan) -> bool:
    """P20's second invariant on a live plan: each stretch in premium meets premium billing."""
    premium = [(p.starts_at, p.ends_at) for p in plan.billing if p.tier == "premium"]
    pending = plan.pending
    steps = ((e.at, e.source, e.target) for e in plan.history)
    stretches = premium_stretches(steps, pending.effective_at if pending else None)
    return unbilled_stretch(premium, stretches) is None


def boundaries_allowed(plan: sf.SupportPlan, tz: str) -> bool:
    """P20's first invariant: month starts, but for a trial's end, retroactive starts and the
    ends meeting them."""
    billing = plan.billing
    trial_ends = {add_wall_days(e.at, 30, tz) for e in plan.history if e.target == "trial"}
    retro = {p.starts_at for p in billing if p.retroactive} | trial_ends
    return stray_boundaries(((p.starts_at, p.ends_at) for p in billing), tz, retro) == []


def test_p21_the_rules_example() -> None:
    """P21: basic -> premium on Mar 14, downgrade on Mar 20: premium Mar 14 -> Apr 1 (retroactive),
    developer from Apr 1; shown while pending, and kept once applied."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    assert periods(plan) == [("premium", f"2026-04-01T00:00:00{Z}", None, False)]
    clock.set(utc(2026, 3, 20, 9))
    plan.change("developer", actor=OWNER)
    expected = [
        ("premium", f"2026-03-14T10:00:00{Z}", f"2026-04-01T00:00:00{Z}", True),
        ("developer", f"2026-04-01T00:00:00{Z}", None, False),
    ]
    assert periods(plan) == expected
    assert plan.state == "premium"  # the change itself still waits for the 1st (P9)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2026, 4, 1)
    clock.set(utc(2026, 4, 1))
    assert plan.state == "developer"
    assert periods(plan) == expected
    assert premium_stretches_billed(plan)
    assert boundaries_allowed(plan, "UTC")


def test_p21_through_a_cancel() -> None:
    """P21: premium cancelled before its billing starts is billed from its start to the 1st."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 4, 2))
    assert plan.state == "cancelled"
    assert periods(plan) == [
        ("premium", f"2026-03-14T10:00:00{Z}", f"2026-04-01T00:00:00{Z}", True)
    ]
    assert premium_stretches_billed(plan)


def test_p21_through_an_upgrade_from_developer() -> None:
    """P21: developer billed since the trial's end, upgraded Mar 14, downgraded Mar 20: developer
    ends where the premium catch-up starts, then developer again from Apr 1."""
    plan, clock = make_plan(utc(2026, 1, 5, 8))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 3, 14, 10))
    assert plan.state == "developer"
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [
        ("developer", f"2026-02-04T08:00:00{Z}", f"2026-03-14T10:00:00{Z}", False),
        ("premium", f"2026-03-14T10:00:00{Z}", f"2026-04-01T00:00:00{Z}", True),
        ("developer", f"2026-04-01T00:00:00{Z}", None, False),
    ]
    assert premium_stretches_billed(plan)


def test_p21_through_an_upgrade_from_a_trial_that_ends_after_the_first() -> None:
    """P21: a trial ending after Apr 1, upgraded Mar 14 (premium billed from Apr 1) and
    downgraded Mar 20: premium is caught up from Mar 14."""
    plan, clock = make_plan(utc(2026, 3, 10, 12))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [
        ("premium", f"2026-03-14T10:00:00{Z}", f"2026-04-01T00:00:00{Z}", True),
        ("developer", f"2026-04-01T00:00:00{Z}", None, False),
    ]


def test_p21_not_when_the_premium_is_billed_from_the_trials_end() -> None:
    """P8/P21: a trial ending Mar 31 moves premium billing up to then, before the downgrade takes
    effect: premium was billed, so there is no catch-up (the trial's free time stays free)."""
    plan, clock = make_plan(utc(2026, 3, 1, 12))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [
        ("premium", f"2026-03-31T12:00:00{Z}", f"2026-04-01T00:00:00{Z}", False),
        ("developer", f"2026-04-01T00:00:00{Z}", None, False),
    ]
    assert premium_stretches_billed(plan)


def test_p21_through_p15s_premium_exception() -> None:
    """P21: reactivating premium after a developer plan bills it from the next 1st (P15); a cancel
    before then bills the catch-up from the reactivation."""
    plan, clock = make_plan(utc(2026, 1, 5, 8))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 2, 10))
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 3, 14, 10))
    assert plan.state == "cancelled"
    plan.change("premium", actor=OWNER)
    assert periods(plan)[-1] == ("premium", f"2026-04-01T00:00:00{Z}", None, False)
    clock.set(utc(2026, 3, 20))
    plan.cancel(actor=OWNER)
    assert periods(plan)[-1] == (
        "premium",
        f"2026-03-14T10:00:00{Z}",
        f"2026-04-01T00:00:00{Z}",
        True,
    )
    assert premium_stretches_billed(plan)


def test_p21_a_revoked_change_leaves_nothing_behind() -> None:
    """P21: revoking the downgrade bills premium from its original start again."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.change("developer", actor=OWNER)
    plan.revoke_pending(actor=OWNER)
    assert periods(plan) == [("premium", f"2026-04-01T00:00:00{Z}", None, False)]


@pytest.mark.parametrize(
    ("tz", "subscribed", "downgraded", "caught_up_to"),
    [
        # 12:00 UTC on Mar 31 is already Apr 1 02:00 in Kiritimati (+14): its month is April.
        ("Pacific/Kiritimati", utc(2026, 3, 31, 12), utc(2026, 4, 5), utc(2026, 4, 30, 10)),
        # 20:00 UTC on Mar 31 is still Mar 31 09:00 in Pago Pago (-11): its month is March.
        ("Pacific/Pago_Pago", utc(2026, 3, 31, 20), utc(2026, 3, 31, 21), utc(2026, 4, 1, 11)),
        ("Pacific/Auckland", utc(2026, 6, 30, 13, 30), utc(2026, 7, 10), utc(2026, 7, 31, 12)),
    ],
)
def test_p21_in_zones_far_from_utc(
    tz: str,
    subscribed: pendulum.DateTime,
    downgraded: pendulum.DateTime,
    caught_up_to: pendulum.DateTime,
) -> None:
    """P21 in a billing zone far from UTC: the catch-up ends at the local 1st (T3)."""
    plan, clock = make_plan(subscribed, tz=tz)
    plan.change("premium", actor=OWNER)
    clock.set(downgraded)
    plan.change("developer", actor=OWNER)
    first = [p for p in plan.billing if p.tier == "premium"]
    assert [(p.starts_at, p.ends_at, p.retroactive) for p in first] == [
        (subscribed, caught_up_to, True)
    ]
    assert is_month_start(caught_up_to, tz)
    clock.set(caught_up_to)
    assert plan.state == "developer"
    assert premium_stretches_billed(plan)
    assert boundaries_allowed(plan, tz)


def test_p21_repeated_every_month_never_holds_premium_for_free() -> None:
    """P21: upgrading every month and downgrading before the 1st bills every premium stretch."""
    plan, clock = make_plan(utc(2026, 1, 5, 8), tz="America/New_York")
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 2, 10))
    for month in range(2, 12):
        clock.set(utc(2026, month, 10))
        plan.change("premium", actor=OWNER)
        clock.set(utc(2026, month, 20))
        plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 12, 2))
    premium_days = sum(
        ((p.ends_at or clock.now()) - p.starts_at).in_days()
        for p in plan.billing
        if p.tier == "premium"
    )
    assert premium_days >= 10 * 19
    assert premium_stretches_billed(plan)
    assert boundaries_allowed(plan, "America/New_York")
    restored = sf.SupportPlan.restore(plan.snapshot(), plan.org, clock=clock)
    assert restored.snapshot() == plan.snapshot()
