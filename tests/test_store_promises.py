"""The store keeps its promises (RULES.md S4, S6): values no database holds are refused and
audited, the audit log grows by a bounded amount per request and records the host's refusals,
store URLs name their backend, a database that fails is `store_unavailable`, and every argument
is checked. On SQLite and PostgreSQL where a database is involved."""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import ORG, OWNER, READER, START, postgres_schema_url, table_rows  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import JsonLinesOutbox, Store, order_view, plan_view  # noqa: E402
from support_flows.store import relay as relay_url  # noqa: E402
from support_flows.store import rollover as rollover_url  # noqa: E402

pytest_plugins = ["store_helpers"]

NAN, INF = math.nan, math.inf


def clock() -> sf.FrozenClock:
    return sf.FrozenClock(START)


def nested(depth: int) -> list[Any]:
    """A list nested `depth` deep."""
    top: list[Any] = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


def raised(call: Any) -> BaseException | None:
    """What `call()` raised, or None."""
    try:
        call()
    except Exception as error:
        return error
    return None


def refusals(store: Store) -> list[tuple[str | None, str | None, Any]]:
    """The organization's refused audit lines: (request, reason, detail)."""
    return [
        (e.request, e.reason, e.detail) for e in store.audit(ORG.org_id) if e.outcome == "refused"
    ]


def audit_bytes(store: Store) -> int:
    """The JSON size of every audit line of the organization."""
    return sum(len(json.dumps(e.to_dict())) for e in store.audit(ORG.org_id))


# -- S6: values no database holds ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("units", NAN, "invalid_quantity"),
        ("units", INF, "invalid_quantity"),
        ("hours_per_unit", -INF, "invalid_quantity"),
        ("validity_months", NAN, "invalid_quantity"),
        ("order_id", "co\x00-1", "invalid_value"),
    ],
)
def test_s6_a_value_no_database_holds_is_refused_and_audited(
    store: Store, field: str, value: object, code: str
) -> None:
    """S6: NaN, an infinity or text with NUL in a command's parameter is malformed input on both
    backends (PostgreSQL raised a raw DataError and audited nothing); the refusal is audited,
    the value kept as its repr, and nothing else is stored."""
    arguments: dict[str, Any] = {"units": 4, field: value}
    with pytest.raises(sf.InvalidInput) as caught:
        store.start_checkout(ORG, actor=OWNER, clock=clock(), idempotency_key="k", **arguments)
    assert caught.value.code == code
    [(request, reason, detail)] = refusals(store)
    assert (request, reason) == ("start_checkout", code)
    assert detail["params"][field] == repr(value)
    rows = table_rows(store)
    assert (rows["sf_orders"], rows["sf_outbox"], rows["sf_idempotency"]) == ([], [], [])


@pytest.mark.parametrize(
    "request_body",
    [{"tier": NAN}, ["POST", {"hours": INF}], {"title": "a\x00b"}, {"k\x00": 1}, nested(5_000)],
)
def test_s6_a_request_no_database_holds_is_refused_before_the_function_runs(
    store: Store, request_body: object
) -> None:
    """S6: a command's request holding NaN, an infinity, NUL text (value or key) or nested 5,000
    deep (a raw RecursionError before) is `invalid_value` before `fn` runs, and audited."""
    ran: list[object] = []
    with pytest.raises(sf.InvalidInput) as caught:
        store.update(
            ORG.org_id,
            lambda p: ran.append(p.change("premium", actor=OWNER)),
            org=ORG,
            clock=clock(),
            request=request_body,
            create=True,
        )
    assert (caught.value.code, caught.value.rule, ran) == ("invalid_value", "S6", [])
    [(request, reason, detail)] = refusals(store)
    assert (request, reason) == (None, "invalid_value")
    assert len(json.dumps(detail)) < 4096
    assert table_rows(store)["sf_plans"] == []


@pytest.mark.parametrize("result", [{"x": NAN}, [INF], "a\x00", nested(5_000), 2**70])
def test_s6_a_result_no_database_holds_is_refused_audited_and_saves_nothing(
    store: Store, result: object
) -> None:
    """S6: a result holding a value no database holds (or nested 5,000 deep) is `invalid_value`:
    the change the function made is not saved, the refusal is audited and its key replays it."""
    c = clock()

    def fn(plan: sf.SupportPlan) -> object:
        plan.change("premium", actor=OWNER)
        return result

    for _ in range(2):
        with pytest.raises(sf.InvalidInput) as caught:
            store.update(ORG.org_id, fn, org=ORG, clock=c, idempotency_key="k", create=True)
        assert (caught.value.code, caught.value.rule) == ("invalid_value", "S6")
    assert table_rows(store)["sf_plans"] == []
    assert [reason for _, reason, _ in refusals(store)] == ["invalid_value"]


# -- S4: bounded parameters, the host's refusals ---------------------------------------------


def test_s4_a_refused_request_grows_the_log_by_a_few_kib_whatever_its_size(store: Store) -> None:
    """S4: 2 MB parameters (an order id, a session id, a request, a host's refusal message) are
    each kept shortened to at most 1 KiB with their full length; no request adds more than a
    few KiB to the log (it added 2 MB before)."""
    big = "x" * 2_000_000
    with pytest.raises(sf.InvalidInput):
        store.start_checkout(ORG, units=4, actor=OWNER, clock=clock(), order_id=big)
    [(_, _, detail)] = refusals(store)
    assert detail["params"]["order_id"]["length"] == 2_000_000
    assert len(json.dumps(detail["params"]["order_id"])) <= 1024
    assert audit_bytes(store) < 4096

    store.start_checkout(ORG, units=4, actor=OWNER, clock=clock(), order_id="co-1")
    before = audit_bytes(store)
    with pytest.raises(sf.InvalidInput):
        store.update_order("co-1", lambda o: o.cancel_session(big), org=ORG, clock=clock())
    assert audit_bytes(store) - before < 4096

    def refuse(plan: sf.SupportPlan) -> object:
        raise sf.Refused(sf.Violation(sf.Reason.BILLING_ROLE_REQUIRED, "P1", big))

    before = audit_bytes(store)
    with pytest.raises(sf.Refused):
        store.update(ORG.org_id, refuse, org=ORG, clock=clock(), request=[big, big], create=True)
    assert audit_bytes(store) - before < 8192
    detail = refusals(store)[-1][2]
    assert detail["params"]["request"]["length"] > 4_000_000
    assert detail["error"]["message"].endswith("(2000000 characters)")


def test_s4_a_refusal_the_hosts_function_raises_is_recorded_and_changes_nothing(
    store: Store,
) -> None:
    """S4: a refusal raised by the host's own code inside `update` (not by a call on the plan)
    is in the audit log with its reason and request, its key replays it (S2), and what the
    function did before it is not saved."""
    c = clock()

    def confirm_needs_billing(plan: sf.SupportPlan) -> object:
        plan.change("premium", actor=OWNER)
        raise sf.Refused(sf.Violation(sf.Reason.BILLING_ROLE_REQUIRED, "F1", "needs billing"))

    for _ in range(2):
        with pytest.raises(sf.Refused, match="needs billing"):
            store.update(
                ORG.org_id,
                confirm_needs_billing,
                org=ORG,
                clock=c,
                idempotency_key="k",
                request=["POST", "/confirm"],
                create=True,
            )
    entries = store.audit(ORG.org_id)
    assert [(e.outcome, e.reason, e.idempotency_key) for e in entries] == [
        ("refused", "billing_role_required", "k")
    ]
    assert entries[0].detail["params"] == {"request": ["POST", "/confirm"]}
    assert table_rows(store)["sf_plans"] == []


def test_s4_a_library_refusal_inside_the_function_is_recorded_once(store: Store) -> None:
    """S4: a refused call on the plan, re-raised by the function, is one refused audit line
    (the call's, with its request and actor), not two."""
    with pytest.raises(sf.Refused):
        store.update(
            ORG.org_id,
            lambda p: p.change("premium", actor=READER),
            org=ORG,
            clock=clock(),
            create=True,
        )
    assert [(r, reason) for r, reason, _ in refusals(store)] == [
        ("change", "billing_role_required")
    ]


class HostFailure(Exception):
    """An exception of the host's own."""


@pytest.mark.parametrize(
    "failure",
    [HostFailure("boom"), sa.exc.OperationalError("SELECT 1", {}, Exception("host's own db"))],
)
def test_s4_another_exception_from_the_function_rolls_back_and_propagates_unchanged(
    store: Store, failure: Exception
) -> None:
    """S4: an exception that is not a refusal (the host's failure, even one of SQLAlchemy's own)
    reaches the caller as the very object raised, not as `store_unavailable`; nothing is stored
    or audited."""
    before = table_rows(store)

    def fail(plan: sf.SupportPlan) -> object:
        plan.change("premium", actor=OWNER)
        raise failure

    with pytest.raises(type(failure)) as caught:
        store.update(ORG.org_id, fail, org=ORG, clock=clock(), idempotency_key="k", create=True)
    assert caught.value is failure
    assert table_rows(store) == before


# -- S6: store URLs and unavailable databases -------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "postgresql:/typo",
        "support.db",
        "mysql://user:secret@host/db",
        "sqlite:///",
        "sqlite://host/x.db",
        "",
        None,
        42,
    ],
)
def test_s6_a_store_url_names_its_backend(
    url: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S6: anything but sqlite:///PATH, sqlite:// or postgresql://... is `invalid_value` (a bare
    name silently created a SQLite file of that name before); no file is created, and a
    password in the URL is not shown."""
    monkeypatch.chdir(tmp_path)
    for opens in (
        lambda: Store(url),  # type: ignore[arg-type]
        lambda: rollover_url(url),  # type: ignore[arg-type]
        lambda: relay_url(url, sf.InMemoryOutbox()),  # type: ignore[arg-type]
    ):
        with pytest.raises(sf.InvalidInput) as caught:
            opens()
        assert (caught.value.code, caught.value.rule) == ("invalid_value", "S6")
        assert "secret" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


UNREACHABLE = [
    "postgresql://postgres:secret@127.0.0.1:5999/test",
    "postgresql+psycopg://postgres:secret@127.0.0.1:5432/sf_no_such_database",
    "sqlite:////dev/null/directory/x.db",
]


@pytest.mark.parametrize("url", UNREACHABLE)
def test_s6_a_database_that_cannot_be_reached_is_store_unavailable(url: str) -> None:
    """S6: a server that does not answer, a database that does not exist, a file that cannot be
    created: `Unavailable` (`store_unavailable`, HTTP 503) naming the URL without its password,
    from the store, `rollover(url)` and `relay(url)`; no OperationalError."""
    for opens in (
        lambda: Store(url),
        lambda: rollover_url(url, until=START),
        lambda: relay_url(url, sf.InMemoryOutbox()),
    ):
        with pytest.raises(sf.Unavailable) as caught:
            opens()
        error = caught.value
        assert (error.code, error.rule, sf.http_status(error)) == ("store_unavailable", "S6", 503)
        assert "secret" not in str(error)
        assert sa.make_url(url).render_as_string(hide_password=True).split("://")[1] in str(error)
        assert error.__cause__ is None


def corrupt(path: Path) -> None:
    """Overwrite a SQLite database (and its WAL) with bytes that are not one."""
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"not a database " * 1000)


def test_s6_every_store_method_reports_a_broken_database_as_unavailable(tmp_path: Path) -> None:
    """S6: after the database file is destroyed under an open store, every public method raises
    `Unavailable`, never sqlite3's DatabaseError."""
    path = tmp_path / "store.db"
    store = Store(f"sqlite:///{path}")
    c = clock()
    store.save(sf.SupportPlan(ORG, clock=c))
    plan = store.plan(ORG.org_id, ORG, clock=c)
    store.close()
    corrupt(path)
    calls = {
        "plan": lambda: store.plan(ORG.org_id, ORG, clock=c),
        "order": lambda: store.order("co-1", ORG, clock=c),
        "save": lambda: store.save(plan),
        "update": lambda: store.update(ORG.org_id, lambda p: None, org=ORG, clock=c),
        "update_order": lambda: store.update_order("co-1", lambda o: None, org=ORG, clock=c),
        "start_checkout": lambda: store.start_checkout(ORG, units=1, actor=OWNER, clock=c),
        "from_representative": lambda: store.from_representative(
            ORG, units=1, sales_reference="SO-1", email="b@example.com", clock=c
        ),
        "audit": lambda: store.audit(ORG.org_id),
        "relay": lambda: store.relay(sf.InMemoryOutbox()),
        "prune_keys": lambda: store.prune_keys(),
        "rollover": lambda: store.rollover(until=START),
        "rollover(url)": lambda: rollover_url(f"sqlite:///{path}", until=START),
        "relay(url)": lambda: relay_url(f"sqlite:///{path}", sf.InMemoryOutbox()),
        "reopen": lambda: Store(f"sqlite:///{path}"),
    }
    outcomes = {name: raised(call) for name, call in calls.items()}
    assert {name: type(e).__name__ for name, e in outcomes.items()} == dict.fromkeys(
        calls, "Unavailable"
    )
    assert all("cannot be reached, opened or written" in str(e) for e in outcomes.values())
    store.close()


@pytest.mark.postgres
def test_s6_a_killed_rollover_worker_is_a_coded_error_postgresql(postgres_database: str) -> None:
    """S6: a rollover worker SIGKILLed mid-run surfaces as `Unavailable` (rerun to finish), not
    as a RuntimeError; a rerun then applies the rest (PostgreSQL: SQLite has no workers)."""
    db_url = postgres_schema_url(postgres_database)
    store = Store(db_url)
    plans = 150
    for n in range(plans):
        org = sf.Organization(f"org-{n}")
        plan = sf.SupportPlan(org, clock=clock())
        plan.change("developer", actor=OWNER)
        store.save(plan)
    killed: list[int] = []

    def kill_the_workers(_: int) -> None:
        if not killed:
            for child in multiprocessing.active_children():
                assert child.pid is not None
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    until = START.add(days=40)
    with pytest.raises(sf.Unavailable, match="rerun") as caught:
        rollover_url(db_url, until=until, workers=2, batch_size=1, progress=kill_the_workers)
    assert (caught.value.code, caught.value.rule) == ("store_unavailable", "S6")
    assert killed
    rollover_url(db_url, until=until)
    assert store.rollover(until=until).applied == 0
    applied = [e for n in range(plans) for e in store.audit(f"org-{n}") if e.outcome == "applied"]
    assert len(applied) == plans  # each trial's end once, killed or not (S5)
    store.close()


# -- every argument checked -------------------------------------------------------------------


def test_s6_store_arguments_are_checked_with_coded_errors(store: Store) -> None:
    """S6: limits, retention periods, callbacks, flags and views get exact types and bounds
    (a TypeError or OverflowError came out before, and limit=-1, True or 1.5 was accepted)."""
    outbox = sf.InMemoryOutbox()
    bad: dict[str, Any] = {
        "relay limit '3'": lambda: store.relay(outbox, limit="3"),
        "relay limit -1": lambda: store.relay(outbox, limit=-1),
        "relay limit 0": lambda: store.relay(outbox, limit=0),
        "relay limit True": lambda: store.relay(outbox, limit=True),
        "relay limit 1.5": lambda: store.relay(outbox, limit=1.5),
        "relay(url) limit": lambda: relay_url(store.url, outbox, limit=-1),
        "relay(url) outbox": lambda: relay_url(store.url, object()),  # type: ignore[arg-type]
        "keep '1d'": lambda: store.prune_keys(keep="1d"),
        "keep max": lambda: store.prune_keys(keep=dt.timedelta.max),
        "keep negative": lambda: store.prune_keys(keep=dt.timedelta(days=-1)),
        "keep 100 years": lambda: store.prune_keys(keep=dt.timedelta(days=36_500)),
        "now": lambda: store.prune_keys(now="2026-01-01"),
        "progress": lambda: store.rollover(progress=3),
        "rollover(url) progress": lambda: rollover_url(store.url, progress=3),
        "rollover(url) workers": lambda: rollover_url(store.url, workers=True),
        "batch size": lambda: store.rollover(batch_size=1.5),
        "create": lambda: store.update(
            ORG.org_id, lambda p: None, org=ORG, clock=clock(), create="yes"
        ),
        "clock": lambda: store.update(ORG.org_id, lambda p: None, org=ORG, clock=None),
        "retries": lambda: Store("sqlite://", retries=True),
        "stream": lambda: JsonLinesOutbox(3),  # type: ignore[arg-type]
        "plan_view": lambda: plan_view("plan"),  # type: ignore[arg-type]
        "order_view": lambda: order_view(None),  # type: ignore[arg-type]
    }
    outcomes = {name: type(raised(call)).__name__ for name, call in bad.items()}
    assert outcomes == dict.fromkeys(bad, "InvalidInput")
    assert store.relay(outbox, limit=1) == 0
    assert store.prune_keys(keep=dt.timedelta(days=3_650)) == 0
