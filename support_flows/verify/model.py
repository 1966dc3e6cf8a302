"""What the verifier returns, as frozen values: coverage (with each check's decisions seen both
ways), reports and test paths; the findings and their counterexamples are `verify.findings`'s,
re-exported here. Each renders itself as JSON-safe data (`to_dict`) and as text."""

from __future__ import annotations

from typing import Any

import attrs

from support_flows.verify.defaults import STRICT_BOTH_WAYS
from support_flows.verify.findings import Counterexample, Finding, Setup, Step

__all__ = [
    "Counterexample",
    "Coverage",
    "Decided",
    "Finding",
    "Path",
    "Report",
    "Setup",
    "Step",
    "Tally",
    "edge_name",
]


@attrs.frozen
class Tally:
    """What was reached out of what exists, and what was not."""

    done: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.done)

    @property
    def total(self) -> int:
        return len(self.done) + len(self.missing)

    def __str__(self) -> str:
        return f"{self.count}/{self.total}"


@attrs.frozen
class Decided:
    """What the exploration saw one rule decide: for a check (`check`, its reason code) on one
    event (`where`), the outcomes it gave ("refused", "allowed") and those it never gave; for a
    rule with no check, whether it was "exercised" (`check` and `where` empty).
    `verify.both_ways` says which outcomes each check can give where."""

    rule: str
    check: str
    where: str
    seen: tuple[str, ...]
    missing: tuple[str, ...]

    def __str__(self) -> str:
        if not self.check:
            return self.rule
        return f"{self.rule} {self.check} on {self.where}"

    def describe(self) -> str:
        """The outcomes seen, then each missing one as "never ..."."""
        said = [*self.seen, *(f"never {m}" for m in self.missing)]
        return f"{self.where}: {', '.join(said)}" if self.check else ", ".join(said)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "check": self.check,
            "where": self.where,
            "seen": list(self.seen),
            "missing": list(self.missing),
        }


@attrs.frozen
class Coverage:
    """States reached, chart edges taken, reason codes produced and rule ids exercised; and per
    rule, its checks' outcomes seen and missing (`decisions`, every rule in order)."""

    states: Tally
    transitions: Tally
    reasons: Tally
    rules: Tally
    decisions: tuple[Decided, ...] = ()

    @property
    def gaps(self) -> tuple[str, ...]:
        """Each part not covered, as "state x", "transition e: a -> b", "reason r", "rule R"."""
        return tuple(
            f"{noun} {item}"
            for noun, tally in (
                ("state", self.states),
                ("transition", self.transitions),
                ("reason", self.reasons),
                ("rule", self.rules),
            )
            for item in tally.missing
        )

    @property
    def outcomes(self) -> Tally:
        """The checks' outcomes seen out of those they can give, as "P3 cross_org_billing on
        upgrade: allowed"."""
        checks = [d for d in self.decisions if d.check]
        return Tally(
            tuple(f"{d}: {o}" for d in checks for o in d.seen),
            tuple(f"{d}: {o}" for d in checks for o in d.missing),
        )

    @property
    def undecided(self) -> tuple[str, ...]:
        """Each check's outcome never seen, as "decision P3 cross_org_billing on upgrade:
        allowed" (what U1 asks for when the report is strict about both ways)."""
        return tuple(f"decision {item}" for item in self.outcomes.missing)


@attrs.frozen
class Report:
    """The result of `verify.run(machine)`. With `strict`, an outcome of a check never seen
    (`coverage.undecided`) fails it like any part not covered; without, it is only reported."""

    machine: str
    depth: int
    sequences: int
    coverage: Coverage
    invariants_checked: int
    violations: tuple[Finding, ...]
    seconds: float
    strict: bool = STRICT_BOTH_WAYS

    @property
    def gaps(self) -> tuple[str, ...]:
        """The parts not covered that fail this report: the coverage's gaps, then (when strict)
        the checks' outcomes never seen."""
        return self.coverage.gaps + (self.coverage.undecided if self.strict else ())

    @property
    def ok(self) -> bool:
        """No violation, and every state, transition, reason and rule covered (U1), and when
        strict every check seen to decide both ways."""
        return not self.violations and not self.gaps

    def shortfall(self, shown: int = 5) -> str:
        """What keeps this report from being ok, on one line ("" when ok): the violations by
        rule, then the first `shown` parts not covered."""
        parts = []
        if self.violations:
            rules = ", ".join(dict.fromkeys(v.rule for v in self.violations))
            count = len(self.violations)
            parts.append(f"{count} violation{'s' if count != 1 else ''} ({rules})")
        gaps = self.gaps
        if gaps:
            more = f" and {len(gaps) - shown} more" if len(gaps) > shown else ""
            parts.append(f"not covered: {', '.join(gaps[:shown])}{more}")
        return f"{self.machine}: {'; '.join(parts)}" if parts else ""

    def describe(self) -> str:
        """The report as a table, then what is missing, then each rule's decisions, then each
        violation (the most specific rule first)."""
        c = self.coverage
        rows = [
            ("sequences explored", str(self.sequences)),
            ("states reached", str(c.states)),
            ("transitions covered", str(c.transitions)),
            ("reasons produced", str(c.reasons)),
            ("rules exercised", str(c.rules)),
            ("check outcomes seen", str(c.outcomes)),
            ("invariants checked", str(self.invariants_checked)),
            ("violations", str(len(self.violations))),
        ]
        lines = [f"{self.machine} (depth {self.depth}, {self.seconds:.1f} s)"]
        lines += [f"  {name:<22}{value:>10}" for name, value in rows]
        for name, tally in (
            ("states", c.states),
            ("transitions", c.transitions),
            ("reasons", c.reasons),
            ("rules", c.rules),
        ):
            if tally.missing:
                lines.append(f"  {name} not reached: {', '.join(tally.missing)}")
        if c.outcomes.missing:
            how = "" if self.strict else " (reported, not failing: not strict)"
            lines.append(f"  outcomes never seen{how}: {', '.join(c.outcomes.missing)}")
        if c.decisions:
            lines.append("  decisions seen, per rule:")
            lines += [f"    {rule:<5}{said}" for rule, said in _per_rule(c.decisions)]
        for finding in self.violations:
            lines.append("  VIOLATION " + finding.describe().replace("\n", "\n  "))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        c = self.coverage
        return {
            "machine": self.machine,
            "sequences": self.sequences,
            "states": _tally(c.states, "reached"),
            "transitions": _tally(c.transitions, "covered"),
            "reasons": _tally(c.reasons, "produced"),
            "rules": _tally(c.rules, "exercised"),
            "decisions": {
                **_tally(c.outcomes, "seen"),
                "strict": self.strict,
                "rules": [d.to_dict() for d in c.decisions],
            },
            "invariants_checked": self.invariants_checked,
            "violations": [v.to_dict() for v in self.violations],
            "seconds": round(self.seconds, 3),
        }


def _per_rule(decisions: tuple[Decided, ...]) -> list[tuple[str, str]]:
    """One line per rule: each of its checks' events and outcomes, or "exercised"."""
    said: dict[str, list[str]] = {}
    for decided in decisions:
        said.setdefault(decided.rule, []).append(
            (f"{decided.check} " if decided.check else "") + decided.describe()
        )
    return [(rule, "; ".join(parts)) for rule, parts in said.items()]


def _tally(tally: Tally, done: str) -> dict[str, Any]:
    return {done: tally.count, "total": tally.total, "missing": list(tally.missing)}


@attrs.frozen
class Path:
    """A sequence of public calls from `setup` whose last step takes the chart edge
    `event: source -> target` (the guards' facts are in the steps' arguments)."""

    event: str
    source: str
    target: str
    setup: Setup
    steps: tuple[Step, ...]

    @property
    def edge(self) -> str:
        return edge_name(self.event, self.source, self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "edge": self.edge,
            "event": self.event,
            "source": self.source,
            "target": self.target,
            **self.setup.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }


def edge_name(event: str, source: str, target: str) -> str:
    """How an edge is named in coverage and paths: "event: source -> target"."""
    return f"{event}: {source} -> {target}"
