"""A support plan's record: the snapshot its book writes, and restore, which reads a snapshot
back into a book only when the library could have written it (RULES.md V2): the record's own
checks (`snapshots.plan`), then, with a history, replaying it (`plan_replay`)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from support_flows.codec import writer_fn
from support_flows.machines.plan_book import PlanBook
from support_flows.machines.plan_replay import derive
from support_flows.snapshots.plan import KIND, SNAPSHOT_VERSION, PlanSnapshot, upgraded
from support_flows.snapshots.plan_checks import inconsistency
from support_flows.snapshots.plan_terms import terms_of
from support_flows.snapshots.strict import differs, read, refuse
from support_flows.values import Organization
from support_flows.values.plan import HistoryEntry
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["book_from_snapshot", "snapshot_of"]


def snapshot_of(book: PlanBook, org: Organization, *, history: bool = True) -> dict[str, Any]:
    """`book` as a snapshot dict, its history included when asked for and held in full."""
    return writer_fn(PlanSnapshot)(
        KIND,
        SNAPSHOT_VERSION,
        org.org_id,
        org.billing_timezone,
        book.state,
        book.since,
        book.trial_started_at,
        book.last_change_applied,
        book.recorded_at,
        book.trial,
        book.pending,
        book.periods,
        book.last_plan,
        tuple(book.history) if history and book.history_complete else None,
    )


def book_from_snapshot(data: object, org: Organization, catalog: Catalog = ATLAS) -> PlanBook:
    """The plan record `data` describes under `catalog`, or `invalid_snapshot` naming its first
    inconsistency (V2, K4)."""
    data = upgraded(data)
    record = read(data, PlanSnapshot, KIND, "support plan")
    book = PlanBook(
        org.billing_timezone,
        record.state,
        record.trial,
        record.pending,
        record.periods,
        record.since,
        record.last_plan,
        list(record.history or ()),
        record.last_change_applied,
        record.trial_started_at,
        record.recorded_at,
    )
    problem = inconsistency(record, org, terms_of(catalog))
    if problem is None and record.history is not None:
        problem = _derived(data, record, record.history, org, catalog)
    if problem is not None:
        raise refuse("support plan", problem)
    book.history_complete = record.history is not None
    return book


# The facts a history determines, as the book holds them and as the record does.
_FACTS = (
    "state",
    "since",
    "trial_started_at",
    "last_change_applied",
    "recorded_at",
    "trial",
    "pending",
    "periods",
    "last_plan",
)
_facts_of = operator.attrgetter(*_FACTS)


def _derived(
    data: object,
    record: PlanSnapshot,
    history: Sequence[HistoryEntry],
    org: Organization,
    catalog: Catalog,
) -> str | None:
    """With its history, the record is exactly what replaying that history writes (V2), each
    request under the version its entry names (K4)."""
    derived = derive(history, org, catalog)
    if isinstance(derived, str):
        return derived
    if _facts_of(derived) == _facts_of(record) and derived.history == list(history):
        return None
    return differs(data, snapshot_of(derived, org), "replaying its history")
