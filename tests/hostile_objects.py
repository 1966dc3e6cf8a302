"""Arguments whose own methods raise (RULES.md V1, V4, V5, T1): the hostile-object specimens.

Each specimen looks like a value an entry point accepts (a str subclass holding "premium", a
datetime subclass holding a valid instant, a frozenset subclass holding "ORG_OWNER") or like
nothing at all, and every method of its own raises `Sabotage`: `__eq__`, `__hash__`, `__iter__`,
`__bool__`, `__len__`, `__str__`/`__repr__`, a tzinfo's `utcoffset`, even `__class__`. The
library may accept one (reading it through its built-in type) or refuse it with a coded error; a
`Sabotage` reaching the caller means a method of the argument's own was trusted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pendulum

import support_flows as sf

__all__ = ["SPECIMENS", "BrokenZone", "Sabotage", "hostile_class", "plain_datetime", "specimens"]


class Sabotage(Exception):
    """Raised by every hostile method; it must never reach the caller of the library."""


def _sabotage(*args: object, **kwargs: object) -> Any:
    raise Sabotage("a hostile argument's own method ran")


_SABOTAGED = property(_sabotage)

DUNDERS = (
    *("__eq__", "__ne__", "__hash__", "__iter__", "__len__", "__bool__", "__getitem__"),
    *("__contains__", "__str__", "__repr__", "__format__", "__lt__", "__le__", "__gt__"),
    *("__ge__", "__index__", "__int__", "__float__"),
)
"""What any value may define for itself."""
OBJECT_METHODS = (*DUNDERS, "__call__", "__getattr__")
"""An object's: each is sabotaged alone, then all at once."""
TEXT_METHODS = (
    *DUNDERS,
    *("__add__", "__radd__", "__mod__", "__mul__", "strip", "isprintable", "casefold"),
    *("lower", "upper", "startswith", "endswith", "split", "partition", "encode", "replace"),
    *("join", "format", "isidentifier", "splitlines", "__getnewargs__"),
)
NUMBER_METHODS = (
    *DUNDERS,
    *("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__"),
    *("__floordiv__", "__mod__", "__neg__", "__abs__", "__round__", "bit_length", "is_integer"),
)
CONTAINER_METHODS = (
    *DUNDERS,
    *("__reversed__", "items", "keys", "values", "get", "copy", "__or__", "__and__", "__sub__"),
)
INSTANT_METHODS = (
    *DUNDERS,
    *("utcoffset", "dst", "tzname", "astimezone", "replace", "isoformat", "timestamp"),
    *("date", "time", "timetuple", "__add__", "__radd__", "__sub__", "__rsub__"),
    *("in_timezone", "in_tz", "add", "subtract", "naive", "is_past", "is_future"),
)
INSTANT_FIELDS = ("tzinfo", "year", "month", "day", "hour", "minute", "second", "fold")
"""Attributes a datetime subclass may shadow with a property of its own."""


def hostile_class(base: type, methods: tuple[str, ...], *, fields: tuple[str, ...] = ()) -> Any:
    """A subclass of `base` whose `methods`, `fields` and `__class__` raise `Sabotage`."""
    namespace: dict[str, Any] = dict.fromkeys(methods, _sabotage)
    namespace.update(dict.fromkeys(fields, _SABOTAGED))
    namespace["__class__"] = _SABOTAGED
    return type(f"Hostile{base.__name__.title()}", (base,), namespace)


class BrokenZone(dt.tzinfo):
    """A tzinfo whose every method raises."""

    utcoffset = dst = tzname = fromutc = __repr__ = __reduce__ = _sabotage


Make = Callable[[], object]


def _bare(methods: tuple[str, ...]) -> Make:
    made: Make = hostile_class(object, methods)
    return made


def specimens() -> list[tuple[str, Make]]:
    """(label, factory) for every specimen; a factory builds a fresh one."""
    found: list[tuple[str, Make]] = []
    for method in OBJECT_METHODS:
        found.append((f"object with its own {method}", _bare((method,))))
    found.append(("object whose every method raises", _bare(OBJECT_METHODS)))
    text = hostile_class(str, TEXT_METHODS)
    for word in (
        *("org-1", "p-1", "u-1", "order-1", "SO-1", "owner@example.com", "premium", "basic"),
        *("developer", "change", "cancel", "revoke_pending", "UTC", "Europe/Paris", "project"),
        *("ORG_OWNER", "PROJECT_OWNER", "organization", "S2", "chat", "support_case", "plan"),
        *("mermaid", "svg", "table", "consulting", "case", "invalid_value", "days", "Slow"),
        "2026-04-01T09:00:00+00:00",
    ):
        found.append((f"str subclass {word!r}", lambda word=word: text(word)))
    for base, number in ((int, 1), (int, 10), (int, 12), (float, 1.0), (float, 2.5)):
        kind = hostile_class(base, NUMBER_METHODS)
        found.append((f"{base.__name__} subclass {number}", lambda k=kind, n=number: k(n)))
    contents: list[tuple[type, object]] = [
        (tuple, (sf.Project("p-1"),)),
        (tuple, ("p-1",)),
        (list, ["ORG_OWNER"]),
        (set, {"ORG_OWNER"}),
        (frozenset, frozenset({"PROJECT_OWNER"})),
        (dict, {"p-1": {"PROJECT_OWNER"}}),
        (dict, {"kind": "support_plan"}),
    ]
    for base, content in contents:
        kind = hostile_class(base, CONTAINER_METHODS)
        found.append((f"{base.__name__} subclass of {content!r}", lambda k=kind, c=content: k(c)))
    for base in (dt.datetime, pendulum.DateTime):
        kind = hostile_class(base, INSTANT_METHODS, fields=INSTANT_FIELDS)
        found.append(
            (
                f"{base.__name__} subclass at 2026-04-01 09:00 UTC",
                lambda k=kind: k(2026, 4, 1, 9, tzinfo=dt.UTC),
            )
        )
    found.append(
        ("datetime whose tzinfo raises", lambda: dt.datetime(2026, 4, 1, 9, tzinfo=BrokenZone()))
    )
    found.append(("a tzinfo whose every method raises", BrokenZone))
    return found


SPECIMENS = specimens()


_FIELDS = (
    *(vars(dt.date)[name] for name in ("year", "month", "day")),
    *(vars(dt.datetime)[name] for name in ("hour", "minute", "second", "microsecond", "tzinfo")),
)


def plain_datetime(value: dt.datetime) -> dt.datetime:
    """The stdlib datetime a datetime subclass holds, read through datetime's own fields (none of
    the subclass's overrides runs)."""
    fields = [field.__get__(value) for field in _FIELDS]
    return dt.datetime(*fields, fold=vars(dt.datetime)["fold"].__get__(value))
