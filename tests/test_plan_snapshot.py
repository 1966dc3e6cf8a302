"""Snapshots, bad input and impossible events for the support plan (V1, V2, V3)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from plan_helpers import OWNER, make_plan, utc

import support_flows as sf
from support_flows.guards.plan import PlanFacts
from support_flows.machines.engine import engine_for
from support_flows.machines.plan_book import PlanBook
from support_flows.machines.plan_chart import COMPILED


def _premium_with_pending_cancel() -> tuple[sf.SupportPlan, sf.FrozenClock]:
    plan, clock = make_plan(utc(2026, 3, 14, 10), tz="America/Havana")
    plan.change("developer", actor=OWNER)
    clock.set(utc(2026, 4, 20))
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    return plan, clock


def test_snapshot_is_json_and_restores_to_an_equal_plan() -> None:
    """A snapshot survives JSON and restores to a plan with the same reads and snapshot."""
    plan, clock = _premium_with_pending_cancel()
    data = json.loads(json.dumps(plan.snapshot()))
    restored = sf.SupportPlan.restore(data, plan.org, clock=clock)
    assert restored.snapshot() == plan.snapshot()
    assert restored.state == plan.state
    assert restored.pending == plan.pending
    assert restored.billing == plan.billing
    assert restored.history == plan.history


def test_restored_plan_behaves_like_the_original() -> None:
    """A restored plan applies its pending change at the same recorded instant."""
    plan, clock = _premium_with_pending_cancel()
    restored = sf.SupportPlan.restore(plan.snapshot(), plan.org, clock=clock)
    clock.set(utc(2026, 7, 1))
    assert restored.apply_due() == plan.apply_due()
    assert restored.snapshot() == plan.snapshot()
    assert restored.state == "cancelled"


def _broken(change: dict[str, Any]) -> dict[str, Any]:
    plan, _ = _premium_with_pending_cancel()
    return {**plan.snapshot(), **change}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"state": "gold"}, "state"),
        ({"state": 3}, "state"),
        ({"periods": "none"}, "periods"),
        ({"version": "1"}, "version"),
        ({"version": 1}, "version"),
        ({"billing_timezone": "Europe/Paris"}, "Europe/Paris"),
        ({"kind": "consulting_order"}, "kind"),
        ({"org_id": "org-2"}, "org-2"),
        ({"state": "basic"}, "basic"),
        ({"extra": True}, "extra"),
        ({"pending": {"target": "developer"}}, "pending"),
    ],
)
def test_v2_snapshots_this_library_did_not_write_are_refused(
    change: dict[str, Any], named: str
) -> None:
    """V2: unknown state, mistyped, missing or extra fields, or another org: invalid_snapshot."""
    plan, clock = _premium_with_pending_cancel()
    with pytest.raises(sf.InvalidInput) as info:
        sf.SupportPlan.restore(_broken(change), plan.org, clock=clock)
    assert info.value.code == "invalid_snapshot"
    assert info.value.rule == "V2"
    assert named in info.value.message


def test_v2_a_missing_field_is_refused() -> None:
    """V2: a snapshot without its history is refused whole."""
    plan, clock = _premium_with_pending_cancel()
    data = plan.snapshot()
    del data["history"]
    with pytest.raises(sf.InvalidInput, match="history"):
        sf.SupportPlan.restore(data, plan.org, clock=clock)


def test_v2_a_snapshot_must_be_a_dict() -> None:
    """V2: anything but a dict is not a snapshot."""
    plan, clock = make_plan(utc(2026, 3, 14, 10))
    with pytest.raises(sf.InvalidInput) as info:
        sf.SupportPlan.restore(["basic"], plan.org, clock=clock)
    assert info.value.code == "invalid_snapshot"


def test_v1_unknown_tier_names_the_value_and_the_accepted_ones() -> None:
    """V1: an unknown tier is malformed input, not a refusal, and changes nothing."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    with pytest.raises(sf.InvalidInput) as info:
        plan.change("gold", actor=OWNER)
    assert info.value.code == "invalid_value"
    assert "'gold'" in info.value.message
    assert "premium" in info.value.message
    assert isinstance(info.value, ValueError)
    assert plan.state == "basic"


def test_v1_unknown_check_action_is_refused() -> None:
    """V1: check() names the accepted actions when given an unknown one."""
    plan, _ = make_plan(utc(2026, 3, 14, 10))
    with pytest.raises(sf.InvalidInput, match="revoke_pending"):
        plan.check("upgrade", actor=OWNER, tier="premium")


@pytest.mark.parametrize("engine", ["table", "statechart"])
def test_v3_the_chart_refuses_events_its_state_has_no_transition_for(engine: str) -> None:
    """V3: apply_pending on basic is event_not_allowed, never silently ignored."""
    clock = sf.FrozenClock(utc(2026, 3, 14))
    book = PlanBook("UTC")
    runner = engine_for(COMPILED, engine)
    facts = PlanFacts(
        sf.Organization("org-1"), None, None, None, book.state, None, False, clock.now()
    )
    with pytest.raises(sf.Refused) as info:
        runner.run(book, "apply_pending", facts)
    assert info.value.code == "event_not_allowed"
    assert info.value.rule == "V3"
    assert book.state == "basic"


@pytest.mark.structure
def test_chart_declares_the_reviewer_events() -> None:
    """The chart's events read as a reviewer would name them."""
    events = set(COMPILED.events)
    assert events == {
        "subscribe",
        "upgrade",
        "downgrade",
        "cancel",
        "revoke",
        "end_trial",
        "apply_pending",
        "reactivate",
    }


@pytest.mark.structure
def test_transitions_table_lists_each_edge_with_its_guards() -> None:
    """The compiled table lists each edge with the registered checks that refuse it."""
    rows = COMPILED.transitions_table()
    assert ("subscribe", "basic", "trial", ("billing_role_required", "cross_org_billing")) in rows
    assert (
        "revoke",
        "premium",
        "premium",
        (
            "billing_role_required",
            "already_on_plan",
            "change_already_effective",
            "no_pending_change",
        ),
    ) in rows
    assert ("end_trial", "trial", "developer", ()) in rows
    assert len(rows) == 20  # 16 under Atlas's policy, and 4 that only other policies choose (K1)
    assert len(COMPILED.edges_under(sf.ATLAS.versions[0])) == 16
