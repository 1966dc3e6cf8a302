"""Where plan sequences start, what an explored point is, and where its clock moves next."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

import attrs
import pendulum

from support_flows.localtime import add_wall_days, instant
from support_flows.values import Organization, Project
from support_flows.verify.common import iso
from support_flows.verify.model import Counterexample, Setup, Step
from support_flows.verify.reference.plan import RefPlan, due

__all__ = ["ROOTS", "PlanNode", "PlanRoot", "moves", "node_key"]

MICROSECOND = pendulum.duration(microseconds=1)
OFFSETS = {-1: "just before", 0: "at", 1: "just after"}


@attrs.frozen
class PlanRoot:
    """Where sequences start: a fresh plan on `basic`, in `zone`, at `start`."""

    zone: str
    start: pendulum.DateTime
    cross_org: bool = False
    note: str = ""

    def org(self) -> Organization:
        return Organization(
            "org-1",
            projects=(Project("p-1"),),
            billing_timezone=self.zone,
            cross_org_billing=self.cross_org,
        )

    def setup(self) -> Setup:
        org = {"org_id": "org-1", "projects": ["p-1"], "cross_org_billing": self.cross_org}
        return Setup("plan", self.zone, iso(self.start), org, {"why": self.note})


def _local(zone: str, year: int, month: int, day: int, hour: int) -> pendulum.DateTime:
    return instant(pendulum.datetime(year, month, day, hour, tz=zone))


ROOTS = (
    PlanRoot("UTC", _local("UTC", 2026, 1, 1, 12), note="a trial that ends before the next 1st"),
    PlanRoot(
        "Pacific/Auckland", _local("Pacific/Auckland", 2026, 3, 14, 10), note="DST ends in April"
    ),
    PlanRoot("Pacific/Kiritimati", _local("Pacific/Kiritimati", 2026, 3, 31, 14), note="UTC+14"),
    PlanRoot("Pacific/Pago_Pago", _local("Pacific/Pago_Pago", 2026, 3, 31, 9), note="UTC-11"),
    PlanRoot(
        "America/Asuncion",
        _local("America/Asuncion", 2023, 9, 14, 10),
        note="Oct 1 2023 begins at 01:00 (DST gap at midnight)",
    ),
    PlanRoot(
        "America/Havana",
        _local("America/Havana", 2026, 10, 14, 10),
        note="Nov 1 2026 begins twice (DST ends at 01:00)",
    ),
    PlanRoot(
        "America/St_Johns",
        instant(pendulum.datetime(2009, 11, 1, 3, tz="UTC")),
        note="Oct 31 2009 23:30, in the repeated hour: Nov 1 has begun once already (T3)",
    ),
    PlanRoot("UTC", _local("UTC", 2028, 1, 30, 12), note="a trial that ends on Feb 29"),
    PlanRoot("UTC", _local("UTC", 2026, 3, 14, 10), cross_org=True, note="cross-org billing"),
)


@attrs.frozen(eq=False)
class PlanNode:
    """An explored plan: its snapshot and the reference, as of `now`."""

    root: PlanRoot
    org: Organization
    snapshot: dict[str, Any]
    ref: RefPlan
    now: pendulum.DateTime
    steps: tuple[Step, ...]
    key: Hashable

    def where(self, done: Step) -> Callable[[], Counterexample]:
        return lambda: Counterexample(self.root.setup(), (*self.steps, done))


def node_key(root: PlanRoot, snapshot: dict[str, Any], ref: RefPlan, now: Any) -> Hashable:
    """Plans that behave alike from here: equal records but for the history and who asked."""
    record = {k: v for k, v in snapshot.items() if k != "history"}
    if record.get("pending"):
        record["pending"] = {**record["pending"], "requested_by": ""}
    pending = None if ref.pending is None else attrs.evolve(ref.pending, requested_by="")
    return (
        root,
        now,
        json.dumps(record, sort_keys=True),
        attrs.evolve(ref, history=(), pending=pending),
    )


def moves(ref: RefPlan, now: pendulum.DateTime) -> list[tuple[pendulum.DateTime, str]]:
    """Instants worth moving the clock to: just before and at the next month start and whatever
    comes due (the trial's end, the pending change); around 90 days after the plan ended (P15)."""
    marks: list[tuple[Any, str, tuple[int, ...]]] = [
        (ref.month_after(now), "the 1st of next month", (-1, 0))
    ]
    if (at := due(ref)) is not None:
        marks.append((at, "the trial's end" if ref.trial else "the pending change", (-1, 0)))
    if ref.state == "cancelled" and ref.last_end is not None:
        ninety = add_wall_days(ref.last_end[1], 90, ref.tz)
        marks.append((ninety, "90 days after the plan ended", (-1, 0, 1)))
    found: dict[pendulum.DateTime, str] = {}
    for at, what, offsets in marks:
        for offset in offsets:
            moved = instant(at + MICROSECOND * offset)
            if moved > now:
                found.setdefault(moved, f"{OFFSETS[offset]} {what}")
    return sorted(found.items())
