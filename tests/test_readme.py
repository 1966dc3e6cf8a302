"""The README's Python blocks run as written, in order, in one namespace: they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from snippets import run_defined_tests

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def python_blocks() -> list[str]:
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def test_readme_has_python_blocks() -> None:
    """The README shows the API in Python blocks (the tour)."""
    assert len(python_blocks()) >= 4


def test_readme_python_blocks_run_in_order() -> None:
    """Every Python block of README.md executes without error, each after the one before."""
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(python_blocks(), start=1):
        code = compile(block, f"README.md python block {number}", "exec")
        exec(code, namespace)


def test_readme_testing_kit_snippet_runs_on_its_own() -> None:
    """The "Five lines" testing-kit block runs alone, imports included, and the stateful test it
    defines passes."""
    block = next(block for block in python_blocks() if "PlanRules" in block)
    namespace: dict[str, object] = {"__name__": "readme_testing_kit"}
    exec(compile(block, "README.md testing-kit block", "exec"), namespace)
    assert run_defined_tests(namespace) == 1
