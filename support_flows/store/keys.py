"""Idempotency keys (S2): request fingerprints, results stored as JSON, refusals replayed."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
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

__all__ = ["MAX_KEY_LENGTH", "check_key", "error_from", "error_record", "fingerprint", "jsonable"]

MAX_KEY_LENGTH = 255


def check_key(key: object) -> str | None:
    """None, or a key of printable text with no surrounding spaces, at most 255 characters."""
    if key is None or (
        isinstance(key, str)
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
    if isinstance(request, Sequence) and request and isinstance(request[0], Call):
        request = [[c.request, dict(c.params)] for c in request]
    text = json.dumps(
        [kind, subject_id, jsonable(request, strict=False)], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()


def jsonable(value: object, *, strict: bool = True) -> Any:
    """`value` as JSON-safe data: records by their `to_dict()`, instants as ISO 8601.

    With `strict`, anything else is refused (`invalid_value`): a command's result must be
    storable to be replayed; without, it is described by its repr (for fingerprints).
    """
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value, strict=strict)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict(), strict=strict)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, strict=strict) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [jsonable(v, strict=strict) for v in value]
        return items if isinstance(value, list | tuple) else sorted(items, key=repr)
    if strict:
        raise invalid(
            Reason.INVALID_VALUE,
            "S2",
            f"a command through the store returned {describe(value)}, which cannot be stored as "
            "JSON; return a record, a dict, a list or plain values",
        )
    return describe(value)


def error_record(error: SupportFlowsError) -> dict[str, Any]:
    return {"type": "invalid" if isinstance(error, InvalidInput) else "refused", **error.to_dict()}


def error_from(record: Mapping[str, Any]) -> SupportFlowsError:
    """The refusal `error_record` stored, raised again on a replay."""
    reasons = [Violation(r["code"], r["rule"], r["message"]) for r in record["reasons"]]
    return InvalidInput(reasons) if record["type"] == "invalid" else Refused(reasons)
