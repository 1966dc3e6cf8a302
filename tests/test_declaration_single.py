"""The chart is the one declaration: event names are spelled once (`support_flows.values.events`,
checked against the charts), a plan request's event is the chart's routing data, and F4's units
of a session come from one function."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import support_flows as sf
from support_flows.machines import consulting_book, plan_chart
from support_flows.machines.case import CaseFlow
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.values import PlanState, Tier
from support_flows.values.events import CaseEvent, ConsultingEvent, PlanEvent, PlanRequest

PACKAGE = Path(sf.__file__).parent
EVENTS = {name for names in (PlanEvent, ConsultingEvent, CaseEvent) for name in names.members}
METHODS = {
    name
    for cls in (SupportPlan, ConsultingOrder, CaseFlow)
    for name in dir(cls)
    if not name.startswith("_")
}
INDEPENDENT = {"values/events.py", "verify/reference/plan.py", "verify/reference/case.py"}
INDEPENDENT |= {"verify/reference/consulting.py"}
"""The names' one declaration, and the reference models, written from RULES.md on purpose."""


def _literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every event name spelled as a string outside a record vocabulary (an
    enum class such as `OrderAction`, whose values a snapshot stores) and a public call's name."""
    tree = ast.parse(path.read_text())
    vocabulary = {
        id(node)
        for cls in ast.walk(tree)
        if isinstance(cls, ast.ClassDef)
        and any(isinstance(b, ast.Attribute) and b.attr == "StrEnum" for b in cls.bases)
        for node in ast.walk(cls)
    }
    # A public call's own name, as listeners are told it (`self._call("confirm", ...)`), names
    # the method, not the chart's event.
    call_names = {
        id(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_call"
        and node.args
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in EVENTS
        and id(node) not in vocabulary | call_names
    ]


def test_no_core_module_spells_an_event_name() -> None:
    """The charts, their models, guards, replays and records name events only through
    `support_flows.values.events`, so a renamed event breaks at import, not silently."""
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for folder in ("machines", "guards")
        for path in sorted((PACKAGE / folder).glob("*.py"))
        for line, text in _literals(path)
    ]
    assert found == []


def test_no_module_spells_an_event_name_except_as_a_method() -> None:
    """Elsewhere in the package (timeline, explain, CLI, verifier, store, testing kit) an event
    name is spelled only where it names a public method of a plan, order or case flow that
    shares it (a step calling `order.confirm`), never as the chart's event."""
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text!r}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).as_posix() not in INDEPENDENT
        for line, text in _literals(path)
        if text not in METHODS
    ]
    assert found == []


@pytest.mark.parametrize(
    ("state", "asked", "tier", "event"),
    [
        (PlanState.BASIC, PlanRequest.CHANGE, Tier.DEVELOPER, PlanEvent.SUBSCRIBE),  # P4
        (PlanState.BASIC, PlanRequest.CHANGE, Tier.PREMIUM, PlanEvent.SUBSCRIBE),  # P5
        (PlanState.BASIC, PlanRequest.CHANGE, Tier.ENTERPRISE, PlanEvent.SUBSCRIBE),  # P2
        (PlanState.BASIC, PlanRequest.CANCEL, Tier.BASIC, PlanEvent.CANCEL),  # P13
        (PlanState.TRIAL, PlanRequest.CHANGE, Tier.PREMIUM, PlanEvent.UPGRADE),  # P8
        (PlanState.TRIAL, PlanRequest.CHANGE, Tier.DEVELOPER, PlanEvent.REVOKE),  # P11
        (PlanState.TRIAL, PlanRequest.CHANGE, Tier.BASIC, PlanEvent.CANCEL),  # P7
        (PlanState.DEVELOPER, PlanRequest.CHANGE, Tier.PREMIUM, PlanEvent.UPGRADE),  # P8
        (PlanState.PREMIUM, PlanRequest.CHANGE, Tier.DEVELOPER, PlanEvent.DOWNGRADE),  # P9
        (PlanState.PREMIUM, PlanRequest.CHANGE, Tier.PREMIUM, PlanEvent.REVOKE),  # P11
        (PlanState.PREMIUM, PlanRequest.CHANGE, Tier.ENTERPRISE, PlanEvent.UPGRADE),  # P2
        (PlanState.PREMIUM, PlanRequest.REVOKE_PENDING, None, PlanEvent.REVOKE),  # P12
        (PlanState.CANCELLED, PlanRequest.CHANGE, Tier.DEVELOPER, PlanEvent.REACTIVATE),  # P15
        (PlanState.CANCELLED, PlanRequest.CHANGE, Tier.PREMIUM, PlanEvent.REACTIVATE),  # P15
        (PlanState.CANCELLED, PlanRequest.CANCEL, Tier.BASIC, PlanEvent.CANCEL),  # P13
    ],
)
def test_plan_requests_route_by_the_chart(
    state: PlanState, asked: str, tier: Tier | None, event: str
) -> None:
    """P4, P8, P9, P11-P13, P15: the event a request means is read from the plan chart's routes
    (the first route answering it with an edge from the state)."""
    routed = plan_chart.COMPILED.route(state, asked, tier)
    assert routed == event
    assert type(routed) is str


def test_units_for_is_the_one_computation_of_f4() -> None:
    """F4: the guard, the order's book and the V2 session check compute a session's units with
    `units_for`, and none of them divides hours by the hours per unit itself."""
    from support_flows.guards import consulting
    from support_flows.snapshots import consulting as consulting_records
    from support_flows.values import consulting as consulting_values

    assert consulting_values.units_for(6, 2) == 3
    assert consulting_values.books_whole_units(6, 4) is False
    for module in (consulting, consulting_book, consulting_records):
        source = inspect.getsource(module)
        assert "// f.hours_per_unit" not in source
        assert "// self.terms.hours_per_unit" not in source
        assert "* r.hours_per_unit" not in source
    assert "units_for(" in inspect.getsource(consulting_book.OrderBook.book_session)
