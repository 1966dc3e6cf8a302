"""The verifier on the library as it is: no violation at small depths, full coverage, a report
in the shape the review pack renders, and references kept apart from what they check."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import support_flows as sf
from support_flows import verify
from support_flows.machines.case_chart import COMPILED as CASE_CHART
from support_flows.machines.consulting_chart import COMPILED as ORDER_CHART
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.rules import RULES
from support_flows.values.policy import ATLAS_POLICY

PACKAGE = Path(sf.__file__).resolve().parent
CHARTS = {"plan": PLAN_CHART, "case": CASE_CHART, "consulting": ORDER_CHART}
SECTIONS = {"plan": ("P", "T"), "case": ("C",), "consulting": ("F",)}
DEPTHS = {"plan": 3, "case": 4, "consulting": 4}
KEYS = {
    "machine",
    "sequences",
    "states",
    "transitions",
    "reasons",
    "rules",
    "decisions",
    "invariants_checked",
    "violations",
    "seconds",
}


@pytest.fixture(scope="module", params=sorted(DEPTHS))
def report(request: pytest.FixtureRequest) -> verify.Report:
    return verify.run(request.param, depth=DEPTHS[request.param])


def test_small_runs_find_no_violation(report: verify.Report) -> None:
    """The library keeps every invariant the verifier checks, on every sequence explored."""
    assert report.violations == (), "\n\n".join(v.describe() for v in report.violations)
    assert report.sequences > 100
    assert report.invariants_checked > report.sequences


def test_to_dict_has_exactly_the_keys_the_review_pack_renders(report: verify.Report) -> None:
    """Report.to_dict(): the agreed keys, each tally with its count, total and what is missing,
    all JSON-safe."""
    data = report.to_dict()
    assert set(data) == KEYS
    assert set(data["states"]) == {"reached", "total", "missing"}
    assert set(data["transitions"]) == {"covered", "total", "missing"}
    assert set(data["reasons"]) == {"produced", "total", "missing"}
    assert set(data["rules"]) == {"exercised", "total", "missing"}
    assert set(data["decisions"]) == {"seen", "total", "missing", "strict", "rules"}
    assert json.loads(json.dumps(data)) == data
    assert data["machine"] == report.machine


def test_totals_count_every_edge_state_reason_and_rule(report: verify.Report) -> None:
    """Coverage counts every edge and state of the compiled chart, every reason its checks and
    its rules can give, and every rule id of its sections."""
    chart, c = CHARTS[report.machine], report.coverage
    assert c.transitions.total == len(chart.edges_under(ATLAS_POLICY))
    assert c.states.total == len(chart.states)
    assert c.rules.total == len([r for r in RULES if r[0] in SECTIONS[report.machine]])
    checks = {check.reason.value for check in chart.chart.registry.checks.values()}
    assert checks <= set(c.reasons.done) | set(c.reasons.missing)


def test_small_runs_reach_every_state_and_rule(report: verify.Report) -> None:
    """Even at these depths every state and every rule is exercised, and nearly every edge and
    reason (all of them need the default depth: see test_verify_cli)."""
    c = report.coverage
    assert c.states.missing == ()
    assert c.rules.missing == ()
    assert c.reasons.count >= c.reasons.total - 1
    assert c.transitions.count >= c.transitions.total - 2


def test_report_describes_itself_as_a_table() -> None:
    """describe() prints the rows the CLI shows and names what was not reached."""
    text = verify.run("consulting", depth=3).describe()
    for row in ("sequences explored", "states reached", "transitions covered", "violations"):
        assert row in text
    assert "not reached" in text


def test_unknown_machine_and_bad_depth_are_refused() -> None:
    """V1/V4: an unknown machine name or a depth outside 1-12 is malformed input."""
    with pytest.raises(sf.InvalidInput) as unknown:
        verify.run("billing")
    assert unknown.value.code == "invalid_value"
    for depth in (0, 13, True, 2.5):
        with pytest.raises(sf.InvalidInput):
            verify.run("case", depth=depth)  # type: ignore[arg-type]


def test_default_depths_are_published() -> None:
    """default_depth() says what run() explores without a depth."""
    assert {m: verify.default_depth(m) for m in verify.MACHINES} == {
        "plan": 5,
        "case": 5,
        "consulting": 5,
    }


def test_progress_lines_name_the_machine_and_depth() -> None:
    """run(progress=...) reports each finished depth."""
    lines: list[str] = []
    verify.run("case", depth=2, progress=lines.append)
    assert lines
    assert lines[-1].startswith("case: depth 2/2 done")


@pytest.mark.parametrize("name", ["plan", "case", "consulting", "terms"])
def test_references_import_no_chart_guard_or_record(name: str) -> None:
    """The references are written from RULES.md: they import only their own calendar
    (verify.reference.calendar), the policy terms they model (verify.reference.terms, K6), attrs
    and the standard library."""
    tree = ast.parse((PACKAGE / "verify" / "reference" / f"{name}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {m for m in imported if m.startswith("support_flows")}
    assert ours <= {
        "support_flows.verify.reference.calendar",
        "support_flows.verify.reference.terms",
    }
    assert imported - ours <= {
        "__future__",
        "attrs",
        "datetime",
        "collections.abc",
        "contextlib",
        "contextvars",
        "typing",
    }
