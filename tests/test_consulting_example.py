"""The consulting example script runs and tells the story the F rules predict."""

from __future__ import annotations

from example_runner import run_example


def test_f_consulting_order_example_prints_balances_and_the_one_email() -> None:
    """examples/consulting_order.py exits 0, shows each balance, the expiry and one email."""
    out = run_example("consulting_order.py")
    assert "state purchased purchased 10, available 10, scheduled 0" in out
    assert "expires at 2025-02-28 09:00:00+01:00" in out
    assert "refused (insufficient_units, F4)" in out
    assert "state purchased purchased 10, available 7, scheduled 0, consumed 3, expired 0" in out
    assert "applied expire of 7 units at 2025-02-28 09:00:00+01:00" in out
    assert "state expired   purchased 10, available 0, scheduled 0, consumed 3, expired 7" in out
    assert out.count("Subject: Flex Consulting order co-42: 10 units confirmed") == 1
    assert "Units bought: 10" in out
