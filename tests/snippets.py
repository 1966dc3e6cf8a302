"""Runs the tests a documentation snippet defines, as pytest would collect them from a module."""

from __future__ import annotations

import io
import unittest

from hypothesis import settings

__all__ = ["SNIPPET_EXAMPLES", "run_defined_tests"]

SNIPPET_EXAMPLES = 20
"""At most this many examples per property a snippet defines: the snippet is checked to work;
the rules themselves are verified at length by the suite's own tests."""


def run_defined_tests(namespace: dict[str, object]) -> int:
    """Run every `test_*` function and `Test*` unittest class in `namespace`; any failure
    fails the caller. Returns how many ran."""
    ran = 0
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()
            ran += 1
        elif (
            name.startswith("Test")
            and isinstance(value, type)
            and issubclass(value, unittest.TestCase)
        ):
            _run_case(name, value)
            ran += 1
    return ran


def _run_case(name: str, case: type[unittest.TestCase]) -> None:
    chosen = getattr(case, "settings", None)
    if isinstance(chosen, settings) and chosen.max_examples > SNIPPET_EXAMPLES:
        case.settings = settings(chosen, max_examples=SNIPPET_EXAMPLES)  # type: ignore[attr-defined]
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    report = io.StringIO()
    result = unittest.TextTestRunner(stream=report, verbosity=0).run(suite)
    assert result.testsRun > 0, f"{name} ran no test"
    assert result.wasSuccessful(), f"{name} failed:\n{report.getvalue()}"
