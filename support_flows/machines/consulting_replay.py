"""A Flex Consulting order's record derived from its history (RULES.md V2: derived facts are
derivable).

The order is opened again from its terms, and every request of the history made again at its
recorded instant through the chart's own guards and actions, with the expiry applied first when
it has come (T7, F6), as a live order makes them: the record a restore accepts with its history
is exactly the one this derivation gives. A session's start and hours, which the history does
not repeat, are read from the record's session of that id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from support_flows.errors import SupportFlowsError, describe
from support_flows.guards.consulting import OrderFacts
from support_flows.inputs import is_identifier
from support_flows.machines.consulting_book import OrderBook, OrderTerms
from support_flows.machines.consulting_chart import COMPILED
from support_flows.machines.engine import TableEngine
from support_flows.snapshots.consulting import OrderAction, OrderEvent, OrderSnapshot
from support_flows.values import ORG_ROLES, Member, Organization
from support_flows.values.consulting import UnitBalance
from support_flows.values.events import ConsultingEvent
from support_flows.values.policy import Catalog, Policy

if TYPE_CHECKING:
    import pendulum

__all__ = ["derive"]

_CLOSINGS = {
    OrderAction.CANCEL_SESSION: ConsultingEvent.CANCEL_SESSION,
    OrderAction.DELIVER: ConsultingEvent.DELIVER,
}
"""The event a recorded closing of a session was (the expiry is the clock's, replayed apart)."""


_ENGINE = TableEngine(COMPILED)


@lru_cache(maxsize=256)
def _member(user_id: str, email: str | None = None) -> Member:
    """Whoever made an accepted request passed its checks then (F0, F1 under any policy's billing
    roles): the history keeps only their id, and the order the console buyer's e-mail (F3)."""
    return Member(user_id, org_roles=ORG_ROLES, email=email)


def derive(r: OrderSnapshot, org: Organization, catalog: Catalog) -> OrderBook | str:
    """The record the library holds after `r.history`, or the first entry of it that no accepted
    request or expiry would have recorded. The opening is decided under the version the record
    names (K4); every later request under the version in force at its instant, as a live order
    decides it (K3)."""
    assert r.history is not None
    terms = OrderTerms(
        r.order_id,
        r.org_id,
        r.billing_timezone,
        r.channel,
        r.buyer_email,
        r.requested_by,
        r.sales_reference,
        r.hours_per_unit,
        r.validity_months,
        r.created_at,
        r.policy,
    )
    book = OrderBook(terms, UnitBalance.bought(r.units.purchased))
    sessions = {s.session_id: s for s in r.sessions}
    engine = _ENGINE
    previous: pendulum.DateTime | None = None
    for n, event in enumerate(r.history):
        if previous is not None and event.at < previous:
            return f"{_name(n, event)} comes before the one preceding it"
        previous = event.at
        decided = catalog.get(event.policy)
        if decided is None:
            return (
                f"{_name(n, event)} names policy version {describe(event.policy)}, which the "
                f"catalog lacks (it holds {', '.join(catalog.ids)}; K4)"
            )
        if n == 0 and event.policy != r.policy:
            return (
                f"{_name(n, event)} opens the order under policy version {event.policy!r}, but the "
                f"order names {r.policy!r} (K4)"
            )
        if event.action is OrderAction.EXPIRE:
            continue  # the clock applied it: the replay applies the expiry before each request
        if event.actor is not None and not is_identifier(event.actor):
            who = describe(event.actor)
            return f"{_name(n, event)} names an actor {who} that is not an identifier (V5)"
        try:
            _expire_until(book, org, engine, event.at, catalog)
            request, more = _request(book, event, sessions)
            if not request:
                return f"{_name(n, event)} {more['problem']}"
            engine.run(book, request, _facts(book, org, request, event.at, decided, **more))
        except SupportFlowsError as error:
            refused = f"[{error.code}] {error.message}"
            return f"{_name(n, event)} is a request the order refuses there: {refused}"
        book.commit()
    if book.state == "new" or r.history[0].at != r.created_at:
        return "its history does not open the order (checkout or purchase) at its creation"
    _expire_until(book, org, engine, r.history[-1].at, catalog)
    return book


def _request(
    book: OrderBook, event: OrderEvent, sessions: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The chart event and the facts of the request `event` records ("" and a problem if none)."""
    actor = _member(event.actor) if event.actor is not None else None
    action = event.action
    if action is OrderAction.CHECKOUT:
        requester = book.terms.requested_by  # the console order's buyer opened it (F1)
        if requester is None:
            return "", {"problem": "opens a console checkout for an order no one requested"}
        return ConsultingEvent.START_CHECKOUT, {"actor": _member(requester, book.terms.buyer_email)}
    if action is OrderAction.PURCHASE:
        if book.state == "new":
            return ConsultingEvent.BUY_FROM_REPRESENTATIVE, {
                "sales_reference": book.terms.sales_reference
            }
        return ConsultingEvent.CONFIRM, {}
    if action is OrderAction.SCHEDULE:
        session = sessions.get(event.session_id or "")
        if session is None or actor is None:
            return "", {"problem": "books a session the record does not hold, or names no one"}
        return ConsultingEvent.SCHEDULE, {
            "actor": actor,
            "start": session.start,
            "hours": session.hours,
        }
    named = event.session_id
    if named is None:
        return "", {"problem": "closes a session but names none"}
    closing = _CLOSINGS[action]
    return closing, {"actor": actor, "session_id": named, "session": book.session(named)}


def _facts(
    book: OrderBook,
    org: Organization,
    request: str,
    now: pendulum.DateTime,
    policy: Policy,
    **more: Any,
) -> OrderFacts:
    return OrderFacts(
        org,
        more.pop("actor", None),
        request,
        now,
        book.state,
        book.units,
        book.terms.hours_per_unit,
        book.expires_at,
        book.validity_ended,
        policy=policy,
        **more,
    )


def _expire_until(
    book: OrderBook,
    org: Organization,
    engine: TableEngine,
    now: pendulum.DateTime,
    catalog: Catalog,
) -> None:
    """F6/T7: the expiry, at its instant, once `now` has reached it."""
    if book.expiry_due(now):
        at = book.expires_at
        assert at is not None
        expire = ConsultingEvent.EXPIRE
        engine.run(book, expire, _facts(book, org, expire, at, catalog[book.terms.policy]))
        book.commit()


def _name(n: int, event: OrderEvent) -> str:
    return f"history entry {n} ({event.action.value} at {event.at.isoformat()})"
