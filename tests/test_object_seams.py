"""The public seams of the objects hosts drive: listeners that see every step, and mementos to
rewind to (DESIGN.md: one base for SupportPlan, ConsultingOrder and CaseFlow)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.base_object import Listener

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OTHER = sf.Organization("org-2", projects=(sf.Project("p-1"),))
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")


class Log(Listener):
    """Writes down everything it is told, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def on_call(self, obj: Any, call: str, arguments: Mapping[str, Any]) -> None:
        self.seen.append(("call", call, dict(arguments)))

    def on_accepted(self, obj: Any, call: str, arguments: Mapping[str, Any], result: Any) -> None:
        self.seen.append(("accepted", call))

    def on_refused(
        self, obj: Any, call: str, arguments: Mapping[str, Any], error: sf.SupportFlowsError
    ) -> None:
        self.seen.append(("refused", call, error.code))

    def on_transition(self, obj: Any, event: str, source: str, target: str) -> None:
        self.seen.append(("took", event, source, target))


def test_v6_a_listener_hears_each_call_its_outcome_and_each_edge_in_order() -> None:
    """A plan's listener is told the call with its arguments, the edge it took, then the
    outcome; a refusal (P11's already_on_plan) takes no edge."""
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(START))
    log = Log()
    assert plan.listen(log) is plan
    assert plan.listeners == (log,)
    plan.change("premium", actor=OWNER)
    with pytest.raises(sf.Refused):
        plan.change("premium", actor=OWNER)
    assert log.seen == [
        ("call", "change", {"tier": "premium", "actor": OWNER}),
        ("took", "subscribe", "basic", "premium"),
        ("accepted", "change"),
        ("call", "change", {"tier": "premium", "actor": OWNER}),
        ("refused", "change", "already_on_plan"),
    ]


def test_t7_a_due_change_undone_with_its_refused_request_is_never_heard() -> None:
    """T7: a request applies what is due first; when the request is refused the whole step is
    undone, so the listener hears no edge for it, and hears it once a read applies it."""
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    plan.cancel(actor=OWNER)
    log = Log()
    plan.listen(log)
    clock.advance(days=40)
    with pytest.raises(sf.Refused):
        plan.change("developer", actor=DEV)
    assert [s for s in log.seen if s[0] == "took"] == []
    assert plan.state == "cancelled"
    assert log.seen[-1] == ("took", "apply_pending", "premium", "cancelled")


def test_v5_a_listener_refusing_a_call_changes_nothing() -> None:
    """An error raised by on_call refuses the call before it starts: the order is unchanged."""

    class Refuser(Listener):
        def on_call(self, obj: Any, call: str, arguments: Mapping[str, Any]) -> None:
            if call == "schedule":
                raise sf.Refused(sf.Violation(sf.Reason.EVENT_NOT_ALLOWED, "V3", "not today"))

    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=4,
        sales_reference="SO-1",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
    ).listen(Refuser())
    before = order.snapshot()
    with pytest.raises(sf.Refused, match="not today"):
        order.schedule(start=START.add(days=2), hours=1, actor=OWNER)
    assert order.snapshot() == before


def test_v5_listen_takes_only_a_listener() -> None:
    """listen(object()) is invalid_value (V5): a listener subclasses Listener."""
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(START))
    with pytest.raises(sf.InvalidInput) as refused:
        plan.listen(object())  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.rule) == ("invalid_value", "V5")


def test_a_plan_rewinds_to_its_memento_and_to_another_plan_of_its_organization() -> None:
    """rewind undoes every step since the memento; a plan of the same organization can take the
    memento's record; a plan of another organization cannot (V5)."""
    clock = sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    mark = plan.memento()
    assert mark.state == "basic"
    plan.change("premium", actor=OWNER)
    after = plan.memento()
    plan.rewind(mark)
    assert (plan.state, plan.history, plan.billing) == ("basic", (), ())
    twin = sf.SupportPlan(ORG, clock=clock)
    twin.rewind(after)
    plan.rewind(after)
    assert twin.snapshot() == plan.snapshot()
    with pytest.raises(sf.InvalidInput):
        sf.SupportPlan(OTHER, clock=clock).rewind(after)


def test_f5_an_order_rewinds_past_a_closed_session() -> None:
    """An order rewound to before a delivery has the session booked again (F5); another order
    cannot take its memento."""
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=4,
        sales_reference="SO-1",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
    )
    session = order.schedule(start=START.add(days=2), hours=1, actor=OWNER)
    mark = order.memento()
    before = order.snapshot()
    clock.advance(days=3)
    order.deliver(session.session_id)
    assert order.sessions[0].status == "delivered"
    order.rewind(mark)
    assert order.snapshot() == before
    other = sf.ConsultingOrder.from_representative(
        ORG,
        units=4,
        sales_reference="SO-2",
        email="b@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
    )
    with pytest.raises(sf.InvalidInput):
        other.rewind(mark)


def test_c5_a_case_flow_rewinds_to_a_draft_of_another_flow() -> None:
    """A flow's memento holds its whole draft: a flow of the same organization rewinds to it."""
    flow = sf.CaseFlow(ORG, "premium", DEV, clock=sf.FrozenClock(START))
    flow.choose_organization()
    flow.choose_project("p-1")
    other = sf.CaseFlow(ORG, "premium", DEV, clock=sf.FrozenClock(START))
    other.rewind(flow.memento())
    assert (other.state, other.project_id) == ("project_chosen", "p-1")
    assert other.memento() == flow.memento()
