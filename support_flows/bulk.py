"""Apply what has come due to streams of snapshots (RULES.md P14, F6, T7), one record at a time.

`apply_due(records, until=instant, catalog=sf.ATLAS)` takes (snapshot dict, Organization) pairs,
plans and orders mixed (a snapshot's ``kind`` says which), and lazily yields, per record, the
updated snapshot and the entries it applied, or the `InvalidInput` that refuses a bad record,
and goes on. Memory does not grow with the number of records. Each record is validated exactly
as `restore` validates it under the catalog (V2, K4: a record naming a version the catalog lacks
is refused) and runs the same compiled chart, with no python-statemachine chart per record; what
comes due keeps the terms of the version that scheduled it (K3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

import pendulum

from support_flows.clock import FrozenClock, not_before
from support_flows.errors import InvalidInput, Reason, describe, invalid
from support_flows.inputs import of_type
from support_flows.localtime import instant
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.engine import TableEngine
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.machines.plan_chart import apply_until
from support_flows.machines.plan_record import book_from_snapshot, snapshot_of
from support_flows.outbox import Email
from support_flows.snapshots.consulting import KIND as ORDER_KIND
from support_flows.snapshots.consulting import OrderEvent
from support_flows.snapshots.plan import KIND as PLAN_KIND
from support_flows.snapshots.strict import refuse
from support_flows.values import Organization
from support_flows.values.plan import HistoryEntry
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["apply_due"]

Applied = tuple[HistoryEntry, ...] | tuple[OrderEvent, ...]
_PLAN_ENGINE = TableEngine(PLAN_CHART)
Result = tuple[dict[str, Any], Applied] | InvalidInput
_NOT_STREAMS = (str, bytes, bytearray, dict)
"""One snapshot or one text passed where a stream of records is expected."""


class _NoMail:
    """Applying what is due never sends an email (F3 sends only on purchase)."""

    def send(self, email: Email) -> None:
        raise AssertionError(f"apply_due tried to send {email!r}")


def apply_due(
    records: Iterable[tuple[object, Organization]],
    *,
    until: dt.datetime,
    catalog: Catalog = ATLAS,
) -> Iterator[Result]:
    """For each (snapshot, organization): (new snapshot, applied entries), or the InvalidInput
    refusing it. A snapshot written without its history comes back without it.

    `until`, `catalog` and `records` are checked at the call (T1, V4, V5); each record as it
    comes, under `catalog` as `restore(..., catalog=catalog)` checks it (K4)."""
    at = instant(until, "until")
    versions = of_type(catalog, Catalog, "catalog")
    return _stream(_iterate(records), records, at, versions)


def _iterate(records: object) -> Iterator[object]:
    if type(records) not in _NOT_STREAMS:
        try:
            return iter(records)  # type: ignore[call-overload, no-any-return]
        except Exception:  # not iterable, or an __iter__ of its own that raises
            pass
    raise invalid(
        Reason.INVALID_VALUE,
        "V5",
        f"records must be an iterable of (snapshot, Organization) pairs, got {describe(records)}",
    )


def _stream(
    stream: Iterator[object], records: object, at: pendulum.DateTime, catalog: Catalog
) -> Iterator[Result]:
    clock = FrozenClock(at)
    outbox = _NoMail()
    number = 0
    while True:
        try:
            record = next(stream)
        except StopIteration:
            return
        except Exception as error:  # the stream's own iteration failed: nothing more to read
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"records could not be read after record {number}: "
                f"{type(error).__name__} from {describe(records)}",
            ) from error
        number += 1
        if type(record) is not tuple or len(record) != 2:
            yield invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"record {number} must be a (snapshot, Organization) tuple, got {describe(record)}",
            )
            continue
        try:
            yield _one(record[0], record[1], at, clock, outbox, catalog)
        except InvalidInput as error:
            yield error


def _one(
    data: object,
    org: Organization,
    at: pendulum.DateTime,
    clock: FrozenClock,
    outbox: _NoMail,
    catalog: Catalog,
) -> Result:
    if type(data) is not dict:
        raise refuse(
            "support plan or consulting order", f"a snapshot is a dict, got {describe(data)}"
        )
    kind = data.get("kind")
    if type(kind) is str and kind == PLAN_KIND:
        # What SupportPlan.restore + apply_due + snapshot do, without the object around the
        # record: the same V2 checks, the same compiled chart and actions, the same writer
        # (which writes the history back only if the record held it).
        book = book_from_snapshot(data, of_type(org, Organization, "org"), catalog)
        until = not_before(at, book.recorded_at)
        applied: Applied = apply_until(book, org, _PLAN_ENGINE, until, catalog)
        return snapshot_of(book, org), applied
    if type(kind) is str and kind == ORDER_KIND:
        order = ConsultingOrder.restore(data, org, clock=clock, outbox=outbox, catalog=catalog)
        applied = order.apply_due()
        keep = data.get("history") is not None
        return order.snapshot(history=keep), applied
    raise refuse(
        "support plan or consulting order",
        f"kind {describe(kind)}, expected {PLAN_KIND!r} or {ORDER_KIND!r}",
    )
