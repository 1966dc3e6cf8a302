"""What a proposed version changes (K5): each changed K1 field with the rules it tunes, and each
chart edge whose label, guards or existence differs between the version in force and the
proposal."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from support_flows.diagrams.graph import CHARTS, Graph, Transition, chart_graph
from support_flows.rules import RULES, Rule
from support_flows.values.policy import FIELDS, Policy

__all__ = ["EdgeChange", "FieldChange", "edge_changes", "field_changes", "shown"]


@attrs.frozen
class FieldChange:
    """One K1 field the proposal changes: its values before and after, and the rules it tunes."""

    name: str
    means: str
    before: object
    after: object
    rules: tuple[Rule, ...]


@attrs.frozen
class EdgeChange:
    """One chart edge that differs: `kind` is "added", "removed", "label" or "guards"
    (both when both differ), with the edge as drawn before and after (None where absent)."""

    chart: str
    kind: str
    before: Transition | None
    after: Transition | None

    @property
    def edge(self) -> Transition:
        found = self.after or self.before
        assert found is not None
        return found


def shown(value: object) -> str:
    """A K1 value as the page says it."""
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return str(value)


def field_changes(current: Policy, proposed: Policy) -> tuple[FieldChange, ...]:
    """Each K1 field whose value differs, in RULES.md's order, with its rules from the catalog."""
    return tuple(
        FieldChange(
            name,
            FIELDS[name].means,
            before,
            after,
            tuple(RULES[r] for r in FIELDS[name].rules if r in RULES),
        )
        for name, (before, after) in proposed.changes_from(current).items()
    )


def _key(t: Transition) -> tuple[str, str, str, tuple[str, ...]]:
    return (t.event, t.source, t.target, t.when)


def _compare(chart: str, before: Graph, after: Graph) -> list[EdgeChange]:
    old: Mapping[tuple[str, str, str, tuple[str, ...]], Transition] = {
        _key(t): t for t in before.transitions
    }
    new = {_key(t): t for t in after.transitions}
    found = []
    for key, t in new.items():
        was = old.get(key)
        if was is None:
            found.append(EdgeChange(chart, "added", None, t))
            continue
        kinds = [
            kind
            for kind, differs in (
                ("label", was.policies != t.policies),
                ("guards", was.refusals != t.refusals),
            )
            if differs
        ]
        if kinds:
            found.append(EdgeChange(chart, " and ".join(kinds), was, t))
    found += [EdgeChange(chart, "removed", t, None) for key, t in old.items() if key not in new]
    return found


def edge_changes(current: Policy, proposed: Policy) -> tuple[EdgeChange, ...]:
    """Every edge of every chart whose label, guards or existence differs under `proposed`."""
    found: list[EdgeChange] = []
    for chart in CHARTS:
        found += _compare(chart, chart_graph(chart, current), chart_graph(chart, proposed))
    return tuple(found)
