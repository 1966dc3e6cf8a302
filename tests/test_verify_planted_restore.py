"""Restore as a verified edge (V2): each test plants one bug in the library's restore checks for
its duration (patching what the library calls at run time, never the verifier) and asserts that
`verify.run` finds it among the mutated snapshots, naming the rule, with the mutation in the
counterexample."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

import support_flows.machines.plan_replay as plan_replay
import support_flows.snapshots.consulting as order_records
import support_flows.snapshots.plan_checks as plan_checks
import support_flows.snapshots.plan_periods as plan_periods
from support_flows import verify
from support_flows.snapshots import strict
from support_flows.verify import restore
from support_flows.verify.reference.judge import judge_plan
from support_flows.verify.restore import EVENTS, NAMES, VOCABULARIES
from support_flows.verify.restore_mutants import mutants

ACCEPTS = "restore refuses every record the library could not have written"
REFUSES = "restore accepts every record the library could have written"


def _found(report: verify.Report, rules: tuple[str, ...], invariant: str) -> verify.Finding:
    """The first violation of one of `rules` on `invariant`, with a JSON-safe counterexample
    whose last step is the restore of a named mutation."""
    named = [v for v in report.violations if v.rule in rules and v.invariant == invariant]
    assert named, f"none of {rules} among {[(v.rule, v.invariant) for v in report.violations]}"
    finding = named[0]
    data = finding.to_dict()
    assert json.loads(json.dumps(data)) == data
    last = finding.counterexample.steps[-1]
    assert last.call == "restore"
    assert last.args["mutation"]
    assert "seeded 18" in last.note
    return finding


def test_a_restore_accepting_another_billing_timezone_breaks_v2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V2: a restore that compares the snapshot's billing timezone with itself accepts a plan
    written in another zone; a mutant moved to another zone is restored and found."""

    def whose(version: int, org_id: str, timezone: str, current: int, org: Any) -> str | None:
        return strict.whose(version, org_id, org.billing_timezone, current, org)

    monkeypatch.setattr(plan_checks, "whose", whose)
    report = verify.run("plan", depth=2)
    finding = _found(report, ("V2",), ACCEPTS)
    assert "billing_timezone" in finding.counterexample.steps[-1].args["mutation"]
    assert "written in billing timezone" in finding.message


def test_an_order_restore_accepting_another_billing_timezone_breaks_v2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V2: the same bug in an order's restore is found among the orders' mutants."""

    def whose(version: int, org_id: str, timezone: str, current: int, org: Any) -> str | None:
        return strict.whose(version, org_id, org.billing_timezone, current, org)

    monkeypatch.setattr(order_records, "whose", whose)
    report = verify.run("consulting", depth=2)
    finding = _found(report, ("V2",), ACCEPTS)
    assert "billing_timezone" in finding.counterexample.steps[-1].args["mutation"]
    assert finding.counterexample.setup.machine == "consulting"


def test_a_restore_refusing_a_requester_it_was_not_shown_breaks_v2(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """V2: a restore made too strict (a requester's id may not hold a digit, which V5 allows)
    refuses records the library could have written; the verifier's own snapshots never hold
    such an id, so only a mutant whose requests another member made finds it."""
    identifier = plan_replay.is_identifier
    monkeypatch.setattr(
        plan_replay,
        "is_identifier",
        lambda text: identifier(text) and not any(c.isdigit() for c in str(text)),
    )
    report = verify.run("plan", depth=2)
    finding = _found(report, ("V2",), REFUSES)
    assert "refused" in finding.message
    assert "-2" in finding.counterexample.steps[-1].args["mutation"]


def test_a_restore_accepting_a_boundary_off_the_month_start_breaks_p20(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P20: a restore that allows any billing boundary accepts a period boundary moved off the
    month start; the mutant is found, named by P20 (or V2)."""
    monkeypatch.setattr(plan_periods, "boundary_allowed", lambda *args: True)
    report = verify.run("plan", depth=4)
    finding = _found(report, ("P20", "V2"), ACCEPTS)
    assert "periods" in finding.counterexample.steps[-1].args["mutation"]


def test_order_histories_replayed_find_no_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    """V2: with order histories replayed on the reference, the unplanted library's restore
    accepts exactly the order records it could have written."""
    monkeypatch.setattr(restore, "REPLAY_ORDER_HISTORIES", True)
    report = verify.run("consulting", depth=4)
    assert report.violations == (), [v.describe() for v in report.violations]


def test_the_reference_settles_mutants_without_the_library() -> None:
    """V2: the reference judges a record by its face and its history alone: a plan in another
    zone is unwritable (V2), a trial a day short breaks T5, and the same seed draws the same
    mutants."""
    trial = {"started_at": "2026-01-01T12:00:00+00:00", "ends_at": "2026-01-30T12:00:00+00:00"}
    record: dict[str, Any] = {
        "kind": "support_plan",
        "version": 2,
        "org_id": "org-1",
        "billing_timezone": "UTC",
        "state": "trial",
        "since": trial["started_at"],
        "trial_started_at": trial["started_at"],
        "last_change_applied": False,
        "recorded_at": trial["started_at"],
        "trial": trial,
        "pending": None,
        "periods": [],
        "last_plan": None,
        "history": None,
    }
    judged = judge_plan(record, org_id="org-1", tz="UTC", names=NAMES, events=EVENTS, seen=())
    assert (judged.verdict, judged.rule) == ("unwritable", "T5")
    moved = {**record, "billing_timezone": "Europe/Paris"}
    judged = judge_plan(moved, org_id="org-1", tz="UTC", names=NAMES, events=EVENTS, seen=())
    assert (judged.verdict, judged.rule) == ("unwritable", "V2")
    drawn = [m.change for m in mutants(record, random.Random(18), 5, VOCABULARIES)]
    assert drawn == [m.change for m in mutants(record, random.Random(18), 5, VOCABULARIES)]
