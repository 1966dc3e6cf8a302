"""Restore's sharp mutants (`verify.restore_mutants`, with `sharp`): changes only a check of the
record alone can refuse, made at every record without a history they apply to. Each planted test
switches one such library check off for its duration and asserts that `verify.run` finds it,
naming the rule, with the mutation in the counterexample."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

import support_flows.snapshots.plan_checks as plan_checks
import support_flows.snapshots.plan_invariants as plan_invariants
import support_flows.snapshots.plan_periods as plan_periods
from support_flows import verify
from support_flows.localtime import in_zone, instant
from support_flows.verify.reference.calendar import same_wall_time
from support_flows.verify.reference.judge import judge_order, judge_plan
from support_flows.verify.restore import ACTIONS, EVENTS, NAMES, VOCABULARIES
from support_flows.verify.restore_mutants import mutants

ACCEPTS = "restore refuses every record the library could not have written"


def _record(**fields: Any) -> dict[str, Any]:
    """A premium plan bought on 2026-03-01 at 00:00 UTC, billed from Apr 1, no history."""
    record: dict[str, Any] = {
        "kind": "support_plan",
        "version": 2,
        "org_id": "org-1",
        "billing_timezone": "UTC",
        "state": "premium",
        "since": "2026-03-01T00:00:00+00:00",
        "trial_started_at": None,
        "last_change_applied": False,
        "recorded_at": "2026-03-01T00:00:00+00:00",
        "trial": None,
        "pending": None,
        "periods": [
            {
                "tier": "premium",
                "starts_at": "2026-04-01T00:00:00+00:00",
                "ends_at": None,
                "retroactive": False,
            }
        ],
        "last_plan": None,
        "history": None,
    }
    return {**record, **fields}


def _sharp(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    drawn = mutants(record, random.Random(18), 5, VOCABULARIES)
    every = mutants(record, random.Random(18), 5, VOCABULARIES, sharp=True)
    assert all(d in every for d in drawn)
    return {m.change: m.record for m in every if m.change not in {d.change for d in drawn}}


def _judged(record: dict[str, Any], tz: str = "UTC") -> tuple[str, str]:
    judged = judge_plan(record, org_id="org-1", tz=tz, names=NAMES, events=EVENTS, seen=())
    return judged.verdict, judged.rule


def test_p5_premium_billed_from_the_instant_it_came_into_force_is_unwritable() -> None:
    """P5/T4: premium chosen at exactly 00:00 on the 1st is billed from the next 1st; the sharp
    mutant billing it from that instant is one the reference refuses (P5)."""
    sharp = _sharp(_record())
    name = "$.periods[0].starts_at -> since, 2026-03-01T00:00:00+00:00"
    assert _judged(sharp[name]) == ("unwritable", "P5")
    assert _judged(_record(history=None))[0] == "unknown"


def test_p9_a_pending_change_late_or_to_premium_is_unwritable() -> None:
    """P9: a pending downgrade a month late, or to premium, is made at every record holding one,
    and the reference refuses both."""
    pending = {
        "target": "developer",
        "effective_at": "2026-04-01T00:00:00+00:00",
        "requested_at": "2026-03-01T00:00:00+00:00",
        "requested_by": "owner",
    }
    sharp = _sharp(_record(pending=pending))
    late = [m for c, m in sharp.items() if c.startswith("$.pending.effective_at a month later")]
    assert [_judged(m) for m in late] == [("unwritable", "P9")]
    assert _judged(sharp["$.pending.target -> 'premium'"]) == ("unwritable", "P9")


def test_p20_a_boundary_at_the_second_pass_of_a_repeated_midnight_is_unwritable() -> None:
    """P20/T3: in Havana, Nov 1 2026 begins at 00:00 CDT and its 00:00 comes again an hour later
    (the clocks go back at 01:00); a boundary moved there, wherever the record holds it, is not
    a month start, and the reference refuses it."""
    first = "2026-11-01T04:00:00+00:00"
    assert [
        o.isoformat() for o in same_wall_time(dt.datetime.fromisoformat(first), "America/Havana")
    ] == ["2026-11-01T05:00:00+00:00"]
    period = {"tier": "premium", "starts_at": first, "ends_at": None, "retroactive": False}
    record = _record(
        billing_timezone="America/Havana",
        since="2026-10-14T14:00:00+00:00",
        recorded_at="2026-10-14T14:00:00+00:00",
        periods=[period],
    )
    sharp = _sharp(record)
    moved = [m for c, m in sharp.items() if "the other pass of its wall time" in c]
    assert len(moved) == 1
    assert moved[0]["periods"][0]["starts_at"] == "2026-11-01T05:00:00+00:00"
    assert _judged(moved[0], "America/Havana") == ("unwritable", "P20")


def test_p12_a_request_recorded_after_a_change_took_effect_is_unwritable() -> None:
    """P12/T8: while the flag says a change took effect and no request came after it, that
    change is the latest entry: recorded_at an hour later is a record the reference refuses."""
    premium = {
        "tier": "premium",
        "starts_at": "2026-03-01T00:00:00+00:00",
        "ends_at": "2026-04-01T00:00:00+00:00",
        "retroactive": False,
    }
    developer = {**premium, "tier": "developer", "starts_at": premium["ends_at"], "ends_at": None}
    applied = _record(
        state="developer",
        since="2026-04-01T00:00:00+00:00",
        recorded_at="2026-04-01T00:00:00+00:00",
        last_change_applied=True,
        periods=[premium, developer],
    )
    sharp = _sharp(applied)
    later = [m for c, m in sharp.items() if c.startswith("$.recorded_at an hour after")]
    assert [m["recorded_at"] for m in later] == ["2026-04-01T01:00:00+00:00"]
    assert _judged(later[0])[1] == "P12"


def test_p9_a_cancel_asked_before_the_state_began_is_unwritable() -> None:
    """P9: a pending cancel of the premium plan in force since Mar 10, moved to a microsecond
    before Mar 10 (the same month, so the same effective 1st), is refused by the reference."""
    pending = {
        "target": "cancelled",
        "effective_at": "2026-04-01T00:00:00+00:00",
        "requested_at": "2026-03-12T00:00:00+00:00",
        "requested_by": "owner",
    }
    record = _record(
        since="2026-03-10T00:00:00+00:00",
        recorded_at="2026-03-12T00:00:00+00:00",
        pending=pending,
    )
    sharp = _sharp(record)
    before = [m for c, m in sharp.items() if c.startswith("$.pending.requested_at before since")]
    assert [m["pending"]["requested_at"] for m in before] == ["2026-03-09T23:59:59.999999+00:00"]
    assert _judged(before[0]) == ("unwritable", "P9")


def test_p20_the_open_period_billing_the_other_paid_tier_is_unwritable() -> None:
    """P20: premium in force billed by an open developer period is refused by the reference."""
    swapped = _sharp(_record())["$.periods[0].tier -> 'developer'"]
    assert _judged(swapped) == ("unwritable", "P20")


def _order(**fields: Any) -> dict[str, Any]:
    """A console order of 2 units bought on 2024-01-31, one session booked, no history."""
    record: dict[str, Any] = {
        "kind": "consulting_order",
        "version": 3,
        "policy": "atlas",
        "order_id": "co-1",
        "org_id": "org-1",
        "billing_timezone": "UTC",
        "state": "scheduled",
        "channel": "console",
        "buyer_email": "owner@example.com",
        "requested_by": "owner",
        "sales_reference": None,
        "hours_per_unit": 1,
        "validity_months": None,
        "created_at": "2024-01-31T10:00:00+00:00",
        "purchased_at": "2024-01-31T10:00:00+00:00",
        "expires_at": None,
        "validity_ended": False,
        "recorded_at": "2024-01-31T10:00:00+00:00",
        "units": {"purchased": 2, "available": 1, "scheduled": 1, "consumed": 0, "expired": 0},
        "sessions": [
            {
                "session_id": "s-1",
                "start": "2024-02-01T10:00:00+00:00",
                "hours": 1,
                "units": 1,
                "status": "scheduled",
                "booked_at": "2024-01-31T10:00:00+00:00",
                "booked_by": "owner",
                "closed_at": None,
                "closed_by": None,
            }
        ],
        "history": None,
    }
    return {**record, **fields}


def _order_judged(record: dict[str, Any]) -> tuple[str, str]:
    judged = judge_order(
        record, org_id="org-1", tz="UTC", actions=ACTIONS, seen=(), origin=_order()
    )
    return judged.verdict, judged.rule


def test_f5_f6_a_closed_booking_or_a_validity_ended_without_expiry_is_unwritable() -> None:
    """F5/F6: a booked session that says who closed it, and a validity that ended with no
    expiry, are sharp mutants of an order the reference refuses."""
    sharp = _sharp(_order())
    assert _order_judged(sharp["$.sessions[0].closed_by: 'owner' on a booked session"]) == (
        "unwritable",
        "F5",
    )
    assert _order_judged(sharp["$.validity_ended: true with no expiry"]) == ("unwritable", "F6")


def test_f1_a_unit_expired_in_checkout_is_unwritable() -> None:
    """F1: an order in checkout has bought nothing, so none of its units expired."""
    units = {"purchased": 2, "available": 2, "scheduled": 0, "consumed": 0, "expired": 0}
    checkout = _order(state="checkout", purchased_at=None, units=units, sessions=[])
    expired = _sharp(checkout)["$.units: one available unit expired in checkout"]
    assert expired["units"]["expired"] == 1
    assert _order_judged(expired) == ("unwritable", "F1")


def test_f1_p9_a_purchase_in_checkout_and_a_paid_plan_never_billed_are_unwritable() -> None:
    """F1: an order in checkout with a purchase instant; P9: a cancelled developer plan with no
    billing period ending where it ended. Both sharp mutants are refused by the reference."""
    units = {"purchased": 2, "available": 2, "scheduled": 0, "consumed": 0, "expired": 0}
    checkout = _order(state="checkout", purchased_at=None, units=units, sessions=[])
    bought = _sharp(checkout)["$.purchased_at: the creation instant, in checkout"]
    assert _order_judged(bought) == ("unwritable", "F1")
    period = {
        "tier": "developer",
        "starts_at": "2026-02-01T00:00:00+00:00",
        "ends_at": "2026-04-01T00:00:00+00:00",
        "retroactive": False,
    }
    cancelled = _record(
        state="cancelled",
        since="2026-04-01T00:00:00+00:00",
        recorded_at="2026-04-01T00:00:00+00:00",
        last_change_applied=True,
        periods=[period],
        last_plan={"state": "developer", "ended_at": "2026-04-01T00:00:00+00:00"},
    )
    unbilled = _sharp(cancelled)["$.periods: none, though a paid plan ended"]
    assert unbilled["periods"] == []
    assert _judged(unbilled) == ("unwritable", "P9")


def _mutation(report: verify.Report, rules: tuple[str, ...], text: str) -> str:
    found = [
        v.counterexample.steps[-1].args.get("mutation", "")
        for v in report.violations
        if v.rule in rules and v.invariant == ACCEPTS
    ]
    assert any(text in m for m in found), [v.describe() for v in report.violations]
    return next(m for m in found if text in m)


def test_p9_a_restore_without_its_pending_check_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """P9: with the record-alone check of the pending change switched off, a pending change a
    month late is accepted: found as P9."""
    monkeypatch.setattr(plan_checks, "_pending", lambda r, tz, terms: None)
    report = verify.run("plan", depth=3)
    assert "a month later" in _mutation(report, ("P9",), "$.pending")


def test_p5_a_restore_billing_premium_from_its_own_instant_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P5/T4: a restore that takes `since` itself for the 1st after it accepts premium billed
    from the instant it came into force at 00:00 on a 1st: found as P5."""
    exact = plan_periods.is_next_month_start

    def loose(effective: Any, moment: Any, tz: str) -> bool:
        return exact(effective, moment, tz) or instant(effective) == instant(moment)

    monkeypatch.setattr(plan_periods, "is_next_month_start", loose)
    report = verify.run("plan", depth=3)
    _mutation(report, ("P5",), "-> since")


def test_p20_a_restore_taking_a_repeated_midnight_for_a_month_start_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P20/T3: a restore that takes the second 00:00 of a 1st the clocks repeat for a month start
    accepts Havana's second 00:00 of Nov 1 2026: found as P20."""
    exact = plan_invariants.is_month_start

    def twice(at: Any, tz: str) -> bool:
        local = (in_zone(at, tz).day, in_zone(at, tz).hour, in_zone(at, tz).minute)
        return exact(at, tz) or (local == (1, 0, 0) and exact(instant(at).subtract(hours=1), tz))

    for module in (plan_invariants, plan_periods, plan_checks):
        monkeypatch.setattr(module, "is_month_start", twice)
    report = verify.run("plan", depth=4)
    _mutation(report, ("P20",), "the other pass of its wall time in America/Havana")


def test_p12_a_restore_letting_a_request_follow_an_applied_change_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P12/T8: a restore that no longer ties recorded_at to the change that took effect accepts a
    request recorded after it: found as P12."""
    exact = plan_checks._recorded

    def lenient(r: Any) -> str | None:
        return None if r.last_change_applied and r.pending is None else exact(r)

    monkeypatch.setattr(plan_checks, "_recorded", lenient)
    report = verify.run("plan", depth=4)
    _mutation(report, ("P12",), "$.recorded_at an hour after the change took effect")
