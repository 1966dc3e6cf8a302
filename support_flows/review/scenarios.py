"""The review pack's worked examples, computed by running the library with a `FrozenClock`.

Five plan timelines are written in the step language of ``support-flows timeline`` (so a
reviewer can rerun and vary each one), and one Flex Consulting order is driven call by call.
Each becomes a `Worked`: a story, the rules it shows, a table, and a picture on one time axis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import Refused
from support_flows.localtime import parse_instant
from support_flows.machines.consulting import ConsultingOrder, OrderEvent
from support_flows.outbox import InMemoryOutbox
from support_flows.review.picture import Bar, Guide, Lane, Mark, Picture
from support_flows.timeline import (
    PlanTimeline,
    entry_text,
    local,
    pending_text,
    period_text,
    run_plan,
)
from support_flows.values import Member, Organization, PlanState, Project, Role
from support_flows.values.consulting import Session
from support_flows.values.plan import ENTITLEMENTS, BillingPeriod

__all__ = ["PLAN_STORIES", "PlanStory", "Worked", "worked_examples"]


@attrs.frozen
class Worked:
    """One worked example as the review page shows it."""

    slug: str
    title: str
    story: str
    rules: tuple[str, ...]
    command: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    picture: Picture


@attrs.frozen
class PlanStory:
    """A plan timeline to run: its zone, clock start, steps, and what it shows."""

    slug: str
    title: str
    story: str
    rules: tuple[str, ...]
    tz: str
    start: str
    steps: tuple[str, ...]
    guides: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        return f"support-flows timeline --tz {self.tz} --start {self.start} " + " ".join(self.steps)


PLAN_STORIES = (
    PlanStory(
        "trial-converts",
        "A trial that converts",
        "A Berlin organization starts the free developer trial. It lasts 30 calendar days in "
        "the billing timezone, so it ends at the same local wall time across the change to "
        "summer time; then the plan is developer and billing starts at the trial's end.",
        ("P4", "T5", "P6", "P20"),
        "Europe/Berlin",
        "2026-03-14T08:00Z",
        ("subscribe:developer@2026-03-14T09:00Z", "observe@2026-05-20T10:00Z"),
    ),
    PlanStory(
        "trial-cancelled",
        "A trial cancelled",
        "Cancelling during the trial takes effect at once and nothing is ever billed for the "
        "trial. The organization keeps Basic entitlements and cannot start a second trial.",
        ("P7", "P4", "P17"),
        "UTC",
        "2026-03-02T08:00Z",
        (
            "subscribe:developer@2026-03-02T09:00Z",
            "cancel@2026-03-12T15:00Z",
            "observe@2026-04-20T09:00Z",
        ),
    ),
    PlanStory(
        "upgrade-then-downgrade",
        "An upgrade then a downgrade in one month",
        "Premium is in force from the subscription, billed from the 1st of next month. A "
        "downgrade a week later is pending until that 1st, so premium would never be billed: "
        "the catch-up bills premium retroactively from the subscription to the downgrade's "
        "effective instant, then developer from there.",
        ("P5", "P9", "P21", "P20"),
        "UTC",
        "2026-03-14T08:00Z",
        (
            "subscribe:premium@2026-03-14T10:00Z",
            "downgrade@2026-03-20T10:00Z",
            "observe@2026-05-10T10:00Z",
        ),
    ),
    PlanStory(
        "cancel-far-from-utc",
        "A cancel in a billing zone far from UTC",
        "An Auckland organization cancels premium at 13:30 UTC on June 30, which is already "
        "1:30 on July 1 in Auckland. The 1st of next month is read in the billing timezone: "
        "the cancel takes effect at midnight on August 1 in Auckland (12:00 UTC on July 31), "
        "not on UTC's July 1.",
        ("T3", "P9", "T2"),
        "Pacific/Auckland",
        "2026-05-01T00:00Z",
        (
            "subscribe:premium@2026-05-10T00:00Z",
            "cancel@2026-06-30T13:30Z",
            "observe@2026-08-10T00:00Z",
        ),
        (("2026-07-01T00:00Z", "Jul 1 UTC"),),
    ),
    PlanStory(
        "reactivation",
        "A reactivation with retroactive billing",
        "A developer plan is cancelled at the end of February. Reactivating in April brings "
        "paid support back at once, never with a new trial, and bills developer retroactively "
        "from the instant the last plan ended (at most 90 days back), without a gap.",
        ("P9", "P15", "P20"),
        "UTC",
        "2026-01-05T08:00Z",
        (
            "subscribe:developer@2026-01-05T09:00Z",
            "cancel@2026-02-10T09:00Z",
            "reactivate:developer@2026-04-20T09:00Z",
            "observe@2026-05-15T09:00Z",
        ),
    ),
)


def _cell_lines(lines: Sequence[str]) -> str:
    return "\n".join(lines)


def _when(at: pendulum.DateTime, tz: str) -> str:
    shown = local(at, tz)
    return shown if tz == "UTC" else f"{shown}\n{at.in_timezone('UTC'):%Y-%m-%d %H:%M} UTC"


def _plan_rows(t: PlanTimeline) -> tuple[tuple[str, ...], ...]:
    tz = t.tz
    rows = []
    for number, f in enumerate(t.frames, start=1):
        happened = [entry_text(e, tz) for e in f.added]
        if f.refused is not None:
            happened.insert(0, f"refused: {f.refused}")
        billing = [period_text(p, tz) for p in f.billing] or ["nothing billed"]
        rows.append(
            (
                str(number),
                _when(f.step.at, tz),
                f.step.text.partition("@")[0],
                f.outcome,
                _cell_lines(happened) or "nothing came due",
                f.state.value,
                pending_text(f.pending, tz),
                _cell_lines(billing),
            )
        )
    return tuple(rows)


def _entitlement(state: PlanState) -> str:
    channels = ", ".join(c.value.replace("_", " ") for c in sorted(ENTITLEMENTS[state]))
    return f"{state.value}: {channels}"


def _plan_picture(slug: str, t: PlanTimeline, guides: Sequence[Guide]) -> Picture:
    tz = t.tz
    segments: list[Bar] = []
    since, state = t.start, PlanState.BASIC
    for entry in t.history:
        if entry.target is entry.source:
            continue
        segments.append(Bar(since, entry.at, state.value, state.value, title=_entitlement(state)))
        since, state = entry.at, entry.target
    segments.append(Bar(since, None, state.value, state.value, title=_entitlement(state)))
    last = t.frames[-1]
    billing = tuple(_billing_bar(p, tz) for p in last.billing)
    marks = tuple(
        Mark(f.step.at, n, f.refused is not None) for n, f in enumerate(t.frames, start=1)
    )
    more = list(guides)
    if last.pending is not None:
        more.append(Guide(last.pending.effective_at, f"pending: {last.pending.target.value}"))
    if last.trial is not None:
        more.append(Guide(last.trial.ends_at, "trial ends"))
    end = max([f.step.at for f in t.frames] + [g.at for g in more])
    span = end - t.start
    return Picture(
        slug,
        tz,
        t.start,
        end + span * 0.06,
        (Lane("Entitled to (plan)", tuple(segments)), Lane("Billed", billing)),
        marks,
        tuple(more),
    )


def _billing_bar(p: BillingPeriod, tz: str) -> Bar:
    return Bar(
        p.starts_at,
        p.ends_at,
        p.tier.value + (" (retro)" if p.retroactive else ""),
        p.tier.value,
        hatched=p.retroactive,
        title=period_text(p, tz),
    )


PLAN_HEADERS = (
    "#",
    "When (billing zone / UTC)",
    "Request",
    "Outcome",
    "What happened",
    "Plan after",
    "Pending after",
    "Billing after",
)


def plan_example(story: PlanStory) -> Worked:
    timeline = run_plan(story.steps, start=story.start, tz=story.tz)
    guides = tuple(Guide(parse_instant(at), label) for at, label in story.guides)
    return Worked(
        story.slug,
        story.title,
        story.story,
        story.rules,
        story.command,
        PLAN_HEADERS,
        _plan_rows(timeline),
        _plan_picture(story.slug, timeline, guides),
    )


# The consulting order -------------------------------------------------------------------------

ORDER_TZ = "Europe/Berlin"
ORDER_HEADERS = (
    "#",
    "When (billing zone)",
    "Request",
    "Outcome",
    "What happened",
    "Order after",
    "Units after",
)


@attrs.frozen
class _OrderStep:
    at: str
    text: str
    run: Callable[[ConsultingOrder, Member], object]


def _at(text: str) -> pendulum.DateTime:
    return parse_instant(text)


def _session(order: ConsultingOrder, number: int) -> str:
    return order.sessions[number - 1].session_id


ORDER_STEPS = (
    _OrderStep(
        "2026-03-10T09:00Z",
        "schedule a 4 h session on Mar 16 at 10:00",
        lambda o, m: o.schedule(start=_at("2026-03-16T09:00Z"), hours=4, actor=m),
    ),
    _OrderStep(
        "2026-03-16T14:00Z",
        "deliver session 1",
        lambda o, m: o.deliver(_session(o, 1), actor=m),
    ),
    _OrderStep(
        "2026-04-01T08:00Z",
        "schedule an 8 h session (only 6 units left)",
        lambda o, m: o.schedule(start=_at("2026-04-20T07:00Z"), hours=8, actor=m),
    ),
    _OrderStep(
        "2026-04-01T08:30Z",
        "schedule a 2 h session on Apr 20",
        lambda o, m: o.schedule(start=_at("2026-04-20T07:00Z"), hours=2, actor=m),
    ),
    _OrderStep(
        "2026-04-15T10:00Z",
        "cancel session 2 before it starts",
        lambda o, m: o.cancel_session(_session(o, 2), actor=m),
    ),
    _OrderStep(
        "2026-05-20T08:00Z",
        "schedule a 3 h session ending at the expiry",
        lambda o, m: o.schedule(start=_at("2026-06-02T05:00Z"), hours=3, actor=m),
    ),
    _OrderStep("2026-06-02T08:30Z", "observe just after the expiry", lambda o, m: o.apply_due()),
    _OrderStep(
        "2026-06-02T09:00Z",
        "deliver session 3, after the expiry",
        lambda o, m: o.deliver(_session(o, 3), actor=m),
    ),
)


def _units_text(order: ConsultingOrder) -> str:
    u = order.units
    return (
        f"{u.available} available, {u.scheduled} scheduled, {u.consumed} consumed, "
        f"{u.expired} expired (of {u.purchased})"
    )


def _event_text(e: OrderEvent) -> str:
    session = f" {e.session_id}" if e.session_id else ""
    return f"{local(e.at, ORDER_TZ)}  {e.action.value}{session}: {e.units} units"


def order_example() -> Worked:
    """Ten units bought through a representative with a 3-month validity, used and expired."""
    org = Organization("org-1", projects=(Project("p-1"),), billing_timezone=ORDER_TZ)
    member = Member("u-2", project_roles={"p-1": {Role.PROJECT_OWNER}})
    clock = FrozenClock(_at("2026-03-02T09:00Z"))
    outbox = InMemoryOutbox()
    order = ConsultingOrder.from_representative(
        org,
        units=10,
        sales_reference="SO-1042",
        email="buyer@example.com",
        clock=clock,
        outbox=outbox,
        validity_months=3,
        order_id="co-1",
    )
    rows = [
        (
            "1",
            local(clock.now(), ORDER_TZ),
            "bought through a representative, 10 units, valid 3 months",
            "accepted",
            _cell_lines(
                [*(_event_text(e) for e in order.history), f"{len(outbox.sent)} email queued"]
            ),
            order.state.value,
            _units_text(order),
        )
    ]
    seen = len(order.history)
    states = [(clock.now(), order.state.value)]
    available = [(clock.now(), order.units.available)]
    marks = [Mark(clock.now(), 1)]
    for number, step in enumerate(ORDER_STEPS, start=2):
        clock.set(_at(step.at))
        outcome = "observed" if step.text.startswith("observe") else "accepted"
        try:
            step.run(order, member)
        except Refused as error:
            outcome = f"refused: {error}"
        history = order.history
        happened = [_event_text(e) for e in history[seen:]]
        seen = len(history)
        marks.append(Mark(clock.now(), number, outcome.startswith("refused")))
        changed_at = order.history[-1].at
        if order.state.value != states[-1][1]:
            states.append((changed_at, order.state.value))
        if order.units.available != available[-1][1]:
            available.append((changed_at, order.units.available))
        rows.append(
            (
                str(number),
                local(clock.now(), ORDER_TZ),
                step.text,
                outcome,
                _cell_lines(happened) or "nothing",
                order.state.value,
                _units_text(order),
            )
        )
    expires = order.expires_at
    assert expires is not None
    end = clock.now().add(days=20)
    picture = Picture(
        "consulting-order",
        ORDER_TZ,
        _at("2026-03-01T00:00Z"),
        end,
        (
            Lane("Order state", _steps(states, lambda v: (str(v), str(v)))),
            Lane("Units available", _steps(available, lambda v: (f"{v} available", "units"))),
            Lane("Sessions", tuple(_session_bar(s) for s in order.sessions)),
        ),
        tuple(marks),
        (Guide(expires, f"expires {local(expires, ORDER_TZ)}"),),
    )
    return Worked(
        "consulting-order",
        "A Flex Consulting order from purchase through expiry",
        "Ten units bought through a representative (one confirmation email), valid three "
        "months. Sessions book whole units, a session can be cancelled before it starts, a "
        "request for more units than are available is refused, and at the expiry the unused "
        "units expire while the booked session stays deliverable; delivering it ends the order.",
        ("F1", "F3", "F4", "F5", "F6", "F7"),
        "",
        ORDER_HEADERS,
        tuple(rows),
        picture,
    )


def _steps(
    points: Sequence[tuple[pendulum.DateTime, object]],
    describe: Callable[[object], tuple[str, str]],
) -> tuple[Bar, ...]:
    bars = []
    for (at, value), nxt in zip(points, [*points[1:], None], strict=True):
        label, kind = describe(value)
        bars.append(Bar(at, None if nxt is None else nxt[0], label, kind))
    return tuple(bars)


def _session_bar(s: Session) -> Bar:
    status = s.status.value
    kind = {"scheduled": "scheduled", "delivered": "delivered"}.get(status, "cancelled session")
    start = local(s.start, ORDER_TZ)
    return Bar(
        s.start,
        s.start.add(hours=s.hours),
        f"{s.session_id} {status} ({s.hours} h)",
        kind,
        title=f"{s.session_id}: {s.hours} h from {start}, {status}",
    )


def worked_examples() -> tuple[Worked, ...]:
    """Every worked example of the review pack, computed now."""
    return (*(plan_example(s) for s in PLAN_STORIES), order_example())
