"""A support plan's record derived from its history (RULES.md V2: derived facts are derivable).

Every request of the history is made again at its recorded instant, through the chart's own
routing, guards and actions, with what the clock applies before it (T7, P14) applied first, as
a live plan makes it: the record a restore accepts with its history is exactly the one this
derivation gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import attrs

from support_flows.errors import SupportFlowsError, describe
from support_flows.guards.plan import PlanFacts
from support_flows.inputs import is_identifier
from support_flows.machines.engine import TableEngine
from support_flows.machines.plan_book import PlanBook
from support_flows.machines.plan_chart import COMPILED, apply_until
from support_flows.values import Member, Organization, Role, Tier
from support_flows.values.events import PlanEvent, PlanRequest
from support_flows.values.plan import HistoryEntry
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["derive"]


_ENGINE = TableEngine(COMPILED)
_CHANGES = frozenset(r.event for r in COMPILED.routes if r.request == PlanRequest.CHANGE)
"""The events the chart routes a change of tier to."""


@lru_cache(maxsize=256)
def _requester(user_id: str, roles: frozenset[Role]) -> Member:
    """Whoever made an accepted request held a billing role of its version then (P1, P16, K1):
    the history keeps only their id."""
    return Member(user_id, org_roles=roles)


def _request(entry: HistoryEntry) -> tuple[str, Tier] | tuple[str, None] | None:
    """The request (action, chosen tier) a recorded request entry was, or None if none is: with
    a tier, a change (what the chart routes the entry's event from); a cancel records basic (P9);
    a revoke without a tier was revoke_pending (P12)."""
    if entry.event == PlanEvent.CANCEL:
        return (PlanRequest.CANCEL, Tier.BASIC)
    if entry.tier is not None and entry.event in _CHANGES:
        return (PlanRequest.CHANGE, entry.tier)
    if entry.event == PlanEvent.REVOKE and entry.tier is None:
        return (PlanRequest.REVOKE_PENDING, None)
    return None


def derive(
    history: Sequence[HistoryEntry], org: Organization, catalog: Catalog = ATLAS
) -> PlanBook | str:
    """The record the library holds after `history`, or the first entry no accepted request or
    applied change of the library would have recorded: each request made again under the
    version of `catalog` its entry names (K4), and what the clock applied under the version
    that scheduled it (K3)."""
    compiled, engine = COMPILED, _ENGINE
    book = PlanBook(org.billing_timezone)
    # Cross-org billing, like roles, is decided when a request is made (P16): an accepted
    # request passed it then, whatever the organization's flag says now.
    acting = attrs.evolve(org, cross_org_billing=False) if org.cross_org_billing else org
    previous = None
    for n, entry in enumerate(history):
        if entry.event not in compiled.events:
            return f"{_name(n, entry)} names an unknown event"
        if previous is not None and entry.at < previous:
            return f"{_name(n, entry)} comes before the entry preceding it"
        previous = entry.at
        policy = catalog.get(entry.policy)
        if policy is None:
            return (
                f"{_name(n, entry)} names policy version {describe(entry.policy)}, which the "
                f"catalog lacks (it holds {', '.join(catalog.ids)}; K4)"
            )
        if entry.requested_by is None:
            continue  # the clock applied it: the replay applies what is due before each request
        request = _request(entry)
        if request is None:
            return f"{_name(n, entry)} names a requester, but no request records it with that tier"
        if not is_identifier(entry.requested_by):
            return f"{_name(n, entry)} names a requester that is not an identifier (V5)"
        action, tier = request
        try:
            apply_until(book, acting, engine, entry.at, catalog)
            source = book.state
            facts = PlanFacts(
                acting,
                _requester(entry.requested_by, policy.billing_roles),
                action,
                tier,
                source,
                book.pending,
                book.last_change_applied,
                entry.at,
                policy,
            )
            event = compiled.route(source, action, tier)
            engine.run(book, event, facts)
            book.record(event, source, entry.at, entry.requested_by, tier, entry.policy)
        except SupportFlowsError as error:
            refused = f"[{error.code}] {error.message}"
            return f"{_name(n, entry)} is a request the plan refuses there: {refused}"
    if previous is not None:
        try:
            apply_until(book, acting, engine, previous, catalog)
        except SupportFlowsError as error:  # pragma: no cover - what is due always applies
            return f"what its history leaves due does not apply: {error.message}"
    return book


def _name(n: int, entry: HistoryEntry) -> str:
    return f"history entry {n} ({describe(entry.event)} at {entry.at.isoformat()})"
