"""verify.paths(machine): shortest call sequences that together take every edge, as data; each
replayed here with the public API only, every step taking exactly the edges it names."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows import verify
from support_flows.machines.case_chart import COMPILED as CASE_CHART
from support_flows.machines.consulting_chart import COMPILED as ORDER_CHART
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.values.policy import ATLAS_POLICY

CHARTS = {"plan": PLAN_CHART, "case": CASE_CHART, "consulting": ORDER_CHART}
ACTIONS = {
    "checkout": "start_checkout",
    "schedule": "schedule",
    "cancel_session": "cancel_session",
    "deliver": "deliver",
    "expire": "expire",
}


@pytest.fixture(scope="module", params=sorted(CHARTS))
def machine(request: pytest.FixtureRequest) -> tuple[str, list[verify.Path]]:
    return request.param, verify.paths(request.param)


def _edges(machine: str) -> list[str]:
    return [
        f"{e.event}: {e.source} -> {e.target}" for e in CHARTS[machine].edges_under(ATLAS_POLICY)
    ]


def _member(data: dict[str, Any] | None) -> sf.Member | None:
    if data is None:
        return None
    return sf.Member(
        data["id"],
        org_roles=set(data["org_roles"]),
        project_roles={p: set(r) for p, r in data["project_roles"].items()},
        email=data.get("email"),
    )


def _org(path: verify.Path) -> sf.Organization:
    org = path.setup.org
    return sf.Organization(
        org["org_id"],
        projects=tuple(org["projects"]),
        billing_timezone=path.setup.zone,
        cross_org_billing=org.get("cross_org_billing", False),
    )


def test_paths_take_every_edge_once(machine: tuple[str, list[verify.Path]]) -> None:
    """One path per edge, in the chart's order, for every edge: each chart declares only edges
    a request can take (F5/F6: the consulting chart has no cancel_session: scheduled ->
    expired)."""
    name, found = machine
    assert [p.edge for p in found] == _edges(name)
    for path in found:
        assert path.edge in path.steps[-1].takes


def test_paths_are_json_data(machine: tuple[str, list[verify.Path]]) -> None:
    """A path is plain data a host test can store and replay."""
    for path in machine[1]:
        data = path.to_dict()
        assert json.loads(json.dumps(data)) == data
        assert data["edge"] == path.edge


def _replay_plan(path: verify.Path) -> None:
    clock = sf.FrozenClock(pendulum.parse(path.setup.start))
    plan = sf.SupportPlan(_org(path), clock=clock)
    for step in path.steps:
        before = len(plan.history)
        clock.set(pendulum.parse(step.at))
        actor = _member(step.args.get("actor"))
        if step.call == "change":
            plan.change(step.args["tier"], actor=actor)  # type: ignore[arg-type]
        elif step.call in ("cancel", "revoke_pending"):
            getattr(plan, step.call)(actor=actor)
        else:
            plan.apply_due()
        taken = [f"{e.event}: {e.source.value} -> {e.target.value}" for e in plan.history[before:]]
        assert tuple(taken) == step.takes, f"{step.describe()} took {taken}"


def _replay_order(path: verify.Path) -> None:
    options = path.setup.options
    clock = sf.FrozenClock(pendulum.parse(path.setup.start))
    outbox = sf.InMemoryOutbox()
    terms = {
        "units": options["units"],
        "clock": clock,
        "outbox": outbox,
        "hours_per_unit": options["hours_per_unit"],
        "validity_months": options["validity_months"],
        "order_id": options["order_id"],
    }
    order: sf.ConsultingOrder | None = None
    for step in path.steps:
        before, state = (0, "new") if order is None else (len(order.history), order.state)
        clock.set(pendulum.parse(step.at))
        a = step.args
        if step.call == "start_checkout":
            order = sf.ConsultingOrder.start_checkout(
                _org(path),
                actor=_member(a["actor"]),  # type: ignore[arg-type]
                **terms,
            )
            assert order.state == "checkout"
            continue
        if step.call == "from_representative":
            order = sf.ConsultingOrder.from_representative(
                _org(path), sales_reference=a["sales_reference"], email="b@example.com", **terms
            )
            assert order.state == "purchased"
            continue
        assert order is not None
        if step.call == "confirm":
            order.confirm()
        elif step.call == "schedule":
            start = pendulum.parse(a["start"])
            order.schedule(start=start, hours=a["hours"], actor=_member(a["actor"]))  # type: ignore[arg-type]
        elif step.call == "apply_due":
            order.apply_due()
        else:
            getattr(order, step.call)(a["session_id"], actor=_member(a["actor"]))
        actions = [e.action.value for e in order.history[before:]]
        events = [t.split(":")[0] for t in step.takes]
        assert [ACTIONS.get(a, "confirm") for a in actions] == events, step.describe()
        if step.takes:
            assert step.takes[0].split(": ")[1].split(" -> ")[0] == state
            assert order.state == step.takes[-1].split(" -> ")[1]


def _replay_case(path: verify.Path) -> None:
    options = path.setup.options
    clock = sf.FrozenClock(pendulum.parse(path.setup.start))
    member = _member(options["member"])
    assert member is not None
    flow = sf.CaseFlow(_org(path), options["plan_state"], member, clock=clock)
    for step in path.steps:
        before = flow.state
        name = step.call.removeprefix("CaseFlow.")
        getattr(flow, name)(**step.args)
        for take in step.takes:
            assert take == f"{name}: {before} -> {flow.state}"


REPLAY = {"plan": _replay_plan, "consulting": _replay_order, "case": _replay_case}


def test_every_path_replays_through_the_public_api(
    machine: tuple[str, list[verify.Path]],
) -> None:
    """Each path, replayed on a real object, takes at each step exactly the edges it names."""
    name, found = machine
    for path in found:
        REPLAY[name](path)
