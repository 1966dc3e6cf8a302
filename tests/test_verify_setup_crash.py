"""A library that crashes while the verifier sets up a point it checks from (the order whose
session requests get malformed values) is reported as a finding of the rule that setup follows,
with its sequence, instead of stopping verify on a traceback."""

from __future__ import annotations

from typing import Any

import pytest

from support_flows import verify
from support_flows.machines.consulting_book import OrderBook


def test_f4_a_booking_that_crashes_is_a_finding_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """F4: with booking a session crashing, verify reports the schedule the rules accept as
    crashed (a finding naming F4, the crash in its message) and finishes its report."""

    def crashes(self: OrderBook, facts: Any) -> None:
        raise AssertionError("planted")

    monkeypatch.setattr(OrderBook, "book_session", crashes)
    report = verify.run("consulting", depth=1)
    found = [v for v in report.violations if v.rule == "F4" and "AssertionError" in v.message]
    assert found, [v.describe() for v in report.violations]
    assert found[0].counterexample.steps[-1].call == "schedule"
