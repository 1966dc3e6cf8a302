"""F3 on one live order (`verify.consulting_emails`): a purchase sends exactly one confirmation
whatever follows on the same object, through an outbox that fails once; a book that forgets to
clear its queued confirmations, after a step or after an undone one, is found."""

from __future__ import annotations

from typing import Any

import pytest

from support_flows.machines.consulting_book import OrderBook
from support_flows.machines.consulting_chart import COMPILED
from support_flows.verify.consulting_emails import one_confirmation
from support_flows.verify.explore import Tracker


def _violations() -> list[Any]:
    tracker = Tracker("consulting", COMPILED, ("F",))
    one_confirmation(tracker)
    return list(tracker.report(1, 0.0).violations)


def test_f3_one_confirmation_through_a_failing_outbox_and_later_steps() -> None:
    """F3: the unplanted library sends one confirmation in all: none from the confirm whose
    outbox raised, one from the retry, none from the booking or a confirm past checkout."""
    assert _violations() == []


@pytest.mark.parametrize("method", ["commit", "restore"])
def test_f3_queued_confirmations_never_cleared_are_found(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """F3: a book whose commit (after a step) or restore (after an undone step) leaves its
    queued confirmations in place sends a second email: found as F3, with the sequence."""
    kept = getattr(OrderBook, method)

    def forgets(self: OrderBook, *args: Any) -> None:
        due = self.confirmations_due
        kept(self, *args)
        self.confirmations_due = due

    monkeypatch.setattr(OrderBook, method, forgets)
    found = _violations()
    assert [v.rule for v in found] == ["F3"]
    assert [s.call for s in found[0].counterexample.steps][:3] == [
        "start_checkout",
        "confirm",
        "confirm",
    ]
