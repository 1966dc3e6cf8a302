"""JSON-safe snapshots of attrs records: strict in, plain out (RULES.md V2)."""

from __future__ import annotations

import datetime as dt
import enum
import typing
from typing import Any, TypeVar

import cattrs
import pendulum

from support_flows.errors import Reason, invalid
from support_flows.localtime import instant

T = TypeVar("T")


def _strict(kind: type[Any]) -> Any:
    def structure(value: object, target: Any) -> Any:
        if isinstance(target, type) and issubclass(target, enum.Enum):
            if not isinstance(value, str):
                raise TypeError(f"expected a {target.__name__} name, got {value!r}")
            return target(value)
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {value!r}")
        return value

    return structure


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _instant(value: object, _: object) -> pendulum.DateTime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 instant, got {value!r}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise TypeError(f"expected an aware ISO 8601 instant, got {value!r}")
    return instant(parsed)


def _tuple(value: object, kind: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    item = typing.get_args(kind)[0]
    return tuple(converter.structure(v, item) for v in value)


def _is_tuple(kind: Any) -> bool:
    return typing.get_origin(kind) is tuple


converter = cattrs.Converter(forbid_extra_keys=True)
for _kind in (str, int, bool):
    converter.register_structure_hook(_kind, _strict(_kind))
    converter.register_unstructure_hook(_kind, _plain)
converter.register_structure_hook(pendulum.DateTime, _instant)
converter.register_structure_hook(dt.datetime, _instant)
converter.register_structure_hook_func(_is_tuple, _tuple)
converter.register_unstructure_hook(pendulum.DateTime, lambda d: d.isoformat())
converter.register_unstructure_hook(dt.datetime, lambda d: d.isoformat())


def unstructure(record: object) -> dict[str, Any]:
    """A JSON-serialisable dict of an attrs record."""
    data: dict[str, Any] = converter.unstructure(record)
    return data


def structure(data: object, kind: type[T], what: str) -> T:
    """`data` as `kind`, or `invalid_snapshot` naming what is wrong (V2)."""
    if not isinstance(data, dict):
        raise invalid(Reason.INVALID_SNAPSHOT, "V2", f"a {what} snapshot is a dict, got {data!r}")
    try:
        return converter.structure(data, kind)
    except Exception as error:  # cattrs groups every field error; report them all
        if isinstance(error, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(error))
        else:
            detail = str(error)
        raise invalid(
            Reason.INVALID_SNAPSHOT, "V2", f"not a {what} snapshot this library wrote: {detail}"
        ) from None
