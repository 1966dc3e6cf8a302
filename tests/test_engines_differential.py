"""The compiled table and python-statemachine's own engine run the same declaration: random
event sequences through both give identical states, records, refusals and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pendulum
from hypothesis import given
from hypothesis import strategies as st

import support_flows as sf
from support_flows.machines.case import CaseFlow

OWNER = sf.Member("owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
ADMIN = sf.Member("admin", org_roles={sf.Role.ORG_BILLING_ADMIN}, email="admin@example.com")
READER = sf.Member("reader", org_roles={sf.Role.ORG_READ_ONLY}, email="reader@example.com")
DEV = sf.Member("dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})
STRANGER = sf.Member("stranger", project_roles={"elsewhere": {sf.Role.PROJECT_OWNER}})
ZONES = ("UTC", "Pacific/Auckland", "Pacific/Kiritimati", "America/St_Johns", "Europe/Berlin")
STARTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),
    max_value=dt.datetime(2030, 12, 31),
    timezones=st.just(dt.UTC),
)
MOVES = st.sampled_from(
    [{"minutes": 30}, {"hours": 20}, {"days": 3}, {"days": 17}, {"days": 31}, {"days": 95}]
)


def outcome(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """What a call gave: its result, or the coded error it raised (code, rule and message)."""
    try:
        return ("ok", call(*args, **kwargs))
    except sf.SupportFlowsError as error:
        return (type(error).__name__, [(str(r), r.rule, r.message) for r in error.reasons])


plan_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("change"),
            st.sampled_from((OWNER, ADMIN, READER)),
            st.sampled_from(("developer", "premium", "basic", "enterprise")),
        ),
        st.tuples(st.just("cancel"), st.sampled_from((OWNER, READER)), st.none()),
        st.tuples(st.just("revoke_pending"), st.sampled_from((OWNER, READER)), st.none()),
        st.tuples(st.just("move"), st.none(), MOVES),
        st.tuples(st.just("apply_due"), st.none(), st.none()),
    ),
    max_size=25,
)


@given(tz=st.sampled_from(ZONES), start=STARTS, cross_org=st.booleans(), steps=plan_steps)
def test_plan_engines_agree(
    tz: str, start: dt.datetime, cross_org: bool, steps: list[tuple[str, Any, Any]]
) -> None:
    """Plans on the table and on python-statemachine answer every step alike (P, V3)."""
    org = sf.Organization("org-1", billing_timezone=tz, cross_org_billing=cross_org)
    clocks = [sf.FrozenClock(start), sf.FrozenClock(start)]
    plans = [
        sf.SupportPlan(org, clock=clocks[0], engine="table"),
        sf.SupportPlan(org, clock=clocks[1], engine="statechart"),
    ]
    for kind, actor, arg in steps:
        results = []
        for plan, clock in zip(plans, clocks, strict=True):
            if kind == "move":
                clock.advance(**arg)
                results.append(outcome(getattr, plan, "state"))
            elif kind == "apply_due":
                results.append(outcome(plan.apply_due))
            elif kind == "change":
                results.append(outcome(plan.change, arg, actor=actor))
                results.append(outcome(plan.check, "change", actor=actor, tier=arg))
            else:
                results.append(outcome(getattr(plan, kind), actor=actor))
        half = len(results) // 2
        assert results[:half] == results[half:]
        assert plans[0].snapshot() == plans[1].snapshot()


order_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("schedule"),
            st.sampled_from((OWNER, DEV, STRANGER)),
            st.tuples(st.integers(-2, 40), st.integers(1, 5)),
        ),
        st.tuples(
            st.sampled_from(("cancel_session", "deliver")),
            st.sampled_from((None, OWNER, STRANGER)),
            st.sampled_from(("s-1", "s-2", "s-3", "s-9")),
        ),
        st.tuples(st.just("move"), st.none(), MOVES),
        st.tuples(st.just("confirm"), st.none(), st.none()),
    ),
    max_size=25,
)


@given(
    tz=st.sampled_from(ZONES),
    start=STARTS,
    units=st.integers(1, 6),
    hours_per_unit=st.sampled_from((1, 2)),
    validity=st.sampled_from((None, 1, 2)),
    representative=st.booleans(),
    steps=order_steps,
)
def test_order_engines_agree(
    tz: str,
    start: dt.datetime,
    units: int,
    hours_per_unit: int,
    validity: int | None,
    representative: bool,
    steps: list[tuple[str, Any, Any]],
) -> None:
    """Orders on the table and on python-statemachine answer every step alike (F, V3)."""
    org = sf.Organization("org-1", projects=("p-1",), billing_timezone=tz)
    clocks = [sf.FrozenClock(start), sf.FrozenClock(start)]
    outboxes = [sf.InMemoryOutbox(), sf.InMemoryOutbox()]
    orders = []
    for engine, clock, outbox in zip(("table", "statechart"), clocks, outboxes, strict=True):
        terms: dict[str, Any] = {
            "units": units,
            "clock": clock,
            "outbox": outbox,
            "hours_per_unit": hours_per_unit,
            "validity_months": validity,
            "order_id": "co-1",
            "engine": engine,
        }
        if representative:
            orders.append(
                sf.ConsultingOrder.from_representative(
                    org, sales_reference="SO-1", email="b@example.com", **terms
                )
            )
        else:
            orders.append(sf.ConsultingOrder.start_checkout(org, actor=OWNER, **terms))
    for kind, actor, arg in steps:
        results = []
        for order, clock in zip(orders, clocks, strict=True):
            if kind == "move":
                clock.advance(**arg)
                results.append(outcome(getattr, order, "state"))
            elif kind == "confirm":
                results.append(outcome(order.confirm))
            elif kind == "schedule":
                days, hours = arg
                begins = clock.now().add(days=days)
                results.append(outcome(order.schedule, start=begins, hours=hours, actor=actor))
            else:
                results.append(outcome(getattr(order, kind), arg, actor=actor))
        assert results[0] == results[1]
        assert orders[0].snapshot() == orders[1].snapshot()
    assert outboxes[0].sent == outboxes[1].sent


case_steps = st.lists(
    st.sampled_from(
        [
            ("choose_organization", None),
            ("open_organization_support", None),
            ("choose_project", "p-1"),
            ("choose_project", "p-9"),
            ("open_project_support", None),
            ("submit", None),
        ]
    ),
    max_size=8,
)


@given(
    plan_state=st.sampled_from(list(sf.PlanState)),
    member=st.sampled_from((OWNER, DEV, READER, STRANGER)),
    with_projects=st.booleans(),
    steps=case_steps,
)
def test_case_flow_engines_agree(
    plan_state: sf.PlanState,
    member: sf.Member,
    with_projects: bool,
    steps: list[tuple[str, str | None]],
) -> None:
    """Case flows on the table and on python-statemachine answer every step alike (C, V3)."""
    org = sf.Organization("org-1", projects=("p-1",) if with_projects else ())
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, tz="UTC"))
    flows = [
        CaseFlow(org, plan_state, member, clock=clock, case_id="c-1", engine=engine)
        for engine in ("table", "statechart")
    ]
    for event, argument in steps:
        results = []
        for flow in flows:
            if event == "choose_project":
                results.append(outcome(flow.choose_project, str(argument)))
            elif event == "submit":
                results.append(outcome(flow.submit, title="t"))
            else:
                results.append(outcome(getattr(flow, event)))
        assert results[0] == results[1]
        assert (flows[0].state, flows[0].project_id, flows[0].case) == (
            flows[1].state,
            flows[1].project_id,
            flows[1].case,
        )
