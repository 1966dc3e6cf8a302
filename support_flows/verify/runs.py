"""`run` and `paths`: explore a machine with the invariants checked, or for its test paths
(the package's docstring says what they do)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from support_flows.errors import Reason, describe, invalid
from support_flows.inputs import callback, choice, flag, whole
from support_flows.machines.engine import tracing
from support_flows.values.policy import ATLAS_POLICY, Policy
from support_flows.verify import case, consulting, plan
from support_flows.verify.both_ways import BothWays
from support_flows.verify.defaults import MACHINES, STRICT_BOTH_WAYS
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Path, Report
from support_flows.verify.policy import under
from support_flows.verify.watchdog import watching

__all__ = ["default_depth", "paths", "run"]

Progress = Callable[[str], None]


class _Explorer(Protocol):
    DEPTH: int

    def explore(
        self, depth: int, progress: Progress | None, *, check: bool, until_covered: bool = False
    ) -> Tracker: ...


_EXPLORERS: dict[str, _Explorer] = {"plan": plan, "case": case, "consulting": consulting}


def _module(machine: object) -> _Explorer:
    choice(machine, MACHINES, "machine")
    return _EXPLORERS[str(machine)]


def _depth(depth: object, default: int) -> int:
    return default if depth is None else whole(depth, "depth", 1, 12)


def _policy(policy: object) -> Policy:
    if policy is None:
        return ATLAS_POLICY
    if type(policy) is not Policy:
        raise invalid(
            Reason.INVALID_VALUE, "K6", f"policy must be a Policy, got {describe(policy)}"
        )
    return policy


def default_depth(machine: str) -> int:
    """The depth `run(machine)` explores when none is given."""
    return _module(machine).DEPTH


def run(
    machine: str,
    *,
    depth: int | None = None,
    progress: Progress | None = None,
    strict: bool = STRICT_BOTH_WAYS,
    policy: Policy | None = None,
) -> Report:
    """Explore `machine` ("plan", "case" or "consulting") to `depth` steps (its default when
    None), checking every invariant after every step, and report. `progress` receives a line
    now and then on long runs.

    `policy` (default Atlas's) is the one verified (K6): the library's objects are built under
    a catalog of that one version, the references read the same K1 values from its data, and
    the coverage counts what exists under it (`verify.scope`).

    While it explores, the engine's tracing seam shows which outcomes each check of the chart
    gives on each event it guards (`verify.both_ways`); with `strict`, an outcome never seen
    keeps the report from being ok (U1), without it is only reported."""
    callback(progress, "progress")
    flag(strict, "strict")
    chosen = _policy(policy)
    module = _module(machine)
    steps = _depth(depth, module.DEPTH)
    started = time.monotonic()
    watched = BothWays()
    with under(chosen), tracing(watched), watching():
        tracker = module.explore(steps, progress, check=True)
    tracker.saw(watched.seen_in(tracker.compiled))
    return tracker.report(steps, time.monotonic() - started, strict=strict)


def paths(machine: str) -> list[Path]:
    """For every chart edge of `machine` that some sequence reaches within the default depth,
    the shortest sequence of public calls found that takes it, in the chart's edge order."""
    module = _module(machine)
    tracker = module.explore(module.DEPTH, None, check=False, until_covered=True)
    return [tracker.paths[e] for e in tracker.all_edges if e in tracker.paths]
