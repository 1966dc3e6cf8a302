"""The review pack's Flex Consulting order, driven call by call with a `FrozenClock` from purchase
through expiry: a row per step and a picture of its state, units and sessions (RULES.md F)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import InvalidInput, Refused
from support_flows.localtime import parse_instant
from support_flows.machines.consulting import ConsultingOrder
from support_flows.outbox import InMemoryOutbox
from support_flows.review.picture import Bar, Guide, Lane, Mark, Picture
from support_flows.review.worked import Worked, cell_lines
from support_flows.snapshots.consulting import OrderEvent
from support_flows.timeline import local
from support_flows.values import Member, Organization, Project, Role
from support_flows.values.consulting import Session
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["ORDER_HEADERS", "ORDER_STEPS", "ORDER_TZ", "order_example"]


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


def order_example(catalog: Catalog = ATLAS, slug: str = "consulting-order") -> Worked:
    """Ten units bought through a representative with a 3-month validity, used and expired,
    decided under `catalog` (its hours per unit and roles, K1); `slug` names the picture."""
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
        catalog=catalog,
    )
    rows = [
        (
            "1",
            local(clock.now(), ORDER_TZ),
            "bought through a representative, 10 units, valid 3 months",
            "accepted",
            cell_lines(
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
        except (Refused, InvalidInput) as error:  # another policy's units may not fit a step
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
                cell_lines(happened) or "nothing",
                order.state.value,
                _units_text(order),
            )
        )
    expires = order.expires_at
    assert expires is not None
    end = clock.now().add(days=20)
    picture = Picture(
        slug,
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
        slug,
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
