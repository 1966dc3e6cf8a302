"""The invariants checked on a Flex Consulting order after every step (F0-F7, V2), as verdicts.

Each check reads the order through its public surface only and compares it with the reference
(`verify.reference.consulting`) or with F7's balance.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.values import Organization
from support_flows.verify.common import Verdict
from support_flows.verify.policy import catalog
from support_flows.verify.reference.consulting import RefOrder

__all__ = ["OrderView", "agreement", "balance", "round_trip", "view"]


@attrs.frozen
class OrderView:
    """What a host sees of an order, as plain values."""

    state: str
    balance: tuple[int, int, int, int, int]
    purchased_at: dt.datetime | None
    expires_at: dt.datetime | None
    sessions: tuple[tuple[str, dt.datetime, int, int, str], ...]
    history: tuple[tuple[dt.datetime, str, int, str | None, str | None], ...]


def view(order: ConsultingOrder) -> OrderView:
    u = order.units
    return OrderView(
        order.state.value,
        (u.purchased, u.available, u.scheduled, u.consumed, u.expired),
        order.purchased_at,
        order.expires_at,
        tuple((s.session_id, s.start, s.hours, s.units, s.status.value) for s in order.sessions),
        tuple((e.at, e.action.value, e.units, e.session_id, e.actor) for e in order.history),
    )


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


def agreement(seen: OrderView, ref: RefOrder, rule: str) -> list[Verdict]:
    """The order is what the rules say after the step that applied `rule`; after a step read
    on a clock behind the last entry (`rule` T8), any difference is T8's."""
    sessions = tuple((s.session_id, s.start, s.hours, s.units, s.status) for s in ref.sessions)
    pairs = [
        ("state", rule, seen.state, ref.state),
        ("unit balance", "F7", seen.balance, ref.balance),
        ("purchase instant", "F1", seen.purchased_at, ref.purchased_at),
        ("expiry", "F6", seen.expires_at, ref.expires_at),
        ("sessions", rule, seen.sessions, sessions),
        ("history", rule, seen.history, ref.history),
    ]
    return [
        Verdict("T8" if rule == "T8" else which, f"agrees with the rules ({what})", True)
        if got == want
        else Verdict(
            "T8" if rule == "T8" else which,
            f"agrees with the rules ({what})",
            False,
            f"the {what} is {_show(got)}; the rules say {_show(want)}",
            expected=want,
            actual=got,
        )
        for what, which, got, want in pairs
    ]


def balance(seen: OrderView) -> Verdict:
    """F7: available + scheduled + consumed + expired = purchased, none negative."""
    purchased, *parts = seen.balance
    ok = sum(parts) == purchased and min(parts) >= 0
    return Verdict(
        "F7",
        "the unit balance adds up",
        ok,
        f"the balance {seen.balance} (purchased, available, scheduled, consumed, expired) does "
        "not add up"
        if not ok
        else "",
    )


def round_trip(order: ConsultingOrder, org: Organization, clock: Any) -> list[Verdict]:
    """V2: a snapshot restores to an order that writes the same snapshot and reads the same
    (its history only when it was kept); F3: a restored order never sends the confirmation
    again, even when confirmed again."""
    verdicts = []
    seen = view(order)
    for history in (True, False):
        data = order.snapshot(history=history)
        outbox = InMemoryOutbox()
        what = "with" if history else "without"
        resent = False
        try:
            again = ConsultingOrder.restore(
                data, org, clock=clock, outbox=outbox, catalog=catalog()
            )
            kept = seen if history else attrs.evolve(seen, history=())
            message = ""
            if again.snapshot(history=history) != data:
                message = "the restored order writes another snapshot"
            elif view(again) != kept:
                message = "the restored order reads otherwise"
            if data["state"] != "checkout":
                again.confirm()
                resent = bool(outbox.sent) or again.snapshot(history=history) != data
        except Exception as error:  # a snapshot the library wrote and then refuses
            message = f"restore refused its own snapshot: {error}"
        verdicts.append(
            Verdict("V2", f"snapshot round trip ({what} history)", not message, message)
        )
        verdicts.append(
            Verdict(
                "F3",
                "a restored order confirmed again sends nothing",
                not resent,
                "confirm() on the restored order sent an email or changed it" if resent else "",
            )
        )
    return verdicts
