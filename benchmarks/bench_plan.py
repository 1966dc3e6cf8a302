"""Cost of the support plan beside a bare python-statemachine chart of the same shape.

Run it: `python benchmarks/bench_plan.py [--rounds N]`. It prints, for each operation, the median
time per call for `SupportPlan` and for a bare `StateChart` with the same states and transitions
(no-op guards and actions, our pinned flags), and for one with the bare graph only, with the
ratios.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pendulum
from statemachine import State, StateChart

import support_flows as sf


def no_reason(facts: object = None) -> None:
    return None


def is_developer(tier: object = None) -> bool:
    return tier == "developer"


def is_premium(tier: object = None) -> bool:
    return tier == "premium"


def is_cancelled(tier: object = None) -> bool:
    return tier == "cancelled"


GUARDS = [no_reason, no_reason]


class NoOps:
    """A model whose actions do nothing, so the bare chart runs the same callbacks as ours."""

    def act(self) -> None:
        return None


class Strict(StateChart):  # type: ignore[type-arg]
    """Our pinned flags, so a bare event with no transition raises instead of timing nothing."""

    allow_event_without_transition = False
    catch_errors_as_events = False
    enable_self_transition_entries = False
    atomic_configuration_update = True


class BarePlanChart(Strict):
    """The plan chart's shape: states, events, transitions, guards and actions, all trivial."""

    basic = State(initial=True)
    trial = State()
    developer = State()
    premium = State()
    cancelled = State()

    subscribe = basic.to(trial, cond=is_developer, unless=GUARDS, on="act") | basic.to(
        premium, cond=is_premium, unless=GUARDS, on="act"
    )
    upgrade = trial.to(premium, unless=GUARDS, on="act") | developer.to(
        premium, unless=GUARDS, on="act"
    )
    downgrade = premium.to.itself(internal=True, unless=GUARDS[:1], on="act")
    cancel = (
        trial.to(cancelled, unless=GUARDS[:1], on="act")
        | developer.to.itself(internal=True, unless=GUARDS[:1], on="act")
        | premium.to.itself(internal=True, unless=GUARDS[:1], on="act")
    )
    revoke = developer.to.itself(internal=True, unless=GUARDS, on="act") | premium.to.itself(
        internal=True, unless=GUARDS, on="act"
    )
    end_trial = trial.to(developer, on="act")
    apply_pending = (
        premium.to(developer, cond=is_developer, on="act")
        | developer.to(cancelled, cond=is_cancelled, on="act")
        | premium.to(cancelled, cond=is_cancelled, on="act")
    )
    reactivate = cancelled.to(developer, cond=is_developer, unless=GUARDS, on="act") | cancelled.to(
        premium, cond=is_premium, unless=GUARDS, on="act"
    )


class GraphOnlyChart(Strict):
    """The same states and transitions with no rule guards and no actions."""

    basic = State(initial=True)
    trial = State()
    developer = State()
    premium = State()
    cancelled = State()

    subscribe = basic.to(trial, cond=is_developer) | basic.to(premium, cond=is_premium)
    upgrade = trial.to(premium) | developer.to(premium)
    downgrade = premium.to.itself(internal=True)
    cancel = (
        trial.to(cancelled) | developer.to.itself(internal=True) | premium.to.itself(internal=True)
    )
    revoke = developer.to.itself(internal=True) | premium.to.itself(internal=True)
    end_trial = trial.to(developer)
    apply_pending = premium.to(developer) | developer.to(cancelled) | premium.to(cancelled)
    reactivate = cancelled.to(developer) | cancelled.to(premium)


START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-bench", projects=("p-1",), billing_timezone="Europe/Berlin")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER})


def median_ns(setup: Callable[[], Any], run: Callable[[Any], Any], rounds: int) -> float:
    """Median wall time of `run(setup())`, timing only `run`."""
    samples = []
    gc.disable()
    try:
        for _ in range(rounds):
            subject = setup()
            began = time.perf_counter_ns()
            run(subject)
            samples.append(time.perf_counter_ns() - began)
    finally:
        gc.enable()
    return statistics.median(samples)


def premium_plan() -> sf.SupportPlan:
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(START))
    plan.change("premium", actor=OWNER)
    return plan


def premium_bare(kind: type[StateChart] = BarePlanChart) -> StateChart:  # type: ignore[type-arg]
    chart = kind(model=NoOps())
    chart.send("subscribe", tier="premium")
    return chart


def due_snapshot() -> tuple[dict[str, Any], sf.FrozenClock]:
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("developer", actor=OWNER)
    clock.advance(days=31)
    return plan.snapshot(), clock


Setup = Callable[[], Any]
Run = Callable[[Any], Any]
ROWS: list[tuple[str, Setup, Run, Setup, Run, Setup, Run]] = [
    (
        "construct",
        lambda: None,
        lambda _: sf.SupportPlan(ORG, clock=sf.FrozenClock(START)),
        lambda: None,
        lambda _: BarePlanChart(model=NoOps()),
        lambda: None,
        lambda _: GraphOnlyChart(),
    ),
    (
        "check(change)",
        premium_plan,
        lambda plan: plan.check("change", actor=OWNER, tier="developer"),
        premium_bare,
        lambda chart: chart.enabled_events(facts=None, tier="developer"),
        lambda: premium_bare(GraphOnlyChart),
        lambda chart: chart.enabled_events(),
    ),
    (
        "change (downgrade)",
        premium_plan,
        lambda plan: plan.change("developer", actor=OWNER),
        premium_bare,
        lambda chart: chart.send("downgrade", facts=None),
        lambda: premium_bare(GraphOnlyChart),
        lambda chart: chart.send("downgrade"),
    ),
    (
        "restore + apply_due",
        due_snapshot,
        lambda data: sf.SupportPlan.restore(data[0], ORG, clock=data[1]).apply_due(),
        lambda: None,
        lambda _: BarePlanChart(model=NoOps(), start_value="trial").send("end_trial", tier=None),
        lambda: None,
        lambda _: GraphOnlyChart(start_value="trial").send("end_trial"),
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    print(f"median of {rounds} calls each, microseconds per call")
    print("bare chart: same states, transitions, guards and actions, all no-ops")
    print("graph only: same states and transitions, no rule guards, no actions")
    header = f"{'operation':<22} {'SupportPlan':>12} {'bare chart':>11} {'ratio':>7}"
    print(f"{header} {'graph only':>11} {'ratio':>7}")
    for name, setup, run, bare_setup, bare_run, graph_setup, graph_run in ROWS:
        ours = median_ns(setup, run, rounds) / 1000
        bare = median_ns(bare_setup, bare_run, rounds) / 1000
        graph = median_ns(graph_setup, graph_run, rounds) / 1000
        print(
            f"{name:<22} {ours:>12.1f} {bare:>11.1f} {ours / bare:>6.2f}x"
            f" {graph:>11.1f} {ours / graph:>6.2f}x"
        )
    print(f"memory: {memory_per_plan() / 1024:.1f} KiB per plan (premium, a downgrade pending)")


def memory_per_plan(count: int = 200) -> float:
    """Average bytes held by one premium plan with a pending downgrade, charts included."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    plans = []
    for _ in range(count):
        plan = premium_plan()
        plan.change("developer", actor=OWNER)
        plans.append(plan)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return held / len(plans)


if __name__ == "__main__":
    main()
