"""Where plan sequences start, what an explored point is, and where its clock moves next.

Every instant chosen here (the clock moves, the roots' starts) comes from the reference's own
calendar (`verify.reference.calendar`), never from the library's `localtime`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import zoneinfo
from collections.abc import Callable, Hashable
from typing import Any

import attrs
import pendulum

from support_flows.values import Organization, Project
from support_flows.verify.model import Counterexample, Setup, Step
from support_flows.verify.reference.calendar import add_wall_days, next_month_start
from support_flows.verify.reference.plan import RefPlan, decide, due, observe, perform
from support_flows.verify.reference.terms import current

__all__ = [
    "CROSS_ORG",
    "ROOTS",
    "PlanNode",
    "PlanRoot",
    "generated",
    "moves",
    "node_key",
    "ref_at",
    "utc",
]

MICROSECOND = dt.timedelta(microseconds=1)
OFFSETS = {-1: "just before", 0: "at", 1: "just after"}
CROSS_ORG = "cross_org_billing"
"""The step in which the host saves the organization with its cross-org flag changed and opens
the plan again from its snapshot."""


def utc(moment: dt.datetime) -> pendulum.DateTime:
    """`moment` as the UTC instant a host's clock would give."""
    return pendulum.instance(moment).in_timezone("UTC")


def iso(moment: dt.datetime) -> str:
    return utc(moment).isoformat()


@attrs.frozen
class PlanRoot:
    """Where sequences start: a fresh plan on `basic`, in `zone`, at `start`; a generated root
    then takes the accepted steps of `prefix` (drawn with `seed`), its counterexamples' start."""

    zone: str
    start: pendulum.DateTime
    cross_org: bool = False
    note: str = ""
    prefix: tuple[Step, ...] = ()
    seed: int | None = None

    def org(self) -> Organization:
        return Organization(
            "org-1",
            projects=(Project("p-1"),),
            billing_timezone=self.zone,
            cross_org_billing=self.cross_org,
        )

    def setup(self) -> Setup:
        org = {"org_id": "org-1", "projects": ["p-1"], "cross_org_billing": self.cross_org}
        options: dict[str, Any] = {"why": self.note}
        if self.seed is not None:
            options["seed"] = self.seed
        return Setup("plan", self.zone, iso(self.start), org, options)

    def now(self) -> pendulum.DateTime:
        """The clock after the prefix."""
        return utc(dt.datetime.fromisoformat(self.prefix[-1].at)) if self.prefix else self.start


def ref_at(root: PlanRoot) -> RefPlan:
    """The reference after `root`'s prefix (every step of it one the rules accept)."""
    ref = RefPlan(root.zone, root.cross_org)
    for step in root.prefix:
        now = utc(dt.datetime.fromisoformat(step.at))
        ref = observe(ref, now)[0]
        if step.call == CROSS_ORG:
            ref = attrs.evolve(ref, cross_org=step.args[CROSS_ORG])
        elif step.call != "apply_due":
            who, tier = step.args["actor"], step.args.get("tier")
            assert not decide(ref, step.call, who["org_roles"], tier)
            ref = perform(ref, step.call, who["id"], tier, now)[0]
    return ref


def _local(
    zone: str, year: int, month: int, day: int, hour: int, minute: int = 0
) -> pendulum.DateTime:
    return utc(dt.datetime(year, month, day, hour, minute, tzinfo=zoneinfo.ZoneInfo(zone)))


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
        utc(dt.datetime(2009, 11, 1, 3, tzinfo=dt.UTC)),
        note="Oct 31 2009 23:30, in the repeated hour: Nov 1 has begun once already (T3)",
    ),
    PlanRoot("UTC", _local("UTC", 2028, 1, 30, 12), note="a trial that ends on Feb 29"),
    PlanRoot("UTC", _local("UTC", 2026, 3, 14, 10), cross_org=True, note="cross-org billing"),
    PlanRoot(
        "America/New_York",
        _local("America/New_York", 2026, 10, 2, 1, 30),
        note="a trial that ends at 01:30 on Nov 1 2026, in the repeated hour (T5: the earlier)",
    ),
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
    comes due (the trial's end, the pending change); around the policy's retroactive cap (90
    days under Atlas's) after the plan ended (P15)."""
    marks: list[tuple[Any, str, tuple[int, ...]]] = [
        (ref.month_after(now), "the 1st of next month", (-1, 0))
    ]
    if (at := due(ref)) is not None:
        marks.append((at, "the trial's end" if ref.trial else "the pending change", (-1, 0)))
    days = current().retroactive_days  # P15's cap, under K1
    if ref.state == "cancelled" and ref.last_end is not None and days:
        cap = add_wall_days(ref.last_end[1], days, ref.tz)
        marks.append((cap, f"{days} days after the plan ended", (-1, 0, 1)))
    found: dict[pendulum.DateTime, str] = {}
    for at, what, offsets in marks:
        for offset in offsets:
            moved = utc(at + MICROSECOND * offset)
            if moved > now:
                found.setdefault(moved, f"{OFFSETS[offset]} {what}")
    return sorted(found.items())


def _zones() -> tuple[str, ...]:
    """The IANA names a host may give as a billing timezone (T2)."""
    return tuple(
        sorted(
            n
            for n in zoneinfo.available_timezones()
            if n not in ("localtime", "posixrules", "Factory")
            and not n.startswith(("posix/", "right/"))
        )
    )


def _transitions(zone: str, year: int) -> list[dt.datetime]:
    """The instants in `year` at which `zone`'s UTC offset changes."""
    tz = zoneinfo.ZoneInfo(zone)
    begin = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp())

    def offset(second: int) -> dt.timedelta | None:
        return dt.datetime.fromtimestamp(second, tz).utcoffset()

    found = []
    for day in range(365):
        low, high = begin + day * 86_400, begin + (day + 1) * 86_400
        if offset(low) == offset(high):
            continue
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
        found.append(dt.datetime.fromtimestamp(high, dt.UTC))
    return found


def _start(draw: random.Random, zone: str) -> tuple[dt.datetime, str]:
    """A first instant near what the calendar makes hard: a month start, a DST transition, or
    30 wall days before one of them (where a trial would end)."""
    year, month = draw.randrange(2024, 2032), draw.randrange(1, 13)
    tz = zoneinfo.ZoneInfo(zone)
    mark = next_month_start(dt.datetime(year, month, 15, 12, tzinfo=tz), zone)
    what = "the 1st"
    changes = _transitions(zone, year)
    if changes and draw.random() < 0.5:
        mark, what = draw.choice(changes), "a DST transition"
    if draw.random() < 0.4:
        return add_wall_days(mark, -30, zone), f"30 wall days before {what} ({iso(mark)})"
    before = draw.choice((MICROSECOND, dt.timedelta(hours=1), dt.timedelta(days=2)))
    return mark - before, f"{before} before {what} ({iso(mark)})"


def _prefix(draw: random.Random, root: PlanRoot, length: int) -> tuple[Step, ...]:
    """Up to `length` steps the rules accept: requests by a billing role, and clock moves."""
    steps: tuple[Step, ...] = ()
    for _ in range(length * 8):
        if len(steps) == length:
            break
        ref, now = ref_at(attrs.evolve(root, prefix=steps)), root.now()
        if steps:
            now = utc(dt.datetime.fromisoformat(steps[-1].at))
        if steps and draw.random() < 0.3 and (marks := moves(ref, now)):
            at, note = draw.choice(marks)
            steps += (Step(iso(at), "apply_due", {}, note=note),)
            continue
        call = draw.choice(("change", "change", "change", "cancel", "revoke_pending"))
        tier = draw.choice(("developer", "premium", "basic")) if call == "change" else None
        who = draw.choice((("owner", "ORG_OWNER"), ("billing-admin", "ORG_BILLING_ADMIN")))
        if decide(ref, call, [who[1]], tier):
            continue
        actor: dict[str, Any] = {
            "id": who[0],
            "org_roles": [who[1]],
            "project_roles": {},
            "email": None,
        }
        args: dict[str, Any] = {"actor": actor} if tier is None else {"tier": tier, "actor": actor}
        steps += (Step(iso(now), call, args),)
    return steps


def generated(seed: int, count: int) -> tuple[PlanRoot, ...]:
    """`count` roots drawn with `seed`: any billing zone, a start near a month start or a DST
    transition, then up to three accepted steps (reaching trial, developer, premium, cancelled,
    or a pending change); some organizations already in cross-org billing."""
    zones = _zones()
    roots = []
    for number in range(count):
        draw = random.Random(seed * 1_000 + number)
        zone = draw.choice(zones)
        start, why = _start(draw, zone)
        root = PlanRoot(zone, utc(start), draw.random() < 0.2, why, seed=seed * 1_000 + number)
        roots.append(attrs.evolve(root, prefix=_prefix(draw, root, draw.randrange(0, 4))))
    return tuple(roots)
