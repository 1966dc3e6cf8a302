"""F3 on one live order, not rewound between its steps: a purchase queues exactly one
confirmation, whatever comes after it on the same object. The explorer opens every point afresh,
so this sequence is made once: confirm through an outbox that raises (the purchase is not
complete, its email never went), confirm again, book a session, confirm once more; one email in
all (F3: exactly one on purchase; confirming past checkout sends nothing)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import Email
from support_flows.verify.common import HostClock, Verdict, attempt, iso
from support_flows.verify.consulting_roots import ORDER_ID, ROOTS
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.policy import catalog, payer

__all__ = ["one_confirmation"]


class _FailsOnce:
    """An outbox whose first delivery raises; later ones are kept in `sent`."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.failed = False

    def send(self, email: Email) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the mail relay is down")
        self.sent.append(email)


def one_confirmation(tracker: Tracker) -> None:
    """The sequence above, on one order, checked for one confirmation in all."""
    root = ROOTS[0]
    clock, outbox = HostClock(root.start), _FailsOnce()
    buyer = payer()  # F1: a billing role of the policy
    owner = buyer.member()
    tomorrow = root.start.add(days=1)
    made = attempt(
        lambda: ConsultingOrder.start_checkout(
            root.org(),
            units=root.units,
            hours_per_unit=root.hours_per_unit,
            validity_months=root.validity_months,
            actor=owner,
            clock=clock,
            outbox=outbox,
            order_id=ORDER_ID,
            catalog=catalog(),
        )
    )
    order: Any = made.result
    at = iso(root.start)
    opened = {"units": root.units, "actor": buyer.name}
    steps = [Step(at, "start_checkout", opened, outcome=made.describe())]
    if order is not None:
        calls: tuple[tuple[str, dict[str, Any], Callable[[], Any], str], ...] = (
            ("confirm", {}, order.confirm, "the outbox raises"),
            ("confirm", {}, order.confirm, ""),
            (
                "schedule",
                {"start": iso(tomorrow), "hours": 1, "actor": buyer.name},
                functools.partial(order.schedule, start=tomorrow, hours=1, actor=owner),
                "",
            ),
            ("confirm", {}, order.confirm, ""),
        )
        for name, args, call, note in calls:
            sent = len(outbox.sent)
            outcome = attempt(call)
            shown = f"{outcome.describe()}, {len(outbox.sent) - sent} email(s) sent"
            steps.append(Step(at, name, args, note=note, outcome=shown))
    tracker.sequences += 1
    tracker.exercised(("F3",))
    sent = len(outbox.sent)
    verdict = Verdict(
        "F3",
        "a purchase queues exactly one confirmation, whatever follows on the same order",
        sent == 1,
        f"the order sent {sent} confirmation email(s) in all",
        expected="1 email",
        actual=f"{sent} email(s)",
    )
    tracker.expect(verdict, functools.partial(Counterexample, root.setup(), tuple(steps)))
