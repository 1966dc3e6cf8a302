"""JSON-safe snapshots of attrs records: strict in, plain out (RULES.md V2).

Structuring never defaults a field: every record needs exactly its fields, each of exactly its
type (a bool is not an int, an int is not a str), instants as aware ISO 8601 text.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
import pendulum
from cattrs.gen import make_dict_structure_fn

from support_flows.codec import SnapshotError, read_instant, structure_fn
from support_flows.errors import Reason, describe, invalid

__all__ = ["detailed", "differs", "read", "refuse", "whose"]

T = TypeVar("T")


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


def _instant(value: object, _: object) -> pendulum.DateTime:
    return read_instant(value)


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


def _exact(conv: cattrs.Converter) -> Callable[[type[Any]], Any]:
    def factory(cls: type[Any]) -> Callable[[object, Any], Any]:
        """Structure `cls` from a dict holding exactly its fields: none missing, none extra."""
        names = tuple(a.name for a in attrs.fields(cls))
        expected = frozenset(names)
        build = make_dict_structure_fn(
            cls, conv, _cattrs_forbid_extra_keys=True, _cattrs_detailed_validation=True
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


def _explainer() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for kind in (str, int, bool):
        conv.register_structure_hook(kind, _strict(kind))
    conv.register_structure_hook(pendulum.DateTime, _instant)
    conv.register_structure_hook(dt.datetime, _instant)
    conv.register_structure_hook_factory(_is_tuple, _tuples(conv))
    conv.register_structure_hook_factory(attrs.has, _exact(conv))
    return conv


# The generated codec (support_flows.codec) reads and writes every snapshot; when it refuses one,
# cattrs reads it again, strictly and with detailed validation, to name the field at fault
# ("@ $.pending.target").
detailed = _explainer()


def _refusal(data: object, kind: type[Any], what: str) -> Exception:
    """Why `data`, which the generated reader refused, is not a `kind`: cattrs' detailed pass
    names the field at fault (V2)."""
    if type(data) is not dict:
        return refuse(what, f"a snapshot is a dict, got {describe(data)}")
    try:
        detailed.structure(data, kind)
    except SnapshotError as error:
        return refuse(what, str(error))
    except cattrs.BaseValidationError as error:
        return refuse(what, _first_problem(error))
    except Exception as error:
        return refuse(what, f"{type(error).__name__}: {describe(str(error), 200)}")
    return refuse(what, "it does not have the shape of one")


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


def read(data: object, kind: type[T], name: str, what: str) -> T:
    """`data` as the record `kind`, when it is a snapshot of that `name` ("support_plan"): the
    first step of every restore (V2)."""
    try:
        record = structure_fn(kind)(data)
    except Exception:  # the fast path raises many kinds; what follows names the problem
        pass
    else:
        if data["kind"] == name:  # type: ignore[index]  # it read a dict with every field
            return record  # type: ignore[no-any-return]
    found = data.get("kind") if type(data) is dict else name
    if type(found) is not str or found != name:
        raise refuse(what, f"kind {describe(found)}, expected {name!r}, in {describe(data)}")
    raise _refusal(data, kind, what)


def whose(version: int, org_id: str, timezone: str, current: int, org: Any) -> str | None:
    """Why a snapshot is not this library's current version, written for this organization and
    its billing timezone (V2), or None when it is."""
    if version != current:
        return f"version {describe(version)} (this library writes {current})"
    if org_id != org.org_id:
        return f"it was written for organization {describe(org_id)}, not {org.org_id!r}"
    if timezone != org.billing_timezone:
        return (
            f"it was written in billing timezone {describe(timezone)}, not {org.billing_timezone!r}"
        )
    return None


def refuse(what: str, problem: str) -> Exception:
    """The V2 refusal of a snapshot, naming its first inconsistency."""
    return invalid(
        Reason.INVALID_SNAPSHOT, "V2", f"not a {what} snapshot this library wrote: {problem}"
    )


def differs(written: object, derived: object, source: str, path: str = "$") -> str | None:
    """Where the JSON value `written` first differs from `derived`, what `source` produces (V2):
    the path ("$.periods[1].starts_at") and both values, or None when they are equal."""
    if type(written) is dict and type(derived) is dict:
        for key, value in derived.items():
            found = differs(written.get(key), value, source, f"{path}.{key}")
            if found is not None:
                return found
        return None
    if type(written) is list and type(derived) is list:
        for n, (one, other) in enumerate(zip(written, derived, strict=False)):
            found = differs(one, other, source, f"{path}[{n}]")
            if found is not None:
                return found
        if len(written) == len(derived):
            return None
        n = min(len(written), len(derived))
        held = describe(written[n], 200) if n < len(written) else "nothing"
        wanted = describe(derived[n], 200) if n < len(derived) else "nothing"
        return f"{path}[{n}] is {held}, but {source} gives {wanted}"
    if type(written) is type(derived) and written == derived:
        return None
    return f"{path} is {describe(written, 200)}, but {source} gives {describe(derived, 200)}"
