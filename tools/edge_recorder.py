"""A pytest plugin for tools/mutate_charts.py: while the suite runs, record for every edge selected
which registered checks of its machine would refuse those facts, which edges were taken, and for
events with no edge which checks of the chart's refusals without an edge fail. An added or dropped
guard that never fails where its edge is selected, a dropped action of an edge the suite never
takes, or a dropped explanation that never fails, cannot change any behaviour the suite sees: no
test can catch it.

Used as `python -m pytest -p edge_recorder` with tools/ on the path and EDGE_RECORD set to the
JSON file to write.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from support_flows.machines import engine

SEEN: dict[str, set[str]] = {}
TAKEN: set[str] = set()


def _key(compiled: engine.Compiled, chosen: engine.Edge) -> str:
    return f"{compiled.chart.__name__} {chosen.event} {chosen.source}->{chosen.target}"


def pytest_configure(config: pytest.Config) -> None:
    select, run = engine.Compiled.select, engine.TableEngine.run
    without_edge = engine.Compiled.without_edge

    def recording_select(self: engine.Compiled, state: str, event: str, facts: Any) -> Any:
        """Every path that asks the table (actions, check(), decide()) selects through here."""
        chosen = select(self, state, event, facts)
        if chosen is not None:
            failing = SEEN.setdefault(_key(self, chosen), set())
            for name, check in self.chart.registry.checks.items():
                try:
                    if check(facts) is not None:
                        failing.add(name)
                except Exception:  # a check that cannot read these facts would refuse loudly
                    failing.add(name)
        return chosen

    def recording_run(self: engine.TableEngine, model: Any, event: str, facts: Any) -> None:
        chosen = select(self.compiled, str(model.state), event, facts)
        run(self, model, event, facts)
        if chosen is not None:
            TAKEN.add(_key(self.compiled, chosen))

    def recording_without_edge(
        self: engine.Compiled, state: str, event: str, facts: Any
    ) -> tuple[Any, ...]:
        """The groups asked, in order, up to the first with a failing check (the one answering)."""
        for index, group in enumerate(self.refusals_without_edge):
            failing = SEEN.setdefault(f"{self.chart.__name__} without edge {index}", set())
            answered = False
            for check in group:
                try:
                    refused = check(facts) is not None
                except Exception:  # as in recording_select
                    refused = True
                if refused:
                    failing.add(check.__name__)
                    answered = True
            if answered:
                break
        return without_edge(self, state, event, facts)

    engine.Compiled.select = recording_select  # type: ignore[method-assign]
    engine.Compiled.without_edge = recording_without_edge  # type: ignore[method-assign]
    engine.TableEngine.run = recording_run  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("EDGE_RECORD")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            failing = {k: sorted(v) for k, v in SEEN.items()}
            json.dump({"failing": failing, "taken": sorted(TAKEN)}, out, indent=1, sort_keys=True)
