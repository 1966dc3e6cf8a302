"""Whether each check of a chart has been seen to decide both ways, watched through the engine's
public tracing seam while a run explores (the explorers need not know).

What counts, for every registered check of the machine's chart:
- on every event whose edges carry it, the check must be seen to refuse there ("refused") and
  to pass there ("allowed"), each time with that edge selected for the facts at hand. A check
  that guards only some events is asked only about those: P3 guards the purchases (subscribe,
  upgrade, reactivate), so it must refuse and allow each of them; a cross-org downgrade or
  cancel is not P3's to decide (no P3 check sits on those edges), and its coverage is those
  edges' own;
- a check no edge carries only explains a refusal when no edge applies (the chart's
  `refusals_without_edge`, e.g. P2's contact_sales): it can only refuse, so "refused" with no
  edge is its one outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from support_flows.machines.engine import Compiled, Edge
from support_flows.verify.model import Decided
from support_flows.verify.scope import Scope

__all__ = ["ALLOWED", "NO_EDGE", "REFUSED", "BothWays", "Seen", "decisions", "outcomes"]

REFUSED = "refused"
ALLOWED = "allowed"
NO_EDGE = "(no edge)"
"""Where a check that only explains refusals without an edge decides."""

Seen = tuple[str, str, str]
"""(check name, event or NO_EDGE, outcome)."""


def outcomes(
    compiled: Compiled, under: Scope | None = None
) -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """(rule, check, where, outcomes it can give there) for every check of the chart, in the
    registry's order, its events in the chart's order; `under` a policy, on the edges that
    exist under it, leaving out the checks whose reason cannot occur there (K6)."""
    section = compiled.chart.registry.section
    edges = compiled.edges if under is None else under.edges
    for name, check in compiled.chart.registry.checks.items():
        if under is not None and not under.keeps(check.reason.value):
            continue
        rule = check.rule_for(section)
        events = [e for e in compiled.events if any(_carries(g, name, e) for g in edges)]
        if events:
            for event in events:
                yield rule, name, event, (REFUSED, ALLOWED)
        elif any(c.__name__ == name for group in compiled.refusals_without_edge for c in group):
            yield rule, name, NO_EDGE, (REFUSED,)


def _carries(edge: Edge, check: str, event: str) -> bool:
    return edge.event == event and any(g.__name__ == check for g in edge.guards)


def decisions(
    compiled: Compiled, seen: set[Seen], under: Scope | None = None
) -> tuple[Decided, ...]:
    """The chart's checks with the outcomes `seen` and those still missing (`under` a policy:
    those it can give there)."""
    return tuple(
        Decided(
            rule,
            check,
            where,
            tuple(o for o in can if (check, where, o) in seen),
            tuple(o for o in can if (check, where, o) not in seen),
        )
        for rule, check, where, can in outcomes(compiled, under)
    )


class BothWays:
    """An `engine.Tracer` keeping, per chart, which checks it has seen refuse and pass where.

    Each check is called again only until both of its outcomes have been seen on that event,
    so a long run pays for it on its first sequences only."""

    def __init__(self) -> None:
        self.seen: dict[type[Any], set[Seen]] = {}

    def seen_in(self, compiled: Compiled) -> set[Seen]:
        return self.seen.setdefault(compiled.chart, set())

    def selected(self, compiled: Compiled, edge: Edge, facts: Any) -> None:
        seen = self.seen_in(compiled)
        for check in edge.guards:
            name, event = check.__name__, edge.event
            if (name, event, REFUSED) in seen and (name, event, ALLOWED) in seen:
                continue
            try:
                refuses = check.body(facts) is not None
            except Exception:  # the library's own call raises too, and the run reports it
                continue
            seen.add((name, event, REFUSED if refuses else ALLOWED))

    def taken(self, compiled: Compiled, edge: Edge, model: Any) -> None:
        """Taking an edge adds nothing: its checks were asked when it was selected."""

    def refused_without_edge(self, compiled: Compiled, state: str, event: str, facts: Any) -> None:
        """The groups asked in order, up to the first with a failing check (the one answering)."""
        seen = self.seen_in(compiled)
        for group in compiled.refusals_without_edge:
            answered = False
            for check in group:
                try:
                    refuses = check.body(facts) is not None
                except Exception:  # as above
                    continue
                if refuses:
                    seen.add((check.__name__, NO_EDGE, REFUSED))
                    answered = True
            if answered:
                return
