"""Diagrams (support_flows.diagrams): drawn from the charts' own declarations, in every format."""

from __future__ import annotations

import re
import sysconfig
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pendulum
import pydot
import pytest
from png_check import SIGNATURE, decode_until_drawn

import support_flows as sf
from support_flows import diagrams
from support_flows.diagrams import LayoutEngineMissing, render
from support_flows.diagrams.graph import compiled
from support_flows.machines.engine import Compiled, Edge
from support_flows.values.policy import ATLAS_POLICY

CHARTS = ("plan", "case", "consulting")
SVG = "{http://www.w3.org/2000/svg}"
STATE = re.compile(r'^    state "(?P<name>[^"]*)" as (?P<id>\w+)$')
ARROW = re.compile(r"^    (?P<source>\[\*\]|\w+) --> (?P<target>\[\*\]|\w+)(?: : (?P<label>.*))?$")
INSIDE = re.compile(r"^    (?P<id>\w+) : (?P<label>.*)$")


def event_of(chart: Compiled, label: str) -> str:
    """The event a Mermaid label names: the chart's own words for it start the label."""
    label = re.sub(r"^PENDING: [^·]*· |^WAITING: [^·]*· ", "", label)
    found = [
        event
        for event, words in chart.event_names.items()
        if label == words or label.startswith((f"{words} [", f"{words} ·"))
    ]
    assert len(found) == 1, f"label {label!r} names {found}"
    return found[0]


class Parsed(NamedTuple):
    """What a Mermaid state diagram declares."""

    states: dict[str, str]
    initial: set[str]
    finals: set[str]
    moves: Counter[tuple[str, str, str]]
    labels: dict[tuple[str, str, str], str]


def parse_mermaid(chart: Compiled, text: str) -> Parsed:
    """States, initial, finals and (source, target, event) transitions of a Mermaid diagram."""
    parsed = Parsed({}, set(), set(), Counter(), {})
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    for line in lines[1:]:
        if m := STATE.match(line):
            parsed.states[m["id"]] = m["name"]
        elif m := ARROW.match(line):
            if m["source"] == "[*]":
                parsed.initial.add(m["target"])
            elif m["target"] == "[*]":
                parsed.finals.add(m["source"])
            else:
                key = (m["source"], m["target"], event_of(chart, m["label"]))
                parsed.moves[key] += 1
                parsed.labels[key] = m["label"]
        elif (m := INSIDE.match(line)) and m["id"] in parsed.states:
            key = (m["id"], m["id"], event_of(chart, m["label"]))
            parsed.moves[key] += 1
            parsed.labels[key] = m["label"]
    return parsed


def declared_moves(chart: Compiled) -> Counter[tuple[str, str, str]]:
    return Counter((e.source, e.target, e.event) for e in chart.edges_under(ATLAS_POLICY))


def section_rules(chart: Compiled, rules: tuple[str, ...]) -> tuple[str, ...]:
    section = chart.chart.registry.section
    return tuple(r for r in rules if r.startswith(section)) or rules


def words_expected(chart: Compiled, e: Edge) -> list[str]:
    """What a reviewer must read on an edge: each refusal with its rule, each policy with its."""
    expected = []
    for guard in e.guards:
        expected.append(f"{guard.reason.value} ({'/'.join(section_rules(chart, guard.rules))})")
    for name in e.actions:
        action = getattr(chart.chart.model_class, name)
        if action.terms:
            said = action.terms.format_map(ATLAS_POLICY.words())
            expected.append(f"{said.replace('; ', ', ')} ({action.rule})")
    return expected


@pytest.fixture
def live_plan() -> sf.SupportPlan:
    """A Berlin premium plan with a cancel pending for April 1."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    org = sf.Organization("org-1", projects=("p-1",), billing_timezone="Europe/Berlin")
    owner = sf.Member("u-1", org_roles={sf.Role.ORG_OWNER})
    plan = sf.SupportPlan(org, clock=clock)
    plan.change("premium", actor=owner)
    plan.cancel(actor=owner)
    return plan


@pytest.mark.structure
@pytest.mark.parametrize("name", CHARTS)
def test_mermaid_has_exactly_the_charts_states_and_transitions(name: str) -> None:
    """Parsed Mermaid: the chart's states, initial and final states, and one line per edge of
    COMPILED (internal edges inside their state), with nothing added or missing."""
    chart = compiled(name)
    parsed = parse_mermaid(chart, str(render(name, "mermaid")))
    assert set(parsed.states) == set(chart.states)
    assert parsed.initial == {chart.initial}
    assert parsed.finals == set(chart.finals)
    assert parsed.moves == declared_moves(chart)


@pytest.mark.structure
@pytest.mark.parametrize("name", CHARTS)
def test_mermaid_labels_name_every_refusal_rule_and_policy(name: str) -> None:
    """Each edge's label reads its event in words, every guard's reason code with its rule id,
    and every action's effective-date policy with its rule id."""
    chart = compiled(name)
    labels = parse_mermaid(chart, str(render(name))).labels
    for e in chart.edges_under(ATLAS_POLICY):
        label = labels[(e.source, e.target, e.event)]
        assert label.startswith(chart.event_names[e.event])
        for words in words_expected(chart, e):
            assert words in label, (e, words)


def test_plan_labels_speak_to_a_reviewer() -> None:
    """The plan's cancel edges say when they take effect: pending until the 1st (P9) on a paid
    plan, billing stops now (P7) during the trial."""
    text = str(render("plan"))
    assert "developer : Cancel · pending until the 1st of next month (P9)" in text
    assert "trial --> cancelled : Cancel · billing stops now (P7)" in text


def test_mermaid_is_deterministic() -> None:
    """Two renders of a chart are the same text (it can be committed and diffed)."""
    assert render("consulting", "mermaid") == render("consulting", "mermaid")


@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot's parser on newer pyparsing
@pytest.mark.parametrize("name", CHARTS)
def test_dot_parses_with_pydot_and_draws_every_edge(name: str) -> None:
    """DOT parses with pydot: a node per state, an edge per transition between states, and each
    internal transition written inside its state's box."""
    chart = compiled(name)
    graphs = pydot.graph_from_dot_data(str(render(name, "dot")))
    assert graphs is not None
    (graph,) = graphs
    nodes = {str(n.get_name()).strip('"'): n for n in graph.get_nodes()}
    assert set(chart.states) <= set(nodes)
    edges = Counter(
        (str(e.get_source()).strip('"'), str(e.get_destination()).strip('"'))
        for e in graph.get_edges()
    )
    expected = Counter(
        (e.source, e.target) for e in chart.edges_under(ATLAS_POLICY) if not e.internal
    )
    expected[(f"{chart.initial}__start", chart.initial)] += 1
    assert edges == expected
    for e in chart.edges_under(ATLAS_POLICY):
        if e.internal:
            assert chart.event_names[e.event] in nodes[e.source].get("label")


@pytest.mark.parametrize("name", CHARTS)
def test_svg_parses_as_xml_with_a_group_per_state(name: str) -> None:
    """SVG is well-formed XML with one node group per state, ids prefixed by the chart."""
    root = ET.fromstring(str(render(name, "svg")))
    assert root.tag == f"{SVG}svg"
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert {f"{name}-{state}" for state in compiled(name).states} <= ids
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert compiled(name).event_names[compiled(name).edges[0].event] in words


@pytest.mark.parametrize("name", ["plan", "case"])
def test_png_has_the_signature_and_decodes_to_a_drawn_image(name: str) -> None:
    """PNG bytes start with the PNG signature and decode to a non-empty image with something
    drawn on it."""
    png = render(name, "png")
    assert isinstance(png, bytes)
    assert png.startswith(SIGNATURE)
    width, height, drawn = decode_until_drawn(png)
    assert width > 100
    assert height > 100
    assert drawn is not None


def test_layout_engine_is_found_next_to_the_interpreter_not_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The layout engine is the `graphviz-pure` executable in this interpreter's scripts
    directory, found with an empty PATH."""
    monkeypatch.setenv("PATH", "")
    found = diagrams.layout_engine()
    assert found is not None
    assert found.parent == Path(sysconfig.get_path("scripts"))
    assert found.name.startswith("graphviz-pure")


def test_no_layout_engine_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a layout engine SVG and PNG raise one coded line naming the `diagrams` extra,
    while Mermaid and DOT still work."""
    monkeypatch.setattr(diagrams, "layout_engine", lambda: None)
    for fmt in ("svg", "png"):
        with pytest.raises(LayoutEngineMissing) as raised:
            render("plan", fmt)
        error = raised.value
        assert isinstance(error, sf.SupportFlowsError)
        assert "\n" not in str(error)
        assert "support-flows[diagrams]" in str(error)
        assert fmt.upper() in str(error)
    assert str(render("plan", "mermaid")).startswith("stateDiagram-v2")
    assert str(render("plan", "dot")).startswith('digraph "plan"')


def test_unknown_chart_or_format_is_invalid_value() -> None:
    """An unknown chart name or format is malformed input (V1) naming the accepted ones."""
    with pytest.raises(sf.InvalidInput, match="accepted: plan, case, consulting") as chart:
        render("billing")
    assert chart.value.rule == "V1"
    with pytest.raises(sf.InvalidInput, match="accepted: mermaid, dot, svg, png"):
        render("plan", "jpeg")
    with pytest.raises(sf.InvalidInput, match="cannot draw"):
        render(42)


def test_live_plan_highlights_state_pending_change_and_instant(live_plan: sf.SupportPlan) -> None:
    """A live plan's diagram highlights its current state, its pending change's target, and the
    edge that takes effect with the effective instant in the billing timezone."""
    mermaid = str(render(live_plan))
    assert "class premium current" in mermaid
    assert "class cancelled waiting" in mermaid
    assert (
        "premium --> cancelled : PENDING: takes effect 2026-04-01 00:00 CEST (P9) · "
        "The pending change takes effect" in mermaid
    )
    dot = str(render(live_plan, "dot"))
    assert "Premium (now)" in dot
    assert "PENDING: takes effect 2026-04-01 00:00 CEST (P9)" in dot
    root = ET.fromstring(str(render(live_plan, "svg")))
    premium = next(g for g in root.iter(f"{SVG}g") if g.get("id") == "plan-premium")
    assert any("(now)" in (t.text or "") for t in premium.iter(f"{SVG}text"))
    title = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "PENDING: takes effect 2026-04-01 00:00 CEST (P9)" in title


def test_live_plan_in_trial_shows_when_it_ends() -> None:
    """During the trial the diagram points at the trial's end (P6) with its instant."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    plan = sf.SupportPlan(sf.Organization("org-1"), clock=clock)
    plan.change("developer", actor=sf.Member("u-1", org_roles={sf.Role.ORG_OWNER}))
    mermaid = str(render(plan))
    assert "class trial current" in mermaid
    assert "trial --> developer : WAITING: the trial ends 2026-04-13 10:00 UTC (P6)" in mermaid


def test_live_plan_without_pending_change_highlights_only_its_state() -> None:
    """A basic plan is highlighted as basic, with nothing waiting."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    mermaid = str(render(sf.SupportPlan(sf.Organization("org-1"), clock=clock)))
    assert "class basic current" in mermaid
    assert "waiting" not in mermaid


def test_live_order_highlights_its_state_and_expiry() -> None:
    """A live consulting order's diagram highlights its state and says its balance and expiry."""
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    order = sf.ConsultingOrder.from_representative(
        sf.Organization("org-1", billing_timezone="Europe/Berlin"),
        units=5,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        validity_months=12,
        order_id="co-9",
    )
    mermaid = str(render(order))
    assert "class purchased current" in mermaid
    assert "order co-9: purchased, units 5 available" in mermaid
    assert "expires 2027-03-14 11:00 CET" in mermaid
    assert "Purchased (now)" in str(render(order, "dot"))


def test_readme_shows_the_plan_diagram_as_generated() -> None:
    """The README's Mermaid block is exactly `render("plan", "mermaid")`: it cannot drift."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```mermaid\n(.*?)^```", readme, re.DOTALL | re.MULTILINE)
    assert blocks == [render("plan", "mermaid")], "regenerate it: support-flows diagram plan"
