"""The breadth-first walk over action sequences, and the tracker that keeps a run's coverage, the
first (shortest) counterexample of each broken invariant, and (told by `verify.both_ways`) which
outcomes each check of the chart was seen to give."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

from support_flows.errors import Reason
from support_flows.machines.engine import Compiled
from support_flows.rules import RULES
from support_flows.verify.both_ways import Seen, decisions
from support_flows.verify.common import Verdict
from support_flows.verify.dated import lines
from support_flows.verify.defaults import STRICT_BOTH_WAYS
from support_flows.verify.findings import merged, ranked
from support_flows.verify.model import (
    Counterexample,
    Coverage,
    Decided,
    Finding,
    Path,
    Report,
    Setup,
    Step,
    Tally,
    edge_name,
)
from support_flows.verify.policy import policy
from support_flows.verify.scope import scope
from support_flows.verify.watchdog import stalled

__all__ = ["Node", "Tracker", "breadth_first"]

Progress = Callable[[str], None]


class Node(Protocol):
    """One explored point: the steps that led there and what identifies equivalent points."""

    @property
    def steps(self) -> tuple[Step, ...]: ...

    @property
    def key(self) -> Hashable: ...


N = TypeVar("N", bound=Node)


class Tracker:
    """Coverage, counters and findings of one run."""

    def __init__(
        self,
        machine: str,
        compiled: Compiled,
        sections: Sequence[str],
        extra_reasons: Iterable[Reason] = (),
    ) -> None:
        self.machine = machine
        self.compiled = compiled
        self.scope = scope(compiled, policy())
        self.all_states = self.scope.states
        self.all_edges = tuple(edge_name(e.event, e.source, e.target) for e in self.scope.edges)
        self.all_rules = tuple(r for r in RULES if r[0] in sections and self.scope.keeps(r))
        reasons = {c.reason for c in compiled.chart.registry.checks.values()}
        reasons |= {code for r in self.all_rules for code in RULES[r].reasons}
        reasons |= set(extra_reasons)
        self.all_reasons = tuple(
            r.value for r in Reason if r in reasons and self.scope.keeps(r.value)
        )
        self.states: set[str] = set()
        self.edges: set[str] = set()
        self.reasons: set[str] = set()
        self.rules: set[str] = set()
        self.sequences = 0
        self.invariants = 0
        self.findings: dict[tuple[str, str], Finding] = {}
        self.paths: dict[str, Path] = {}
        self.decided: set[Seen] = set()

    def took(
        self, edges: Iterable[tuple[str, str, str]], setup: Setup, steps: tuple[Step, ...]
    ) -> None:
        """Edges the last of `steps` took: covered, and the first path to each kept."""
        for event, source, target in edges:
            name = edge_name(event, source, target)
            self.edges.add(name)
            self.states.update((source, target))
            if name not in self.paths:
                self.paths[name] = Path(event, source, target, setup, steps)

    def produced(self, reasons: Iterable[tuple[str, str]]) -> None:
        for code, rule in reasons:
            self.reasons.add(code)
            self.rules.add(rule)

    def exercised(self, rules: Iterable[str]) -> None:
        self.rules.update(rules)

    def expect(self, verdict: Verdict, where: Callable[[], Counterexample]) -> bool:
        """Count one invariant check; keep the first counterexample of each broken one."""
        self.invariants += 1
        key = (verdict.rule, verdict.invariant)
        if not verdict.ok and key not in self.findings:
            found = where()
            zone = found.setup.zone
            self.findings[key] = Finding(
                verdict.rule,
                verdict.invariant,
                verdict.message,
                found,
                lines(verdict.expected, zone),
                lines(verdict.actual, zone),
            )
        return verdict.ok

    def expect_all(self, verdicts: Iterable[Verdict], where: Callable[[], Counterexample]) -> bool:
        """Count every verdict; whether all held."""
        return all([self.expect(v, where) for v in verdicts])

    def covered(self) -> bool:
        """Every edge of the chart has been taken."""
        return len(self.edges) == len(self.all_edges)

    def saw(self, seen: Iterable[Seen]) -> None:
        """Outcomes of the chart's checks seen while exploring: (check, event, outcome)."""
        self.decided.update(seen)

    def per_rule(self) -> tuple[Decided, ...]:
        """Every rule of the run in order, with its checks' outcomes seen and missing (or, for a
        rule no check cites here, whether it was exercised), then checks citing other rules."""
        checked = decisions(self.compiled, self.decided, self.scope)
        rows = []
        for rule in self.all_rules:
            own = [d for d in checked if d.rule == rule]
            if own:
                rows += own
            else:
                seen = ("exercised",) if rule in self.rules else ()
                rows.append(Decided(rule, "", "", seen, ("exercised",)[len(seen) :]))
        return tuple(rows) + tuple(d for d in checked if d.rule not in self.all_rules)

    def report(self, depth: int, seconds: float, *, strict: bool = STRICT_BOTH_WAYS) -> Report:
        def tally(done: set[str], every: Sequence[str]) -> Tally:
            return Tally(
                tuple(x for x in every if x in done), tuple(x for x in every if x not in done)
            )

        coverage = Coverage(
            tally(self.states, self.all_states),
            tally(self.edges, self.all_edges),
            tally(self.reasons, self.all_reasons),
            tally(self.rules, self.all_rules),
            self.per_rule(),
        )
        return Report(
            self.machine,
            depth,
            self.sequences,
            coverage,
            self.invariants,
            ranked(merged(self.findings.values())),
            seconds,
            strict,
        )


def breadth_first(
    roots: Sequence[N],
    expand: Callable[[N], Iterator[N]],
    depth: int,
    progress: Progress | None = None,
    label: str = "",
    tracker: Tracker | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Every action sequence up to `depth` steps from every root, level by level (so the first
    sequence that breaks something is a shortest one), points with equal keys explored once."""
    seen = {root.key for root in roots}
    frontier = list(roots)
    started = last = time.monotonic()
    for level in range(1, depth + 1):
        following = []
        for node in frontier:
            for child in expand(node):
                if child.key in seen:
                    continue
                seen.add(child.key)
                if level < depth:
                    following.append(child)
            if progress is not None and time.monotonic() - last > 2:
                last = time.monotonic()
                done = f"{tracker.sequences} sequences, " if tracker is not None else ""
                progress(f"{label}: depth {level}/{depth}, {done}{last - started:.0f} s")
            if (stop is not None and stop()) or stalled():
                return
        frontier = following
        if progress is not None:
            done = f", {tracker.sequences} sequences" if tracker is not None else ""
            progress(f"{label}: depth {level}/{depth} done{done}, {len(seen)} distinct points")
        if not frontier:
            return
