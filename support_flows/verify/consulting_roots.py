"""Where consulting sequences start, what an explored point is, and where its clock moves next."""

from __future__ import annotations

import json
import random
import zoneinfo
from collections.abc import Callable, Hashable
from typing import Any

import attrs
import pendulum

from support_flows.localtime import instant
from support_flows.values import Organization, Project
from support_flows.verify.common import iso
from support_flows.verify.model import Counterexample, Setup, Step
from support_flows.verify.reference.consulting import (
    DEFAULT_HOURS_PER_UNIT,
    DEFAULT_VALIDITY_MONTHS,
    RefOrder,
)
from support_flows.verify.reference.terms import current

__all__ = [
    "BUYER",
    "MICROSECOND",
    "ORDER_ID",
    "ROOTS",
    "SEED",
    "OrderNode",
    "OrderRoot",
    "generated",
    "moves",
    "node_key",
]

MICROSECOND = pendulum.duration(microseconds=1)
ORDER_ID = "co-1"
BUYER = "buyer@example.com"


@attrs.frozen
class OrderRoot:
    """Where sequences start: no order yet, in `zone` at `start`, with these terms."""

    zone: str
    start: pendulum.DateTime
    units: int
    hours_per_unit: int
    validity_months: int | None
    note: str = ""
    given: bool = True
    """False: the order is opened without hours_per_unit and validity_months (F2, F6's
    defaults); `hours_per_unit` and `validity_months` are then the defaults RULES.md gives, and
    the reference order takes the policy's (K1)."""

    def ref(self) -> RefOrder:
        if not self.given:  # F2, F6 under K1: the policy's defaults
            terms = current()
            return RefOrder(self.zone, self.units, terms.hours_per_unit, terms.validity_months)
        return RefOrder(self.zone, self.units, self.hours_per_unit, self.validity_months)

    def org(self) -> Organization:
        return Organization("org-1", projects=(Project("p-1"),), billing_timezone=self.zone)

    def setup(self) -> Setup:
        return Setup(
            "consulting",
            self.zone,
            iso(self.start),
            {"org_id": "org-1", "projects": ["p-1"], "cross_org_billing": False},
            {
                "units": self.units,
                "hours_per_unit": self.hours_per_unit if self.given else "not given",
                "validity_months": self.validity_months if self.given else "not given",
                "order_id": ORDER_ID,
                "why": self.note,
            },
        )


def _local(zone: str, year: int, month: int, day: int, hour: int) -> pendulum.DateTime:
    return instant(pendulum.datetime(year, month, day, hour, tz=zone))


ROOTS = (
    OrderRoot("UTC", _local("UTC", 2024, 1, 31, 10), 2, 1, 1, "a month's validity ends on Feb 29"),
    OrderRoot(
        "Pacific/Auckland",
        _local("Pacific/Auckland", 2026, 3, 14, 10),
        2,
        2,
        1,
        "2 hours per unit; DST ends before the expiry",
    ),
    OrderRoot(
        "America/Havana",
        _local("America/Havana", 2026, 10, 31, 10),
        1,
        DEFAULT_HOURS_PER_UNIT,
        DEFAULT_VALIDITY_MONTHS,
        "hours per unit and validity not given: one hour, no validity",
        given=False,
    ),
)

SEED = 18
"""The seed of the generated starting points (shown in each one's setup)."""


def zones() -> tuple[str, ...]:
    """The zones drawn from: every region/city name of the system's tz database, sorted."""
    return tuple(
        sorted(
            z
            for z in zoneinfo.available_timezones()
            if "/" in z and not z.startswith(("posix/", "right/", "Etc/"))
        )
    )


def generated(seed: int = SEED, count: int = 8) -> tuple[OrderRoot, ...]:
    """`count` starting points drawn with `random.Random(seed)`: any zone, a purchase in the
    last days of a month, small quantities, a validity (often one that ends in February, where
    F6 clamps) or none, the terms given or left to their defaults."""
    rng, names = random.Random(seed), zones()
    roots = []
    for index in range(count):
        zone = rng.choice(names)
        year, month = rng.randint(2024, 2027), rng.randint(1, 12)
        last = (pendulum.datetime(year, month, 1).add(months=1).subtract(days=1)).day
        day, hour = rng.randint(last - 2, last), rng.randint(0, 23)
        given = rng.random() < 0.75
        per = rng.choice((1, 2, 3)) if given else DEFAULT_HOURS_PER_UNIT
        to_february = (2 - month) % 12 or 12  # F6 clamps a late day of month there
        months = rng.choice((None, 1, 3, 12, to_february)) if given else DEFAULT_VALIDITY_MONTHS
        start = instant(pendulum.datetime(year, month, day, hour, 30, tz=zone))
        note = f"generated: seed {seed}, draw {index + 1} of {count}"
        roots.append(OrderRoot(zone, start, rng.randint(1, 3), per, months, note, given))
    return tuple(roots)


@attrs.frozen(eq=False)
class OrderNode:
    """An explored order (None before it is opened) and the reference, as of `now`; `emails`
    counts the confirmations sent so far."""

    root: OrderRoot
    org: Organization
    snapshot: dict[str, Any] | None
    ref: RefOrder
    now: pendulum.DateTime
    emails: int
    steps: tuple[Step, ...]
    key: Hashable

    def where(self, done: Step) -> Callable[[], Counterexample]:
        return lambda: Counterexample(self.root.setup(), (*self.steps, done))


def node_key(
    root: OrderRoot, snapshot: dict[str, Any] | None, ref: RefOrder, now: Any, emails: int
) -> Hashable:
    """Orders that behave alike from here: equal records but for the history and who acted."""
    record = None
    if snapshot is not None:
        record = {k: v for k, v in snapshot.items() if k not in ("history", "requested_by")}
        record["sessions"] = [
            {k: v for k, v in s.items() if k not in ("booked_by", "closed_by")}
            for s in snapshot["sessions"]
        ]
    ref = attrs.evolve(ref, history=(), requested_by=None)
    return (root, now, json.dumps(record, sort_keys=True), ref, emails)


def moves(ref: RefOrder, now: pendulum.DateTime) -> list[tuple[pendulum.DateTime, str]]:
    """Instants worth moving the clock to: just before and at each booked session's start and
    at the expiry."""
    marks = [
        (s.start, f"the start of {s.session_id}") for s in ref.sessions if s.status == "scheduled"
    ]
    if ref.expires_at is not None and not ref.validity_ended:
        marks.append((ref.expires_at, "the expiry"))
    found: dict[pendulum.DateTime, str] = {}
    for at, what in marks:
        for moved, word in ((instant(at - MICROSECOND), "just before"), (instant(at), "at")):
            if moved > now:
                found.setdefault(moved, f"{word} {what}")
    return sorted(found.items())
