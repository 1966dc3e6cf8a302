"""Properties: check_case answers exactly what open_case does, and refusals change nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import hypothesis
import pendulum
from hypothesis import given
from hypothesis import strategies as st

import support_flows as sf
from support_flows.machines.case import CaseFlow, check_case, open_case

POOL = ("p-1", "p-2", "p-3")
FOREIGN = "p-x"
ORG_ROLES = [r for r in sf.Role if r.is_org_role]
PROJECT_ROLES = [r for r in sf.Role if not r.is_org_role]
T = TypeVar("T")

organizations = st.lists(st.sampled_from(POOL), unique=True).map(
    lambda ids: sf.Organization("org-1", projects=ids)
)
members = st.builds(
    sf.Member,
    st.just("u-1"),
    org_roles=st.frozensets(st.sampled_from(ORG_ROLES), max_size=3),
    project_roles=st.dictionaries(
        st.sampled_from((*POOL, FOREIGN)),
        st.frozensets(st.sampled_from(PROJECT_ROLES), min_size=1, max_size=2),
        max_size=3,
    ),
)
plan_states = st.sampled_from([*sf.PlanState, *(s.value for s in sf.PlanState)])
targets = st.one_of(
    st.just(("organization", None)),
    st.tuples(st.just("project"), st.sampled_from((*POOL, FOREIGN))),
)
titles = st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and t.isprintable())
severities = st.sampled_from([*sf.Severity, "S1", "S4"])


def attempt(call: Callable[[], T]) -> T | sf.Refused:
    """What `call` returns, or the `Refused` it raises."""
    try:
        return call()
    except sf.Refused as error:
        return error


def start_clock(minutes: int) -> sf.FrozenClock:
    return sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC").add(minutes=minutes))


@given(
    organizations,
    plan_states,
    members,
    targets,
    titles,
    severities,
    st.integers(0, 10**6),
)
def test_c6_check_case_allows_exactly_what_open_case_opens(
    org: sf.Organization,
    plan_state: str,
    member: sf.Member,
    target: tuple[str, str | None],
    title: str,
    severity: str,
    minutes: int,
) -> None:
    """allowed iff open_case succeeds; a refusal has the same reasons and changes nothing."""
    scope, project_id = target
    clock = start_clock(minutes)
    now = clock.now()
    org_before, member_before = copy.deepcopy(org), copy.deepcopy(member)
    issued: list[str] = []

    def new_id() -> str:
        issued.append(f"c-{len(issued) + 1}")
        return issued[-1]

    decision = check_case(org, plan_state, member, scope=scope, project_id=project_id)
    case = attempt(
        lambda: open_case(
            org,
            plan_state,
            member,
            scope=scope,
            project_id=project_id,
            title=title,
            severity=severity,
            clock=clock,
            case_id=new_id,
        )
    )
    if isinstance(case, sf.Refused):
        assert not decision.allowed
        assert case.to_dict()["reasons"] == decision.to_dict()["reasons"]
        assert issued == []
    else:
        assert decision.allowed
        assert case.to_dict() == {
            "case_id": "c-1",
            "org_id": "org-1",
            "scope": scope,
            "project_id": project_id,
            "requester": "u-1",
            "opened_at": now.isoformat(),
            "title": title,
            "severity": str(severity),
        }
        assert issued == ["c-1"]
    assert clock.now() == now
    assert (org, member) == (org_before, member_before)


NEXT = {
    ("start", "choose_organization"): "organization_chosen",
    ("organization_chosen", "open_organization_support"): "organization_support",
    ("organization_chosen", "choose_project"): "project_chosen",
    ("project_chosen", "open_project_support"): "project_support",
    ("organization_support", "submit"): "submitted",
    ("project_support", "submit"): "submitted",
}
EVENTS = sorted({event for _, event in NEXT})


def next_step(state: str) -> st.SearchStrategy[tuple[str, str | None]]:
    """Mostly a step the model has from `state`, sometimes any step; projects from the pool."""
    following = sorted(event for source, event in NEXT if source == state) or EVENTS
    project = st.sampled_from((*POOL, FOREIGN))
    return st.sampled_from(following * 3 + EVENTS).flatmap(
        lambda name: st.tuples(st.just(name), project if name == "choose_project" else st.none())
    )


@given(
    organizations.filter(lambda org: org.projects),
    plan_states,
    members,
    st.integers(1, 10),
    st.data(),
)
def test_v3_flow_follows_the_navigation_model(
    org: sf.Organization, plan_state: str, member: sf.Member, length: int, data: st.DataObject
) -> None:
    """Any sequence of steps matches a dict model: out-of-order is V3, guarded steps answer as
    check_case does, and a refused step leaves the flow where it was."""
    flow = CaseFlow(org, plan_state, member, clock=start_clock(0))
    state, project_id = "start", None
    for _ in range(length):
        event, argument = data.draw(next_step(state))
        nxt = NEXT.get((state, event))
        chosen = argument if event == "choose_project" else project_id
        if event in ("choose_project", "submit") and nxt is not None:
            scope = "organization" if chosen is None else "project"
            decision = check_case(org, plan_state, member, scope=scope, project_id=chosen)
            if event == "choose_project":  # the step's own edge checks only that the project exists
                decision = sf.Decision(r for r in decision.reasons if r == "project_not_found")
            blocked = not decision.allowed
        else:
            decision, blocked = sf.Decision(), False
        step: Callable[[], object] = getattr(flow, event)
        if event == "choose_project":
            step = partial(flow.choose_project, str(argument))
        elif event == "submit":
            step = partial(flow.submit, title="t")
        outcome = attempt(step)
        if not isinstance(outcome, sf.Refused):
            assert nxt is not None
            assert not blocked
            state, project_id = nxt, chosen
        elif nxt is None:
            assert (outcome.code, outcome.rule) == ("event_not_allowed", "V3")
        else:
            assert blocked
            assert outcome.reasons == decision.reasons
        assert (flow.state, flow.project_id) == (state, project_id)
    assert (flow.case is not None) == (state == "submitted")
    hypothesis.event(f"ended in {state}")
