"""A pytest plugin for tools/mutate_charts.py: while the suite runs, record for every edge selected
which registered checks of its machine would refuse those facts, which edges were taken, and for
events with no edge which checks of the chart's refusals without an edge fail. An added or dropped
guard that never fails where its edge is selected, a dropped action of an edge the suite never
takes, or a dropped explanation that never fails, cannot change any behaviour the suite sees: no
test can catch it. It listens through the engine's public seam, `engine.tracing`.

Used as `python -m pytest -p edge_recorder` with tools/ on the path and EDGE_RECORD set to the
JSON file to write.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import pytest

from support_flows.machines import engine

SEEN: dict[str, set[str]] = {}
TAKEN: set[str] = set()


def _key(compiled: engine.Compiled, chosen: engine.Edge) -> str:
    return f"{compiled.chart.__name__} {chosen.event} {chosen.source}->{chosen.target}"


def _refuses(check: Any, facts: Any) -> bool:
    try:
        return check(facts) is not None
    except Exception:  # a check that cannot read these facts would refuse loudly
        return True


class EdgeRecorder:
    """An `engine.Tracer` that keeps what the mutations need to know."""

    def selected(self, compiled: engine.Compiled, edge: engine.Edge, facts: Any) -> None:
        """Every path that asks the table (actions, check(), decide()) selects through here."""
        failing = SEEN.setdefault(_key(compiled, edge), set())
        for name, check in compiled.chart.registry.checks.items():
            if _refuses(check, facts):
                failing.add(name)

    def taken(self, compiled: engine.Compiled, edge: engine.Edge, model: Any) -> None:
        TAKEN.add(_key(compiled, edge))

    def refused_without_edge(
        self, compiled: engine.Compiled, state: str, event: str, facts: Any
    ) -> None:
        """The groups asked, in order, up to the first with a failing check (the one answering)."""
        for index, group in enumerate(compiled.refusals_without_edge):
            failing = SEEN.setdefault(f"{compiled.chart.__name__} without edge {index}", set())
            answered = False
            for check in group:
                if _refuses(check, facts):
                    failing.add(check.__name__)
                    answered = True
            if answered:
                break


TRACING = contextlib.ExitStack()


def pytest_configure(config: pytest.Config) -> None:
    TRACING.enter_context(engine.tracing(EdgeRecorder()))


def pytest_unconfigure(config: pytest.Config) -> None:
    TRACING.close()
    path = os.environ.get("EDGE_RECORD")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            failing = {k: sorted(v) for k, v in SEEN.items()}
            json.dump({"failing": failing, "taken": sorted(TAKEN)}, out, indent=1, sort_keys=True)
