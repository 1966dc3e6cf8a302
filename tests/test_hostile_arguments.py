"""Arguments whose own methods raise, at every public entry point (RULES.md V1, V4, V5, T1).

An argument is checked by its exact type before it is used: a str subclass whose `__eq__` raises,
a frozenset subclass whose `__iter__` raises, a datetime whose tzinfo raises, an object whose
`__class__` lies to `isinstance` are each accepted (read through the built-in type) or refused
with a coded `SupportFlowsError` naming the value (`errors.describe`); the argument's own code
never reaches the caller (`Sabotage`), and a refused call changes nothing. The specimens are in
`hostile_objects.py`; the sweep at the end puts each of them in each argument of each entry point.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from hostile_objects import SPECIMENS, BrokenZone, Sabotage, hostile_class
from hypothesis import assume, event, given
from hypothesis import strategies as st

import support_flows as sf
from support_flows import bulk, diagrams, verify
from support_flows.errors import describe

START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
OWNER = sf.Member(
    "u-owner",
    org_roles={sf.Role.ORG_OWNER},
    project_roles={"p-1": {sf.Role.PROJECT_OWNER}},
    email="owner@example.com",
)

EqualityRaises = hostile_class(str, ("__eq__", "__ne__", "__hash__"))
LengthRaises = hostile_class(str, ("__len__", "__iter__", "strip", "isprintable"))
IterationRaises = hostile_class(frozenset, ("__iter__", "__len__", "__contains__"))
TruthRaises = hostile_class(object, ("__bool__", "__len__"))
ReprRaises = hostile_class(str, ("__repr__", "__str__", "__format__"))


class TzinfoRaises(dt.datetime):
    """A datetime whose `tzinfo` attribute raises when read."""

    @property  # type: ignore[override]
    def tzinfo(self) -> dt.tzinfo | None:
        raise Sabotage("tzinfo")


def premium_plan() -> sf.SupportPlan:
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(START))
    plan.change("premium", actor=OWNER)
    return plan


def refused(call: Callable[[], object], code: str, rule: str, value: object) -> None:
    """`call` raises the coded error `code` (`rule`) naming `value`."""
    with pytest.raises(sf.SupportFlowsError) as caught:
        call()
    assert (caught.value.code, caught.value.rule) == (code, rule), caught.value
    assert describe(value) in caught.value.message, caught.value.message


# -- the seven entry points, one by one -------------------------------------------------


@pytest.mark.parametrize("field", ["org_id", "billing_timezone"])
def test_v5_t2_organization_refuses_names_whose_eq_or_len_raise(field: str) -> None:
    """V5, T2: an org id or zone name whose own __eq__ or __len__ raises is refused, named."""
    for value in (EqualityRaises("org-1" if field == "org_id" else "UTC"), LengthRaises("UTC")):
        with pytest.raises(sf.InvalidInput) as caught:
            sf.Organization(**{"org_id": "org-1", field: value})
        assert describe(value) in caught.value.message


def test_v5_organization_refuses_projects_whose_iteration_raises() -> None:
    """V5: Organization(projects= a collection whose __iter__ raises) is invalid_value."""
    value = hostile_class(tuple, ("__iter__", "__len__", "__getitem__"))(("p-1",))
    refused(lambda: sf.Organization("org-1", projects=value), "invalid_value", "V5", value)


def test_v5_member_refuses_roles_whose_iteration_raises_and_an_email_whose_len_raises() -> None:
    """V5: Member roles whose iteration raises, an email whose __len__ raises: invalid_value."""
    roles = IterationRaises({"ORG_OWNER"})
    refused(lambda: sf.Member("u-1", org_roles=roles), "invalid_value", "V5", roles)
    mapping = hostile_class(dict, ("__iter__", "items", "keys", "get"))({"p-1": ["PROJECT_OWNER"]})
    refused(lambda: sf.Member("u-1", project_roles=mapping), "invalid_value", "V5", mapping)
    mail = LengthRaises("u@example.com")
    refused(lambda: sf.Member("u-1", email=mail), "invalid_value", "V5", mail)


def test_v1_plan_check_refuses_an_action_whose_eq_raises() -> None:
    """V1: plan.check(action= a str subclass "change" whose __eq__ raises) is invalid_value."""
    plan = premium_plan()
    before = plan.snapshot()
    action = EqualityRaises("change")
    refused(
        lambda: plan.check(action, actor=OWNER, tier="developer"), "invalid_value", "V1", action
    )
    assert plan.snapshot() == before


@pytest.mark.parametrize("make", [lambda: "no", str, int, lambda: 1, lambda: None, TruthRaises])
def test_v5_plan_and_order_snapshot_take_history_only_as_a_bool(make: Callable[[], object]) -> None:
    """V5: snapshot(history="no"), or any non-bool (a __bool__ raising too), is invalid_value."""
    history = make()
    plan = premium_plan()
    refused(lambda: plan.snapshot(history=history), "invalid_value", "V5", history)  # type: ignore[arg-type]
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=1,
        sales_reference="SO-1",
        email="b@example.com",
        clock=sf.FrozenClock(START),
        outbox=sf.InMemoryOutbox(),
    )
    refused(lambda: order.snapshot(history=history), "invalid_value", "V5", history)  # type: ignore[arg-type]


def test_v1_support_plan_refuses_an_engine_whose_eq_raises() -> None:
    """V1: SupportPlan(engine= a str subclass "table" whose __eq__ raises) is invalid_value."""
    engine = EqualityRaises("table")
    refused(
        lambda: sf.SupportPlan(ORG, clock=sf.FrozenClock(START), engine=engine),
        "invalid_value",
        "V1",
        engine,
    )


def test_v1_render_refuses_a_subject_or_format_whose_hash_raises() -> None:
    """V1: diagrams.render(a chart name or format whose __hash__ / __eq__ raises) is refused."""
    subject, fmt = EqualityRaises("plan"), EqualityRaises("mermaid")
    refused(lambda: diagrams.render(subject, "mermaid"), "invalid_value", "V1", subject)
    refused(lambda: diagrams.render("plan", fmt), "invalid_value", "V1", fmt)


def test_v1_http_status_refuses_what_is_no_reason_code_even_when_its_repr_raises() -> None:
    """V1: http_status of a hostile str or datetime is invalid_value; real codes still answer."""
    for value in (
        EqualityRaises("invalid_value"),
        ReprRaises("invalid_value"),
        dt.datetime(2026, 1, 1, tzinfo=BrokenZone()),
    ):
        refused(lambda value=value: sf.http_status(value), "invalid_value", "V1", value)  # type: ignore[misc]
    violation = sf.Violation(sf.Reason.STALE_REVISION, "S1", "stale")
    assert [sf.http_status(x) for x in (sf.Reason.NOT_FOUND, "not_found", violation)] == [
        404,
        404,
        409,
    ]


def test_t1_an_instant_whose_tzinfo_raises_is_read_through_the_datetime_fields() -> None:
    """T1: a subclass's raising tzinfo property is bypassed; a raising utcoffset is naive."""
    moment = TzinfoRaises(2026, 4, 1, 9, tzinfo=dt.UTC)
    assert sf.FrozenClock(moment).now() == pendulum.datetime(2026, 4, 1, 9, tz="UTC")
    broken = dt.datetime(2026, 4, 1, 9, tzinfo=BrokenZone())
    refused(lambda: sf.FrozenClock(broken), "naive_datetime", "T1", broken)
    refused(lambda: sf.next_month_start(broken), "naive_datetime", "T1", broken)


def test_v5_an_argument_s_own___class___is_never_asked() -> None:
    """V5: an object whose __class__ raises is refused as org, actor, clock and plan state."""
    liar = hostile_class(object, ())()
    refused(
        lambda: sf.SupportPlan(liar, clock=sf.FrozenClock(START)),  # type: ignore[arg-type]
        "invalid_value",
        "V5",
        liar,
    )
    plan = premium_plan()
    refused(lambda: plan.cancel(actor=liar), "invalid_value", "V5", liar)  # type: ignore[arg-type]
    refused(lambda: sf.SupportPlan(ORG, clock=liar), "invalid_value", "V5", liar)  # type: ignore[arg-type]
    refused(lambda: sf.check_channel(ORG, liar, OWNER, "chat"), "invalid_value", "V1", liar)  # type: ignore[arg-type]


def test_describe_names_a_value_whose_repr_raises_or_returns_a_hostile_str() -> None:
    """V5: describe() of a raising or hostile-str repr, or a raising isoformat, never raises."""
    text = hostile_class(str, ("__len__", "__getitem__", "__str__", "__format__"))("shown")

    class ReprHostile:
        def __repr__(self) -> str:
            return text

    assert describe(ReprHostile()) == "shown"
    assert describe(hostile_class(object, ("__repr__",))()) == "<HostileObject object>"
    assert describe(hostile_class(dt.datetime, ("isoformat", "__repr__"))(2026, 1, 1)) == (
        "<HostileDatetime object>"
    )


# -- every public entry point, every argument, every specimen ------------------------------------

Observe = Callable[[], object]
Build = Callable[[object, str], tuple[Callable[[], object], Observe]]


def _nothing() -> None:
    return None


def _plan_call(method: str, **kwargs: Any) -> Build:
    """A call of `method` on a fresh premium plan with `value` for the argument named `arg`."""

    def build(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
        plan = premium_plan()
        args = {**kwargs, arg: value}
        return (lambda: getattr(plan, method)(**args)), plan.snapshot

    return build


class Booked:
    """A purchased order with one session booked in two days."""

    def __init__(self) -> None:
        self.outbox = sf.InMemoryOutbox()
        self.order = sf.ConsultingOrder.start_checkout(
            ORG, units=10, actor=OWNER, clock=sf.FrozenClock(START), outbox=self.outbox
        )
        self.order.confirm()
        self.session = self.order.schedule(start=START.add(days=2), hours=1, actor=OWNER)

    def observe(self) -> object:
        return (self.order.snapshot(), len(self.outbox.sent))


POSITIONS: dict[str, tuple[tuple[str, ...], Build]] = {}
"""Entry point -> (its argument names, a builder of (call with the value there, observe))."""


def position(name: str, *args: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        POSITIONS[name] = (args, build)
        return build

    return register


def _kwargs_call(func: Callable[..., object], **defaults: Any) -> Build:
    def build(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
        args = {**defaults, arg: value}
        return (lambda: func(**args)), _nothing

    return build


CHECKOUT = {"units": 10, "hours_per_unit": 1, "validity_months": 12, "order_id": "order-1"}
ORDER_ARGS = ("org", "units", "clock", "outbox", "hours_per_unit", "validity_months", "order_id")

for _name, _func, _defaults in [
    (
        "Organization",
        sf.Organization,
        {"org_id": "org-1", "projects": ("p-1",), "billing_timezone": "UTC"},
    ),
    ("Project", sf.Project, {"project_id": "p-1"}),
    (
        "Member",
        sf.Member,
        {"user_id": "u-1", "org_roles": (), "project_roles": {}, "email": "u@example.com"},
    ),
    ("FrozenClock", sf.FrozenClock, {"at": START}),
    ("next_month_start", sf.next_month_start, {"moment": START, "tz": "UTC"}),
    ("parse_instant", sf.parse_instant, {"text": "2026-03-01T00:00:00+01:00"}),
    ("http_status", sf.http_status, {"error": "not_found"}),
    ("Decision", sf.Decision, {"reasons": ()}),
    ("Violation", sf.Violation, {"code": "not_found", "rule": "S1", "message": "gone"}),
    ("SupportPlan", sf.SupportPlan, {"org": ORG, "clock": sf.FrozenClock(START)}),
    (
        "SupportPlan.restore",
        sf.SupportPlan.restore,
        {"data": premium_plan().snapshot(), "org": ORG, "clock": sf.FrozenClock(START)},
    ),
    (
        "check_channel",
        sf.check_channel,
        {"org": ORG, "plan_state": "premium", "member": OWNER, "channel": "chat"},
    ),
    (
        "check_case",
        sf.check_case,
        {"org": ORG, "plan_state": "premium", "member": OWNER, "scope": "organization"},
    ),
    (
        "open_case",
        sf.open_case,
        {
            "org": ORG,
            "plan_state": "premium",
            "member": OWNER,
            "scope": "organization",
            "title": "Down",
            "clock": sf.FrozenClock(START),
        },
    ),
    (
        "CaseFlow",
        sf.CaseFlow,
        {"org": ORG, "plan_state": "premium", "member": OWNER, "clock": sf.FrozenClock(START)},
    ),
    (
        "ConsultingOrder.start_checkout",
        sf.ConsultingOrder.start_checkout,
        {"org": ORG, "actor": OWNER, "clock": sf.FrozenClock(START), "outbox": sf.InMemoryOutbox()}
        | CHECKOUT,
    ),
    (
        "ConsultingOrder.from_representative",
        sf.ConsultingOrder.from_representative,
        {
            "org": ORG,
            "sales_reference": "SO-1",
            "email": "b@example.com",
            "clock": sf.FrozenClock(START),
            "outbox": sf.InMemoryOutbox(),
        }
        | CHECKOUT,
    ),
    (
        "ConsultingOrder.restore",
        sf.ConsultingOrder.restore,
        {
            "data": Booked().order.snapshot(),
            "org": ORG,
            "clock": sf.FrozenClock(START),
            "outbox": sf.InMemoryOutbox(),
        },
    ),
    ("diagrams.render", diagrams.render, {"subject": "plan", "fmt": "mermaid"}),
    ("Policy", sf.Policy, {"version": "2027", "effective_from": START}),
    ("Catalog", sf.Catalog, {"versions": (sf.Policy(),)}),
    ("Catalog.from_toml", sf.Catalog.from_toml, {"source": '[[version]]\nid = "atlas"\n'}),
    (
        "Catalog.at",
        sf.Catalog([sf.Policy(), sf.Policy(version="2027", effective_from=START)]).at,
        {"moment": START},
    ),
    ("verify.run", verify.run, {"machine": "case", "depth": 1}),
    ("verify.paths", verify.paths, {"machine": "case"}),
]:
    _parameters = inspect.signature(_func).parameters
    _args = tuple(p for p in _parameters if not p.startswith("_"))
    POSITIONS[_name] = (_args, _kwargs_call(_func, **_defaults))

for _error in (sf.SupportFlowsError, sf.Refused, sf.InvalidInput, sf.Unavailable):
    POSITIONS[_error.__name__] = (("reasons",), _kwargs_call(_error, reasons=()))

POSITIONS["SupportPlan.change"] = (
    ("tier", "actor"),
    _plan_call("change", tier="developer", actor=OWNER),
)
POSITIONS["SupportPlan.cancel"] = (("actor",), _plan_call("cancel", actor=OWNER))
POSITIONS["SupportPlan.revoke_pending"] = (("actor",), _plan_call("revoke_pending", actor=OWNER))
POSITIONS["SupportPlan.check"] = (
    ("action", "actor", "tier"),
    _plan_call("check", action="change", actor=OWNER, tier="developer"),
)
POSITIONS["SupportPlan.snapshot"] = (("history",), _plan_call("snapshot", history=True))


@position(
    "ConsultingOrder methods",
    "schedule.start",
    "schedule.hours",
    "schedule.actor",
    "cancel_session.session_id",
    "cancel_session.actor",
    "deliver.session_id",
    "deliver.actor",
    "snapshot.history",
)
def _order_methods(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    booked = Booked()
    method, name = arg.split(".")
    args: dict[str, Any] = {
        "schedule": {"start": START.add(days=3), "hours": 1, "actor": OWNER},
        "cancel_session": {"session_id": booked.session.session_id, "actor": OWNER},
        "deliver": {"session_id": booked.session.session_id, "actor": OWNER},
        "snapshot": {"history": True},
    }[method]
    args[name] = value
    return (lambda: getattr(booked.order, method)(**args)), booked.observe


@position("CaseFlow methods", "choose_project", "enabled_events", "submit.title", "submit.severity")
def _flow_methods(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=sf.FrozenClock(START))
    flow.choose_organization()

    def observe() -> object:
        return (flow.state, flow.case, flow.project_id, flow.scope)

    if arg == "choose_project":
        return (lambda: flow.choose_project(value)), observe  # type: ignore[arg-type]
    if arg == "enabled_events":
        return (lambda: flow.enabled_events(value)), observe  # type: ignore[arg-type]
    flow.open_organization_support()
    args: dict[str, Any] = {"title": "Down", "severity": "S2"}
    args[arg.split(".")[1]] = value
    return (lambda: flow.submit(**args)), observe


@position("value methods", "has_project", "roles_in_project", "is_member_of", "in_some_project_of")
def _value_methods(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    method = getattr(ORG if arg == "has_project" else OWNER, arg)
    return (lambda: method(value)), _nothing


@position("FrozenClock moves", "set", "advance.amount")
def _clock_moves(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    clock = sf.FrozenClock(START)
    if arg == "set":
        return (lambda: clock.set(value)), clock.now  # type: ignore[arg-type]
    return (lambda: clock.advance(days=value)), clock.now  # type: ignore[arg-type]


@position("InMemoryOutbox.send", "email")
def _outbox_send(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    return (lambda: sf.InMemoryOutbox().send(value)), _nothing  # type: ignore[arg-type]


@position("bulk.apply_due", "records", "until", "record", "snapshot", "org")
def _bulk(value: object, arg: str) -> tuple[Callable[[], object], Observe]:
    snapshot = premium_plan().snapshot()
    records: object = {
        "records": value,
        "until": [],
        "record": [value],
        "snapshot": [(value, ORG)],
        "org": [(snapshot, value)],
    }[arg]
    until = value if arg == "until" else START.add(days=40)
    return (lambda: _yielded(bulk.apply_due(records, until=until))), _nothing  # type: ignore[arg-type]


def _yielded(results: Any) -> None:
    """A bad record yields its InvalidInput naming the record or its part."""
    for result in results:
        if isinstance(result, Exception):
            raise result


CALLBACKS = {"case_id", "progress"}
"""Arguments that are themselves called: a callable specimen there is the host's own factory or
progress callback, whose own exception is the host's (as a clock's `now` or an outbox's `send`
raising is). A clock or outbox specimen is still swept: its `now`/`send` is looked up, not run."""


@pytest.mark.parametrize("name", sorted(POSITIONS))
@given(data=st.data())
def test_v1_v4_v5_t1_every_entry_point_refuses_hostile_arguments_with_a_coded_error(
    name: str, data: st.DataObject
) -> None:
    """V1, V4, V5, T1: any specimen anywhere is accepted or refused coded, named, unchanged."""
    args, build = POSITIONS[name]
    arg = data.draw(st.sampled_from(args), label="argument")
    label, make = data.draw(st.sampled_from(SPECIMENS), label="specimen")
    value = make()
    assume(not (arg.split(".")[-1] in CALLBACKS and callable(value)))
    call, observe = build(value, arg)
    before = observe()
    error: sf.SupportFlowsError | None = None
    try:
        call()
    except sf.SupportFlowsError as caught:
        error = caught
    except Sabotage as raw:  # the failure this test looks for
        raise AssertionError(f"{name}({arg}={label}) ran the argument's own code") from raw
    if error is None:
        event("accepted")
        return
    event(f"refused {error.code}")
    assert len(error.message) < 10_000
    if isinstance(error, sf.InvalidInput):
        named = describe(value) in error.message  # not in the assert: pytest would repr value
        assert named, f"{name}({arg}={label}): {error.message}"
    assert observe() == before, f"{name}({arg}={label}) changed what it refused to change"


def test_v5_the_sweep_covers_every_public_entry_point_and_argument() -> None:
    """V5: every sf.__all__ callable and public method taking arguments is a sweep position."""
    records = {
        *("BillingPeriod", "HistoryEntry", "PendingChange", "Trial", "Session", "UnitBalance"),
        *("SupportCase", "Email"),
    }
    protocols_and_no_arguments = {"Clock", "Outbox", "SystemClock", "ATLAS"}
    enums = {"Channel", "OrderState", "PlanState", "Reason", "Role", "Scope", "SessionStatus"}
    enums |= {"Severity", "Tier"}
    swept = {name.split(".")[0] for name in POSITIONS}
    missing = set(sf.__all__) - records - protocols_and_no_arguments - enums - swept
    assert not missing, missing
    methods = {
        "SupportPlan": sf.SupportPlan,
        "ConsultingOrder": sf.ConsultingOrder,
        "CaseFlow": sf.CaseFlow,
    }
    taken = {
        f"{owner}.{method}"
        for owner, cls in methods.items()
        for method, func in vars(cls).items()
        if not method.startswith("_")
        and callable(inspect.unwrap(getattr(func, "__func__", func)))
        and len(inspect.signature(getattr(cls, method)).parameters) > 1
    }
    covered = set(POSITIONS) | {
        f"ConsultingOrder.{a.split('.')[0]}" for a in POSITIONS["ConsultingOrder methods"][0]
    }
    covered |= {f"CaseFlow.{a.split('.')[0]}" for a in POSITIONS["CaseFlow methods"][0]}
    assert taken <= covered, taken - covered
