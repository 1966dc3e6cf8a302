"""Refused commands in the audit log (S4): the refused calls, the host's own refusal, a request
no database holds, an order that could not be opened; with the command's key (S2)."""

from __future__ import annotations

from typing import Any

from support_flows.clock import Clock
from support_flows.errors import SupportFlowsError
from support_flows.inputs import is_identifier
from support_flows.store.backend import Backend
from support_flows.store.compiled import Tx
from support_flows.store.journal import Subject, append, bounded, error_detail, refusal_row
from support_flows.store.key_rows import remember
from support_flows.store.spec import Spec
from support_flows.store.tracked import Call, calls

__all__ = ["refuse_creation", "refused", "refused_request", "request_of"]


def refused(backend: Backend, tx: Tx, spec: Spec, obj: Any, error: SupportFlowsError) -> None:
    """A command `fn` refused: nothing it did is saved; its refused calls, and the refusal
    itself when the host's code raised it, go to the audit log (S4), with the key (S2)."""
    made: list[Call] = calls(obj)
    subject = Subject(spec.kind, spec.org.org_id, spec.subject_id, spec.key)
    now = backend.now()
    rows = [refusal_row(subject, call, now) for call in made if call.error is not None]
    if not any(call.error is error for call in made):
        rows.append(refused_request(backend, spec, error))
    append(tx, rows)
    if spec.key is not None:
        remember(backend, tx, spec, request_of(spec, obj), error, None, None)


def refused_request(backend: Backend, spec: Spec, error: SupportFlowsError) -> dict[str, Any]:
    """The audit row of a refusal no call on the object made: the host's own, a result
    that cannot be stored, a request no database holds."""
    subject = Subject(spec.kind, spec.org.org_id, spec.subject_id, spec.key)
    detail: dict[str, Any] = {"error": error_detail(error)}
    if spec.request is not None:
        detail["params"] = {"request": bounded(spec.request)}
    return subject.row(backend.at(spec.clock), "refused", reason=error.code, detail=detail)


def request_of(spec: Spec, obj: Any) -> object:
    """What the command's key fingerprints: the request given, else the calls `fn` made."""
    return spec.request if spec.request is not None else calls(obj)


def refuse_creation(
    backend: Backend,
    tx: Tx,
    spec: Spec,
    request: str,
    params: dict[str, Any],
    actor_id: str | None,
    clock: Clock,
    error: SupportFlowsError,
) -> None:
    """The audit row of an order that could not be opened, under the order id asked for."""
    at = backend.at(clock)
    order_id = params.get("order_id")
    subject = Subject(
        "order", spec.org.org_id, order_id if is_identifier(order_id) else None, spec.key
    )
    call = Call(request, params, actor_id, at, 0, 0, error)
    append(tx, [refusal_row(subject, call, at)])
