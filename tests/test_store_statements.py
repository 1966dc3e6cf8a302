"""What the store sends per request (S1, S2, S4): a command is one transaction of one SELECT
(the row and its idempotency key together), the row's UPDATE, the audit INSERT and the key's
INSERT; a read is one SELECT outside any transaction; SQLite's write lock is taken with no
pragma around it. Read from SQLite's own trace of every statement its connections run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

pytest.register_assert_rewrite("store_helpers")

from store_helpers import ORG, OWNER, START  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import Store  # noqa: E402
from support_flows.store.database import Database  # noqa: E402


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, list[str]]]:
    """A store on a SQLite file whose every connection reports each statement it runs."""
    sent: list[str] = []
    made = Database.__init__

    def tracing(self: Database, url: object) -> None:
        made(self, url)
        for engine in {self.engine, self.reader}:

            @event.listens_for(engine, "connect")
            def _trace(dbapi: Any, _record: Any) -> None:
                dbapi.set_trace_callback(lambda sql: sent.append(" ".join(sql.split())))

    monkeypatch.setattr(Database, "__init__", tracing)
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store, sent
    store.close()


def verbs(sent: list[str]) -> list[str]:
    return [" ".join(sql.split()[:2]) for sql in sent]


def premium(plan: sf.SupportPlan) -> object:
    return plan.change("premium", actor=OWNER)


def test_s2_a_command_with_a_key_sends_one_select_and_three_writes(
    traced: tuple[Store, list[str]],
) -> None:
    """S1/S2/S4: `store.update` with a key on a stored plan: BEGIN IMMEDIATE, one SELECT that
    reads the row and the key, UPDATE, audit INSERT, key INSERT, COMMIT; no PRAGMA."""
    store, sent = traced
    clock = sf.FrozenClock(START)
    store.save(sf.SupportPlan(ORG, clock=clock))
    sent.clear()
    store.update(ORG, premium, clock=clock, idempotency_key="k-1")
    assert verbs(sent) == [
        "BEGIN IMMEDIATE",
        "SELECT sf_plans.revision,",
        "UPDATE sf_plans",
        "INSERT INTO",
        "INSERT INTO",
        "COMMIT",
    ]
    assert "sf_idempotency" in sent[1]
    assert ["sf_audit" in sent[3], "sf_idempotency" in sent[4]] == [True, True]


def test_s2_a_replayed_key_is_answered_by_the_same_one_select(
    traced: tuple[Store, list[str]],
) -> None:
    """S2: replaying a key reads the row and the key's first outcome in one SELECT and writes
    nothing."""
    store, sent = traced
    clock = sf.FrozenClock(START)
    store.save(sf.SupportPlan(ORG, clock=clock))
    first = store.update(ORG, premium, clock=clock, idempotency_key="k-1")
    sent.clear()
    again = store.update(ORG, premium, clock=clock, idempotency_key="k-1")
    assert (again.result, again.replayed) == (first.result, True)
    assert verbs(sent) == ["BEGIN IMMEDIATE", "SELECT sf_plans.revision,", "COMMIT"]


def test_s1_a_read_is_one_select_outside_any_transaction(
    traced: tuple[Store, list[str]],
) -> None:
    """`store.plan(org)` and `store.order(...)` each send one SELECT, with no BEGIN or COMMIT."""
    store, sent = traced
    clock = sf.FrozenClock(START)
    store.save(sf.SupportPlan(ORG, clock=clock))
    store.from_representative(
        ORG, units=1, sales_reference="SO-1", email="b@example.com", clock=clock, order_id="co-1"
    )
    sent.clear()
    store.plan(ORG, clock=clock)
    store.order("co-1", ORG, clock=clock)
    assert verbs(sent) == ["SELECT sf_plans.revision,", "SELECT sf_orders.revision,"]
