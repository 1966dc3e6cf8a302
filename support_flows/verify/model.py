"""What the verifier returns, as frozen values: steps, setups, counterexamples, findings, coverage,
reports and test paths. Each renders itself as JSON-safe data (`to_dict`) and as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "Counterexample",
    "Coverage",
    "Finding",
    "Path",
    "Report",
    "Setup",
    "Step",
    "Tally",
    "edge_name",
]


def _frozen_dict(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return dict(value)


@attrs.frozen
class Step:
    """One public call of a sequence: set the clock to `at`, then make `call` with `args`.

    `args` is JSON-safe data (an actor is its id with its role sets); `note` says why the clock
    is there; `outcome` what the call gave; `takes` the chart edges it took ("event: a -> b").
    """

    at: str
    call: str
    args: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict, hash=False)
    note: str = ""
    outcome: str = ""
    takes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "call": self.call,
            "args": dict(self.args),
            "note": self.note,
            "outcome": self.outcome,
            "takes": list(self.takes),
        }

    def describe(self) -> str:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        line = f"at {self.at}: {self.call}({shown})"
        if self.note:
            line += f"  [{self.note}]"
        if self.outcome:
            line += f" -> {self.outcome}"
        return line


def _show(value: Any) -> str:
    if isinstance(value, Mapping) and "id" in value:
        roles = [
            *value.get("org_roles", ()),
            *(f"{r}@{p}" for p, rs in value.get("project_roles", {}).items() for r in rs),
        ]
        return f"{value['id']}{{{', '.join(roles)}}}"
    return repr(value)


@attrs.frozen
class Setup:
    """Where a sequence starts: the machine, the billing zone, the first clock reading, the
    organization, and the machine's own options (units, hours per unit, validity, plan state)."""

    machine: str
    zone: str
    start: str
    org: Mapping[str, Any] = attrs.field(converter=_frozen_dict, hash=False)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "zone": self.zone,
            "start": self.start,
            "org": dict(self.org),
            "options": dict(self.options),
        }

    def describe(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.options.items())
        org = ", ".join(f"{k}={v!r}" for k, v in self.org.items())
        return f"{self.machine} in {self.zone}, clock at {self.start}, org({org}){options}"


@attrs.frozen
class Counterexample:
    """The shortest sequence found that breaks an invariant, replayable from its setup."""

    setup: Setup
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.setup.to_dict(), "steps": [s.to_dict() for s in self.steps]}

    def describe(self) -> str:
        lines = [self.setup.describe()]
        lines += [f"  {n}. {s.describe()}" for n, s in enumerate(self.steps, 1)]
        return "\n".join(lines)


@attrs.frozen
class Finding:
    """A broken invariant: the rule it breaks, the invariant's name, what happened, and the
    minimal counterexample."""

    rule: str
    invariant: str
    message: str
    counterexample: Counterexample

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "invariant": self.invariant,
            "message": self.message,
            "counterexample": self.counterexample.to_dict(),
        }

    def describe(self) -> str:
        return f"{self.rule} ({self.invariant}): {self.message}\n{self.counterexample.describe()}"


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
class Coverage:
    """States reached, chart edges taken, reason codes produced and rule ids exercised."""

    states: Tally
    transitions: Tally
    reasons: Tally
    rules: Tally

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


@attrs.frozen
class Report:
    """The result of `verify.run(machine)`."""

    machine: str
    depth: int
    sequences: int
    coverage: Coverage
    invariants_checked: int
    violations: tuple[Finding, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """No violation, and every state, transition, reason and rule covered (U1)."""
        return not self.violations and not self.coverage.gaps

    def shortfall(self, shown: int = 5) -> str:
        """What keeps this report from being ok, on one line ("" when ok): the violations by
        rule, then the first `shown` parts not covered."""
        parts = []
        if self.violations:
            rules = ", ".join(dict.fromkeys(v.rule for v in self.violations))
            count = len(self.violations)
            parts.append(f"{count} violation{'s' if count != 1 else ''} ({rules})")
        gaps = self.coverage.gaps
        if gaps:
            more = f" and {len(gaps) - shown} more" if len(gaps) > shown else ""
            parts.append(f"not covered: {', '.join(gaps[:shown])}{more}")
        return f"{self.machine}: {'; '.join(parts)}" if parts else ""

    def describe(self) -> str:
        """The report as a table, then what is missing, then each violation."""
        c = self.coverage
        rows = [
            ("sequences explored", str(self.sequences)),
            ("states reached", str(c.states)),
            ("transitions covered", str(c.transitions)),
            ("reasons produced", str(c.reasons)),
            ("rules exercised", str(c.rules)),
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
            "invariants_checked": self.invariants_checked,
            "violations": [v.to_dict() for v in self.violations],
            "seconds": round(self.seconds, 3),
        }


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
