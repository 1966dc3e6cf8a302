"""A pytest plugin for tools/mutate_charts.py: while the suite runs, record for every edge taken
which registered checks of its machine would refuse those facts. An added guard that never fails
where its edge is taken cannot change any behaviour the suite sees (an equivalent mutation).

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


def _key(compiled: engine.Compiled, chosen: engine.Edge) -> str:
    return f"{compiled.chart.__name__} {chosen.event} {chosen.source}->{chosen.target}"


def pytest_configure(config: pytest.Config) -> None:
    original = engine.TableEngine.run

    def recording(self: engine.TableEngine, model: Any, event: str, facts: Any) -> None:
        compiled = self.compiled
        chosen = compiled.select(str(model.state), event, facts)
        if chosen is not None:
            failing = SEEN.setdefault(_key(compiled, chosen), set())
            for name, check in compiled.chart.registry.checks.items():
                try:
                    if check(facts) is not None:
                        failing.add(name)
                except Exception:  # a check that cannot read these facts would refuse loudly
                    failing.add(name)
        original(self, model, event, facts)

    engine.TableEngine.run = recording  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    path = os.environ.get("EDGE_RECORD")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({k: sorted(v) for k, v in SEEN.items()}, out, indent=1, sort_keys=True)
