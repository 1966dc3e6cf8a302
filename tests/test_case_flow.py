"""The case-creation flow step by step: the seed's navigation, out-of-order steps (V3)."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

import support_flows as sf
from support_flows.machines.case import CaseFlow, check_case, check_channel, open_case
from support_flows.machines.case_chart import COMPILED, CaseChart

ORG = sf.Organization("org-1", projects=("p-1", "p-2"))
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER})
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_CLUSTER_MANAGER}})
FROZEN = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))


@pytest.fixture
def clock() -> sf.FrozenClock:
    return sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))


def refused(step: Any, *args: Any, **kwargs: Any) -> sf.Refused:
    with pytest.raises(sf.Refused) as caught:
        step(*args, **kwargs)
    return caught.value


def test_c7_flow_opens_a_project_case_step_by_step(clock: sf.FrozenClock) -> None:
    """Choose the organization, choose a project, open Project Support, submit (C7)."""
    flow = CaseFlow(ORG, "developer", DEV, clock=clock, case_id="c-1")
    assert (flow.state, flow.scope) == ("start", None)
    flow.choose_organization()
    assert (flow.state, flow.scope) == ("organization_chosen", None)
    flow.choose_project("p-1")
    assert (flow.state, flow.scope, flow.project_id) == ("project_chosen", "project", "p-1")
    flow.open_project_support()
    case = flow.submit(title="Cluster down", severity=sf.Severity.S1)
    assert flow.state == "submitted"
    assert flow.case == case
    assert (case.case_id, case.scope, case.project_id, case.severity) == (
        "c-1",
        "project",
        "p-1",
        "S1",
    )


def test_c7_flow_opens_an_organization_case(clock: sf.FrozenClock) -> None:
    """Choose the organization, open its Support page, submit: an organization-level case."""
    flow = CaseFlow(ORG, "premium", OWNER, clock=clock)
    flow.choose_organization()
    flow.open_organization_support()
    assert flow.scope == "organization"
    case = flow.submit(title="Invoices")
    assert (case.scope, case.project_id, case.requester) == ("organization", None, "u-owner")


@pytest.mark.parametrize(
    ("steps", "event"),
    [
        ((), "submit"),
        (("choose_organization",), "submit"),
        ((), "open_organization_support"),
        (("choose_organization",), "open_project_support"),
        (("choose_organization", "open_organization_support"), "open_project_support"),
        (("choose_organization",), "choose_organization"),
    ],
)
def test_v3_out_of_order_steps_are_refused(
    steps: tuple[str, ...], event: str, clock: sf.FrozenClock
) -> None:
    """A step the current page has no transition for: event_not_allowed (V3), state unchanged."""
    flow = CaseFlow(ORG, "premium", OWNER, clock=clock)
    for step in steps:
        getattr(flow, step)()
    before = flow.state
    call = getattr(flow, event)
    error = refused(call, title="t") if event == "submit" else refused(call)
    assert (error.code, error.rule) == ("event_not_allowed", "V3")
    assert repr(event) in error.message
    assert flow.state == before
    assert flow.case is None


def test_v3_no_step_after_submitting(clock: sf.FrozenClock) -> None:
    """A submitted flow is final: submitting again is event_not_allowed (V3), one case only."""
    calls: list[str] = []

    def new_id() -> str:
        calls.append("id")
        return f"c-{len(calls)}"

    flow = CaseFlow(ORG, "premium", OWNER, clock=clock, case_id=new_id)
    flow.choose_organization()
    flow.open_organization_support()
    first = flow.submit(title="t")
    assert refused(flow.submit, title="t").code == "event_not_allowed"
    assert refused(flow.choose_project, "p-1").code == "event_not_allowed"
    assert flow.case == first
    assert calls == ["id"]


def test_v3_switching_path_after_choosing_a_project_is_refused(clock: sf.FrozenClock) -> None:
    """Once a project is chosen, the organization's Support page is not reachable (V3)."""
    flow = CaseFlow(ORG, "premium", OWNER, clock=clock)
    flow.choose_organization()
    flow.choose_project("p-2")
    assert refused(flow.open_organization_support).code == "event_not_allowed"
    assert refused(flow.choose_project, "p-1").code == "event_not_allowed"
    assert flow.project_id == "p-2"


def test_c5_choosing_a_project_outside_the_org_is_refused_at_that_step(
    clock: sf.FrozenClock,
) -> None:
    """Choosing an unknown project is refused by that step's own guard (C5), with check_case's
    message for it; the rest of C6's list comes at submit. State unchanged."""
    flow = CaseFlow(ORG, "basic", DEV, clock=clock)
    flow.choose_organization()
    error = refused(flow.choose_project, "p-9")
    expected = check_case(ORG, "basic", DEV, scope="project", project_id="p-9")
    assert error.reasons == expected.reasons[:1]
    assert [str(r) for r in error.reasons] == ["project_not_found"]
    assert error.reasons[0].message == expected.reasons[0].message
    assert (flow.state, flow.project_id) == ("organization_chosen", None)


def test_c6_refused_submit_changes_nothing(clock: sf.FrozenClock) -> None:
    """A refused submit lists every reason, leaves the flow where it was and issues no id."""
    calls: list[str] = []

    def new_id() -> str:
        calls.append("id")
        return "c"

    flow = CaseFlow(ORG, "cancelled", DEV, clock=clock, case_id=new_id)
    flow.choose_organization()
    flow.open_organization_support()
    error = refused(flow.submit, title="t")
    assert [str(r) for r in error.reasons] == ["org_owner_required", "plan_excludes_cases"]
    assert (flow.state, flow.case, calls) == ("organization_support", None, [])


def test_v1_flow_refuses_malformed_steps(clock: sf.FrozenClock) -> None:
    """Bad project id, title or severity in a step is InvalidInput (V1), state unchanged."""
    flow = CaseFlow(ORG, "premium", OWNER, clock=clock)
    flow.choose_organization()
    with pytest.raises(sf.InvalidInput, match="''"):
        flow.choose_project("")
    with pytest.raises(sf.InvalidInput, match="' p-1'"):
        flow.choose_project(" p-1")
    flow.open_organization_support()
    with pytest.raises(sf.InvalidInput, match="'urgent'"):
        flow.submit(title="t", severity="urgent")
    with pytest.raises(sf.InvalidInput, match="case_id"):
        CaseFlow(ORG, "premium", OWNER, clock=clock, case_id="")
    assert flow.state == "organization_support"


def test_c2_enabled_events_evaluate_the_guards(clock: sf.FrozenClock) -> None:
    """enabled_events runs the guards: a project outside the org or a plan without cases blocks."""
    flow = CaseFlow(ORG, "basic", OWNER, clock=clock)
    flow.choose_organization()
    assert set(flow.enabled_events("p-1")) == {"open_organization_support", "choose_project"}
    assert flow.enabled_events("p-9") == ["open_organization_support"]
    flow.open_organization_support()
    assert flow.enabled_events() == []
    paid = CaseFlow(ORG, "premium", OWNER, clock=clock)
    paid.choose_organization()
    paid.open_organization_support()
    assert paid.enabled_events() == ["submit"]


@pytest.mark.structure
def test_chart_carries_each_guard_on_its_transition() -> None:
    """The chart's edges carry the registered checks, in C6 order on submit (C1-C6)."""
    assert COMPILED.transitions_table() == [
        ("choose_organization", "start", "organization_chosen", ()),
        ("open_organization_support", "organization_chosen", "organization_support", ()),
        ("choose_project", "organization_chosen", "project_chosen", ("project_not_found",)),
        (
            "submit",
            "organization_support",
            "submitted",
            ("org_owner_required", "org_has_no_projects", "plan_excludes_cases"),
        ),
        ("open_project_support", "project_chosen", "project_support", ()),
        (
            "submit",
            "project_support",
            "submitted",
            (
                "project_not_found",
                "project_role_required",
                "org_has_no_projects",
                "plan_excludes_cases",
            ),
        ),
    ]


def test_case_flow_runs_the_same_on_python_statemachine(clock: sf.FrozenClock) -> None:
    """The flow driven by python-statemachine's engine refuses and opens exactly as the table."""
    for engine in ("table", "statechart"):
        flow = CaseFlow(ORG, "cancelled", DEV, clock=clock, case_id="c-1", engine=engine)
        flow.choose_organization()
        assert refused(flow.choose_project, "p-9").code == "project_not_found"
        flow.choose_project("p-1")
        flow.open_project_support()
        assert [str(r) for r in refused(flow.submit, title="t").reasons] == ["plan_excludes_cases"]
        paid = CaseFlow(ORG, "premium", DEV, clock=clock, case_id="c-1", engine=engine)
        paid.choose_organization()
        paid.choose_project("p-1")
        paid.open_project_support()
        assert paid.submit(title="t").case_id == "c-1"


def test_c6_checks_never_build_a_chart(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_case, check_channel and open_case never build a python-statemachine chart."""

    def no_chart(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a check built a chart")

    monkeypatch.setattr(CaseChart, "__init__", no_chart)
    open_case(ORG, "premium", DEV, scope="project", project_id="p-1", title="t", clock=FROZEN)
    assert check_case(ORG, "premium", DEV, scope="project", project_id="p-1").allowed
    assert not check_case(ORG, "basic", DEV, scope="organization")
    assert check_channel(ORG, "basic", DEV, "chat")


def test_c2_flow_reads_the_plan_state_at_each_step(clock: sf.FrozenClock) -> None:
    """A flow given a SupportPlan sees the plan as it is when each step is taken."""
    plan = sf.SupportPlan(ORG, clock=clock)
    flow = CaseFlow(ORG, plan, OWNER, clock=clock)
    flow.choose_organization()
    flow.open_organization_support()
    assert refused(flow.submit, title="t").code == "plan_excludes_cases"
    plan.change("developer", actor=OWNER)
    assert flow.plan_state == "trial"
    assert flow.submit(title="t").scope == "organization"
