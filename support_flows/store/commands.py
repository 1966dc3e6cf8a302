"""Commands: load, act and save in one transaction, retried a bounded number of times on a lost
race (S1), answered once per idempotency key (S2), every refusal recorded (S4)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from support_flows.clock import Clock
from support_flows.errors import InvalidInput, Reason, Refused, SupportFlowsError, describe, invalid
from support_flows.inputs import has_method
from support_flows.machines.consulting import FROM_POLICY, ConsultingOrder
from support_flows.outbox import Outbox
from support_flows.store import arguments
from support_flows.store.backend import Backend
from support_flows.store.compiled import Tx
from support_flows.store.journal import append
from support_flows.store.key_rows import remember, replay
from support_flows.store.keys import check_key, jsonable
from support_flows.store.records import Outcome
from support_flows.store.refusals import refuse_creation, refused, refused_request, request_of
from support_flows.store.saving import Conflict, KeyRow, Put, saved, stored_key, write
from support_flows.store.spec import HostFailure, Spec, host
from support_flows.store.tracked import Call, Mailbag, param, track
from support_flows.store.views import order_view
from support_flows.values import Member

__all__ = ["command", "create"]

_OPTIONAL = frozenset({"validity_months", "order_id"})


def command(
    backend: Backend,
    retries: int,
    spec: Spec,
    load: Callable[[Tx], tuple[Any, KeyRow | None]],
    fn: Callable[[Any], object],
    put: Put,
) -> Outcome:
    """Run `fn` on what `load` loads (with its key's row, if the key was used before), in one
    transaction, up to `retries` more times on a lost race; a malformed request is refused and
    audited before anything is loaded (S6)."""
    if not callable(fn):
        raise invalid(Reason.INVALID_VALUE, "V5", f"fn must be callable, got {describe(fn)}")
    has_method(spec.clock, "now", "clock")
    malformed = _unholdable_request(spec.request)
    if malformed is not None:
        with backend.db.transaction() as tx:
            append(tx, [refused_request(backend, spec, malformed)])
        raise malformed
    last: Refused | None = None
    failure: Exception | None = None
    for _ in range(retries + 1):
        try:
            return _run(backend, spec, load, fn, put)
        except Conflict as conflict:
            last = conflict.error
        except HostFailure as carried:
            failure = carried.error
            break
    if failure is not None:
        raise failure  # outside the handler: unchanged, with no carrier as its context
    assert last is not None
    raise last


def _run(
    backend: Backend,
    spec: Spec,
    load: Callable[[Tx], tuple[Any, KeyRow | None]],
    fn: Callable[[Any], object],
    put: Put,
) -> Outcome:
    error: SupportFlowsError | None = None
    with backend.db.transaction() as tx:
        obj, stored = load(tx)
        if stored is not None:
            return replay(stored, spec, obj, fn)
        try:
            value = host(fn, obj)
            result = jsonable(value)
        except SupportFlowsError as refusal:
            error = refusal
            refused(backend, tx, spec, obj, refusal)
        else:
            written = write(backend, tx, obj, spec.key, put, (value, result))
            if spec.key is not None:
                request = request_of(spec, obj)
                remember(backend, tx, spec, request, None, result, written.revision, written.stamp)
    if error is not None:
        raise error
    saved(backend, obj, written)
    return Outcome(result, written.revision or None)


def create(
    backend: Backend,
    retries: int,
    org: object,
    request: str,
    raw: Mapping[str, object],
    actor: object,
    clock: Clock,
    key: object,
    outbox: Outbox | None,
    build: Callable[[Mailbag], ConsultingOrder],
    put: Put,
) -> Outcome:
    """Open an order with `build`; `raw` holds the request's values, and the console buyer
    `actor` (None for a representative's order) is recorded with them."""
    params = {name: param(value) for name, value in raw.items()}
    if actor is not None:
        params["actor"] = param(actor)
    organization = arguments.organization(None, org)
    if outbox is not None:
        has_method(outbox, "send", "outbox")
    spec = Spec("order", organization, None, check_key(key), [request, params], clock)
    actor_id = actor.user_id if isinstance(actor, Member) else None
    given = {name: value for name, value in raw.items() if value is not FROM_POLICY}
    malformed = arguments.malformed(given, _OPTIONAL)
    if malformed is not None:  # S6: refused before any statement, then audited
        with backend.db.transaction() as tx:
            refuse_creation(backend, tx, spec, request, params, actor_id, clock, malformed)
        raise malformed
    last: Refused | None = None
    failure: Exception | None = None
    for _ in range(retries + 1):
        error: SupportFlowsError | None = None
        try:
            with backend.db.transaction() as tx:
                stored = stored_key(tx, spec.org.org_id, spec.key)
                if stored is not None:
                    return replay(stored, spec, None, None)
                bag = Mailbag()
                try:
                    order = host(build, bag)
                except SupportFlowsError as refusal:
                    error = refusal
                    refuse_creation(backend, tx, spec, request, params, actor_id, clock, error)
                    if spec.key is not None:
                        remember(backend, tx, spec, spec.request, error, None, None)
                else:
                    history = order.history
                    t = track(order, clock, bag)
                    t.calls.append(Call(request, params, actor_id, history[-1].at, 0, len(history)))
                    t.mark = len(history)
                    t.deliver = outbox
                    written = write(backend, tx, order, spec.key, put)
                    result = jsonable(order_view(order))
                    if spec.key is not None:
                        remember(
                            backend,
                            tx,
                            spec,
                            spec.request,
                            None,
                            result,
                            written.revision,
                            written.stamp,
                        )
        except Conflict as conflict:
            last = conflict.error
            continue
        except HostFailure as carried:  # the host's clock or outbox failed
            failure = carried.error
            break
        if error is not None:
            raise error
        saved(backend, order, written)
        return Outcome(result, written.revision)
    if failure is not None:
        raise failure
    assert last is not None
    raise last


def _unholdable_request(request: object) -> InvalidInput | None:
    """The error for a request holding a value no database holds (S6), or None."""
    if request is None:  # none given: the calls `fn` makes are the request
        return None
    try:
        jsonable(request, strict=False, what="the request")
    except InvalidInput as error:
        return error
    return None
