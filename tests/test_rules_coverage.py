"""The rules catalog against the code and the tests: every rule is enforced or pinned, and every
rule id the package cites (on a refusal, a check, an action) is one of the catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from support_flows.diagrams.graph import CHARTS, compiled
from support_flows.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"(?<![A-Z0-9])([TPCFVSUK]\d{1,2})(?![0-9])")


def guard_and_action_rules() -> set[str]:
    """Rule ids the charts carry: on every registered check and on every action of an edge."""
    found: set[str] = set()
    for name in CHARTS:
        chart = compiled(name)
        for check in chart.chart.registry.checks.values():
            found |= set(check.rules)
        for edge in chart.edges:
            found |= {getattr(chart.chart.model_class, a).rule for a in edge.actions}
    return found


def pinned_by_tests() -> set[str]:
    """Rule ids named by a test function (its name or docstring), outside the catalog's tests."""
    found: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        if path.name in ("test_rules_catalog.py", Path(__file__).name):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
                text = f"{node.name.upper()} {ast.get_docstring(node) or ''}"
                found |= set(RULE_ID.findall(text))
    return found


def test_every_rule_is_used_by_a_guard_or_pinned_by_a_test() -> None:
    """Each rule of the catalog is cited by a check or an action of a chart, or named by a test."""
    unpinned = set(RULES) - guard_and_action_rules() - pinned_by_tests()
    assert unpinned == set()


def test_every_rule_id_the_package_cites_is_in_the_catalog() -> None:
    """Every rule id written in the package's code (the `.rule` of a refusal, the rules of a
    check, an action's rule) is an id of the catalog."""
    cited: dict[str, str] = {}
    for path in (ROOT / "support_flows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"[TPCFVSUK]\d{1,2}", node.value)
            ):
                cited.setdefault(node.value, str(path.relative_to(ROOT)))
    assert cited, "no rule id found: the scan is broken"
    unknown = {rule_id: where for rule_id, where in cited.items() if rule_id not in RULES}
    assert unknown == {}
    assert guard_and_action_rules() <= set(RULES)
