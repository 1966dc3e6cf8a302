"""A chart as a reviewer reads it: states, and edges labelled in words, read from `COMPILED`.

Every word comes from a declaration: event names from the chart, conditions from the registry's
selectors, refusals from the checks' reason codes and rule ids, effective-date policies from the
model's `@action`s. A live plan, order or case flow adds what is true of it now (its current
state, and for a plan its pending change or trial end with the instant it takes effect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs
import pendulum

from support_flows.clock import read_clock
from support_flows.errors import Reason, describe, invalid
from support_flows.localtime import parse_instant
from support_flows.machines.case import CaseFlow
from support_flows.machines.case_chart import COMPILED as CASE_CHART
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.consulting_chart import COMPILED as ORDER_CHART
from support_flows.machines.engine import Compiled, Edge
from support_flows.machines.plan import SupportPlan
from support_flows.machines.plan_chart import COMPILED as PLAN_CHART
from support_flows.rules import SECTIONS
from support_flows.values.policy import ATLAS_POLICY, Catalog, Policy

__all__ = [
    "CHARTS",
    "Graph",
    "Highlight",
    "Label",
    "Node",
    "Transition",
    "compiled",
    "graph_of",
    "policy_of",
]

CHARTS: Mapping[str, Compiled] = MappingProxyType(
    {"plan": PLAN_CHART, "case": CASE_CHART, "consulting": ORDER_CHART}
)
"""Chart name -> the compiled chart its machine module declares."""


def compiled(name: object) -> Compiled:
    """The compiled chart called `name` ("plan", "case", "consulting"); unknown names are V1."""
    found = CHARTS.get(name) if type(name) is str else None
    if found is None:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"unknown chart {describe(name)}; accepted: {', '.join(CHARTS)}",
        )
    return found


@attrs.frozen
class Label:
    """One phrase of an edge label, with the rule ids it cites."""

    text: str
    rules: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.text} ({'/'.join(self.rules)})" if self.rules else self.text


@attrs.frozen
class Transition:
    """One edge in words: the event, when it applies, its effective-date policy, its refusals."""

    event: str
    words: str
    source: str
    target: str
    internal: bool
    when: tuple[str, ...]
    policies: tuple[Label, ...]
    refusals: tuple[Label, ...]

    @property
    def title(self) -> str:
        """The event in words, with the condition that picks this edge."""
        return f"{self.words} [{', '.join(self.when)}]" if self.when else self.words

    @property
    def unless(self) -> str:
        return "unless " + ", ".join(map(str, self.refusals)) if self.refusals else ""

    def phrases(self) -> tuple[str, ...]:
        """Title, policies, refusals: the label's parts, in reading order."""
        parts = [self.title, *map(str, self.policies)]
        return (*parts, self.unless) if self.refusals else tuple(parts)


@attrs.frozen
class Node:
    """A state: its value (the id hosts compare against) and its display name."""

    id: str
    name: str
    initial: bool
    final: bool


@attrs.frozen
class Highlight:
    """What is true of one live object now: its state, and an edge waiting for an instant."""

    current: str
    caption: str
    waiting: tuple[str, str] | None = None
    waiting_label: str = ""


@attrs.frozen
class Graph:
    """A chart in a reviewer's words, optionally with one live object's highlight."""

    name: str
    title: str
    nodes: tuple[Node, ...]
    transitions: tuple[Transition, ...]
    highlight: Highlight | None = None
    changed: frozenset[Transition] = frozenset()
    """Edges a review marks as changed from another version (K5), drawn apart with a legend."""

    def is_waiting(self, t: Transition) -> bool:
        h = self.highlight
        return h is not None and h.waiting == (t.source, t.target) and not t.internal


def _words(func: Any) -> str:
    """A selector's condition: its docstring's first line, else its name in words."""
    doc = (getattr(func, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else str(func.__name__).replace("_", " ")


def _own_rules(rules: tuple[str, ...], section: str) -> tuple[str, ...]:
    """The rule ids of this chart's section, or all of them when none is."""
    own = tuple(r for r in rules if r.startswith(section))
    return own or rules


def _transition(chart: Compiled, e: Edge, words: Mapping[str, str]) -> Transition:
    section = chart.chart.registry.section
    model = chart.chart.model_class
    policies = []
    for name in e.actions:
        method = getattr(model, name)
        rule = getattr(method, "rule", "")
        terms = getattr(method, "terms", "")
        if terms:
            policies.append(Label(terms.format_map(words), (rule,) if rule else ()))
    refusals = tuple(Label(g.reason.value, _own_rules(g.rules, section)) for g in e.guards)
    return Transition(
        event=e.event,
        words=chart.event_names.get(e.event, e.event),
        source=e.source,
        target=e.target,
        internal=e.internal,
        # A policy choice that holds is the policy's, not the request's: not a condition here.
        when=tuple(_words(s) for s in e.selectors if not getattr(s, "policy_choice", False)),
        policies=tuple(policies),
        refusals=refusals,
    )


def _nodes(chart: Compiled) -> tuple[Node, ...]:
    names = {str(s.value): str(s.name) for s in chart.chart.states}
    return tuple(
        Node(state, names[state], state == chart.initial, state in chart.finals)
        for state in chart.states
    )


def _title(chart: Compiled) -> str:
    return SECTIONS.get(chart.chart.registry.section, chart.chart.__name__)


def chart_graph(
    name: str,
    policy: Policy = ATLAS_POLICY,
    keep: Iterable[str] = (),
    waiting: tuple[str, str] | None = None,
) -> Graph:
    """The graph of the chart called `name` under `policy`: the edges that exist under it (K1's
    choices), labelled with its terms. The states in `keep` are drawn even if no edge links
    them, and the `waiting` edge (source, target) of a live object even if the policy has none:
    what an earlier version scheduled still happens (K3)."""
    chart = compiled(name)
    words = policy.words()
    edges = chart.edges_under(policy)
    if waiting is not None and not any((e.source, e.target) == waiting for e in edges):
        edges += tuple(e for e in chart.edges if (e.source, e.target) == waiting)
    # A state no edge reaches or leaves under this policy (the trial without one) is not drawn.
    linked = {s for e in edges if not e.internal for s in (e.source, e.target)} | set(keep)
    nodes = tuple(n for n in _nodes(chart) if n.initial or n.id in linked)
    drawn = {n.id for n in nodes}
    return Graph(
        name=name,
        title=_title(chart),
        nodes=nodes,
        transitions=tuple(_transition(chart, e, words) for e in edges if e.source in drawn),
    )


def local(moment: pendulum.DateTime, tz: str) -> str:
    """An instant as its local wall time in `tz`, with the zone's abbreviation."""
    shown = moment.in_timezone(tz)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"


def _plan_highlight(plan: Any) -> Highlight:
    tz = plan.org.billing_timezone
    state = str(plan.state.value)
    now = local(read_clock(plan.clock), tz)
    caption = f"{plan.org.org_id} at {now}: {state}"
    pending, trial = plan.pending, plan.trial
    if pending is not None:
        when = local(pending.effective_at, tz)
        target = str(pending.target.value)
        label = f"PENDING: takes effect {when} (P9)"
        return Highlight(state, f"{caption}; {target} pending from {when}", (state, target), label)
    if trial is not None:
        when = local(trial.ends_at, tz)
        label = f"WAITING: the trial ends {when} (P6)"
        return Highlight(state, f"{caption}; the trial ends {when}", (state, "developer"), label)
    return Highlight(state, caption)


def _order_highlight(order: Any) -> Highlight:
    record = order.snapshot(history=False)  # one consistent read, with the billing timezone
    units = record["units"]
    caption = (
        f"order {record['order_id']}: {record['state']}; units {units['available']} available, "
        f"{units['scheduled']} scheduled, {units['consumed']} consumed, {units['expired']} expired"
    )
    if record["expires_at"] is not None:
        expires = parse_instant(record["expires_at"])
        caption += f"; expires {local(expires, record['billing_timezone'])}"
    return Highlight(str(record["state"]), caption)


def _flow_highlight(flow: Any) -> Highlight:
    return Highlight(flow.state, f"case flow of {flow.member.user_id}")


def _subject(subject: object) -> tuple[str, Highlight | None]:
    kind = type(subject)
    if kind is str:
        compiled(subject)
        return subject, None  # type: ignore[return-value]
    if issubclass(kind, SupportPlan):
        return "plan", _plan_highlight(subject)
    if issubclass(kind, ConsultingOrder):
        return "consulting", _order_highlight(subject)
    if issubclass(kind, CaseFlow):
        return "case", _flow_highlight(subject)
    raise invalid(
        Reason.INVALID_VALUE,
        "V1",
        f"cannot draw {describe(subject)}; accepted: a chart name ({', '.join(CHARTS)}), "
        "a SupportPlan, a ConsultingOrder or a CaseFlow",
    )


def policy_of(subject: object) -> Policy:
    """The version a live plan, order or case flow is decided under now: its catalog's version
    in force at its clock's now (K2); Atlas's for anything else."""
    catalog = getattr(subject, "catalog", None)
    if type(subject) is str or type(catalog) is not Catalog:
        return ATLAS_POLICY
    if len(catalog) == 1:
        return catalog.versions[0]
    return catalog.at(read_clock(subject.clock))  # type: ignore[attr-defined]


def graph_of(subject: object, policy: Policy | None = None) -> Graph:
    """The graph of a chart name, or of a live plan, order or case flow (highlighted), under
    `policy`: by default Atlas's for a chart name, a live object's version in force now."""
    name, highlight = _subject(subject)
    if policy is None:
        policy = policy_of(subject)
    elif type(policy) is not Policy:
        raise invalid(
            Reason.INVALID_VALUE, "K1", f"policy must be a Policy, got {describe(policy)}"
        )
    if highlight is None:
        return chart_graph(name, policy)
    keep = (highlight.current, *(highlight.waiting or ()))
    graph = chart_graph(name, policy, keep, highlight.waiting)
    return attrs.evolve(graph, highlight=highlight)
