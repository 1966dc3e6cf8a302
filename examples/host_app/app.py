"""A small host service on support_flows and its store: plans, cases and Flex Consulting over HTTP.

Run it with uvicorn (in the ``examples`` extra) or any ASGI server, from the repository root:

    cd examples && uvicorn --factory host_app.app:demo_app

The store is a FastAPI dependency (`store_of`, the one `create_app` was given; a test or another
deployment overrides it with ``app.dependency_overrides[store_of]``). The handlers are plain
``def`` functions: FastAPI runs each in its thread pool, so a request waiting on the database
never blocks the event loop, and the store (a pool of connections, each plan and order locked
per call) is shared safely across those threads. On PostgreSQL the pool keeps open the 12
connections it may open: more requests than that writing at once wait for one, and none pays
for connecting.

Every refusal and every malformed request is answered with a coded JSON error,
``{"error": error.to_dict()}``, under the status `sf.http_status` gives; never a 500. Writing
requests take an ``Idempotency-Key`` header: a retried request gets the first answer back (with
``Idempotent-Replayed: true``) and changes nothing (RULES.md S2). The caller is named by the
``X-User-Id`` header; the directory says which roles they hold.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Annotated, Any

import attrs
from fastapi import Body, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

import support_flows as sf
from support_flows.store import Outcome, Store, order_view, plan_view

__all__ = ["Directory", "create_app", "demo_app", "store_of"]

Payload = dict[str, Any] | None
BodyIn = Annotated[Payload, Body()]
UserIn = Annotated[str | None, Header(alias="X-User-Id")]
KeyIn = Annotated[str | None, Header(alias="Idempotency-Key")]


async def store_of(request: Request) -> Store:
    """The store the app was created with: the handlers' dependency (async: it does no I/O, so
    FastAPI resolves it on the event loop instead of sending it to the thread pool)."""
    store: Store = request.app.state.store
    return store


StoreIn = Annotated[Store, Depends(store_of)]


@attrs.frozen
class Directory:
    """Who is who: the host's organizations, and each person's roles in each of them."""

    organizations: Mapping[str, sf.Organization]
    members: Mapping[tuple[str, str], sf.Member] = attrs.Factory(dict)

    def organization(self, org_id: str) -> sf.Organization:
        found = self.organizations.get(org_id)
        if found is None:
            raise _error(sf.Reason.NOT_FOUND, "S5", f"no organization {org_id!r}")
        return found

    def member(self, org: sf.Organization, user_id: str | None) -> sf.Member:
        """The caller's roles in `org`; someone the directory does not list holds none."""
        if user_id is None:
            raise _error(sf.Reason.INVALID_VALUE, "V5", "the X-User-Id header names the caller")
        return self.members.get((org.org_id, user_id)) or sf.Member(user_id)


def _error(code: sf.Reason, rule: str, message: str) -> sf.SupportFlowsError:
    reason = sf.Violation(code, rule, message)
    return sf.Refused(reason) if code not in _MALFORMED else sf.InvalidInput(reason)


_MALFORMED = {sf.Reason.INVALID_VALUE, sf.Reason.NAIVE_DATETIME, sf.Reason.INVALID_QUANTITY}


def _coded(error: sf.SupportFlowsError) -> JSONResponse:
    return JSONResponse({"error": error.to_dict()}, status_code=sf.http_status(error))


def _fields(body: Payload, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> Any:
    """The body's fields, in order: each required one present, no unknown one (V1)."""
    body = body or {}
    unknown = sorted(set(body) - set(required) - set(optional))
    missing = [name for name in required if name not in body]
    if unknown or missing:
        problems = [f"missing field {m!r}" for m in missing] + [
            f"unknown field {u!r}" for u in unknown
        ]
        raise _error(sf.Reason.INVALID_VALUE, "V1", "; ".join(problems))
    return [body.get(name) for name in (*required, *optional)]


def _answer(outcome: Outcome, status: int = 200) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.result, status_code=status, headers=headers)


def create_app(store: Store, clock: sf.Clock, directory: Directory) -> FastAPI:
    """The service, on `store`, reading time from `clock`."""
    app = FastAPI(title="support_flows host example")
    app.state.store = store

    @app.exception_handler(sf.SupportFlowsError)
    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, sf.SupportFlowsError)
        return _coded(error)

    @app.exception_handler(RequestValidationError)
    async def malformed(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        where = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors()
        )
        return _coded(_error(sf.Reason.INVALID_VALUE, "V1", f"malformed request: {where}"))

    @app.exception_handler(HTTPException)
    async def http(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        code = sf.Reason.NOT_FOUND if error.status_code == 404 else sf.Reason.INVALID_VALUE
        body = {"error": _error(code, "V1", str(error.detail)).to_dict()}
        return JSONResponse(body, status_code=error.status_code)

    def who(org_id: str, user: str | None) -> tuple[sf.Organization, sf.Member]:
        org = directory.organization(org_id)
        return org, directory.member(org, user)

    def plan_command(
        store: Store,
        org_id: str,
        user: str | None,
        key: str | None,
        request: Request,
        body: Payload,
        act: Callable[[sf.SupportPlan, sf.Member], object],
    ) -> JSONResponse:
        org, actor = who(org_id, user)
        outcome = store.update(
            org,
            lambda plan: (act(plan, actor), plan_view(plan))[1],
            clock=clock,
            idempotency_key=key,
            request=[request.method, request.url.path, actor.user_id, body],
            create=True,
        )
        return _answer(outcome)

    def order_command(
        store: Store,
        org_id: str,
        order_id: str,
        user: str | None,
        key: str | None,
        request: Request,
        body: Payload,
        act: Callable[[sf.ConsultingOrder, sf.Member], object],
        status: int = 200,
    ) -> JSONResponse:
        org, actor = who(org_id, user)
        outcome = store.update_order(
            order_id,
            lambda order: act(order, actor),
            org=org,
            clock=clock,
            idempotency_key=key,
            request=[request.method, request.url.path, actor.user_id, body],
        )
        return _answer(outcome, status)

    def current_plan(store: Store, org: sf.Organization) -> sf.SupportPlan:
        try:
            return store.plan(org, clock=clock)
        except sf.Refused as error:
            if error.code != sf.Reason.NOT_FOUND:
                raise
            return sf.SupportPlan(org, clock=clock)  # never stored yet: Basic (P4)

    @app.get("/orgs/{org_id}/plan")
    def get_plan(org_id: str, store: StoreIn) -> dict[str, Any]:
        return plan_view(current_plan(store, directory.organization(org_id)))

    @app.post("/orgs/{org_id}/plan/change")
    def change_plan(
        store: StoreIn,
        org_id: str,
        request: Request,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        (tier,) = _fields(body, ("tier",))
        return plan_command(store, org_id, user, key, request, body, lambda p, a: p.change(tier, a))

    @app.post("/orgs/{org_id}/plan/cancel")
    def cancel_plan(
        store: StoreIn,
        org_id: str,
        request: Request,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        _fields(body, ())
        return plan_command(store, org_id, user, key, request, body, lambda p, a: p.cancel(a))

    @app.post("/orgs/{org_id}/plan/preview")
    def preview_change(
        store: StoreIn,
        org_id: str,
        body: BodyIn = None,
        user: UserIn = None,
    ) -> dict[str, Any]:
        """The billing timeline the change would give, applied to a copy: nothing is saved."""
        (tier,) = _fields(body, ("tier",))
        org, actor = who(org_id, user)
        stored = current_plan(store, org).snapshot(history=False)
        copy = sf.SupportPlan.restore(stored, org, clock=clock)
        copy.change(tier, actor)
        return {"billing": [p.to_dict() for p in copy.billing]}

    @app.post("/orgs/{org_id}/cases", status_code=201)
    def open_case(
        store: StoreIn,
        org_id: str,
        body: BodyIn = None,
        user: UserIn = None,
    ) -> dict[str, Any]:
        scope, title, project_id, severity = _fields(
            body, ("scope", "title"), ("project_id", "severity")
        )
        org, actor = who(org_id, user)
        case = sf.open_case(
            org,
            current_plan(store, org).state,
            actor,
            scope=scope,
            project_id=project_id,
            title=title,
            severity=severity or "S3",
            clock=clock,
        )
        return case.to_dict()

    @app.post("/orgs/{org_id}/orders")
    def buy(
        store: StoreIn,
        org_id: str,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        units, hours_per_unit, validity_months = _fields(
            body, ("units",), ("hours_per_unit", "validity_months")
        )
        org, actor = who(org_id, user)
        outcome = store.start_checkout(
            org,
            units=units,
            actor=actor,
            clock=clock,
            hours_per_unit=1 if hours_per_unit is None else hours_per_unit,
            validity_months=validity_months,
            idempotency_key=key,
        )
        return _answer(outcome, 201)

    @app.get("/orgs/{org_id}/orders/{order_id}")
    def get_order(org_id: str, order_id: str, store: StoreIn) -> dict[str, Any]:
        org = directory.organization(org_id)
        return order_view(store.order(order_id, org, clock=clock))

    @app.post("/orgs/{org_id}/orders/{order_id}/confirm")
    def confirm(
        store: StoreIn,
        org_id: str,
        order_id: str,
        request: Request,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        _fields(body, ())

        def act(order: sf.ConsultingOrder, actor: sf.Member) -> object:
            if not actor.has_billing_role:  # F1: the buyer's side confirms a console order
                raise _error(
                    sf.Reason.BILLING_ROLE_REQUIRED, "F1", "confirming needs a billing role"
                )
            order.confirm()
            return order_view(order)

        return order_command(store, org_id, order_id, user, key, request, body, act)

    @app.post("/orgs/{org_id}/orders/{order_id}/sessions", status_code=201)
    def schedule(
        store: StoreIn,
        org_id: str,
        order_id: str,
        request: Request,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        start, hours = _fields(body, ("start", "hours"))
        begins = sf.parse_instant(start)
        return order_command(
            store,
            org_id,
            order_id,
            user,
            key,
            request,
            body,
            lambda o, a: o.schedule(start=begins, hours=hours, actor=a),
            201,
        )

    @app.post("/orgs/{org_id}/orders/{order_id}/sessions/{session_id}/deliver")
    def deliver(
        store: StoreIn,
        org_id: str,
        order_id: str,
        session_id: str,
        request: Request,
        body: BodyIn = None,
        user: UserIn = None,
        key: KeyIn = None,
    ) -> JSONResponse:
        _fields(body, ())
        return order_command(
            store,
            org_id,
            order_id,
            user,
            key,
            request,
            body,
            lambda o, a: o.deliver(session_id, actor=a),
        )

    @app.get("/orgs/{org_id}/audit")
    def audit(org_id: str, store: StoreIn) -> list[dict[str, Any]]:
        directory.organization(org_id)
        return [entry.to_dict() for entry in store.audit(org_id)]

    return app


def demo_app(url: str | None = None) -> FastAPI:
    """The service with one organization and its owner (u-owner), on the store at `url`, else
    ``$SUPPORT_FLOWS_DB``, else an in-memory SQLite store."""
    org = sf.Organization("org-1", projects=(sf.Project("p-1"),))
    owner = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
    directory = Directory({"org-1": org}, {("org-1", "u-owner"): owner})
    store = Store(url or os.environ.get("SUPPORT_FLOWS_DB") or "sqlite://")
    return create_app(store, sf.SystemClock(), directory)
