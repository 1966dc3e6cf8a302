"""Example tests for the support plan lifecycle, one group per rule of RULES.md (P, T7)."""

from __future__ import annotations

import pytest
from plan_helpers import BILLING_ADMIN, DEV, OWNER, READER, make_plan, periods, utc

import support_flows as sf


def refused(call: object, *args: object, **kwargs: object) -> sf.Refused:
    with pytest.raises(sf.Refused) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


# P1: billing roles


@pytest.mark.parametrize("actor", [READER, DEV, sf.Member("u-x")])
def test_p1_plan_actions_need_a_billing_role(actor: sf.Member) -> None:
    """P1: change, cancel and revoke without Owner or Billing Admin are refused, naming the user."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    error = refused(plan.change, "premium", actor=actor)
    assert error.code == "billing_role_required"
    assert error.rule == "P1"
    assert actor.user_id in error.message
    assert refused(plan.cancel, actor=actor).reasons[0] == sf.Reason.BILLING_ROLE_REQUIRED
    assert refused(plan.revoke_pending, actor=actor).code == "billing_role_required"
    assert plan.state == "basic"


def test_p1_billing_admin_may_act() -> None:
    """P1: an Organization Billing Admin can subscribe."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=BILLING_ADMIN)
    assert plan.state == "premium"


def test_p1_refusal_changes_nothing() -> None:
    """P1: a refused request leaves the snapshot untouched."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    before = plan.snapshot()
    refused(plan.change, "developer", actor=READER)
    assert plan.snapshot() == before


# P2 and P3: not self-serve


def test_p2_enterprise_means_contact_sales() -> None:
    """P2: enterprise is refused with contact_sales, after P1 when both fail."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    assert refused(plan.change, "enterprise", actor=OWNER).code == "contact_sales"
    error = refused(plan.change, sf.Tier.ENTERPRISE, actor=READER)
    assert [r.code for r in error.reasons] == ["billing_role_required", "contact_sales"]
    assert [r.rule for r in error.reasons] == ["P1", "P2"]


@pytest.mark.parametrize("tier", ["developer", "premium"])
def test_p3_cross_org_billing_cannot_subscribe(tier: str) -> None:
    """P3: an organization in cross-org billing cannot subscribe self-serve."""
    plan, _ = make_plan(utc(2026, 3, 14, 10), cross_org_billing=True)
    error = refused(plan.change, tier, actor=OWNER)
    assert error.code == "cross_org_billing"
    assert "org-1" in error.message


def _moved_to_cross_org(plan: sf.SupportPlan, clock: sf.FrozenClock) -> sf.SupportPlan:
    org = sf.Organization("org-1", projects=("p-1",), cross_org_billing=True)
    return sf.SupportPlan.restore(plan.snapshot(), org, clock=clock)


def test_p3_cross_org_billing_cannot_upgrade_or_reactivate() -> None:
    """P3: upgrade and reactivation are refused in cross-org billing."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    crossed = _moved_to_cross_org(plan, clock)
    assert refused(crossed.change, "premium", actor=OWNER).code == "cross_org_billing"
    crossed.cancel(actor=OWNER)
    assert crossed.state == "cancelled"
    assert refused(crossed.change, "developer", actor=OWNER).code == "cross_org_billing"


def test_p3_cross_org_billing_can_downgrade_cancel_and_revoke() -> None:
    """P3: downgrade, cancel and revoke stay allowed in cross-org billing."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    crossed = _moved_to_cross_org(plan, clock)
    crossed.change("developer", actor=OWNER)
    crossed.revoke_pending(actor=OWNER)
    crossed.cancel(actor=OWNER)
    assert crossed.pending is not None
    assert crossed.pending.target == "cancelled"


# P4 and P5: subscribing from basic


def test_p4_choosing_developer_from_basic_starts_a_30_day_trial() -> None:
    """P4/T5: developer from basic starts the trial now, ending 30 days later, same wall time."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    assert plan.state == "trial"
    assert plan.trial == sf.Trial(utc(2026, 3, 14, 10), utc(2026, 4, 13, 10))
    assert periods(plan) == [("developer", "2026-04-13T10:00:00+00:00", None, False)]
    assert sf.Channel.SUPPORT_CASE in plan.entitlements


def test_p4_only_one_trial_per_organization() -> None:
    """P4: after a cancelled trial, choosing developer reactivates paid support, never a trial."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.advance(days=5)
    plan.change("developer", actor=OWNER)
    assert plan.state == "developer"
    assert plan.trial is None


def test_p5_premium_from_basic_is_in_force_now_billed_next_month() -> None:
    """P5: premium is in force now; its billing starts on the 1st of the next month."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    assert plan.state == "premium"
    assert plan.trial is None
    assert periods(plan) == [("premium", "2026-04-01T00:00:00+00:00", None, False)]


def test_p5_billing_starts_in_the_billing_timezone() -> None:
    """P5/T3: in Pacific/Kiritimati (+14) a UTC March instant is already April locally."""
    plan, _ = make_plan(utc(2026, 3, 31, 12), tz="Pacific/Kiritimati")
    plan.change("premium", actor=OWNER)
    (period,) = plan.billing
    assert period.starts_at == utc(2026, 4, 30, 10)
    assert period.starts_at.in_timezone("Pacific/Kiritimati").day == 1


# P6 and P7: the trial's end


def test_p6_trial_converts_to_developer_at_its_end() -> None:
    """P6: at the trial's end the plan is developer, billed from that instant."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 13, 10))
    (applied,) = plan.apply_due()
    assert applied.event == "end_trial"
    assert applied.at == utc(2026, 4, 13, 10)
    assert applied.requested_by is None
    assert plan.state == "developer"
    assert periods(plan) == [("developer", "2026-04-13T10:00:00+00:00", None, False)]


def test_p6_one_microsecond_before_the_end_is_still_the_trial() -> None:
    """P6/T7: the trial lasts until its end instant, exclusive."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 13, 10).subtract(microseconds=1))
    assert plan.apply_due() == ()
    assert plan.state == "trial"


def test_p7_cancel_during_the_trial_stops_at_once() -> None:
    """P7: cancelling in the trial is immediate and bills nothing."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.advance(days=29, hours=23)
    entry = plan.cancel(actor=OWNER)
    assert entry.event == "cancel"
    assert plan.state == "cancelled"
    assert plan.pending is None
    assert plan.billing == ()
    assert sf.Channel.SUPPORT_CASE not in plan.entitlements


def test_p7_choosing_basic_in_the_trial_is_a_cancel() -> None:
    """P7/P9: choosing basic during the trial cancels it at once."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    plan.change("basic", actor=OWNER)
    assert plan.state == "cancelled"


def test_p7_cancel_at_exactly_the_trial_end_is_a_developer_cancel() -> None:
    """P7: at the trial's end P6 has happened, so the cancel is pending until the next month."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 13, 10))
    plan.cancel(actor=OWNER)
    assert plan.state == "developer"
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2026, 5, 1)
    assert periods(plan) == [
        ("developer", "2026-04-13T10:00:00+00:00", "2026-05-01T00:00:00+00:00", False)
    ]


# P8: upgrades


def test_p8_upgrade_from_developer_is_now_billed_next_month() -> None:
    """P8: premium is in force at once; developer billing ends and premium starts at E(now)."""
    plan, clock = make_plan(utc(2026, 3, 1, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 20, 8))
    plan.change("premium", actor=OWNER)
    assert plan.state == "premium"
    assert periods(plan) == [
        ("developer", "2026-03-31T10:00:00+00:00", "2026-05-01T00:00:00+00:00", False),
        ("premium", "2026-05-01T00:00:00+00:00", None, False),
    ]


def test_p8_upgrade_from_trial_bills_premium_from_next_month_when_sooner() -> None:
    """P8: upgrading in the trial ends it; premium billing starts at E(now) when that is first."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.advance(days=2)
    plan.change("premium", actor=OWNER)
    assert plan.state == "premium"
    assert plan.trial is None
    assert periods(plan) == [("premium", "2026-04-01T00:00:00+00:00", None, False)]


def test_p8_upgrade_from_trial_bills_premium_from_the_trial_end_when_sooner() -> None:
    """P8: a trial never grows free time: premium billing starts at the trial's scheduled end."""
    plan, clock = make_plan(utc(2026, 3, 1, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 3, 20))
    plan.change("premium", actor=OWNER)
    assert periods(plan) == [("premium", "2026-03-31T10:00:00+00:00", None, False)]


def test_p8_upgrade_clears_the_pending_change() -> None:
    """P8: an upgrade drops a pending cancel."""
    plan, clock = make_plan(utc(2026, 3, 1, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 2))
    plan.cancel(actor=OWNER)
    plan.change("premium", actor=OWNER)
    assert plan.pending is None
    assert plan.state == "premium"
    clock.set(utc(2026, 6, 1))
    assert plan.state == "premium"


# P9 and P10: downgrades and cancels are pending


def test_p9_downgrade_is_pending_until_next_month() -> None:
    """P9: a downgrade changes nothing now and takes effect at E(now), plan and billing alike."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 4, 10))
    entry = plan.change("developer", actor=OWNER)
    assert entry.event == "downgrade"
    assert entry.effective_at == utc(2026, 5, 1)
    assert plan.state == "premium"
    assert plan.pending == sf.PendingChange(
        sf.PlanState.DEVELOPER, utc(2026, 5, 1), utc(2026, 4, 10), OWNER.user_id
    )
    expected = [
        ("premium", "2026-04-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00", False),
        ("developer", "2026-05-01T00:00:00+00:00", None, False),
    ]
    assert periods(plan) == expected
    clock.set(utc(2026, 5, 1))
    assert plan.state == "developer"
    assert periods(plan) == expected


@pytest.mark.parametrize("how", ["cancel", "basic"])
def test_p9_cancel_is_pending_and_ends_in_cancelled(how: str) -> None:
    """P9: a cancel (or choosing basic) takes effect at E(now) and leads to cancelled."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 4, 30, 23, 59, 59, 999999))
    if how == "cancel":
        plan.cancel(actor=OWNER)
    else:
        plan.change("basic", actor=OWNER)
    assert plan.state == "premium"
    assert plan.pending is not None
    assert plan.pending.target == "cancelled"
    assert plan.pending.effective_at == utc(2026, 5, 1)
    clock.advance(microseconds=1)
    assert plan.state == "cancelled"
    assert periods(plan) == [
        ("premium", "2026-04-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00", False)
    ]


def test_p21_downgrade_before_premium_billing_starts_bills_the_catch_up() -> None:
    """P21: premium subscribed mid-month and downgraded before its billing starts is billed
    retroactively from its start to the 1st; the empty premium period is not listed (P20)."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.advance(days=1)
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [
        ("premium", "2026-03-14T10:00:00+00:00", "2026-04-01T00:00:00+00:00", True),
        ("developer", "2026-04-01T00:00:00+00:00", None, False),
    ]


def test_p10_a_newer_request_replaces_the_pending_change() -> None:
    """P10: at most one pending change; the newer one wins and history keeps both requests."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 4, 3))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 4))
    plan.cancel(actor=BILLING_ADMIN)
    assert plan.pending == sf.PendingChange(
        sf.PlanState.CANCELLED, utc(2026, 5, 1), utc(2026, 4, 4), BILLING_ADMIN.user_id
    )
    clock.set(utc(2026, 4, 5))
    plan.change("developer", actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.target == "developer"
    requests = [e.event for e in plan.history if e.is_request]
    assert requests == ["subscribe", "downgrade", "cancel", "downgrade"]


def test_p10_effective_instant_is_recomputed_from_the_newer_request() -> None:
    """P10/T4: a request at exactly 00:00 on the 1st is pending for the month after."""
    plan, clock = make_plan(utc(2026, 3, 14, 10), tz="Europe/Berlin")
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 3, 31, 21, 59, 59))
    plan.change("developer", actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2026, 3, 31, 22)
    plan.revoke_pending(actor=OWNER)
    clock.set(utc(2026, 3, 31, 22))
    plan.change("developer", actor=OWNER)
    assert plan.pending.effective_at == utc(2026, 4, 30, 22)


# P11: choosing the plan in force


def test_p11_choosing_the_current_plan_with_nothing_pending_is_refused() -> None:
    """P11: already_on_plan for the plan in force, and for developer during the trial."""
    plan, _clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    error = refused(plan.change, "developer", actor=OWNER)
    assert error.code == "already_on_plan"
    assert error.rule == "P11"
    plan.change("premium", actor=OWNER)
    assert refused(plan.change, "premium", actor=OWNER).code == "already_on_plan"


def test_p11_choosing_the_current_plan_revokes_the_pending_change() -> None:
    """P11: re-choosing the plan in force while a downgrade is pending revokes it."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    entry = plan.change("premium", actor=OWNER)
    assert entry.event == "revoke"
    assert plan.pending is None
    clock.set(utc(2026, 5, 1))
    assert plan.state == "premium"
    assert periods(plan) == [("premium", "2026-04-01T00:00:00+00:00", None, False)]


# P12: revoking


def test_p12_revoke_one_microsecond_before_the_effective_instant() -> None:
    """P12: revoking is allowed while now < effective instant."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 4, 1).subtract(microseconds=1))
    plan.revoke_pending(actor=OWNER)
    clock.set(utc(2026, 4, 1))
    assert plan.state == "premium"
    assert plan.pending is None


def test_p12_revoke_at_the_effective_instant_is_too_late() -> None:
    """P12: at the effective instant the change has taken effect: change_already_effective."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 1))
    before = plan.snapshot()
    error = refused(plan.revoke_pending, actor=OWNER)
    assert error.code == "change_already_effective"
    assert error.rule == "P12"
    assert plan.snapshot() == before
    assert plan.state == "developer"


def test_p12_with_nothing_pending_revoke_says_so() -> None:
    """P12: no_pending_change when nothing was requested, or a request came after the change."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    assert refused(plan.revoke_pending, actor=OWNER).code == "no_pending_change"
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 2))
    assert plan.check("revoke_pending", actor=OWNER).code == "change_already_effective"
    plan.change("premium", actor=OWNER)
    assert refused(plan.revoke_pending, actor=OWNER).code == "no_pending_change"


# P13: cancel with nothing to cancel, and idempotent cancels


@pytest.mark.parametrize("state", ["basic", "cancelled"])
def test_p13_nothing_to_cancel(state: str) -> None:
    """P13: cancel on basic or cancelled is refused with nothing_to_cancel."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    if state == "cancelled":
        plan.change("developer", actor=OWNER)
        plan.cancel(actor=OWNER)
    assert plan.state == state
    assert refused(plan.cancel, actor=OWNER).code == "nothing_to_cancel"
    assert refused(plan.change, "basic", actor=OWNER).code == "nothing_to_cancel"


def test_p13_a_second_cancel_keeps_the_effective_instant() -> None:
    """P13: cancelling while a cancel is pending changes nothing, same effective instant."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    first = plan.pending
    clock.advance(days=3)
    entry = plan.cancel(actor=BILLING_ADMIN)
    assert plan.pending == first
    assert entry.effective_at == utc(2026, 4, 1)


# P14 and T7: applying what is due


def test_p14_late_apply_due_applies_at_recorded_instants() -> None:
    """P14: a late apply_due gives the same result as a punctual one, each at its instant."""
    punctual, clock_a = make_plan(utc(2026, 3, 14, 10))
    late, clock_b = make_plan(utc(2026, 3, 14, 10))
    for plan in (punctual, late):
        plan.change("developer", actor=OWNER)
    clock_a.set(utc(2026, 4, 13, 10))
    punctual.apply_due()
    clock_a.set(utc(2026, 4, 20))
    clock_b.set(utc(2026, 4, 20))
    for plan in (punctual, late):
        plan.change("basic", actor=OWNER)
    clock_a.set(utc(2026, 5, 1))
    punctual.apply_due()
    clock_a.set(utc(2026, 9, 9))
    clock_b.set(utc(2026, 9, 9))
    late_applied = late.apply_due()
    assert late.snapshot() == punctual.snapshot()
    assert [e.at for e in late_applied] == [utc(2026, 5, 1)]
    assert late.apply_due() == ()


def test_p14_one_late_call_applies_everything_in_time_order() -> None:
    """P14: a trial end and the cancel after it are applied in order by one late call."""
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    plan.change("developer", actor=OWNER)
    snapshot = plan.snapshot()
    clock.set(utc(2026, 2, 9, 9))
    restored = sf.SupportPlan.restore(snapshot, plan.org, clock=clock)
    applied = restored.apply_due()
    assert [(e.event, e.at) for e in applied] == [("end_trial", utc(2026, 2, 9, 9))]
    assert restored.apply_due() == ()


def test_t7_reads_see_due_changes_without_apply_due() -> None:
    """T7: reading after the effective instant sees the change, applied at its recorded instant."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 6, 15))
    assert plan.state == "developer"
    applied = [e for e in plan.history if not e.is_request]
    assert [(e.event, e.at) for e in applied] == [("apply_pending", utc(2026, 4, 1))]
    assert plan.apply_due() == ()


def test_t7_actions_see_due_changes_first() -> None:
    """T7: an action after the trial's end acts on developer, not on the trial."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 20))
    entry = plan.change("premium", actor=OWNER)
    assert entry.source == "developer"
    assert periods(plan) == [
        ("developer", "2026-04-13T10:00:00+00:00", "2026-05-01T00:00:00+00:00", False),
        ("premium", "2026-05-01T00:00:00+00:00", None, False),
    ]


# P15: reactivation


def _cancelled_premium(at_end: tuple[int, ...]) -> tuple[sf.SupportPlan, sf.FrozenClock]:
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.set(utc(*at_end))
    assert plan.state == "cancelled"
    return plan, clock


PREMIUM_CAUGHT_UP = ("premium", "2026-01-10T09:00:00+00:00", "2026-02-01T00:00:00+00:00", True)


def test_p15_reactivation_within_90_days_bills_from_the_end() -> None:
    """P15: reactivating bills retroactively from when the last plan ended (after P21 billed the
    premium that was cancelled before its billing began)."""
    plan, _clock = _cancelled_premium((2026, 3, 10))
    plan.change("developer", actor=OWNER)
    assert plan.state == "developer"
    assert periods(plan) == [
        PREMIUM_CAUGHT_UP,
        ("developer", "2026-02-01T00:00:00+00:00", None, True),
    ]


def test_p15_reactivation_beyond_90_days_bills_90_days_back() -> None:
    """P15: the retroactive charge reaches back at most 90 calendar days."""
    plan, _clock = _cancelled_premium((2026, 6, 15, 12))
    plan.change("premium", actor=OWNER)
    assert periods(plan) == [
        PREMIUM_CAUGHT_UP,
        ("premium", "2026-03-17T12:00:00+00:00", None, True),
    ]


def test_p15_ninety_days_are_counted_in_the_billing_timezone() -> None:
    """P15: 90 calendar days back keep the local wall time across a DST change."""
    plan, clock = make_plan(utc(2025, 6, 1), tz="Europe/Berlin")
    plan.change("developer", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.set(utc(2025, 12, 1, 11))
    plan.change("developer", actor=OWNER)
    (period,) = plan.billing
    assert period.retroactive
    assert period.starts_at == utc(2025, 9, 2, 10)
    assert period.starts_at.in_timezone("Europe/Berlin").hour == 12


def test_p15_exception_developer_to_premium_has_no_retroactive_charge() -> None:
    """P15: last plan developer (or a trial), new plan premium: billing starts at E(now)."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 4, 2))
    plan.change("premium", actor=OWNER)
    assert plan.state == "premium"
    assert periods(plan) == [("premium", "2026-05-01T00:00:00+00:00", None, False)]


def test_p15_a_period_starting_now_is_still_retroactive() -> None:
    """P15: reactivating at the instant the trial was cancelled flags the period retroactive."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    plan.change("developer", actor=OWNER)
    plan.cancel(actor=OWNER)
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [("developer", "2026-03-14T10:00:00+00:00", None, True)]


def test_p15_reactivation_after_a_developer_plan_continues_without_gap() -> None:
    """P15: developer ended at the 1st; reactivating developer bills from that 1st on."""
    plan, clock = make_plan(utc(2026, 1, 10, 9))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 2, 15))
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 4, 15))
    plan.change("developer", actor=OWNER)
    assert periods(plan) == [
        ("developer", "2026-02-09T09:00:00+00:00", "2026-03-01T00:00:00+00:00", False),
        ("developer", "2026-03-01T00:00:00+00:00", None, True),
    ]


# P16 and P17


def test_p16_a_pending_change_survives_its_requester_losing_the_role() -> None:
    """P16: guards run at request time; the change still takes effect later."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    demoted = sf.Member(OWNER.user_id, org_roles={sf.Role.ORG_READ_ONLY})
    assert refused(plan.revoke_pending, actor=demoted).code == "billing_role_required"
    clock.set(utc(2026, 4, 1))
    assert plan.state == "cancelled"


@pytest.mark.parametrize(
    ("state", "cases"),
    [("basic", False), ("trial", True), ("premium", True), ("cancelled", False)],
)
def test_p17_entitlements_follow_the_state(state: str, cases: bool) -> None:
    """P17: chat and Developer Resources always; private cases in trial, developer, premium."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    if state != "basic":
        plan.change("developer" if state != "premium" else "premium", actor=OWNER)
    if state == "cancelled":
        plan.cancel(actor=OWNER)
    assert plan.state == state
    expected = {sf.Channel.CHAT, sf.Channel.DEVELOPER_RESOURCES}
    if cases:
        expected.add(sf.Channel.SUPPORT_CASE)
    assert plan.entitlements == expected


def test_p17_a_pending_cancel_removes_nothing_before_it_takes_effect() -> None:
    """P17: cases stay available until the pending cancel's effective instant."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    clock.set(utc(2026, 4, 1).subtract(microseconds=1))
    assert sf.Channel.SUPPORT_CASE in plan.entitlements
    clock.advance(microseconds=1)
    assert sf.Channel.SUPPORT_CASE not in plan.entitlements


# check() answers exactly what the action would do


def test_check_answers_without_raising_or_changing_anything() -> None:
    """check() returns a Decision with every reason and leaves the plan as it was."""
    plan, _ = make_plan(utc(2026, 3, 14, 10), cross_org_billing=True)
    before = plan.snapshot()
    decision = plan.check("change", actor=READER, tier="premium")
    assert not decision
    assert [r.code for r in decision.reasons] == ["billing_role_required", "cross_org_billing"]
    assert plan.check("cancel", actor=OWNER).code == "nothing_to_cancel"
    assert plan.snapshot() == before


# Calendar edges at the plan level (T3, T4, T5 through P5, P8, P9)


def test_t5_trial_crossing_a_dst_change_keeps_the_local_wall_time() -> None:
    """T5/P4: a Berlin trial started in CET ends 30 days later at 10:00 CEST (one hour less)."""
    plan, _ = make_plan(utc(2026, 3, 14, 9), tz="Europe/Berlin")
    plan.change("developer", actor=OWNER)
    assert plan.trial is not None
    assert plan.trial.ends_at == utc(2026, 4, 13, 8)
    assert plan.trial.ends_at.in_timezone("Europe/Berlin").hour == 10


def test_t3_premium_billing_starts_after_a_dst_gap_at_midnight() -> None:
    """T3/P5: in Asuncion 2023-10-01 has no 00:00; billing starts at 01:00 local (04:00 UTC)."""
    plan, _ = make_plan(utc(2023, 9, 15, 15), tz="America/Asuncion")
    plan.change("premium", actor=OWNER)
    assert periods(plan) == [("premium", "2023-10-01T04:00:00+00:00", None, False)]


def test_t3_pending_change_takes_the_earlier_of_two_midnights() -> None:
    """T3/P9: Havana's 2026-11-01 00:00 happens twice; the downgrade is due at the first."""
    plan, clock = make_plan(utc(2026, 10, 2, 15), tz="America/Havana")
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 10, 20))
    plan.change("developer", actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2026, 11, 1, 4)
    clock.set(utc(2026, 11, 1, 4).subtract(microseconds=1))
    assert plan.state == "premium"
    clock.set(utc(2026, 11, 1, 4))
    assert plan.state == "developer"


def test_t4_request_at_the_last_microsecond_of_the_year() -> None:
    """T3: a cancel at 23:59:59.999999 on Dec 31 takes effect on Jan 1."""
    plan, clock = make_plan(utc(2026, 12, 2, 9))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 12, 31, 23, 59, 59, 999999))
    plan.cancel(actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2027, 1, 1)


def test_t4_request_at_midnight_on_the_first_waits_a_whole_month() -> None:
    """T4: a downgrade at exactly 00:00 on Mar 1 of a leap year is due on Apr 1, not Mar 1."""
    plan, clock = make_plan(utc(2028, 2, 10))
    plan.change("premium", actor=OWNER)
    clock.set(utc(2028, 3, 1))
    plan.change("developer", actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2028, 4, 1)


def test_t3_leap_day_request_is_due_on_march_first() -> None:
    """T3: an upgrade on Feb 29 bills premium from Mar 1."""
    plan, clock = make_plan(utc(2028, 1, 10))
    plan.change("developer", actor=OWNER)
    clock.set(utc(2028, 2, 29, 12))
    plan.change("premium", actor=OWNER)
    assert periods(plan) == [
        ("developer", "2028-02-09T00:00:00+00:00", "2028-03-01T00:00:00+00:00", False),
        ("premium", "2028-03-01T00:00:00+00:00", None, False),
    ]


def test_t3_local_month_behind_utc_in_pago_pago() -> None:
    """T3: at 05:00 UTC on May 1 it is still April 30 in Pago Pago (-11): due on May 1 local."""
    plan, clock = make_plan(utc(2026, 4, 2), tz="Pacific/Pago_Pago")
    plan.change("premium", actor=OWNER)
    clock.set(utc(2026, 5, 1, 5))
    plan.cancel(actor=OWNER)
    assert plan.pending is not None
    assert plan.pending.effective_at == utc(2026, 5, 1, 11)
