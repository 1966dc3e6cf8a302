"""Idempotency keys (S2): request fingerprints, results stored as JSON, refusals replayed."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from support_flows.errors import (
    InvalidInput,
    Reason,
    Refused,
    SupportFlowsError,
    Violation,
    describe,
    invalid,
)
from support_flows.store.tracked import Call

__all__ = [
    "MAX_DEPTH",
    "MAX_KEY_LENGTH",
    "check_key",
    "error_from",
    "error_record",
    "fingerprint",
    "jsonable",
]

MAX_KEY_LENGTH = 255
MAX_DEPTH = 64
"""How deeply a request or result may nest (S6): deeper is malformed input."""
_INT_LIMIT = 2**63


def check_key(key: object) -> str | None:
    """None, or a key of printable text with no surrounding spaces, at most 255 characters."""
    if key is None or (
        type(key) is str
        and 0 < len(key) <= MAX_KEY_LENGTH
        and key.isprintable()
        and key == key.strip()
    ):
        return key
    raise invalid(
        Reason.INVALID_VALUE,
        "S2",
        f"an idempotency key must be non-empty printable text of at most {MAX_KEY_LENGTH} "
        f"characters with no surrounding spaces, got {describe(key)}",
    )


def fingerprint(kind: str, subject_id: str | None, request: object) -> str:
    """A hash of what was asked: the subject and the request (given, or the calls made)."""
    if isinstance(request, list | tuple) and request and type(request[0]) is Call:
        asked = [[c.request, dict(c.params)] for c in request]
        request = (
            asked
            if all(_plain_params(params) for _, params in asked)
            else jsonable(asked, strict=False, what="the request")
        )
    else:
        request = jsonable(request, strict=False, what="the request")
    text = _CANONICAL.encode([kind, subject_id, request])
    return hashlib.sha256(text.encode()).hexdigest()


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
"""The JSON text a fingerprint hashes: keys sorted, no spaces."""


def _plain_params(params: dict[str, Any]) -> bool:
    """Whether a call's parameters are all `_plain` (text without NUL checked inline)."""
    for value in params.values():
        if not (type(value) is str and "\x00" not in value) and not _plain(value):
            return False
    return True


def _plain(value: object) -> bool:
    """A value `jsonable` would give back as it is (None, a bool, a 64-bit whole number, text
    without NUL): a call's parameters usually are."""
    if value is None or type(value) is bool:
        return True
    if type(value) is str:
        return "\x00" not in value
    return type(value) is int and -_INT_LIMIT < value < _INT_LIMIT


def jsonable(value: object, *, strict: bool = True, what: str = "the command's result") -> Any:
    """`value` as JSON-safe data: records by their `to_dict()`, instants as ISO 8601.

    A value no database holds (NaN, an infinity, text with NUL, a whole number beyond 64 bits,
    nesting deeper than `MAX_DEPTH`), or one whose reading raises, is refused as malformed
    input (`invalid_value`, S6). With `strict`, so is anything else that is not JSON: a
    command's result must be storable to be replayed; without, it is described by its repr (for
    fingerprints).
    """
    try:
        return _jsonable(value, strict, what, 0)
    except SupportFlowsError:
        raise
    except Exception as error:  # a host's object whose to_dict, items or isoformat raises
        raise _unholdable(what, f"a value that cannot be read ({type(error).__name__})") from None


def _jsonable(value: object, strict: bool, what: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _unholdable(what, f"nesting deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is str:
        if "\x00" in value:  # type: ignore[operator]
            raise _unholdable(what, f"text with NUL ({describe(value)})")
        return value
    if kind is dict and depth < MAX_DEPTH:
        deeper = depth + 1
        return {  # text without NUL (most keys and values) as it is, inline
            (
                k if type(k) is str and "\x00" not in k else _jsonable(str(k), strict, what, deeper)
            ): (
                v
                if v is None or (type(v) is str and "\x00" not in v)
                else _jsonable(v, strict, what, deeper)
            )
            for k, v in value.items()  # type: ignore[attr-defined]
        }
    if value is None or kind is bool:
        return value
    if kind is int:
        if not -_INT_LIMIT < value < _INT_LIMIT:  # type: ignore[operator]
            raise _unholdable(what, "a whole number beyond 64 bits")
        return value
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _unholdable(what, describe(value))
        return value
    deeper = depth + 1
    if isinstance(value, enum.Enum):
        return _jsonable(value.value, strict, what, deeper)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict(), strict, what, deeper)
    if isinstance(value, Mapping):
        return {
            _jsonable(str(k), strict, what, deeper): _jsonable(v, strict, what, deeper)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | frozenset | set):
        items = [_jsonable(v, strict, what, deeper) for v in value]
        return items if isinstance(value, list | tuple) else sorted(items, key=repr)
    if strict:
        raise invalid(
            Reason.INVALID_VALUE,
            "S2",
            f"{what} is {describe(value)}, which cannot be stored as JSON; return a record, a "
            "dict, a list or plain values",
        )
    return describe(value)


def _unholdable(what: str, found: str) -> InvalidInput:
    return invalid(
        Reason.INVALID_VALUE,
        "S6",
        f"{what} holds {found}, which a database cannot hold",
    )


def error_record(error: SupportFlowsError) -> dict[str, Any]:
    return {"type": "invalid" if isinstance(error, InvalidInput) else "refused", **error.to_dict()}


def error_from(record: Mapping[str, Any]) -> SupportFlowsError:
    """The refusal `error_record` stored, raised again on a replay."""
    reasons = [Violation(r["code"], r["rule"], r["message"]) for r in record["reasons"]]
    return InvalidInput(reasons) if record["type"] == "invalid" else Refused(reasons)
