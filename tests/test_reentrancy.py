"""Calls into an object from inside its own calls (RULES.md V7), and the purchase e-mail sent once
the purchase is complete (F3).

Each object (`SupportPlan`, `ConsultingOrder`, `CaseFlow`) refuses a call made from inside one of
its own calls on the same thread (from its clock, its outbox, its case id factory, its plan
state) with `reentrant_call`, before the inner call reads or changes anything; the outer call
then goes on as if the inner one had not been made. Reads are calls too (they apply what has
come due, T7). Other threads still wait their turn (V6).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pendulum
import pytest

import support_flows as sf

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ENGINES = ["table", "statechart"]


class Attempts:
    """Inner calls a callback made, and what each gave: a refusal's (code, rule), or "accepted"."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str] | str] = []

    def make(self, call: Callable[[], Any]) -> None:
        try:
            call()
        except sf.SupportFlowsError as error:
            self.seen.append((error.code, error.rule))
        else:
            self.seen.append("accepted")


REFUSED = ("reentrant_call", "V7")


class ConfirmingOutbox:
    """An outbox whose send() confirms the order it is sending for, then queues the email;
    `propagate` lets the inner call's error through instead of catching it."""

    def __init__(self, *, propagate: bool = False) -> None:
        self.order: sf.ConsultingOrder | None = None
        self.sent: list[sf.Email] = []
        self.attempts = Attempts()
        self.propagate = propagate

    def send(self, email: sf.Email) -> None:
        if self.order is not None:
            if self.propagate:
                self.order.confirm()
            self.attempts.make(self.order.confirm)
            self.attempts.make(lambda: self.order.state if self.order else None)
        self.sent.append(email)


def checkout(outbox: Any, engine: str = "table", clock: Any = None) -> sf.ConsultingOrder:
    return sf.ConsultingOrder.start_checkout(
        ORG,
        units=3,
        actor=OWNER,
        clock=clock or sf.FrozenClock(START),
        outbox=outbox,
        validity_months=12,
        engine=engine,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_v7_f3_an_outbox_confirming_the_same_order_gets_one_purchase_and_one_email(
    engine: str,
) -> None:
    """V7/F3: send() confirming (and reading) the order it sends for is refused reentrant_call;
    the outer confirm completes: one purchase in the history, one email (it was 124 of each)."""
    outbox = ConfirmingOutbox()
    order = checkout(outbox, engine)
    outbox.order = order
    order.confirm()
    assert outbox.attempts.seen == [REFUSED, REFUSED]
    assert len(outbox.sent) == 1
    assert order.state == "purchased"
    assert [e.action.value for e in order.history] == ["checkout", "purchase"]
    order.confirm()
    assert (len(outbox.sent), len(order.history)) == (1, 2)


@pytest.mark.parametrize("engine", ENGINES)
def test_v7_f3_an_outbox_letting_the_refusal_through_fails_the_delivery_and_nothing_changes(
    engine: str,
) -> None:
    """V7/F3/S3: when send() lets the inner refusal propagate, the delivery failed: the outer
    confirm raises that reentrant_call refusal, the order stays in checkout with nothing sent,
    and a later confirm with a working outbox sends the one email."""
    outbox = ConfirmingOutbox(propagate=True)
    order = checkout(outbox, engine)
    outbox.order = order
    before = order.snapshot()
    with pytest.raises(sf.Refused) as error:
        order.confirm()
    assert (error.value.code, error.value.rule) == REFUSED
    assert sf.http_status(error.value) == 409
    assert order.snapshot() == before
    assert outbox.sent == []
    outbox.propagate = False
    order.confirm()
    assert (order.state, len(outbox.sent)) == ("purchased", 1)
    assert [e.action.value for e in order.history] == ["checkout", "purchase"]


@pytest.mark.parametrize("engine", ENGINES)
def test_f3_the_email_is_queued_once_the_order_is_purchased(engine: str) -> None:
    """F3: when the outbox receives the email the purchase is complete: the order's repr (which
    takes no lock, V7) already says purchased, with its expiry set."""
    seen: list[str] = []

    class Watching:
        order: sf.ConsultingOrder | None = None

        def send(self, email: sf.Email) -> None:
            seen.append(repr(self.order))

    outbox = Watching()
    order = checkout(outbox, engine)
    outbox.order = order
    order.confirm()
    assert len(seen) == 1
    assert "state='purchased'" in seen[0]
    assert order.history[-1].action.value == "purchase"


class CallingClock:
    """A clock whose now() first makes `inner` (a call into the object it is the clock of)."""

    def __init__(self, at: pendulum.DateTime, *, propagate: bool = False) -> None:
        self.at = at
        self.inner: Callable[[], Any] | None = None
        self.attempts = Attempts()
        self.propagate = propagate

    def now(self) -> pendulum.DateTime:
        inner, self.inner = self.inner, None  # one attempt per armed call
        if inner is not None:
            if self.propagate:
                inner()
            self.attempts.make(inner)
        return self.at


@pytest.mark.parametrize("engine", ENGINES)
def test_v7_a_clock_whose_now_calls_into_the_plan_is_refused_and_the_call_completes(
    engine: str,
) -> None:
    """V7: a plan clock whose now() reads the plan, checks it or changes it gets reentrant_call
    each time (it was endless recursion); the outer change then completes unchanged by them."""
    clock = CallingClock(START)
    plan = sf.SupportPlan(ORG, clock=clock, engine=engine)
    inner: list[Callable[[], Any]] = [
        lambda: plan.state,
        lambda: plan.check("change", actor=OWNER, tier="premium"),
        lambda: plan.change("premium", actor=OWNER),
        lambda: plan.snapshot(),
    ]
    for call in inner:
        clock.inner = call
        plan.check("cancel", actor=OWNER)
    assert clock.attempts.seen == [REFUSED] * len(inner)
    clock.inner = lambda: plan.change("premium", actor=OWNER)
    entry = plan.change("developer", actor=OWNER)
    assert clock.attempts.seen[-1] == REFUSED
    assert (entry.target, plan.state) == ("trial", "trial")
    assert [e.event for e in plan.history] == ["subscribe"]


def test_v7_a_plan_clock_letting_the_refusal_through_changes_nothing() -> None:
    """V7: when the clock lets the inner refusal propagate, the outer call raises it and the plan
    is unchanged."""
    clock = CallingClock(START, propagate=True)
    plan = sf.SupportPlan(ORG, clock=clock)
    before = plan.snapshot()
    clock.inner = lambda: plan.cancel(actor=OWNER)
    with pytest.raises(sf.Refused) as error:
        plan.change("developer", actor=OWNER)
    assert (error.value.code, error.value.rule) == REFUSED
    assert plan.snapshot() == before


@pytest.mark.parametrize("engine", ENGINES)
def test_v7_an_order_clock_calling_into_the_order_is_refused(engine: str) -> None:
    """V7: an order clock whose now() applies what is due or books a session on the same order
    is refused; the outer booking completes, one session booked."""
    clock = CallingClock(START)
    order = checkout(sf.InMemoryOutbox(), engine, clock)
    order.confirm()
    start = START.add(days=1)
    clock.inner = lambda: order.schedule(start=start, hours=1, actor=OWNER)
    session = order.schedule(start=start, hours=1, actor=OWNER)
    clock.inner = order.apply_due
    assert order.units.scheduled == 1
    assert clock.attempts.seen == [REFUSED, REFUSED]
    assert [s.session_id for s in order.sessions] == [session.session_id]


@pytest.mark.parametrize("engine", ENGINES)
def test_v7_a_case_id_factory_calling_into_its_flow_is_refused(engine: str) -> None:
    """V7: a case id factory that reads or submits the flow it was given to gets reentrant_call;
    the outer submit opens the one case."""
    attempts = Attempts()
    flow: sf.CaseFlow

    def new_id() -> str:
        attempts.make(lambda: flow.state)
        attempts.make(lambda: flow.submit(title="again"))
        return "case-1"

    flow = sf.CaseFlow(
        ORG, "developer", DEV, clock=sf.FrozenClock(START), case_id=new_id, engine=engine
    )
    flow.choose_organization()
    flow.choose_project("p-1")
    flow.open_project_support()
    case = flow.submit(title="Slow queries")
    assert attempts.seen == [REFUSED, REFUSED]
    assert (case.case_id, flow.state, flow.case) == ("case-1", "submitted", case)


def test_v7_a_flow_clock_and_plan_state_calling_into_the_flow_are_refused() -> None:
    """V7: a flow clock whose now() submits the flow, and a plan whose .state reads the flow, are
    refused reentrant_call (the clock was endless recursion); the steps complete."""
    clock = CallingClock(START)
    attempts = Attempts()
    flow: sf.CaseFlow

    class Plan:
        armed = False

        @property
        def state(self) -> str:
            if self.armed:
                attempts.make(lambda: flow.scope)
            return "premium"

    plan = Plan()
    flow = sf.CaseFlow(ORG, plan, DEV, clock=clock)
    plan.armed = True
    flow.choose_organization()
    flow.choose_project("p-1")
    flow.open_project_support()
    clock.inner = lambda: flow.submit(title="from the clock")
    case = flow.submit(title="Slow queries")
    assert clock.attempts.seen == [REFUSED]
    assert attempts.seen == [REFUSED] * 4  # the plan state each step read
    assert case.title == "Slow queries"


def test_v7_v6_another_thread_waits_its_turn_instead_of_being_refused() -> None:
    """V6/V7: a call from another thread, started inside the outbox's send(), is not refused: it
    waits for the confirm to complete and sees the purchased order."""
    results: list[object] = []
    threads: list[threading.Thread] = []

    class Spawning:
        order: sf.ConsultingOrder | None = None

        def send(self, email: sf.Email) -> None:
            def read() -> None:
                try:
                    results.append(self.order.state if self.order else None)
                except sf.SupportFlowsError as error:
                    results.append(error.code)

            threads.append(threading.Thread(target=read))
            threads[-1].start()

    outbox = Spawning()
    order = checkout(outbox)
    outbox.order = order
    order.confirm()
    threads[0].join(30)
    assert results == ["purchased"]
