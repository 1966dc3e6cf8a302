"""Mutants of a snapshot: one field changed to a nearby value of its type or to another type, a
list item dropped, duplicated or swapped, or a change with a meaning (another billing zone or
organization, a billing boundary moved off the month start). Each is named by a readable path
("$.periods[1].starts_at: 2026-04-01T00:00:00+00:00 -> 2026-04-01T01:00:00+00:00")."""

from __future__ import annotations

import datetime as dt
import json
import operator
import random
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import attrs

from support_flows.verify.reference.calendar import (
    is_month_start,
    next_month_start,
    same_wall_time,
)

__all__ = ["Mutant", "mutants"]

Path = tuple[str | int, ...]
SHIFTS = {
    "+1 µs": dt.timedelta(microseconds=1),
    "-1 µs": dt.timedelta(microseconds=-1),
    "+1 hour": dt.timedelta(hours=1),
    "-1 hour": dt.timedelta(hours=-1),
    "+1 day": dt.timedelta(days=1),
    "-1 day": dt.timedelta(days=-1),
}
OTHER_ZONES = ("Europe/Paris", "UTC")


@attrs.frozen
class Mutant:
    """A changed copy of a snapshot and what was changed."""

    change: str
    record: Any


def _show(path: Path) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, (*path, n))


def _instant(value: Any) -> dt.datetime | None:
    if type(value) is not str or len(value) < 19 or value[4:5] != "-" or value[10:11] != "T":
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.utcoffset() is not None else None


def _months(at: dt.datetime, months: int) -> dt.datetime:
    year, month0 = divmod(at.year * 12 + at.month - 1 + months, 12)
    day = min(at.day, 28)
    return at.replace(year=year, month=month0 + 1, day=day)


def _write(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


Edit = tuple[str, Callable[[], Any]]
"""A change of one value: what it is, and the new value."""


def _edits(value: Any, vocabularies: tuple[frozenset[str], ...]) -> list[Edit]:
    """Changes of one value: nearby ones of its type, and one of another type."""
    if isinstance(value, bool):
        return [("not", partial(operator.not_, value)), ("as a number", partial(int, value))]
    if isinstance(value, int):
        nearby = [("+1", partial(operator.add, value, 1)), ("-1", partial(operator.sub, value, 1))]
        return [*nearby, ("as text", partial(str, value))]
    if value is None:
        return [("as a bool", partial(bool, 1))]
    if isinstance(value, dict):
        return [("as a list", partial(list, value.values()))]
    if isinstance(value, list):
        return [("as an object", partial(dict, ((str(n), x) for n, x in enumerate(value))))]
    at = _instant(value)
    if at is not None:
        edits = [(k, partial(_shifted, at, d, 0)) for k, d in SHIFTS.items()]
        edits += [(f"{m:+d} month", partial(_shifted, at, dt.timedelta(), m)) for m in (1, -1)]
        return [*edits, ("as a number", partial(int, at.timestamp()))]
    names = next((v for v in vocabularies if value in v), None)
    if names is not None:
        swaps: list[Edit] = [(f"as {o}", partial(str, o)) for o in sorted(names) if o != value]
        return [*swaps, ("as a number", partial(int, 1))]
    return [("+'-2'", partial(operator.add, value, "-2")), ("as a number", partial(int, 2))]


def _shifted(at: dt.datetime, shift: dt.timedelta, months: int) -> str:
    return _write(_months(at, months) + shift if months else at + shift)


def _at(record: Any, path: Path) -> Any:
    for key in path:
        record = record[key]
    return record


def _set(path: Path, value: Any, record: Any) -> None:
    _at(record, path[:-1])[path[-1]] = value


def _structural(path: Path, value: Any) -> list[tuple[str, Callable[[Any], None]]]:
    """The list at `path` with an item dropped, doubled or swapped; the record at `path` with a
    field dropped or added."""
    where = _show(path)
    found: list[tuple[str, Callable[[Any], None]]] = []
    if isinstance(value, list) and value:
        for n in range(len(value)):
            found.append((f"{where}[{n}] dropped", partial(_in_list, path, n, 0)))
            found.append((f"{where}[{n}] twice", partial(_in_list, path, n, 1)))
        if len(value) > 1:
            found.append((f"{where}[0] and [1] swapped", partial(_in_list, path, 0, 2)))
    if isinstance(value, dict) and value:
        key = next(iter(value))
        found.append((f"{where}.{key} missing", partial(_field, path, key, False)))
        found.append((f"{where}.extra added", partial(_field, path, "extra", True)))
    return found


def _in_list(path: Path, n: int, how: int, record: Any) -> None:
    """Item `n` of the list at `path` dropped (0), doubled (1), or swapped with the next (2)."""
    items = _at(record, path)
    if how == 0:
        items.pop(n)
    elif how == 1:
        items.insert(n, items[n])
    else:
        items[n], items[n + 1] = items[n + 1], items[n]


def _field(path: Path, key: str, add: bool, record: Any) -> None:
    if add:
        _at(record, path)[key] = 1
    else:
        _at(record, path).pop(key)


def _meaningful(
    record: dict[str, Any], leaves: list[tuple[Path, Any]]
) -> list[tuple[str, Callable[[Any], None]]]:
    """Changes with a meaning (V2): another zone or organization, a boundary moved off the month
    start, a pending change a month later, the trial a day shorter, recorded_at a day earlier,
    a session's units changed, every request made by another member."""
    zone = next(z for z in OTHER_ZONES if z != record["billing_timezone"])
    found: list[tuple[str, Callable[[Any], None]]] = [
        (
            f"$.billing_timezone: {record['billing_timezone']} -> {zone}",
            partial(_set, ("billing_timezone",), zone),
        ),
        (
            f"$.org_id: {record['org_id']} -> {record['org_id']}-2",
            partial(_set, ("org_id",), f"{record['org_id']}-2"),
        ),
    ]
    found += _boundaries(record.get("periods") or [])
    moves: list[tuple[Path, str, dt.timedelta, int]] = [
        (("pending", "effective_at"), "a month later", dt.timedelta(), 1),
        (("trial", "ends_at"), "a day earlier", -SHIFTS["+1 day"], 0),
        (("recorded_at",), "a day earlier", -SHIFTS["+1 day"], 0),
    ]
    for path, what, shift, months in moves:
        at = _instant(_get(record, path))
        if at is not None:
            new = _shifted(at, shift, months)
            found.append((f"{_show(path)} {what}: {new}", partial(_set, path, new)))
    for n, session in enumerate(record.get("sessions") or ()):
        path = ("sessions", n, "units")
        found.append((f"{_show(path)} + 1", partial(_set, path, session["units"] + 1)))
    who = next((v for k, v in leaves if k and k[-1] in _WHO and v is not None), None)
    if who is not None:
        found.append((f"every {who!r} as {who + '-2'!r}", partial(_rename, who, who + "-2")))
    return found


_WHO = frozenset({"requested_by", "booked_by", "closed_by", "actor"})


def _get(record: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def _rename(old: str, new: str, record: Any) -> None:
    """Every request `old` made made by `new` instead."""
    for path, value in list(_leaves(record)):
        if path and path[-1] in _WHO and value == old:
            _set(path, new, record)


def _boundaries(periods: list[Any]) -> list[tuple[str, Callable[[Any], None]]]:
    """Each period's start moved off its instant, with the end of the period before it where
    the two meet."""
    found = []
    for n, period in enumerate(periods):
        at = _instant(period["starts_at"])
        assert at is not None
        meets = n and periods[n - 1]["ends_at"] == period["starts_at"]
        where = f"$.periods[{n}].starts_at" + (f" and $.periods[{n - 1}].ends_at" if meets else "")
        for what in ("+1 hour", "-1 day"):
            shown = f"{where}: {period['starts_at']} -> {_write(at + SHIFTS[what])} ({what})"
            found.append((shown, _mover(n, SHIFTS[what])))
    return found


def _mover(n: int, shift: dt.timedelta) -> Callable[[Any], None]:
    def move(r: Any) -> None:
        """The start of period `n` moved, and the end of the one before it where they meet."""
        periods = r["periods"]
        at = _instant(periods[n]["starts_at"])
        assert at is not None
        if n and periods[n - 1]["ends_at"] == periods[n]["starts_at"]:
            periods[n - 1]["ends_at"] = _write(at + shift)
        periods[n]["starts_at"] = _write(at + shift)

    return move


def _sharp(record: dict[str, Any]) -> list[tuple[str, Callable[[Any], None]]]:
    """Changes that only a check of the record alone can refuse, made wherever they apply: the
    pending change a month late, or to premium, or a cancel asked before the state began (P9);
    the open period billing the other paid tier (P20); the open premium period billed from the
    instant premium came into force (P5, T4); a request recorded after a change took effect
    with P12's flag still standing; a month-start boundary moved, wherever the record holds it,
    to the other pass of its wall time (a midnight the clocks repeat: P20, T3); a cancelled
    paid plan never billed (P9); of an order, a purchase or a unit expired in checkout (F1), a
    validity ended with no expiry (F6), a booked session closed by someone (F5)."""
    found: list[tuple[str, Callable[[Any], None]]] = []
    pending = record.get("pending")
    if isinstance(pending, dict):
        at = _instant(pending.get("effective_at"))
        if at is not None:
            later = _shifted(at, dt.timedelta(), 1)
            path = ("pending", "effective_at")
            found.append(
                (f"$.pending.effective_at a month later: {later}", partial(_set, path, later))
            )
        if pending.get("target") != "premium":
            found.append(
                ("$.pending.target -> 'premium'", partial(_set, ("pending", "target"), "premium"))
            )
        found += _asked_before(record, pending)
    periods = record.get("periods") or []
    last = periods[-1] if periods else None
    since = record.get("since")
    if (
        record.get("state") == "premium"
        and isinstance(last, dict)
        and last.get("ends_at") is None
        and not last.get("retroactive")
        and since is not None
        and last.get("starts_at") != since
    ):
        opened: Path = ("periods", len(periods) - 1, "starts_at")
        found.append((f"{_show(opened)} -> since, {since}", partial(_set, opened, since)))
    if isinstance(last, dict) and last.get("ends_at") is None and last.get("tier") in _SWAP:
        swapped = _SWAP[last["tier"]]
        where: Path = ("periods", len(periods) - 1, "tier")
        found.append((f"{_show(where)} -> {swapped!r}", partial(_set, where, swapped)))
    found += _order_facts(record)
    ended = record.get("last_plan")
    paid = isinstance(ended, dict) and ended.get("state") in _SWAP
    if record.get("state") == "cancelled" and paid and periods:
        found.append(("$.periods: none, though a paid plan ended", partial(_set, _BILLED, [])))
    recorded = _instant(record.get("recorded_at"))
    if record.get("last_change_applied") is True and recorded is not None:
        later = _write(recorded + SHIFTS["+1 hour"])
        after = partial(_set, ("recorded_at",), later)
        found.append((f"$.recorded_at an hour after the change took effect: {later}", after))
    tz = str(record.get("billing_timezone"))
    boundaries = {p.get(k) for p in periods for k in ("starts_at", "ends_at")} - {None}
    for text in sorted(boundaries):
        at = _instant(text)
        if at is None or not is_month_start(at, tz):
            continue
        for other in same_wall_time(at, tz):
            moved = _write(other)
            shown = f"every {text} -> {moved} (the other pass of its wall time in {tz})"
            found.append((shown, partial(_replace_instant, text, moved)))
    return found


_SWAP = {"developer": "premium", "premium": "developer"}


def _order_facts(record: dict[str, Any]) -> list[tuple[str, Callable[[Any], None]]]:
    """An order in checkout with a unit expired; a validity ended with no expiry; a booked
    session that says who closed it."""
    found: list[tuple[str, Callable[[Any], None]]] = []
    units = record.get("units")
    if record.get("state") == "checkout" and isinstance(units, dict) and units["available"]:
        found.append(("$.units: one available unit expired in checkout", _expire_one))
    if record.get("state") == "checkout" and record.get("created_at") is not None:
        bought = partial(_set, ("purchased_at",), record["created_at"])
        found.append(("$.purchased_at: the creation instant, in checkout", bought))
    ended = record.get("validity_ended") is False and record.get("expires_at") is None
    if ended and record.get("state") not in (None, "checkout"):
        found.append(("$.validity_ended: true with no expiry", partial(_set, _ENDED, True)))
    for n, session in enumerate(record.get("sessions") or ()):
        if session.get("status") == "scheduled":
            path: Path = ("sessions", n, "closed_by")
            by = str(session.get("booked_by"))
            found.append((f"{_show(path)}: {by!r} on a booked session", partial(_set, path, by)))
    return found


_ENDED: Path = ("validity_ended",)
_BILLED: Path = ("periods",)


def _expire_one(record: Any) -> None:
    record["units"]["available"] -= 1
    record["units"]["expired"] += 1


def _asked_before(
    record: dict[str, Any], pending: dict[str, Any]
) -> list[tuple[str, Callable[[Any], None]]]:
    """A pending cancel asked a microsecond before the state it changes began, where that
    leaves its effective instant as it was (the 1st after the same month)."""
    since, effective = _instant(record.get("since")), _instant(pending.get("effective_at"))
    tz = str(record.get("billing_timezone"))
    if pending.get("target") != "cancelled" or since is None or effective is None:
        return []
    before = since - SHIFTS["+1 µs"]
    if next_month_start(before, tz) != effective:
        return []
    asked = _write(before)
    return [(f"$.pending.requested_at before since: {asked}", partial(_set, _ASKED, asked))]


_ASKED: Path = ("pending", "requested_at")


def _replace_instant(old: str, new: str, record: Any) -> None:
    for path, value in list(_leaves(record)):
        if path and value == old:
            _set(path, new, record)


def mutants(
    record: dict[str, Any],
    rng: random.Random,
    count: int,
    vocabularies: tuple[frozenset[str], ...],
    *,
    sharp: bool = False,
) -> list[Mutant]:
    """`count` mutants of `record` drawn by `rng`: first a change with a meaning, then changes
    of values or structure drawn from all the record's values (each value equally likely);
    with `sharp`, also every change `_sharp` makes of it."""
    leaves = list(_leaves(record))
    picked = [rng.choice(_meaningful(record, leaves)), *(_sharp(record) if sharp else ())]
    for n in rng.sample(range(1, len(leaves)), min(count - 1, len(leaves) - 1)):
        path, value = leaves[n]
        edits = _structural(path, value) if rng.random() < 0.25 else []
        if edits:
            picked.append(rng.choice(edits))
        else:
            picked.append(_leaf_change(path, value, rng.choice(_edits(value, vocabularies))))
    found = []
    text = json.dumps(record)
    for shown, change in picked:
        mutated = json.loads(text)
        change(mutated)
        found.append(Mutant(shown, mutated))
    return found


def _leaf_change(path: Path, value: Any, edit: Edit) -> tuple[str, Callable[[Any], None]]:
    what, change = edit
    new = change()
    shown = f"{_show(path)}: {json.dumps(value)} -> {json.dumps(new)} ({what})"
    return shown, partial(_set, path, new)
