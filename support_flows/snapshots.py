"""JSON-safe snapshots of attrs records: strict in, plain out (RULES.md V2).

Structuring never defaults a field: every record needs exactly its fields, each of exactly its
type (a bool is not an int, an int is not a str), instants as aware ISO 8601 text.
"""

from __future__ import annotations

import datetime as dt
import enum
import marshal
import typing
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs
import cattrs
import pendulum
from cattrs.gen import make_dict_structure_fn

from support_flows.errors import Reason, describe, invalid
from support_flows.localtime import FIRST_YEAR, LAST_YEAR

__all__ = ["Pristine", "read", "refuse", "structure", "unstructure", "whose"]

T = TypeVar("T")


class SnapshotError(ValueError):
    """One field of a snapshot that is not what this library writes."""


def _enum(value: object, target: Any) -> Any:
    if type(value) is str:
        member = target._value2member_map_.get(value)
        if member is not None:
            return member
    raise SnapshotError(
        f"unknown {target.__name__} {describe(value)}; accepted: "
        + ", ".join(str(m.value) for m in target)
    )


def _strict(kind: type[Any]) -> Any:
    def structure(value: object, target: Any) -> Any:
        if target is not kind:  # a str enum reaches the str hook
            return _enum(value, target)
        if type(value) is not kind:
            raise SnapshotError(f"expected {kind.__name__}, got {describe(value)}")
        return value

    return structure


_INSTANTS: dict[str, pendulum.DateTime] = {}


def _instant(value: object, _: object) -> pendulum.DateTime:
    """An instant as this library writes it: ISO 8601 in UTC, "+00:00" (V2). Instants read are
    remembered: month starts recur in every record of a zone."""
    known = _INSTANTS.get(value) if type(value) is str else None
    if known is not None:
        return known
    if (
        type(value) is not str
        or len(value) not in (25, 32)
        or value[-6:] != "+00:00"
        or value[10] != "T"
        or (len(value) == 32 and (value[19] != "." or value[20:26] == "000000"))
    ):
        raise SnapshotError(
            "expected an instant as this library writes it (ISO 8601 in UTC, "
            f"YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00), got {describe(value)}"
        )
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SnapshotError(f"expected an ISO 8601 instant, got {describe(value)}") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise SnapshotError(f"instant {value} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    moment = pendulum.DateTime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        tzinfo=pendulum.UTC,
    )
    if len(_INSTANTS) >= 65_536:
        _INSTANTS.clear()
    _INSTANTS[value] = moment
    return moment


_ISO: dict[dt.datetime, str] = {}


def _iso(value: dt.datetime) -> str:
    """The instant as text: ISO 8601 in UTC (instants are kept in UTC), remembered: month starts
    and the instants of one record are written again and again."""
    text = _ISO.get(value)
    if text is None:
        if len(_ISO) >= 65_536:
            _ISO.clear()
        text = _ISO[value] = dt.datetime.isoformat(value)
    return text


def _tuples(conv: cattrs.Converter) -> Callable[[Any], Callable[[object, Any], Any]]:
    def factory(kind: Any) -> Callable[[object, Any], Any]:
        item = typing.get_args(kind)[0]
        one = conv.get_structure_hook(item)

        def structure(value: object, _: object) -> tuple[Any, ...]:
            if type(value) is not list:
                raise SnapshotError(f"expected a list, got {describe(value)}")
            return tuple([one(v, item) for v in value])

        return structure

    return factory


def _is_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple


def _exact(conv: cattrs.Converter, detailed: bool) -> Callable[[type[Any]], Any]:
    def factory(cls: type[Any]) -> Callable[[object, Any], Any]:
        """Structure `cls` from a dict holding exactly its fields: none missing, none extra."""
        names = tuple(a.name for a in attrs.fields(cls))
        expected = frozenset(names)
        build = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=detailed
        )

        def structure(value: object, _: object) -> Any:
            if type(value) is not dict:
                raise SnapshotError(f"expected an object for {cls.__name__}, got {describe(value)}")
            if value.keys() != expected:
                missing = [n for n in names if n not in value]
                extra = [describe(k) for k in value if k not in expected]
                raise SnapshotError(
                    f"{cls.__name__} needs exactly the fields {', '.join(names)}; "
                    + (f"missing {', '.join(missing)}" if missing else f"extra {', '.join(extra)}")
                )
            return build(value, cls)

        return structure

    return factory


def _optionals(conv: cattrs.Converter) -> Callable[[Any], Callable[[object, Any], Any]]:
    def factory(kind: Any) -> Callable[[object, Any], Any]:
        inner = next(a for a in typing.get_args(kind) if a is not type(None))
        hook = conv.get_structure_hook(inner)

        def structure(value: object, _: object) -> Any:
            return None if value is None else hook(value, inner)

        return structure

    return factory


def _plain_optionals(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(kind: Any) -> Callable[[Any], Any]:
        inner = next(a for a in typing.get_args(kind) if a is not type(None))
        hook = conv.get_unstructure_hook(inner)
        return lambda value: None if value is None else hook(value)

    return factory


def _plain_tuples(conv: cattrs.Converter) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(kind: Any) -> Callable[[Any], Any]:
        hook = conv.get_unstructure_hook(typing.get_args(kind)[0])
        return lambda value: [hook(v) for v in value]

    return factory


def _is_optional(kind: Any) -> bool:
    args = typing.get_args(kind)
    return len(args) == 2 and type(None) in args


def _text(value: str) -> str:
    """A str field's value as plain text: a str enum member (PlanState.BASIC) becomes "basic"."""
    if type(value) is str:
        return value
    return value._value_ if isinstance(value, enum.Enum) else value


def _make(detailed: bool) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=detailed)
    for kind in (str, int, bool):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook(pendulum.DateTime, _instant)
    conv.register_structure_hook(dt.datetime, _instant)
    conv.register_structure_hook_factory(_is_tuple, _tuples(conv))
    conv.register_structure_hook_factory(attrs.has, _exact(conv, detailed))
    if not detailed:
        conv.register_structure_hook_factory(_is_optional, _optionals(conv))
    conv.register_unstructure_hook_factory(_is_optional, _plain_optionals(conv))
    conv.register_unstructure_hook_factory(_is_tuple, _plain_tuples(conv))
    conv.register_unstructure_hook(pendulum.DateTime, _iso)
    conv.register_unstructure_hook(dt.datetime, _iso)
    conv.register_unstructure_hook(str, _text)
    return conv


# The fast converter structures and unstructures; when it refuses a snapshot, the detailed one
# runs again on it to name the field at fault ("@ $.pending.target").
converter = _make(detailed=False)
detailed = _make(detailed=True)


def unstructure(record: object) -> dict[str, Any]:
    """A JSON-serialisable dict of an attrs record."""
    data: dict[str, Any] = converter.unstructure(record)
    return data


def structure(data: object, kind: type[T], what: str) -> T:
    """`data` as `kind`, or `invalid_snapshot` naming what is wrong (V2)."""
    if not isinstance(data, dict):
        raise refuse(what, f"a snapshot is a dict, got {describe(data)}")
    try:
        return converter.structure(data, kind)
    except Exception:  # cattrs and attrs raise many kinds; none may escape raw
        pass
    try:
        detailed.structure(data, kind)
    except SnapshotError as error:
        raise refuse(what, str(error)) from None
    except cattrs.BaseValidationError as error:
        raise refuse(what, _first_problem(error)) from None
    except Exception as error:
        raise refuse(what, f"{type(error).__name__}: {describe(str(error), 200)}") from None
    raise refuse(what, "it does not have the shape of one")


def _explain(error: BaseException, kind: Any) -> str:
    if isinstance(error, SnapshotError):
        return str(error)
    return cattrs.v.format_exception(error, kind)


def _first_problem(error: cattrs.BaseValidationError) -> str:
    """The first field error of a cattrs error group, with its path ("$.pending.target")."""
    try:
        problems = cattrs.transform_error(error, format_exception=_explain)
    except Exception:  # formatting a hostile value may fail; the group's own words remain
        return describe(str(error), 200)
    return problems[0] if problems else describe(str(error), 200)


class Pristine:
    """The snapshot a record was restored from, kept while the record is unchanged: writing it
    again is then a copy of what was read. V2 restores only what this library writes, exactly as
    it writes it, so the copy equals what writing would give."""

    __slots__ = ("_data", "_token")

    def __init__(self, data: dict[str, Any], token: object) -> None:
        self._data = marshal.dumps(data)
        self._token = token

    def copy(self, token: object, *, history: bool) -> dict[str, Any] | None:
        """A fresh copy of the snapshot if the record's `token` is still the one restored."""
        if token != self._token:
            return None
        data: dict[str, Any] = marshal.loads(self._data)
        if not history:
            data["history"] = None
        return data


def read(data: object, kind: type[T], name: str, what: str) -> T:
    """`data` as the record `kind`, when it is a snapshot of that `name` ("support_plan"): the
    first step of every restore (V2)."""
    if isinstance(data, dict) and data.get("kind") != name:
        raise refuse(
            what, f"kind {describe(data.get('kind'))}, expected {name!r}, in {describe(data)}"
        )
    return structure(data, kind, what)


def whose(version: int, org_id: str, timezone: str, current: int, org: Any) -> Iterator[str]:
    """A snapshot is this library's current version, written for this organization and its
    billing timezone (V2)."""
    if version != current:
        yield f"version {describe(version)} (this library writes {current})"
    if org_id != org.org_id:
        yield f"it was written for organization {describe(org_id)}, not {org.org_id!r}"
    if timezone != org.billing_timezone:
        yield (
            f"it was written in billing timezone {describe(timezone)}, not {org.billing_timezone!r}"
        )


def refuse(what: str, problem: str) -> Exception:
    """The V2 refusal of a snapshot, naming its first inconsistency."""
    return invalid(
        Reason.INVALID_SNAPSHOT, "V2", f"not a {what} snapshot this library wrote: {problem}"
    )
