"""Malformed values at each entry point of an order (T1, V4, V5, F2, F6): each must be refused
with the reason the reference (`reference.malformed`) gives, and change nothing."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import attrs

from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.verify.common import ACTORS, HostClock, Outcome, Verdict, attempt, iso
from support_flows.verify.consulting_roots import BUYER, ORDER_ID, ROOTS
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.policy import catalog
from support_flows.verify.reference.malformed import (
    HOURS_PER_UNIT,
    SESSION_HOURS,
    UNITS,
    VALIDITY_MONTHS,
    WRONG_TYPE,
    Refusal,
    aware,
    email,
    identifier,
    quantity,
)

__all__ = ["OPENING", "SESSIONS", "malformed"]

NUMBERS = (True, False, 0, -1, 1.5, 2.0, 100_001, 10**30)
NAMES = ("", " co-1", "co-1 ", "x" * 201, "co\n1", 5, None)
OPENING: tuple[tuple[str, str, tuple[Any, ...], Callable[[Any], Refusal | None]], ...] = (
    ("from_representative", "units", NUMBERS, lambda v: quantity(v, UNITS, "F2")),
    ("start_checkout", "units", NUMBERS, lambda v: quantity(v, UNITS, "F2")),
    (
        "from_representative",
        "hours_per_unit",
        (True, 0, 1_001, 2.5),
        lambda v: quantity(v, HOURS_PER_UNIT, "F2"),
    ),
    (
        "start_checkout",
        "validity_months",
        (True, 0, 121, 1.5),
        lambda v: quantity(v, VALIDITY_MONTHS, "F6"),
    ),
    ("from_representative", "order_id", NAMES[:-1], identifier),
    ("start_checkout", "order_id", NAMES[:-1], identifier),
    ("from_representative", "sales_reference", (" SO-1", "S" * 201, 5), identifier),
    ("from_representative", "email", ("", "buyer", "@example.com", "a@", "a@b@c", 5), email),
    ("start_checkout", "actor", (None, "owner", 5, ROOTS[0].org()), lambda v: WRONG_TYPE),
)
"""(entry point, argument, malformed values, the refusal the rules give each)."""
SESSIONS = ("", " s-1", "x" * 201, 5, None)


def _shown(value: Any) -> Any:
    """A JSON-safe rendering of a malformed value for the counterexample."""
    if isinstance(value, dt.datetime):
        return value.isoformat() + " (naive)" if value.utcoffset() is None else iso(value)
    return value if isinstance(value, bool | int | str | None) else repr(value)


def _open(
    call: str, field: str, value: Any, clock: HostClock, outbox: InMemoryOutbox, **given: Any
) -> Any:
    root = ROOTS[0]
    args: dict[str, Any] = {"units": 1, "order_id": ORDER_ID, **given}
    if call == "start_checkout":
        args |= {"actor": ACTORS["owner"].member(), field: value}
        return ConsultingOrder.start_checkout(
            root.org(), clock=clock, outbox=outbox, **args, catalog=catalog()
        )
    args |= {"sales_reference": "SO-1", "email": BUYER, field: value}
    return ConsultingOrder.from_representative(
        root.org(), clock=clock, outbox=outbox, **args, catalog=catalog()
    )


def _verdict(want: Refusal, outcome: Outcome, unchanged: bool, what: str) -> Verdict:
    codes = [code for code, _ in outcome.reasons]
    return Verdict(
        want[1],
        "malformed input is refused with its reason and changes nothing",
        outcome.crash is None and codes[:1] == [want[0]] and unchanged,
        f"{what} was {outcome.describe()}"
        + ("" if unchanged else " and changed the order or sent an email")
        + f"; the rules say {want[0]} ({want[1]})",
    )


def malformed(tracker: Tracker) -> None:
    """Every malformed value at every entry point of an order, checked once."""
    root = ROOTS[0]
    at = iso(root.start)
    for call, field, values, rule in OPENING:
        for value in values:
            want = rule(value)
            if want is None:  # a float equal to a whole number may be one (2.0): not asked
                continue
            clock, outbox = HostClock(root.start), InMemoryOutbox()
            outcome = attempt(functools.partial(_open, call, field, value, clock, outbox))
            unchanged = outcome.result is None and not outbox.sent
            step = Step(at, call, {field: _shown(value)}, outcome=outcome.describe())
            _expect(tracker, want, outcome, unchanged, f"{call}({field}={value!r})", (step,))
    _sessions(tracker)


def _sessions(tracker: Tracker) -> None:
    """schedule, cancel_session and deliver on a purchased order with one session booked."""
    root = ROOTS[0]
    clock, outbox = HostClock(root.start), InMemoryOutbox()
    owner = ACTORS["owner"]
    tomorrow = root.start.add(days=1)
    terms = {"hours_per_unit": 1, "validity_months": None}  # Atlas's, whatever the policy's
    made = attempt(
        functools.partial(_open, "from_representative", "units", 2, clock, outbox, **terms)
    )
    order = made.result
    booked = (
        made
        if order is None
        else attempt(lambda: order.schedule(start=tomorrow, hours=1, actor=owner.member()))
    )
    opened = (
        Step(
            iso(root.start),
            "from_representative",
            {"units": 2, "sales_reference": "SO-1", **terms},
        ),
        Step(iso(root.start), "schedule", {"start": iso(tomorrow), "hours": 1, "actor": "owner"}),
    )
    if booked.result is None:  # the setup the rules accept failed: reported, nothing to try
        rule = "F1" if order is None else "F4"
        step = opened[0 if order is None else 1]
        done = (*opened[: opened.index(step)], attrs.evolve(step, outcome=booked.describe()))
        verdict = Verdict(
            rule,
            "a request the rules accept is accepted",
            False,
            f"{step.call} was {booked.describe()}; the rules accept it",
            expected="accepted",
            actual=booked.describe(),
        )
        tracker.expect(verdict, functools.partial(Counterexample, root.setup(), done))
        return
    record = order.snapshot()
    tries: list[tuple[str, dict[str, Any], Refusal | None]] = [
        ("schedule", {"start": tomorrow, "hours": h}, quantity(h, SESSION_HOURS, "V4"))
        for h in (True, 0, -1, 1.5, 10_001)
    ]
    naive = dt.datetime(2024, 2, 2, 10)  # noqa: DTZ001  (the malformed value itself)
    tries.append(("schedule", {"start": naive, "hours": 1}, aware(naive)))
    strangers = ("owner", 5, root.org())
    tries += [
        ("schedule", {"start": tomorrow, "hours": 1, "actor": a}, WRONG_TYPE)
        for a in (None, *strangers)
    ]
    for name in ("cancel_session", "deliver"):
        tries += [(name, {"session_id": s}, identifier(s)) for s in SESSIONS]
        tries += [(name, {"session_id": "s-1", "actor": a}, WRONG_TYPE) for a in strangers]
    for name, args, want in tries:
        if want is None:
            continue
        call = getattr(order, name)
        outbox.sent.clear()
        outcome = attempt(functools.partial(call, **{"actor": owner.member(), **args}))
        unchanged = order.snapshot() == record and not outbox.sent
        shown = {k: _shown(v) for k, v in args.items()}
        step = Step(iso(root.start), name, shown, outcome=outcome.describe())
        what = f"{name}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
        _expect(tracker, want, outcome, unchanged, what, (*opened, step))


def _expect(
    tracker: Tracker,
    want: Refusal,
    outcome: Outcome,
    unchanged: bool,
    what: str,
    steps: tuple[Step, ...],
) -> None:
    tracker.sequences += 1
    tracker.produced(outcome.reasons)
    tracker.exercised((want[1],))
    where = functools.partial(Counterexample, ROOTS[0].setup(), steps)
    tracker.expect(_verdict(want, outcome, unchanged, what), where)
