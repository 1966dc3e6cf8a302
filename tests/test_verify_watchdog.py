"""T7 for the verifier itself: a library call that never returns is stopped by the watchdog
(`verify.watchdog`) and becomes a crash outcome the explorers report, instead of hanging the
run; calls that return are untouched."""

from __future__ import annotations

import pytest

import support_flows.localtime as localtime
from support_flows import verify
from support_flows.verify.common import attempt
from support_flows.verify.watchdog import Stalled, stalled, watching


def _spin() -> None:
    while True:
        pass


def test_t7_a_call_that_never_returns_is_stopped_as_a_crash() -> None:
    """T7: inside `watching`, a call spinning past the limit is interrupted: its outcome is a
    Stalled crash and the run is marked stalled; outside, nothing is armed."""
    with watching(limit=1):
        assert attempt(lambda: 2).result == 2
        assert not stalled()
        outcome = attempt(_spin)
        assert isinstance(outcome.crash, Stalled)
        assert stalled()
    assert "crashed: Stalled" in outcome.describe()


def test_t7_a_month_start_search_that_never_ends_is_a_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """T7: a library whose month-start search loops forever in a DST gap (Asuncion's Oct 1
    2023 begins at 01:00) gives a report with a finding, not a hung verify."""
    searched = localtime._day_starts.__wrapped__

    def forever(day: object, tz_name: str) -> object:
        if tz_name == "America/Asuncion":
            _spin()
        return searched(day, tz_name)

    monkeypatch.setattr(localtime, "_day_starts", forever)
    for cached in vars(localtime).values():  # answers remembered before the bug was planted
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()
    monkeypatch.setattr("support_flows.verify.watchdog.LIMIT", 1)
    report = verify.run("plan", depth=1)
    crashed = [v for v in report.violations if "Stalled" in v.message]
    assert crashed, [v.describe() for v in report.violations]
