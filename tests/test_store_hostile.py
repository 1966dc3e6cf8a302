"""No Store entry point lets a raw exception out (RULES.md S6): hypothesis draws hostile values
for each argument of each public method and function of the store; every call succeeds or
raises a coded `SupportFlowsError`. On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import ORG, OWNER, START, postgres_schema_url  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import JsonLinesOutbox, Store, order_view, plan_view  # noqa: E402
from support_flows.store import relay as relay_url  # noqa: E402
from support_flows.store import rollover as rollover_url  # noqa: E402

pytest_plugins = ["store_helpers"]


class Hostile:
    """An object whose every protocol method raises (but its repr, for hypothesis' reports)."""

    def _fail(self, *_: object) -> Any:
        raise RuntimeError("hostile")

    __eq__ = __hash__ = __iter__ = __bool__ = __len__ = __str__ = _fail  # type: ignore[assignment]
    __lt__ = __index__ = __float__ = __int__ = __getitem__ = _fail


class HostileStr(str):
    """Text whose comparisons and methods raise."""

    def _fail(self, *_: object) -> Any:
        raise RuntimeError("hostile")

    __eq__ = __hash__ = __len__ = strip = isprintable = __contains__ = _fail  # type: ignore[assignment]


class HostileZone(dt.tzinfo):
    """A time zone that cannot say its offset."""

    def utcoffset(self, _: object) -> dt.timedelta:
        raise RuntimeError("hostile")


def nested(depth: int) -> list[Any]:
    top: list[Any] = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


PLAIN = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63)
    | st.floats()
    | st.text(max_size=30)
    | st.binary(max_size=8)
)
VALUES = st.one_of(
    PLAIN,
    st.lists(PLAIN, max_size=3),
    st.dictionaries(st.text(max_size=5), PLAIN, max_size=3),
    st.sampled_from(
        [
            "x" * 100_000,
            "a\x00b",
            math.nan,
            -math.inf,
            dt.timedelta.max,
            dt.timedelta(days=-1),
            dt.timedelta(0),
            dt.datetime(2026, 1, 1),
            dt.datetime.max.replace(tzinfo=dt.UTC),
            START,
            ORG,
            OWNER,
            object(),
            object,
            print,
        ]
    ),
    st.builds(nested, st.just(5_000)),
    st.builds(Hostile),
    st.builds(lambda: dt.datetime(2026, 1, 1, tzinfo=HostileZone())),
    st.builds(HostileStr, st.sampled_from(["org-1", "co-1", "k", "sqlite://"])),
)

Call = Callable[[Store, Any], object]
CLOCK = sf.FrozenClock(START)


def plan_update(**changes: Any) -> Call:
    def call(store: Store, x: Any) -> object:
        arguments: dict[str, Any] = {"org": ORG, "clock": CLOCK, "create": True}
        arguments.update({k: x for k, v in changes.items() if v is None})
        fn = changes.get("fn") or (lambda p: None)
        return store.update(arguments.pop("org_id", ORG.org_id), fn, **arguments)

    return call


def checkout(field: str) -> Call:
    def call(store: Store, x: Any) -> object:
        arguments: dict[str, Any] = {"units": 1, "actor": OWNER, "clock": CLOCK, field: x}
        return store.start_checkout(ORG, **arguments)

    return call


def representative(field: str) -> Call:
    def call(store: Store, x: Any) -> object:
        arguments: dict[str, Any] = {
            "units": 1,
            "sales_reference": "SO-1",
            "email": "buyer@example.com",
            "clock": CLOCK,
            field: x,
        }
        return store.from_representative(ORG, **arguments)

    return call


ENTRY_POINTS: dict[str, Call] = {
    "Store(url)": lambda store, x: Store(x).close(),
    "Store(retries)": lambda store, x: Store("sqlite://", retries=x).close(),
    "plan(org_id)": lambda store, x: store.plan(x, ORG, clock=CLOCK),
    "plan(org)": lambda store, x: store.plan(ORG.org_id, x, clock=CLOCK),
    "plan(clock)": lambda store, x: store.plan(ORG.org_id, ORG, clock=x),
    "order(order_id)": lambda store, x: store.order(x, ORG, clock=CLOCK),
    "order(outbox)": lambda store, x: store.order("co-1", ORG, clock=CLOCK, outbox=x),
    "save": lambda store, x: store.save(x),
    "update(org_id)": plan_update(org_id=None),
    "update(org)": plan_update(org=None),
    "update(clock)": plan_update(clock=None),
    "update(idempotency_key)": plan_update(idempotency_key=None),
    "update(request)": plan_update(request=None),
    "update(create)": plan_update(create=None),
    "update(fn)": lambda store, x: store.update(ORG.org_id, x, org=ORG, clock=CLOCK),
    "update(result)": lambda store, x: store.update(
        ORG.org_id, lambda p: x, org=ORG, clock=CLOCK, create=True
    ),
    "update(tier)": lambda store, x: store.update(
        ORG.org_id, lambda p: p.change(x, actor=OWNER), org=ORG, clock=CLOCK, create=True
    ),
    "update_order(order_id)": lambda store, x: store.update_order(
        x, lambda o: None, org=ORG, clock=CLOCK
    ),
    "update_order(outbox)": lambda store, x: store.update_order(
        "co-1", lambda o: None, org=ORG, clock=CLOCK, outbox=x
    ),
    "update_order(session)": lambda store, x: store.update_order(
        "co-1", lambda o: o.cancel_session(x, actor=OWNER), org=ORG, clock=CLOCK
    ),
    **{f"start_checkout({f})": checkout(f) for f in ("units", "hours_per_unit", "order_id")},
    **{
        f"start_checkout({f})": checkout(f)
        for f in ("validity_months", "actor", "clock", "idempotency_key", "outbox")
    },
    **{
        f"from_representative({f})": representative(f)
        for f in ("units", "sales_reference", "email", "order_id")
    },
    "start_checkout(org)": lambda store, x: store.start_checkout(
        x, units=1, actor=OWNER, clock=CLOCK
    ),
    "audit": lambda store, x: store.audit(x),
    "relay(outbox)": lambda store, x: store.relay(x),
    "relay(limit)": lambda store, x: store.relay(sf.InMemoryOutbox(), limit=x),
    "prune_keys(now)": lambda store, x: store.prune_keys(now=x),
    "prune_keys(keep)": lambda store, x: store.prune_keys(keep=x),
    "rollover(until)": lambda store, x: store.rollover(until=x),
    "rollover(batch_size)": lambda store, x: store.rollover(batch_size=x),
    "rollover(progress)": lambda store, x: store.rollover(progress=x),
    "rollover(url, workers)": lambda store, x: rollover_url(store.url, workers=x),
    "rollover(url, until)": lambda store, x: rollover_url(store.url, until=x),
    "relay(url, outbox)": lambda store, x: relay_url(store.url, x),
    "relay(url, limit)": lambda store, x: relay_url(store.url, sf.InMemoryOutbox(), limit=x),
    "plan_view": lambda store, x: plan_view(x),
    "order_view": lambda store, x: order_view(x),
    "JsonLinesOutbox": lambda store, x: JsonLinesOutbox(x),
}


HOST_CALLBACKS = {"update(fn)", "rollover(progress)"}
CORE_CALLS = {"update(tier)", "update_order(session)"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def hostile_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """One store per backend for the whole module, holding a plan and a purchased order."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'store.db'}"
    else:
        url = postgres_schema_url(request.getfixturevalue("postgres_database"))
    store = Store(url)
    store.from_representative(
        ORG, units=4, sales_reference="SO-1", email="b@example.com", clock=CLOCK, order_id="co-1"
    )
    yield store
    store.close()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_s6_no_store_entry_point_lets_a_raw_exception_out(hostile_store: Store, data: Any) -> None:
    """S6: every public Store method and function, given a hostile value for one argument
    (wrong types, NaN, huge numbers, NUL text, 5,000-deep nesting, objects whose every method
    raises), returns or raises a coded `SupportFlowsError`: never a TypeError, RecursionError,
    OverflowError or driver exception."""
    for entry, call in ENTRY_POINTS.items():
        value = data.draw(VALUES, label=entry)
        if entry in HOST_CALLBACKS and callable(value):
            continue  # the host's own function: what it raises reaches the host unchanged (S4)
        if entry in CORE_CALLS and isinstance(value, Hostile | HostileStr | dt.datetime):
            continue  # the machines' own checks, inside the host's function: not the store's
        if entry == "rollover(url, workers)" and type(value) is int and value > 1:
            continue  # worker processes take seconds to start; test_store_rollover runs them
        with contextlib.suppress(sf.SupportFlowsError):
            call(hostile_store, value)
