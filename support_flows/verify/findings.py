"""A broken invariant as a reviewer reads it: the steps that replay it from its setup, the
rule it breaks, what the reference expected beside what happened, and how many variants of the
same problem were merged into it. The order findings are listed in (the most specific rule
first) is stated here, in `GENERIC_RULES`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "GENERIC_RULES",
    "Counterexample",
    "Finding",
    "Setup",
    "Step",
    "merged",
    "ranked",
]

GENERIC_RULES = ("P20", "P21", "V2", "V3", "T7")
"""Rules that many a specific bug also breaks (a wrong month start breaks T3 first, then P20's
boundaries and V2's round trip): their findings are listed after every other rule's, so the
first finding names the telling rule."""


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
    """A broken invariant: the rule it breaks, the invariant's name, what happened, the minimal
    counterexample, what the reference expected and what the library gave (as dated lines, when
    the check stated them), and the other invariants that broke the same way (`merged`)."""

    rule: str
    invariant: str
    message: str
    counterexample: Counterexample
    expected: tuple[str, ...] = ()
    actual: tuple[str, ...] = ()
    merged: tuple[str, ...] = ()
    """The invariants of the variants merged into this one (same rule, same message)."""

    @property
    def variants(self) -> int:
        """How many findings this one stands for (itself and those merged into it)."""
        return 1 + len(self.merged)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "invariant": self.invariant,
            "message": self.message,
            "expected": list(self.expected),
            "actual": list(self.actual),
            "variants": self.variants,
            "merged": list(self.merged),
            "counterexample": self.counterexample.to_dict(),
        }

    def describe(self) -> str:
        lines = [f"{self.rule} ({self.invariant}): {self.message}"]
        for label, shown in (("expected (the rules)", self.expected), ("happened", self.actual)):
            if shown:
                lines.append(f"  {label}:")
                lines += [f"    {line}" for line in shown]
        if self.merged:
            lines.append(f"  {self.variants} variants merged, also: {'; '.join(self.merged)}")
        return "\n".join([*lines, self.counterexample.describe()])


def ranked(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Specific rules before `GENERIC_RULES`, then shorter counterexamples first, then by rule
    (findings that tie keep their order)."""
    return tuple(
        sorted(
            findings,
            key=lambda f: (f.rule in GENERIC_RULES, len(f.counterexample.steps), f.rule),
        )
    )


def merged(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """One finding per distinct problem: those with the same rule and the same message (a
    round trip with and without history, `check()` and the request) become the one with the
    shortest counterexample, naming the others' invariants; order of first appearance kept."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.rule, finding.message), []).append(finding)
    kept = []
    for group in groups.values():
        best = min(group, key=lambda f: len(f.counterexample.steps))
        others = tuple(f.invariant for f in group if f is not best)
        kept.append(attrs.evolve(best, merged=best.merged + others))
    return tuple(kept)
