"""A chart on the review page: what it is, its diagram linked full size, a caption that fits
it, its transitions table with the requests that take each event, the refusals no arrow
carries, and for the plan its entitlements and every request in every state."""

from __future__ import annotations

import re
from html import escape

from support_flows.diagrams.graph import Graph, Transition, compiled
from support_flows.errors import Reason
from support_flows.review.markup import cell, table
from support_flows.review.requests import request_table
from support_flows.values.core import PlanState
from support_flows.values.policy import Catalog, Policy

__all__ = ["chart_section", "entitlementstable", "transitionstable", "without_arrow"]


def _refusals(t: Transition) -> str:
    return "<br>".join(
        f'<span class="reason">{escape(r.text)}</span> <span class="rule">'
        f"{escape('/'.join(r.rules))}</span>"
        for r in t.refusals
    )


RELATIONS = {
    "basic": "basic",
    "same": "the tier in force",
    "higher": "a higher tier",
    "lower": "a lower tier",
}
"""A route's relation in words: how the tier a request chooses relates to the one in force."""


def _asked(name: str, event: str) -> str:
    """The host requests that take `event`, as the chart's routes say (P11's choice of the
    tier in force is a revoke, which is why already_on_plan is one of its refusals)."""
    asked = [
        f"<code>{escape(r.request)}</code>"
        + (f" ({escape(RELATIONS[r.relation])})" if r.relation in RELATIONS else "")
        for r in compiled(name).routes
        if r.event == event
    ]
    return f"<br><span class='note'>asked as {' or '.join(asked)}</span>" if asked else ""


def transitionstable(graph: Graph) -> str:
    """Event, from, to, condition, refusals with rule ids, effective-date policy: every edge."""
    names = {n.id: n.name for n in graph.nodes}
    rows = []
    for t in graph.transitions:
        target = "stays (internal)" if t.internal else names[t.target]
        policies = "<br>".join(escape(str(p)) for p in t.policies)
        rows.append(
            "<tr>"
            f"<td><b>{escape(t.words)}</b><br><code>{escape(t.event)}</code>"
            f"{_asked(graph.name, t.event)}</td>"
            f"{cell(names[t.source])}{cell(target)}{cell(', '.join(t.when) or '-')}"
            f"<td>{_refusals(t) or '-'}</td><td>{policies or '-'}</td></tr>"
        )
    headers = (
        "Event",
        "From",
        "To",
        "When",
        "Refused with (reason, rule)",
        "Effective-date policy",
    )
    return table(headers, rows, "transitions", label=f"Transitions of the {graph.title} chart")


def entitlementstable(policy: Policy) -> str:
    """P17: what each plan state gives under `policy` (its case states, K1), as the guards read
    it."""
    rows = [
        f"<tr>{cell(state.value)}"
        f"{cell(', '.join(sorted(c.value for c in policy.entitlements(state))))}</tr>"
        for state in PlanState
    ]
    return table(("Plan state", "Entitled to (P17)"), rows, label="Entitlements of each plan state")


def _rule_link(rule_id: str) -> str:
    return f'<a class="rule" href="#rule-{escape(rule_id)}">{escape(rule_id)}</a>'


def without_arrow(name: str) -> str:
    """The refusals a chart gives where a state has no arrow for the request at all."""
    found = {
        g.reason.value: g.rules
        for group in compiled(name).refusals_without_edge
        for g in group
        if g.reason is not Reason.EVENT_NOT_ALLOWED
    }
    if not found:
        return ""
    items = ", ".join(
        f'<span class="reason">{escape(code)}</span> ({", ".join(map(_rule_link, rules))})'
        for code, rules in found.items()
    )
    return (
        "<p class='note'>Refusals no arrow carries (the state has no arrow for the request, "
        f"so the chart explains the refusal instead): {items}.</p>"
    )


def requests_part(catalog: Catalog) -> str:
    """The plan's every request in every state, as `check` answers an Organization Owner."""
    return (
        "<h3>Every request in every state</h3><p class='lede'>What the library answers an "
        "Organization Owner making each request from each state (asked of "
        "<code>SupportPlan.check</code>, on a plan brought to that state). A green cell names "
        "the arrow the request takes; a red one the refusals with their rules. Choosing the "
        "plan in force is how a host revokes a pending change (P11): with a change pending it "
        "takes the revoke arrow, with none it is refused <span class='reason'>already_on_plan"
        '</span>, which is why that refusal is listed under "Revoke the pending change" '
        "above. Enterprise is never self-serve (P2), and there is nothing to cancel on Basic "
        f"or Cancelled (P13): neither has an arrow.</p>{request_table(catalog)}"
    )


_CITED = re.compile(r"\(RULES\.md ([A-Z])[^)]*\)")


def _lede(doc: str) -> str:
    """A chart's docstring for the page: its citation of the specification a link to the rules
    below."""
    out, at = [], 0
    for found in _CITED.finditer(doc):
        out.append(escape(doc[at : found.start()]))
        section = found.group(1)
        out.append(f'(rules <a href="#rules-{section}">{escape(section)}</a> below)')
        at = found.end()
    out.append(escape(doc[at:]))
    return "".join(out)


def _caption(graph: Graph) -> str:
    parts = ["Boxes are states"]
    if any(n.final for n in graph.nodes):
        parts[0] += " (a double border marks a final one: nothing leaves it)"
    parts[0] += "."
    if any(t.internal for t in graph.transitions):
        parts.append("Requests that keep the state are listed inside its box.")
    parts.append(
        "Each arrow reads: event [when it applies], effective-date policy (rule), and in grey "
        "the refusals that can stop it (reason code, rule)."
    )
    return " ".join(parts)


def chart_section(graph: Graph, svg: str, doc: str, catalog: Catalog) -> str:
    """One chart: what it is, its diagram with links to the full-size files, its transitions."""
    name = escape(graph.name)
    # The page's catalog holds the one version it draws.
    plan_parts = entitlementstable(catalog.versions[0]) + requests_part(catalog)
    extra = plan_parts if graph.name == "plan" else ""
    files = (
        f'<a class="full-size" href="{name}.svg">{name}.svg</a> (the diagram full size: open '
        f'it to zoom and scroll), <a href="{name}.mmd">{name}.mmd</a> (its Mermaid source)'
    )
    return (
        f'<section class="chart" id="{name}"><h2>{escape(graph.title)}</h2>'
        f'<p class="lede">{_lede(doc)} Files: {files}.</p>'
        f'<figure class="diagram">{svg}<figcaption>{escape(_caption(graph))} '
        f'<a class="full-size" href="{name}.svg">Open {name}.svg full size</a>.</figcaption>'
        "</figure>"
        f"<h3>Transitions</h3>{transitionstable(graph)}{without_arrow(graph.name)}{extra}</section>"
    )
