"""The plan example script runs and tells the story the rules predict."""

from __future__ import annotations

from example_runner import run_example


def test_plan_lifecycle_example_prints_the_years_timeline() -> None:
    """examples/plan_lifecycle.py exits 0 and shows the refusals and changes of its year."""
    out = run_example("plan_lifecycle.py")
    assert "refused (billing_role_required, P1)" in out
    assert "refused (change_already_effective, P12)" in out
    assert "refused (contact_sales, P2)" in out
    assert "state developer, pending change: cancelled at 2026-08-01 00:00 EDT" in out
    assert "(retroactive)" in out
    assert "end_trial" in out
