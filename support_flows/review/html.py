"""The review page's HTML: one offline document, inline SVG and CSS only (no scripts, fonts or
images from anywhere), built from the charts, the rules catalog, the worked examples and the
verifier's reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from support_flows import __name__ as _package
from support_flows.diagrams.graph import Graph, Transition
from support_flows.errors import Reason
from support_flows.review.markup import cell, table
from support_flows.review.picture import draw
from support_flows.review.scenarios import Worked
from support_flows.review.verification import shortfalls, verification_section
from support_flows.rules import RULES, SECTIONS, Rule, rules_for
from support_flows.values.plan import ENTITLEMENTS

__all__ = ["page", "shortfalls"]

CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#d9e2ec; --accent:#2f5d9e; --soft:#f5f8fc;
        --ok:#1b7f3b; --bad:#b3261e; --warn:#c25e00; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       sans-serif; color:var(--ink); background:#fff; }
header { background:linear-gradient(135deg,#20406e,#2f5d9e); color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:28px; }
header p { margin:0; opacity:.9; max-width:980px; }
nav { position:sticky; top:0; z-index:2; background:#fff; border-bottom:1px solid var(--line);
      padding:8px 40px; display:flex; flex-wrap:wrap; gap:6px 18px; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; }
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
       white-space:pre-wrap; word-break:break-all; }
.note { color:var(--muted); font-size:13px; }
svg.timeline text { font-family:system-ui, Helvetica, Arial, sans-serif; }
svg.timeline .ticklabel { font-size:11px; fill:#52606d; }
svg.timeline .tick { stroke:#cbd2d9; stroke-width:1; }
svg.timeline .guide { stroke:#c25e00; stroke-width:1.4; stroke-dasharray:5 4; }
svg.timeline .guidelabel { font-size:11px; fill:#c25e00; }
svg.timeline .lanelabel { font-size:12.5px; font-weight:600; fill:#1f2933; }
svg.timeline .barlabel { font-size:11px; fill:#102a43; }
svg.timeline .legend { font-size:11px; fill:#52606d; }
svg.timeline .markline { stroke:#243b53; stroke-width:1; stroke-dasharray:2 3; }
svg.timeline .mark circle { fill:#243b53; }
svg.timeline .mark.refused circle { fill:#b3261e; }
svg.timeline .mark.refused .markline { stroke:#b3261e; }
svg.timeline .marknumber { font-size:10px; font-weight:700; fill:#fff; }
"""


def _refusals(t: Transition) -> str:
    return "<br>".join(
        f'<span class="reason">{escape(r.text)}</span> <span class="rule">'
        f"{escape('/'.join(r.rules))}</span>"
        for r in t.refusals
    )


def transitionstable(graph: Graph) -> str:
    """Event, from, to, condition, refusals with rule ids, effective-date policy: every edge."""
    names = {n.id: n.name for n in graph.nodes}
    rows = []
    for t in graph.transitions:
        target = "stays (internal)" if t.internal else names[t.target]
        policies = "<br>".join(escape(str(p)) for p in t.policies)
        rows.append(
            "<tr>"
            f"<td><b>{escape(t.words)}</b><br><code>{escape(t.event)}</code></td>"
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
    return table(headers, rows, "transitions")


def entitlementstable() -> str:
    """P17: what each plan state gives, from the one table the guards read."""
    rows = [
        f"<tr>{cell(state.value)}{cell(', '.join(sorted(c.value for c in channels)))}</tr>"
        for state, channels in ENTITLEMENTS.items()
    ]
    return table(("Plan state", "Entitled to (P17)"), rows)


def _rule_row(r: Rule) -> str:
    sources = " + ".join(s.value for s in r.sources)
    if r.source_note:
        sources += f" ({r.source_note})"
    reasons = "<br>".join(f'<span class="reason">{escape(c.value)}</span>' for c in r.reasons)
    return (
        f'<tr id="rule-{escape(r.id)}"><td><span class="rule">{escape(r.id)}</span></td>'
        f"<td><b>{escape(r.title)}</b><br>{escape(r.statement)}</td>"
        f"{cell(sources)}<td>{reasons or '-'}</td></tr>"
    )


def rules_section() -> str:
    """The rules catalog, section by section, with sources and the reasons each can produce."""
    parts = []
    for section, title in SECTIONS.items():
        rows = [_rule_row(r) for r in RULES.values() if r.section == section]
        parts.append(f"<h3>{escape(section)}: {escape(title)}</h3>")
        parts.append(table(("Rule", "Statement", "Source", "Reasons"), rows, "rules"))
    reason_rows = [
        f"<tr><td class='reason'>{escape(code.value)}</td>"
        f"<td>{', '.join(escape(r.id) for r in rules_for(code)) or '-'}</td></tr>"
        for code in Reason
    ]
    parts.append("<h3>Refusal reasons and the rules that produce them</h3>")
    parts.append(table(("Reason code", "Rules"), reason_rows, "reasons"))
    return "".join(parts)


def worked_section(w: Worked) -> str:
    """One worked example: story, rules, the command that reruns it, picture, table."""
    chips = "".join(f'<a class="chip" href="#rule-{r}">{escape(r)}</a>' for r in w.rules)
    rows = []
    for row in w.rows:
        refused = any(cell.startswith("refused") for cell in row)
        cls = ' class="refused"' if refused else ""
        rows.append(f"<tr{cls}>{''.join(cell(c, 'pre') for c in row)}</tr>")
    command = f'<div class="cmd">$ {escape(w.command)}</div>' if w.command else ""
    return (
        f'<section class="worked" id="{escape(w.slug)}"><h3>{escape(w.title)}</h3>'
        f'<p class="lede">{escape(w.story)}</p><p>Rules shown: {chips}</p>{command}'
        f"<figure>{draw(w.picture)}<figcaption>Time axis ticked at the 1st of each month in "
        f"{escape(w.picture.tz)}; numbered marks are the steps of the table.</figcaption></figure>"
        f"{table(w.headers, rows, 'worked')}</section>"
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
) -> str:
    """The whole review page. `charts` holds (graph, inline SVG, chart docstring) per chart;
    `changes`, when given, opens it (K5), styled by `extra_css`."""
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
    chart_parts = []
    for graph, svg, doc in charts:
        extra = entitlementstable() if graph.name == "plan" else ""
        chart_parts.append(
            f'<section class="chart" id="{graph.name}"><h2>{escape(graph.title)}</h2>'
            f'<p class="lede">{escape(doc)} Files: <code>{graph.name}.svg</code>, '
            f"<code>{graph.name}.mmd</code>.</p>"
            f'<figure class="diagram">{svg}<figcaption>Boxes are states (a double border marks '
            "a final one); requests that keep the state are listed inside its box. Each arrow "
            "reads: event [when it applies], effective-date policy (rule), and in grey the "
            "refusals that can stop it (reason code, rule).</figcaption></figure>"
            f"<h3>Transitions</h3>{transitionstable(graph)}{extra}</section>"
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(_package)} review pack</title><style>{CSS}{extra_css}</style></head><body>"
        f"<header><h1>Support flows: product review pack</h1><p>Every diagram, table and "
        f"timeline on this page is generated by {escape(_package)} {escape(version)} from the "
        "charts, guard registries and rules catalog that run in production: what you read "
        "here is what the code does.</p></header>"
        f"<nav>{nav}</nav><main><div class='cards'>{cards}</div>{falls_short}{changes}"
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
