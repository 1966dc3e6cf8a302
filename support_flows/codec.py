"""The strict JSON codec of attrs records: one generated function per record class (RULES.md V2).

`structure_fn(cls)` reads a dict holding exactly the fields of the attrs class `cls`, each of
exactly its type: str, int and bool as such (a bool is not an int), a str enum by its value, an
instant as this library writes it, None only where the field is optional, a list for a tuple, a
dict for a nested record. Anything else raises, and the caller asks cattrs' detailed converter to
name the field at fault. `unstructure_fn(cls)` writes a record back as JSON-safe values, exactly
as cattrs would; `writer_fn(cls)` writes the same from the fields. `Record` is the base of the
frozen records a host receives: it writes itself with this codec (`to_dict()`).

Like cattrs, this generates the code of each function once, from the class's fields; unlike
cattrs' own, the type checks and the nested records are written in line, so a record costs one
call, not one per field or per nested record.
"""

from __future__ import annotations

import datetime as dt
import enum
import linecache
import typing
from collections.abc import Callable
from typing import Any

import attrs
import pendulum

from support_flows.errors import describe
from support_flows.localtime import FIRST_YEAR, LAST_YEAR

__all__ = [
    "Record",
    "SnapshotError",
    "read_instant",
    "structure_fn",
    "text",
    "unstructure",
    "unstructure_fn",
    "write_instant",
    "writer_fn",
]


class SnapshotError(ValueError):
    """One field of a snapshot that is not what this library writes."""


_INSTANTS: dict[str, pendulum.DateTime] = {}


def read_instant(value: object) -> pendulum.DateTime:
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
    if dt.datetime.isoformat(parsed) != value:  # an ISO week date, say: ISO, but not ours
        raise SnapshotError(
            f"expected an instant as this library writes it, got {describe(value)} "
            f"(written {dt.datetime.isoformat(parsed)})"
        )
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


def write_instant(value: dt.datetime) -> str:
    """The instant as text: ISO 8601 in UTC (instants are kept in UTC), remembered: month starts
    and the instants of one record are written again and again."""
    written = _ISO.get(value)
    if written is None:
        if len(_ISO) >= 65_536:
            _ISO.clear()
        written = _ISO[value] = dt.datetime.isoformat(value)
    return written


def text(value: str) -> str:
    """A str field's value as plain text: a str enum member (PlanState.BASIC) becomes "basic"."""
    if type(value) is str:
        return value
    return value._value_ if isinstance(value, enum.Enum) else value


_PLAIN = (str, int, bool)
_INSTANT_TYPES = (pendulum.DateTime, dt.datetime)


class _Codec:
    """The generated functions, by class, and what their code refers to by name."""

    def __init__(self) -> None:
        self.names: dict[str, Any] = {
            "_instant": read_instant,
            "_text": text,
            "_iso": write_instant,
            "_instants": _INSTANTS,
            "_isos": _ISO,
        }
        self.structure: dict[type[Any], Callable[[object], Any]] = {}
        self.unstructure: dict[type[Any], Callable[[Any], dict[str, Any]]] = {}
        self.writer: dict[type[Any], Callable[..., dict[str, Any]]] = {}
        self._count = 0

    def name(self, value: Any) -> str:
        self._count += 1
        key = f"_n{self._count}"
        self.names[key] = value
        return key

    def fresh(self) -> str:
        self._count += 1
        return f"v{self._count}"


def _optional_inner(kind: Any) -> Any | None:
    args = typing.get_args(kind)
    if len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return None


def _tuple_item(kind: Any) -> Any | None:
    args = typing.get_args(kind)
    if typing.get_origin(kind) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def _read(codec: _Codec, kind: Any, source: str, target: str, indent: str) -> list[str]:
    """Statements that set `target` from the expression `source` (read once) of type `kind`."""
    x = codec.fresh()
    lines = [f"{indent}{x} = {source}"]
    inner = _optional_inner(kind)
    if inner is not None:
        lines.append(f"{indent}if {x} is None:")
        lines.append(f"{indent}    {target} = None")
        lines.append(f"{indent}else:")
        lines += _read(codec, inner, x, target, indent + "    ")
        return lines
    item = _tuple_item(kind)
    if item is not None:
        items, y, one = codec.fresh(), codec.fresh(), codec.fresh()
        lines.append(f"{indent}if type({x}) is not list: raise ValueError")
        lines.append(f"{indent}{items} = []")
        lines.append(f"{indent}for {y} in {x}:")
        lines += _read(codec, item, y, one, indent + "    ")
        lines.append(f"{indent}    {items}.append({one})")
        lines.append(f"{indent}{target} = tuple({items})")
        return lines
    if kind in _INSTANT_TYPES:
        known = f"(_instants.get({x}) if type({x}) is str else None)"
        lines.append(f"{indent}{target} = {known} or _instant({x})")
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        members = codec.name(kind._value2member_map_)
        lines.append(f"{indent}{target} = {members}.get({x}) if type({x}) is str else None")
        lines.append(f"{indent}if {target} is None: raise ValueError")
    elif kind in _PLAIN:
        lines.append(f"{indent}if type({x}) is not {codec.name(kind)}: raise ValueError")
        lines.append(f"{indent}{target} = {x}")
    elif attrs.has(kind):
        lines += _read_record(codec, kind, x, target, indent)
    else:
        raise TypeError(f"no strict codec for {kind!r}")
    return lines


def _read_record(codec: _Codec, cls: type[Any], x: str, target: str, indent: str) -> list[str]:
    """Statements that set `target` to the record `cls` read from the dict named `x`, its fields
    read in line (a nested record costs no call of its own)."""
    fields = attrs.fields(cls)
    if any(not f.init or f.kw_only for f in fields):
        raise TypeError(f"{cls.__name__}: a snapshot record takes every field positionally")
    hints = typing.get_type_hints(cls)
    # Exactly these keys: as many as the fields, and each field's key read below (KeyError).
    lines = [f"{indent}if type({x}) is not dict or len({x}) != {len(fields)}: raise ValueError"]
    values = []
    for f in fields:
        value = codec.fresh()
        lines += _read(codec, hints[f.name], f"{x}[{f.name!r}]", value, indent)
        values.append(value)
    lines.append(f"{indent}{target} = {codec.name(cls)}({', '.join(values)})")
    return lines


def structure_of(codec: _Codec, cls: type[Any]) -> Callable[[object], Any]:
    known = codec.structure.get(cls)
    if known is not None:
        return known
    lines = ["def structure(data):", *_read_record(codec, cls, "data", "record", "    ")]
    made: Callable[[object], Any] = _compile(codec, "structure", cls, [*lines, "    return record"])
    codec.structure[cls] = made
    return made


def _write(codec: _Codec, kind: Any, source: str) -> str:
    """An expression writing `source` of type `kind` as JSON. `source` is a name or a chain of
    attributes, read again where the expression needs it again (cheaper than binding it)."""
    inner = _optional_inner(kind)
    if inner is not None:
        return f"(None if {source} is None else {_write(codec, inner, source)})"
    item = _tuple_item(kind)
    if item is not None:
        y = codec.fresh()
        return f"[{_write(codec, item, y)} for {y} in {source}]"
    if kind in _INSTANT_TYPES:
        return f"(_isos.get({source}) or _iso({source}))"
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return f"({source}._value_ if type({source}) is {codec.name(kind)} else _text({source}))"
    if kind is str:
        return f"({source} if type({source}) is str else _text({source}))"
    if kind in (int, bool):
        return source
    if attrs.has(kind):
        return _dict_of(codec, kind, f"{source}.")
    raise TypeError(f"no strict codec for {kind!r}")


def unstructure_of(codec: _Codec, cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    known = codec.unstructure.get(cls)
    if known is not None:
        return known
    made: Callable[[Any], dict[str, Any]] = _compile(
        codec,
        "unstructure",
        cls,
        ["def unstructure(r):", f"    return {_dict_of(codec, cls, 'r.')}"],
    )
    codec.unstructure[cls] = made
    return made


def writer_of(codec: _Codec, cls: type[Any]) -> Callable[..., dict[str, Any]]:
    known = codec.writer.get(cls)
    if known is not None:
        return known
    parameters = ", ".join(f"f_{f.name}" for f in attrs.fields(cls))
    made: Callable[..., dict[str, Any]] = _compile(
        codec,
        "write",
        cls,
        [f"def write({parameters}):", f"    return {_dict_of(codec, cls, 'f_')}"],
    )
    codec.writer[cls] = made
    return made


def _dict_of(codec: _Codec, cls: type[Any], prefix: str) -> str:
    """A dict display writing each field of `cls`, read from `prefix` + its name."""
    hints = typing.get_type_hints(cls)
    items = [
        f"{f.name!r}: {_write(codec, hints[f.name], prefix + f.name)}" for f in attrs.fields(cls)
    ]
    return f"{{{', '.join(items)}}}"


def _compile(codec: _Codec, name: str, cls: type[Any], lines: list[str]) -> Any:
    """Define the function `name` from `lines`, its source registered in `linecache` under a
    name of its own (as attrs does), so a traceback through it shows its lines."""
    source = "\n".join(lines) + "\n"
    filename = f"<support_flows generated {name} for {cls.__module__}.{cls.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    scope = dict(codec.names)
    exec(compile(source, filename, "exec"), scope)
    return scope[name]


_CODEC = _Codec()


def structure_fn(cls: type[Any]) -> Callable[[object], Any]:
    """The generated strict reader of `cls` (raises anything on a record it would refuse)."""
    return _CODEC.structure.get(cls) or structure_of(_CODEC, cls)


def unstructure_fn(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    """The generated writer of `cls`."""
    return unstructure_of(_CODEC, cls)


def writer_fn(cls: type[Any]) -> Callable[..., dict[str, Any]]:
    """The generated writer of `cls`'s fields given one by one, in order, without building an
    instance: ``writer_fn(cls)(*fields)`` is ``unstructure_fn(cls)(cls(*fields))``."""
    return _CODEC.writer.get(cls) or writer_of(_CODEC, cls)


class Record:
    """A frozen record with `to_dict()`: JSON-safe, instants as ISO 8601 UTC, enums as text."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return unstructure_fn(type(self))(self)


def unstructure(record: object) -> dict[str, Any]:
    """A JSON-serialisable dict of an attrs record."""
    return unstructure_fn(type(record))(record)
