"""The review page's HTML: one offline document, inline SVG and CSS only (no scripts, fonts or
images from anywhere), built from the charts, the rules catalog, the worked examples and the
verifier's reports."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from support_flows import __name__ as _package
from support_flows.diagrams.graph import Graph, Transition, compiled
from support_flows.errors import Reason
from support_flows.review.markdown import inline
from support_flows.review.markup import cell, table
from support_flows.review.picture import Picture, draw
from support_flows.review.requests import request_table
from support_flows.review.scenarios import Worked
from support_flows.review.verification import shortfalls, verification_section
from support_flows.rules import RULES, SECTIONS, Rule, Source, rules_for
from support_flows.values.plan import ENTITLEMENTS
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["page", "shortfalls"]

CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#d9e2ec; --accent:#2f5d9e; --soft:#f5f8fc;
        --ok:#1b7f3b; --bad:#b3261e; --warn:#a34f00; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color:var(--ink); background:#fff; }
header { background:linear-gradient(135deg,#20406e,#2f5d9e); color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:28px; }
header p { margin:0; opacity:.9; max-width:980px; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line);
      padding:8px 40px; display:flex; flex-wrap:wrap; gap:6px 18px; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; }
a { color:var(--accent); }
main { padding:8px 40px 60px; max-width:1500px; }
h2 { margin:38px 0 8px; font-size:23px; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { margin:28px 0 6px; font-size:18px; }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(190px,1fr)); gap:12px;
         margin:18px 0 6px; }
.card { border:1px solid var(--line); border-radius:10px; padding:12px 14px;
        background:var(--soft); }
.card b { display:block; font-size:26px; line-height:1.1; }
.card span { color:var(--muted); font-size:13px; }
.card.ok b { color:var(--ok); } .card.bad b { color:var(--bad); } .card.na b { color:var(--muted); }
.shortfalls { border-left:4px solid var(--bad); background:#fdecea; padding:8px 14px;
              margin:6px 0 10px; font-size:14px; }
.shortfalls ul { margin:4px 0 0; padding-left:20px; }
.lede { color:var(--muted); max-width:1000px; }
figure { margin:10px 0 16px; border:1px solid var(--line); border-radius:10px; padding:10px;
         overflow-x:auto; background:#fff; }
figure svg { display:block; max-width:100%; height:auto; margin:0 auto; }
figcaption { color:var(--muted); font-size:13px; margin-top:4px; }
table { border-collapse:collapse; width:100%; margin:8px 0 18px; font-size:13.5px; }
th, td { border:1px solid var(--line); padding:5px 8px; vertical-align:top; text-align:left; }
th { background:var(--soft); font-weight:600; }
td.pre { white-space:pre-line; }
tr.refused td { background:#fdecea; }
tr.unseen td { background:#fff4e5; }
table.decisions caption { text-align:left; caption-side:top; padding:4px 0; }
table.decisions th[scope=row] { background:#fff; white-space:nowrap; }
code, .code { font-family:ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
              font-size:12.5px; }
.rule { display:inline-block; font-weight:600; color:var(--accent); }
.chip { display:inline-block; border:1px solid var(--line); border-radius:999px; padding:0 8px;
        margin:0 4px 2px 0; font-size:12px; background:var(--soft); }
.reason { font-family:ui-monospace, Menlo, Consolas, monospace; font-size:12px; color:var(--bad); }
.cmd { background:#0f1720; color:#e6edf3; padding:8px 12px; border-radius:8px; overflow-x:auto;
       font-family:ui-monospace, Menlo, Consolas, monospace; font-size:13px; }
.cmd .arg { white-space:nowrap; }
.wide { overflow-x:auto; }
figure.picture svg { max-width:none; }
.plain-words { border-left:4px solid var(--accent); background:var(--soft); padding:8px 14px;
               margin:0 0 14px; max-width:1000px; }
dl.sources { display:grid; grid-template-columns:max-content 1fr; gap:2px 14px; margin:8px 0 14px; }
dl.sources dt { font-weight:600; } dl.sources dd { margin:0; }
table.requests td.allowed { color:var(--ok); }
table.requests td.refused { background:#fdecea; }
a.full-size { font-weight:600; }
@media (max-width: 640px) {
  header { padding:18px 14px 14px; } header h1 { font-size:22px; }
  nav { padding:8px 14px; } main { padding:8px 14px 40px; }
}
.note { color:var(--muted); font-size:13px; }
svg.timeline text { font-family:system-ui, Helvetica, Arial, sans-serif; }
svg.timeline .ticklabel { font-size:11px; fill:#52606d; }
svg.timeline .tick { stroke:#cbd2d9; stroke-width:1; }
svg.timeline .guide { stroke:#a34f00; stroke-width:1.4; stroke-dasharray:5 4; }
svg.timeline .guidelabel { font-size:11px; fill:#a34f00; }
svg.timeline .callout { stroke:#455a64; stroke-width:1; }
svg.timeline .lanelabel { font-size:12.5px; font-weight:600; fill:#1f2933; }
svg.timeline .barlabel { font-size:11px; fill:#102a43; }
svg.timeline .legend { font-size:11px; fill:#52606d; }
svg.timeline .markline { stroke:#243b53; stroke-width:1; stroke-dasharray:2 3; }
svg.timeline .mark circle { fill:#243b53; }
svg.timeline .mark.refused circle { fill:#b3261e; }
svg.timeline .mark.refused .markline { stroke:#b3261e; }
svg.timeline .marknumber { font-size:11px; font-weight:700; fill:#fff; }
"""


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


def entitlementstable() -> str:
    """P17: what each plan state gives, from the one table the guards read."""
    rows = [
        f"<tr>{cell(state.value)}{cell(', '.join(sorted(c.value for c in channels)))}</tr>"
        for state, channels in ENTITLEMENTS.items()
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


def _source_cell(r: Rule) -> str:
    sources = " + ".join(
        f'<abbr title="{escape(s.meaning)}">{escape(s.value)}</abbr>' for s in r.sources
    )
    note = f" ({inline(r.source_note)})" if r.source_note else ""
    return f"<td>{sources}{note}</td>"


def _rule_row(r: Rule) -> str:
    reasons = "<br>".join(f'<span class="reason">{escape(c.value)}</span>' for c in r.reasons)
    return (
        f'<tr id="rule-{escape(r.id)}"><td><span class="rule">{escape(r.id)}</span></td>'
        f"<td><b>{inline(r.title)}</b><br>{inline(r.statement)}</td>"
        f"{_source_cell(r)}<td>{reasons or '-'}</td></tr>"
    )


def _gaps(section: str) -> str:
    """A note on the numbers a section skips: ids are never renumbered."""
    numbers = sorted(int(r.id[1:]) for r in RULES.values() if r.section == section)
    missing = [f"{section}{n}" for n in range(numbers[0], numbers[-1]) if n not in numbers]
    if not missing:
        return ""
    named = " or ".join(missing) if len(missing) <= 2 else ", ".join(missing)
    return (
        f"<p class='note'>There is no {escape(named)}: the specification does not assign "
        f"{'that number' if len(missing) == 1 else 'those numbers'}, and rule ids are never "
        "renumbered, since refusals, tests and stored records cite them.</p>"
    )


def sources_part() -> str:
    """What each value of the Source column means."""
    items = "".join(f"<dt>{escape(s.value)}</dt><dd>{escape(s.meaning)}</dd>" for s in Source)
    return (
        "<p class='lede'>Each rule restates the specification in the package's words; the "
        f"Source column says where it comes from:</p><dl class='sources'>{items}</dl>"
    )


def rules_section() -> str:
    """The rules catalog, section by section, with sources and the reasons each can produce."""
    parts = [sources_part()]
    for section, title in SECTIONS.items():
        rows = [_rule_row(r) for r in RULES.values() if r.section == section]
        parts.append(f'<h3 id="rules-{escape(section)}">{escape(section)}: {escape(title)}</h3>')
        parts.append(_gaps(section))
        parts.append(
            table(("Rule", "Statement", "Source", "Reasons"), rows, "rules", label=f"Rules {title}")
        )
    reason_rows = [
        f"<tr><td class='reason'>{escape(code.value)}</td>"
        f"<td>{', '.join(escape(r.id) for r in rules_for(code)) or '-'}</td></tr>"
        for code in Reason
    ]
    parts.append("<h3>Refusal reasons and the rules that produce them</h3>")
    parts.append(table(("Reason code", "Rules"), reason_rows, "reasons", label="Refusal reasons"))
    return "".join(parts)


def command_bar(command: str, name: str) -> str:
    """A shell command on a dark bar that wraps between arguments, never inside one; a region
    named `name`, reachable by keyboard where it scrolls."""
    args = " ".join(f'<span class="arg">{escape(a)}</span>' for a in ("$", *command.split()))
    label = escape(name, quote=True)
    return f'<div class="cmd" tabindex="0" role="region" aria-label="{label}">{args}</div>'


def _picture(picture: Picture, name: str, caption: str) -> str:
    return (
        f'<figure class="picture" tabindex="0">{draw(picture, name)}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def worked_section(w: Worked) -> str:
    """One worked example: story, rules, the command that reruns it, picture, table."""
    chips = "".join(f'<a class="chip" href="#rule-{r}">{escape(r)}</a>' for r in w.rules)
    rows = []
    for row in w.rows:
        refused = any(cell.startswith("refused") for cell in row)
        cls = ' class="refused"' if refused else ""
        rows.append(f"<tr{cls}>{''.join(cell(c, 'pre') for c in row)}</tr>")
    command = command_bar(w.command, f"The command that reruns {w.title}") if w.command else ""
    picture = _picture(
        w.picture,
        f"Timeline of {w.title}",
        f"Time axis ticked at the 1st of each month in {w.picture.tz}; numbered marks are the "
        "steps of the table.",
    )
    if w.zoom is not None:
        picture += _picture(w.zoom, f"Closer view of {w.title}", w.zoom_caption)
    note = f'<p class="plain-words">{escape(w.note)}</p>' if w.note else ""
    return (
        f'<section class="worked" id="{escape(w.slug)}"><h3>{escape(w.title)}</h3>'
        f'<p class="lede">{escape(w.story)}</p><p>Rules shown: {chips}</p>{command}'
        f"{picture}{note}{table(w.headers, rows, 'worked', label=f'Steps of {w.title}')}</section>"
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
    extra = entitlementstable() + requests_part(catalog) if graph.name == "plan" else ""
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


def _card(value: object, label: str, cls: str = "") -> str:
    return f'<div class="card {cls}"><b>{escape(str(value))}</b><span>{escape(label)}</span></div>'


def page(
    charts: Sequence[tuple[Graph, str, str]],
    worked: Sequence[Worked],
    reports: Sequence[Mapping[str, Any]],
    verify_note: str,
    version: str,
    changes: str = "",
    extra_css: str = "",
    catalog: Catalog = ATLAS,
) -> str:
    """The whole review page. `charts` holds (graph, inline SVG, chart docstring) per chart;
    `changes`, when given, opens it (K5), styled by `extra_css`; `catalog` decides the plan's
    requests shown in every state."""
    transitions = sum(len(g.transitions) for g, _, _ in charts)
    violations = sum(len(r.get("violations") or ()) for r in reports)
    failed = [str(r.get("machine", "?")) for r in reports if r.get("error")]
    short = shortfalls(reports)
    if violations:
        verdict = _card(violations, "violations found by the verifier", "bad")
    elif failed:
        verdict = _card("incomplete", f"the verifier failed on {', '.join(failed)}", "bad")
    elif short:
        verdict = _card("incomplete", "the verifier did not cover every part (see below)", "bad")
    elif reports:
        verdict = _card(
            0, "violations; every state, transition, reason and rule of every machine covered", "ok"
        )
    else:
        verdict = _card("-", "verifier not run (see Verification)", "na")
    falls_short = (
        "<div class='shortfalls'><b>The verification is not whole:</b><ul>"
        + "".join(f"<li>{escape(line)}</li>" for line in short)
        + "</ul></div>"
        if short
        else ""
    )
    cards = (
        _card(len(charts), "charts: plan, case, consulting")
        + _card(transitions, "transitions, each with its guards")
        + _card(len(RULES), "rules in the catalog")
        + _card(len(Reason), "refusal reason codes")
        + _card(len(worked), "worked timelines, computed")
        + verdict
    )
    nav = (
        ('<a href="#changes">What changes</a>' if changes else "")
        + "".join(f'<a href="#{g.name}">{escape(g.title)}</a>' for g, _, _ in charts)
        + (
            '<a href="#timelines">Worked timelines</a><a href="#rules">Rules catalog</a>'
            '<a href="#verification">Verification</a>'
        )
    )
    chart_parts = [chart_section(g, svg, doc, catalog) for g, svg, doc in charts]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(_package)} review pack</title><style>{CSS}{extra_css}</style></head><body>"
        f"<header><h1>Support flows: product review pack</h1><p>Every diagram, table and "
        f"timeline on this page is generated by {escape(_package)} {escape(version)} from the "
        "charts, guard registries and rules catalog that run in production: what you read "
        "here is what the code does.</p></header>"
        f"<nav>{nav}</nav>"
        f"<main><div class='cards'>{cards}</div>{falls_short}{changes}"
        f"{''.join(chart_parts)}"
        '<section id="timelines"><h2>Worked timelines</h2><p class="lede">Each example runs '
        "the library on a frozen clock. The picture puts what the organization is entitled to "
        "and what it is billed on one time axis, in its billing timezone.</p>"
        f"{''.join(worked_section(w) for w in worked)}</section>"
        f'<section id="rules"><h2>Rules catalog</h2>{rules_section()}</section>'
        '<section id="verification"><h2>Verification</h2>'
        f"{verification_section(reports, verify_note)}</section>"
        "</main></body></html>\n"
    )
