"""What a run must cover under a policy (RULES.md K6): the chart's edges that exist under it
(`Compiled.edges_under`), the states those edges reach from the initial one, and the reasons,
rules and check outcomes that can occur under it.

A reason or rule that only a kind of step can bring about is named here with the chart actions
that take such a step (`NEEDS`): under a policy whose chart has no edge running any of them, it
cannot occur and is not counted. Everything else is counted under every policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from support_flows.errors import Reason
from support_flows.machines.engine import Compiled, Edge
from support_flows.values.policy import Policy

__all__ = ["NEEDS", "Scope", "scope"]

NEEDS: Mapping[str, frozenset[str]] = {
    # P12: "already effective" needs a change that the clock applied, not a request.
    Reason.CHANGE_ALREADY_EFFECTIVE.value: frozenset({"apply_downgrade", "apply_cancel"}),
    # T5, P4, P6, P7: a trial's length, start, end and cancellation need a trial (K1: 0 days).
    "T5": frozenset({"begin_trial"}),
    "P4": frozenset({"begin_trial"}),
    "P6": frozenset({"convert_trial"}),
    "P7": frozenset({"cancel_trial"}),
    # P10: replacing a pending change needs one made pending by a request (K1: immediately).
    "P10": frozenset({"schedule_downgrade", "schedule_cancel"}),
    # P16: a change taking effect after its requester lost their role needs a pending change.
    "P16": frozenset({"apply_downgrade", "apply_cancel"}),
}
"""Reason codes and rule ids that occur only where the chart runs one of these actions."""


@attrs.frozen
class Scope:
    """What a run counts under one policy, and what it leaves out (with why)."""

    edges: tuple[Edge, ...]
    states: tuple[str, ...]
    excluded: Mapping[str, str]
    """Reason code or rule id -> why it cannot occur under the policy."""

    def keeps(self, name: str) -> bool:
        return name not in self.excluded


def _reached(compiled: Compiled, edges: Iterable[Edge]) -> tuple[str, ...]:
    found, frontier = {compiled.initial}, [compiled.initial]
    edges = tuple(edges)
    while frontier:
        here = frontier.pop()
        for e in edges:
            if e.source == here and e.target not in found:
                found.add(e.target)
                frontier.append(e.target)
    return tuple(s for s in compiled.states if s in found)


def scope(compiled: Compiled, policy: Policy) -> Scope:
    """The edges, states, reasons and rules of `compiled` that exist under `policy`."""
    edges = compiled.edges_under(policy)
    run = {a for e in edges for a in e.actions}
    declared = {a for e in compiled.edges for a in e.actions}
    excluded = {
        name: f"no edge under {policy.version!r} runs {' or '.join(sorted(actions))}"
        for name, actions in NEEDS.items()
        if actions & declared and not actions & run
    }
    return Scope(edges, _reached(compiled, edges), excluded)
