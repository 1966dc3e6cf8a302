"""Honest coverage and counterexamples a reviewer reads (issue 18): a check counts as covered
only once the exploration has seen it refuse and allow on every event it guards (U1), the report
lists those outcomes per rule, findings of one problem are merged, the specific rule comes
before the generic ones, and periods and history print as dated lines."""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from click.testing import CliRunner

import support_flows.cli.verify as verify_cli
import support_flows.guards.case as case_guards
import support_flows.machines.plan_book as plan_book
from support_flows import verify
from support_flows.machines.case_chart import COMPILED as CASE_CHART
from support_flows.machines.consulting_chart import COMPILED as ORDER_CHART
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.review.verification import decisions_table, shortfalls
from support_flows.values import PlanState, Tier
from support_flows.values.plan import BillingPeriod, HistoryEntry
from support_flows.verify.both_ways import ALLOWED, NO_EDGE, REFUSED, outcomes
from support_flows.verify.common import Verdict
from support_flows.verify.dated import lines
from support_flows.verify.explore import Tracker
from support_flows.verify.findings import GENERIC_RULES, merged, ranked
from support_flows.verify.model import Coverage, Decided, Report, Tally

UTC = pendulum.timezone("UTC")


def _body(check: Callable[..., Any]) -> Any:
    """The function a registered check wraps (what the chart's edges call)."""
    return inspect.getclosurevars(check).nonlocals["body"]


def _never_refuses(facts: Any) -> None:
    return None


def _setup(zone: str = "UTC") -> verify.Setup:
    return verify.Setup("plan", zone, "2026-01-01T12:00:00+00:00", {"org_id": "org-1"})


def _finding(rule: str, message: str, steps: int, invariant: str = "inv") -> verify.Finding:
    step = verify.Step("2026-01-01T12:00:00+00:00", "change", {"tier": "premium"})
    ce = verify.Counterexample(_setup(), (step,) * steps)
    return verify.Finding(rule, invariant, message, ce)


def _report(decided: tuple[Decided, ...], *, strict: bool) -> Report:
    every = Tally(("x",), ())
    return Report("plan", 1, 3, Coverage(every, every, every, every, decided), 3, (), 0.0, strict)


P3_UPGRADE = Decided("P3", "cross_org_billing", "upgrade", (ALLOWED,), (REFUSED,))


@pytest.mark.parametrize("compiled", [PLAN_CHART, CASE_CHART, ORDER_CHART])
def test_every_check_on_an_edge_must_refuse_and_allow_on_each_event_it_guards(
    compiled: Any,
) -> None:
    """U1: each check carried by edges is asked both ways on every event whose edges carry it,
    and only there; a check only explaining refusals without an edge has the one outcome."""
    found = list(outcomes(compiled))
    carried = {(g.__name__, e.event) for e in compiled.edges for g in e.guards}
    assert {(check, where) for _, check, where, can in found if can == (REFUSED, ALLOWED)} == (
        carried
    )
    for _, check, where, can in found:
        if where == NO_EDGE:
            assert can == (REFUSED,)
            assert all(check != name for name, _ in carried)


def test_p3_guards_the_purchases_only() -> None:
    """P3: cross_org_billing must be seen to refuse and to allow a subscribe, an upgrade and a
    reactivation; a downgrade or a cancel is not its to decide."""
    p3 = {where for rule, check, where, _ in outcomes(PLAN_CHART) if rule == "P3"}
    assert p3 == {"subscribe", "upgrade", "reactivate"}
    p1 = {where for rule, _, where, _ in outcomes(PLAN_CHART) if rule == "P1"}
    assert {"subscribe", "upgrade", "downgrade", "cancel", "revoke", "reactivate"} <= p1


def test_the_report_lists_per_rule_the_outcomes_seen_and_missing() -> None:
    """U1: a run reports every rule of its sections in order, its checks' outcomes seen and
    never seen (or "exercised" for a rule with no check), as JSON-safe data and as text."""
    report = verify.run("case", depth=3)
    rows = report.coverage.decisions
    assert [d.rule for d in rows if not d.check] == ["C1", "C6", "C7"]
    c3 = [d for d in rows if d.rule == "C3"]
    assert [(d.check, d.where) for d in c3] == [("org_owner_required", "submit")]
    assert set(c3[0].seen) == {REFUSED, ALLOWED}
    data = report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["decisions"]["total"] == len(report.coverage.outcomes.done) + len(
        report.coverage.outcomes.missing
    )
    assert {"rule": "C3", "check": "org_owner_required", "where": "submit"}.items() <= (
        data["decisions"]["rules"][[r["rule"] for r in data["decisions"]["rules"]].index("C3")]
    ).items()
    text = report.describe()
    assert "check outcomes seen" in text
    assert "C3   org_owner_required submit: refused, allowed" in text


def test_a_check_that_never_refuses_leaves_its_refusal_unseen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """C3/U1: with org_owner_required never refusing, its refusal on submit is never seen: a
    strict report is not ok and names it; a lenient one reports it without failing on it."""
    monkeypatch.setattr(_body(case_guards.org_owner_required), "__code__", _never_refuses.__code__)
    strict = verify.run("case", depth=1, strict=True)
    gap = "decision C3 org_owner_required on submit: refused"
    assert gap in strict.coverage.undecided
    assert gap in strict.gaps
    assert not strict.ok
    assert "decision C3 org_owner_required on submit: refused" in strict.shortfall(shown=50)
    assert verify.run("case", depth=1).gaps == strict.gaps  # strict by default
    lenient = verify.run("case", depth=1, strict=False)
    assert gap not in lenient.gaps
    assert gap in lenient.coverage.undecided


def test_strictness_decides_whether_an_unseen_outcome_fails() -> None:
    """U1: a report whose only gap is an outcome never seen is ok when lenient (saying so in
    its text) and not ok when strict, its shortfall naming the outcome."""
    lenient, strict = _report((P3_UPGRADE,), strict=False), _report((P3_UPGRADE,), strict=True)
    assert lenient.ok
    assert lenient.shortfall() == ""
    assert "outcomes never seen (reported, not failing" in lenient.describe()
    assert "P3   cross_org_billing upgrade: allowed, never refused" in lenient.describe()
    assert not strict.ok
    assert strict.shortfall() == (
        "plan: not covered: decision P3 cross_org_billing on upgrade: refused"
    )


@pytest.mark.parametrize("strict", [False, True])
def test_the_command_fails_on_unseen_outcomes_only_when_strict(
    monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    """U1: `verify` (strict by default) exits 1 naming the outcome never seen; with
    `--no-strict-both-ways` the table lists it and the exit status is 0."""

    def run(machine: str, **options: Any) -> Report:
        return _report((P3_UPGRADE,), strict=options["strict"])

    monkeypatch.setattr(verify_cli, "run", run)
    args = ["--machine", "plan", *([] if strict else ["--no-strict-both-ways"])]
    result = CliRunner().invoke(verify_cli.verify, args)
    assert "never refused" in result.stdout
    if strict:
        assert result.exit_code == 1
        assert "decision P3 cross_org_billing on upgrade: refused" in result.stderr
    else:
        assert (result.exit_code, result.stderr) == (0, "")


def test_findings_of_one_problem_are_merged_keeping_the_shortest() -> None:
    """Findings with the same rule and message become one: the shortest counterexample, the
    other invariants named, the number of variants said."""
    long = _finding("V2", "restore refused", 3, "snapshot round trip (with history)")
    short = _finding("V2", "restore refused", 1, "snapshot round trip (without history)")
    other = _finding("V2", "another problem", 2)
    found = merged([long, short, other])
    assert len(found) == 2
    assert found[0].counterexample is short.counterexample
    assert found[0].merged == ("snapshot round trip (with history)",)
    assert found[0].variants == 2
    assert found[0].to_dict()["variants"] == 2
    assert "2 variants merged" in found[0].describe()
    assert found[1].variants == 1


def test_specific_rules_come_before_generic_ones() -> None:
    """A longer T3 finding is listed before a shorter P20 or V2 one: the generic rules come
    last, each group by the length of its counterexample."""
    order = ranked(
        [
            _finding("P20", "a", 1),
            _finding("V2", "b", 1),
            _finding("T3", "c", 3),
            _finding("P9", "d", 2),
        ]
    )
    assert [f.rule for f in order] == ["P9", "T3", "P20", "V2"]
    assert {"P20", "P21", "V2", "V3", "T7"} == set(GENERIC_RULES)


def test_a_late_month_start_is_reported_specific_rule_first_once_per_problem(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P9/T3: with effective dates a day after the 1st, the first finding names a specific
    rule, P20 and V2 come after every specific one, and the round trip with and without
    history is one V2 finding of two variants."""
    on_time = plan_book.next_month_start
    monkeypatch.setattr(plan_book, "next_month_start", lambda now, tz: on_time(now, tz).add(days=1))
    report = verify.run("plan", depth=2)
    rules = [f.rule for f in report.violations]
    assert rules[0] not in GENERIC_RULES
    first_generic = next(i for i, r in enumerate(rules) if r in GENERIC_RULES)
    assert all(r in GENERIC_RULES for r in rules[first_generic:])
    v2 = [f for f in report.violations if f.rule == "V2" and "round trip" in f.invariant]
    assert len(v2) == 1
    assert v2[0].variants == 2
    assert report.shortfall().startswith(f"plan: {len(rules)} violations ({rules[0]}, ")


def test_periods_and_history_print_as_dated_lines() -> None:
    """A billing period reads "developer  2026-04-01 00:00 -> 2026-05-01 00:00 (UTC)", in the
    billing zone's wall clock, open periods as "open"; history entries one per line."""
    april = pendulum.datetime(2026, 4, 1, tz=UTC)
    may = pendulum.datetime(2026, 5, 1, tz=UTC)
    period = BillingPeriod(Tier.DEVELOPER, april, may)
    assert lines([period], "UTC") == ("developer  2026-04-01 00:00 -> 2026-05-01 00:00 (UTC)",)
    plain = ("premium", april, None, True)
    assert lines((plain,), "America/New_York") == (
        "premium  2026-03-31 20:00 -> open (America/New_York)  retroactive",
    )
    history = (
        HistoryEntry(april, "subscribe", PlanState.BASIC, PlanState.TRIAL, "owner"),
        (may, "trial", "developer", None),
    )
    assert lines(history, "UTC") == (
        "2026-04-01 00:00 (UTC)  basic -> trial  by owner",
        "2026-05-01 00:00 (UTC)  trial -> developer  applied by the clock",
    )
    assert lines(None, "UTC") == ()
    assert lines((), "UTC") == ("(none)",)
    assert lines(dt.datetime(2026, 1, 1, 12, 30, 15, tzinfo=dt.UTC), "UTC") == (
        "2026-01-01 12:30:15 (UTC)",
    )


def test_a_finding_shows_what_the_rules_expected_beside_what_happened() -> None:
    """A broken verdict that states its expected and actual values becomes a finding printing
    both as dated lines in the counterexample's billing zone."""
    tracker = Tracker("plan", PLAN_CHART, ("P", "T"))
    start = pendulum.datetime(2026, 2, 1, tz=UTC)
    want = (("premium", start, None, False),)
    got = (("premium", start.add(days=1), None, False),)
    verdict = Verdict("P9", "agrees", False, "the billing timeline differs", want, got)
    where = verify.Counterexample(_setup(), ())
    assert tracker.expect(verdict, lambda: where) is False
    found = tracker.report(1, 0.0).violations[0]
    assert found.expected == ("premium  2026-02-01 00:00 -> open (UTC)",)
    assert found.actual == ("premium  2026-02-02 00:00 -> open (UTC)",)
    text = found.describe()
    assert "expected (the rules):\n    premium  2026-02-01 00:00 -> open (UTC)" in text
    assert "happened:\n    premium  2026-02-02 00:00 -> open (UTC)" in text
    assert Verdict("P9", "agrees", True).expected is None


def test_the_review_pack_shows_the_decisions_as_an_accessible_table() -> None:
    """The pack's table per machine: a caption saying how many outcomes were seen, column
    headers and each rule as a row header, outcomes never seen in their own column."""
    data = _report((P3_UPGRADE, Decided("P4", "", "", ("exercised",), ())), strict=False)
    html = decisions_table(data.to_dict())
    assert html.startswith('<div class="wide" tabindex="0" role="region" aria-label="plan: ')
    assert '<table class="decisions"><caption' in html
    assert "plan: what each rule was seen to decide, 1 of 2 outcomes of its checks seen" in html
    assert "(those never seen are reported, not failing)" in html
    assert '<th scope="col">Never seen</th>' in html
    assert '<tr class="unseen"><th scope="row"><span class="rule">P3</span></th>' in html
    assert "<td><code>cross_org_billing</code></td><td>upgrade</td><td>allowed</td>" in html
    assert "<td>refused</td>" in html
    assert "<td>(no check)</td><td>-</td><td>exercised</td><td>-</td>" in html
    assert decisions_table({"machine": "plan"}) == ""


def test_the_review_pack_counts_unseen_outcomes_as_shortfalls_only_when_strict() -> None:
    """U1 in the pack: an outcome never seen is a shortfall of a strict report only."""
    lenient = _report((P3_UPGRADE,), strict=False).to_dict()
    strict = _report((P3_UPGRADE,), strict=True).to_dict()
    assert shortfalls([lenient]) == ()
    assert shortfalls([strict]) == (
        "plan: not covered: decision P3 cross_org_billing on upgrade: refused",
    )
