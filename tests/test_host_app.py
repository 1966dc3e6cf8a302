"""examples/host_app over HTTP (FastAPI's test client): the flows work, retries with an
Idempotency-Key answer the same, and bad input of every kind gets a coded JSON error, never a 500.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import support_flows as sf
from support_flows.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
with warnings.catch_warnings():  # starlette asks for httpx2; httpx is what FastAPI documents
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from host_app.app import Directory, create_app, store_of

pytest_plugins = ["store_helpers"]

START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}}, email="dev@example.com")
AS_OWNER = {"X-User-Id": "u-owner"}
AS_DEV = {"X-User-Id": "u-dev"}
AS_STRANGER = {"X-User-Id": "u-stranger"}
STATUSES = {200, 201, 400, 402, 403, 404, 405, 409, 422}


def make_client(url: str = "sqlite://") -> tuple[TestClient, Store, sf.FrozenClock]:
    store = Store(url)
    clock = sf.FrozenClock(START)
    directory = Directory({"org-1": ORG}, {("org-1", "u-owner"): OWNER, ("org-1", "u-dev"): DEV})
    return (
        TestClient(create_app(store, clock, directory), raise_server_exceptions=False),
        store,
        clock,
    )


@pytest.fixture
def app() -> Iterator[tuple[TestClient, Store, sf.FrozenClock]]:
    client, store, clock = make_client()
    with client:
        yield client, store, clock
    store.close()


def coded(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the coded JSON error `code`, under `status`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["reasons"][0]["code"] == code
    assert set(error) == {"code", "rule", "message", "reasons"}
    return dict(error)


def test_plan_change_cancel_and_preview_over_http(app: Any) -> None:
    """Preview shows the timeline a change would give and saves nothing; change and cancel
    answer the plan as it is after them."""
    client, store, _ = app
    preview = client.post("/orgs/org-1/plan/preview", json={"tier": "premium"}, headers=AS_OWNER)
    assert preview.status_code == 200
    assert preview.json() == {
        "billing": [
            {
                "tier": "premium",
                "starts_at": "2026-04-01T00:00:00+00:00",
                "ends_at": None,
                "retroactive": False,
            }
        ]
    }
    assert client.get("/orgs/org-1/plan").json()["state"] == "basic"
    assert store.audit("org-1") == ()
    changed = client.post("/orgs/org-1/plan/change", json={"tier": "premium"}, headers=AS_OWNER)
    assert changed.status_code == 200
    assert changed.json()["state"] == "premium"
    cancelled = client.post("/orgs/org-1/plan/cancel", headers=AS_OWNER)
    assert cancelled.json()["pending"]["target"] == "cancelled"
    assert cancelled.json()["pending"]["effective_at"] == "2026-04-01T00:00:00+00:00"
    log = client.get("/orgs/org-1/audit").json()
    assert [(e["outcome"], e["event"]) for e in log] == [
        ("accepted", "subscribe"),
        ("accepted", "cancel"),
    ]


def test_consulting_buy_confirm_schedule_deliver_over_http(app: Any) -> None:
    """An order bought, confirmed (one email queued), a session scheduled and delivered."""
    client, store, clock = app
    bought = client.post("/orgs/org-1/orders", json={"units": 4}, headers=AS_OWNER)
    assert bought.status_code == 201
    order_id = bought.json()["order_id"]
    confirmed = client.post(f"/orgs/org-1/orders/{order_id}/confirm", headers=AS_OWNER)
    assert confirmed.json()["state"] == "purchased"
    start = START.add(days=2).isoformat()
    session = client.post(
        f"/orgs/org-1/orders/{order_id}/sessions",
        json={"start": start, "hours": 2},
        headers=AS_DEV,
    )
    assert session.status_code == 201
    assert session.json()["session_id"] == "s-1"
    clock.advance(days=3)
    delivered = client.post(f"/orgs/org-1/orders/{order_id}/sessions/s-1/deliver", headers=AS_DEV)
    assert delivered.json()["status"] == "delivered"
    assert client.get(f"/orgs/org-1/orders/{order_id}").json()["units"]["consumed"] == 2
    assert store.relay(sf.InMemoryOutbox()) == 1


def test_open_a_case_over_http(app: Any) -> None:
    """A case opens once the plan includes cases; before, 402 plan_excludes_cases."""
    client, _, _ = app
    body = {"scope": "project", "project_id": "p-1", "title": "Slow queries", "severity": "S2"}
    coded(client.post("/orgs/org-1/cases", json=body, headers=AS_DEV), 402, "plan_excludes_cases")
    client.post("/orgs/org-1/plan/change", json={"tier": "premium"}, headers=AS_OWNER)
    opened = client.post("/orgs/org-1/cases", json=body, headers=AS_DEV)
    assert opened.status_code == 201
    assert (opened.json()["severity"], opened.json()["requester"]) == ("S2", "u-dev")


def test_a_retried_request_with_its_idempotency_key_answers_the_same(app: Any) -> None:
    """Same key, same request: the first answer again, marked replayed, nothing changed; same
    key, another request: 409 idempotency_key_reused."""
    client, store, _ = app
    headers = {**AS_OWNER, "Idempotency-Key": "buy-1"}
    first = client.post("/orgs/org-1/orders", json={"units": 4}, headers=headers)
    again = client.post("/orgs/org-1/orders", json={"units": 4}, headers=headers)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    coded(
        client.post("/orgs/org-1/orders", json={"units": 5}, headers=headers),
        409,
        "idempotency_key_reused",
    )
    headers = {**AS_OWNER, "Idempotency-Key": "change-1"}
    first = client.post("/orgs/org-1/plan/change", json={"tier": "premium"}, headers=headers)
    again = client.post("/orgs/org-1/plan/change", json={"tier": "premium"}, headers=headers)
    assert (again.status_code, again.json()) == (200, first.json())
    assert len(store.audit("org-1")) == 2  # the buy and the change, once each


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code"),
    [
        ("post", "/orgs/org-1/plan/change", {"tier": "gold"}, AS_OWNER, 400, "invalid_value"),
        ("post", "/orgs/org-1/plan/change", {"tier": 3}, AS_OWNER, 400, "invalid_value"),
        ("post", "/orgs/org-1/plan/change", {"tier": None}, AS_OWNER, 400, "invalid_value"),
        ("post", "/orgs/org-1/plan/change", {}, AS_OWNER, 400, "invalid_value"),
        ("post", "/orgs/org-1/plan/change", [1, 2], AS_OWNER, 400, "invalid_value"),
        (
            "post",
            "/orgs/org-1/plan/change",
            {"tier": "premium", "x": 1},
            AS_OWNER,
            400,
            "invalid_value",
        ),
        ("post", "/orgs/org-1/plan/change", {"tier": "enterprise"}, AS_OWNER, 422, "contact_sales"),
        (
            "post",
            "/orgs/org-1/plan/change",
            {"tier": "premium"},
            AS_STRANGER,
            403,
            "billing_role_required",
        ),
        ("post", "/orgs/org-1/plan/change", {"tier": "premium"}, {}, 400, "invalid_value"),
        (
            "post",
            "/orgs/org-1/plan/change",
            {"tier": "premium"},
            {"X-User-Id": " "},
            400,
            "invalid_value",
        ),
        ("post", "/orgs/org-2/plan/change", {"tier": "premium"}, AS_OWNER, 404, "not_found"),
        ("post", "/orgs/org-1/plan/cancel", None, AS_OWNER, 409, "nothing_to_cancel"),
        ("post", "/orgs/org-1/plan/preview", {"tier": "platinum"}, AS_OWNER, 400, "invalid_value"),
        (
            "post",
            "/orgs/org-1/plan/preview",
            {"tier": "premium"},
            AS_DEV,
            403,
            "billing_role_required",
        ),
        ("post", "/orgs/org-1/orders", {"units": "ten"}, AS_OWNER, 400, "invalid_quantity"),
        ("post", "/orgs/org-1/orders", {"units": 2.5}, AS_OWNER, 400, "invalid_quantity"),
        ("post", "/orgs/org-1/orders", {"units": True}, AS_OWNER, 400, "invalid_quantity"),
        ("post", "/orgs/org-1/orders", {"units": 0}, AS_OWNER, 400, "invalid_quantity"),
        ("post", "/orgs/org-1/orders", {"units": 10**30}, AS_OWNER, 400, "invalid_quantity"),
        ("post", "/orgs/org-1/orders", {"units": 3}, AS_DEV, 403, "billing_role_required"),
        (
            "post",
            "/orgs/org-1/orders",
            {"units": 3},
            {**AS_OWNER, "Idempotency-Key": "k" * 300},
            400,
            "invalid_value",
        ),
        ("post", "/orgs/org-1/orders/co-none/confirm", None, AS_OWNER, 404, "not_found"),
        (
            "post",
            "/orgs/org-1/cases",
            {"scope": "galaxy", "title": "x"},
            AS_DEV,
            400,
            "invalid_value",
        ),
        (
            "post",
            "/orgs/org-1/cases",
            {"scope": "organization", "title": 7},
            AS_OWNER,
            400,
            "invalid_value",
        ),
        (
            "post",
            "/orgs/org-1/cases",
            {"scope": "project", "project_id": "p-1", "title": "x"},
            AS_STRANGER,
            403,
            "project_role_required",
        ),
        ("get", "/orgs/org-1/nothing-here", None, {}, 404, "not_found"),
        ("delete", "/orgs/org-1/plan", None, {}, 405, "invalid_value"),
    ],
)
def test_bad_input_gets_a_coded_json_error(
    app: Any, method: str, path: str, body: Any, headers: dict[str, str], status: int, code: str
) -> None:
    """Wrong types, unknown names, missing fields, unknown callers and routes: the coded error
    the library (or the store) gives, under `sf.http_status`."""
    client, _, _ = app
    coded(client.request(method, path, json=body, headers=headers), status, code)


def test_naive_instants_and_malformed_json_are_coded_errors(app: Any) -> None:
    """A session start without an offset is naive_datetime (T1); broken JSON is invalid_value."""
    client, _, _ = app
    order_id = client.post("/orgs/org-1/orders", json={"units": 4}, headers=AS_OWNER).json()[
        "order_id"
    ]
    client.post(f"/orgs/org-1/orders/{order_id}/confirm", headers=AS_OWNER)
    sessions = f"/orgs/org-1/orders/{order_id}/sessions"
    for start, expected in (
        ("2026-03-20T10:00:00", "naive_datetime"),
        ("next tuesday", "invalid_value"),
        (1774000000, "invalid_value"),
    ):
        coded(
            client.post(sessions, json={"start": start, "hours": 1}, headers=AS_DEV), 400, expected
        )
    coded(
        client.post(sessions, json={"start": "2026-03-10T10:00:00Z", "hours": 1}, headers=AS_DEV),
        422,
        "session_in_past",
    )
    coded(
        client.post(
            sessions, json={"start": "2026-03-20T10:00:00Z", "hours": 1}, headers=AS_STRANGER
        ),
        403,
        "not_org_member",
    )
    broken = client.post(
        "/orgs/org-1/plan/change",
        content=b'{"tier": ',
        headers={**AS_OWNER, "content-type": "application/json"},
    )
    coded(broken, 400, "invalid_value")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ("tier", "units", "hours", "start", "scope", "title", "project_id", "severity")
BODIES = JSON | st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=4)
PATHS = (
    "/orgs/org-1/plan/change",
    "/orgs/org-1/plan/cancel",
    "/orgs/org-1/plan/preview",
    "/orgs/org-1/cases",
    "/orgs/org-1/orders",
    "/orgs/org-1/orders/co-x/confirm",
    "/orgs/org-1/orders/co-x/sessions",
    "/orgs/org-1/orders/co-x/sessions/s-1/deliver",
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    body=BODIES,
    user=st.sampled_from(["u-owner", "u-dev", "u-stranger", ""]),
)
def test_any_body_to_any_endpoint_is_answered_never_with_a_500(
    path: str, body: Any, user: str
) -> None:
    """Random JSON (NaN and infinities included, S6) to every writing endpoint, as anyone: a
    success or a coded JSON error."""
    client = CLIENT[0]
    headers = {"content-type": "application/json", **({"X-User-Id": user} if user else {})}
    response = client.post(path, content=json.dumps(body).encode(), headers=headers)
    assert response.status_code in STATUSES, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] in {r.value for r in sf.Reason}
        assert sf.http_status(error["code"]) == response.status_code or response.status_code == 405


CLIENT = make_client()


@pytest.fixture
def app_on(db_url: str) -> Iterator[tuple[TestClient, Store, sf.FrozenClock]]:
    """The app on a store on SQLite or PostgreSQL (a database of the test's own)."""
    client, store, clock = make_client(db_url)
    with client:
        yield client, store, clock
    store.close()


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/orgs/org-1/orders", b'{"units": NaN}', "invalid_quantity"),
        ("/orgs/org-1/orders", b'{"units": 4, "hours_per_unit": Infinity}', "invalid_quantity"),
        ("/orgs/org-1/plan/change", b'{"tier": NaN}', "invalid_value"),
        ("/orgs/org-1/plan/change", b'{"tier": "premium\\u0000"}', "invalid_value"),
    ],
)
def test_s6_nan_infinity_and_nul_bodies_are_400_and_audited(
    app_on: Any, path: str, body: bytes, code: str
) -> None:
    """S6: a body with NaN, an infinity or NUL text is a 400 coded error on SQLite and on
    PostgreSQL (500 there before, unaudited), and the refusal is in the audit log."""
    client, _, _ = app_on
    response = client.post(
        path, content=body, headers={**AS_OWNER, "content-type": "application/json"}
    )
    coded(response, 400, code)
    audit = client.get("/orgs/org-1/audit")
    assert audit.status_code == 200
    assert [(e["outcome"], e["reason"]) for e in audit.json()] == [("refused", code)]


def test_s4_the_hosts_own_refusal_of_a_confirm_is_in_the_audit_log(app_on: Any) -> None:
    """S4: the app's confirm refused by its own check (403 billing_role_required, raised inside
    `update_order`) appears in /audit with the request, on both backends."""
    client, _, _ = app_on
    order_id = client.post("/orgs/org-1/orders", json={"units": 4}, headers=AS_OWNER).json()[
        "order_id"
    ]
    coded(
        client.post(f"/orgs/org-1/orders/{order_id}/confirm", headers=AS_DEV),
        403,
        "billing_role_required",
    )
    entries = client.get("/orgs/org-1/audit").json()
    refused = [e for e in entries if e["outcome"] == "refused"]
    assert [(e["subject_id"], e["reason"]) for e in refused] == [
        (order_id, "billing_role_required")
    ]
    assert refused[0]["detail"]["params"]["request"][:3] == [
        "POST",
        f"/orgs/org-1/orders/{order_id}/confirm",
        "u-dev",
    ]
    assert client.get(f"/orgs/org-1/orders/{order_id}").json()["state"] == "checkout"


def test_s6_a_store_that_fails_is_answered_503(tmp_path: Path) -> None:
    """S6: once the database cannot be read or written, every endpoint that reaches the store
    answers 503 store_unavailable, never a 500."""
    path = tmp_path / "store.db"
    client, store, _ = make_client(f"sqlite:///{path}")
    store.close()
    path.write_bytes(b"not a database " * 1000)
    with client:
        coded(client.get("/orgs/org-1/plan"), 503, "store_unavailable")
        coded(
            client.post("/orgs/org-1/orders", json={"units": 4}, headers=AS_OWNER),
            503,
            "store_unavailable",
        )
        coded(client.get("/orgs/org-1/audit"), 503, "store_unavailable")
    store.close()


def test_the_store_is_a_dependency_a_host_can_override() -> None:
    """The handlers reach the store through FastAPI's dependency `store_of`: overriding it sends
    every request to the other store, and the one the app was created with sees none."""
    client, store, clock = make_client()
    other = Store("sqlite://")
    client.app.dependency_overrides[store_of] = lambda: other  # type: ignore[attr-defined]
    with client:
        answer = client.post(
            "/orgs/org-1/plan/change", json={"tier": "developer"}, headers=AS_OWNER
        )
        assert answer.status_code == 200, answer.text
        assert client.get("/orgs/org-1/plan").json()["state"] == "trial"
    assert other.plan("org-1", ORG, clock=clock).state == "trial"
    with pytest.raises(sf.Refused) as absent:
        store.plan("org-1", ORG, clock=clock)
    assert absent.value.code == sf.Reason.NOT_FOUND
    store.close()
    other.close()
