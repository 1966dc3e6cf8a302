"""What the reference expected and what happened, as lines a reviewer reads: billing periods
and history entries one per line, their instants as wall-clock times in the billing zone.

A billing period (a `BillingPeriod`, or the explorers' plain tuple `(tier, starts_at, ends_at,
retroactive)`) reads ``developer  2026-04-01 00:00 -> 2026-05-01 00:00 (UTC)``; a history
entry (a `HistoryEntry`, or `(at, source, target, requested_by)`) reads
``2026-04-01 00:00 (UTC)  trial -> developer  by owner``; other tuples in a sequence (an order's
sessions and history entries) one per line. Anything else is shown as it is, its instants dated
the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["dated", "lines"]


def dated(moment: dt.datetime | None, zone: str) -> str:
    """`moment` as "YYYY-MM-DD HH:MM" on the wall clock of `zone` ("open" for None)."""
    if moment is None:
        return "open"
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment
    seconds = f":{local.second:02d}" if local.second or local.microsecond else ""
    return f"{local:%Y-%m-%d %H:%M}{seconds}"


def _value(item: Any) -> Any:
    """An enum's value, anything else as it is."""
    return getattr(item, "value", item)


def _period(item: Any) -> tuple[Any, Any, Any, bool] | None:
    if all(hasattr(item, a) for a in ("tier", "starts_at", "ends_at")):
        return item.tier, item.starts_at, item.ends_at, bool(getattr(item, "retroactive", False))
    if (
        isinstance(item, tuple)
        and len(item) == 4
        and isinstance(item[1], dt.datetime)
        and (item[2] is None or isinstance(item[2], dt.datetime))
        and isinstance(item[3], bool)
    ):
        return item[0], item[1], item[2], item[3]
    return None


def _entry(item: Any) -> tuple[Any, Any, Any, Any] | None:
    if all(hasattr(item, a) for a in ("at", "source", "target")):
        return item.at, item.source, item.target, getattr(item, "requested_by", None)
    if (
        isinstance(item, tuple)
        and len(item) == 4
        and isinstance(item[0], dt.datetime)
        and isinstance(item[1], str)
        and isinstance(item[2], str)
    ):
        return item[0], item[1], item[2], item[3]
    return None


def _line(item: Any, zone: str) -> str:
    period = _period(item)
    if period is not None:
        tier, starts, ends, retroactive = period
        line = f"{_value(tier)}  {dated(starts, zone)} -> {dated(ends, zone)} ({zone})"
        return line + ("  retroactive" if retroactive else "")
    entry = _entry(item)
    if entry is not None:
        at, source, target, by = entry
        who = f"by {by}" if by else "applied by the clock"
        return f"{dated(at, zone)} ({zone})  {_value(source)} -> {_value(target)}  {who}"
    return _plain(item, zone)


def _plain(item: Any, zone: str) -> str:
    if isinstance(item, dt.datetime):
        return f"{dated(item, zone)} ({zone})"
    if isinstance(item, Mapping):
        return "{" + ", ".join(f"{k}: {_plain(v, zone)}" for k, v in item.items()) + "}"
    if isinstance(item, tuple | list):
        return "(" + ", ".join(_plain(v, zone) for v in item) + ")"
    return repr(_value(item))


def lines(value: Any, zone: str) -> tuple[str, ...]:
    """`value` as lines: one per period or history entry of a sequence of them, else one line
    (nothing for None: the verdict stated no value)."""
    if value is None:
        return ()
    if isinstance(value, tuple | list) and _period(value) is None and _entry(value) is None:
        if not value:
            return ("(none)",)
        if all(_period(v) is not None or _entry(v) is not None for v in value):
            return tuple(_line(v, zone) for v in value)
        if all(isinstance(v, tuple) for v in value):  # an order's sessions or history entries
            return tuple(_plain(v, zone) for v in value)
    return (_line(value, zone),)
