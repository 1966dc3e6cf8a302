"""The review page's HTML: one offline document, inline SVG and CSS only (no scripts, fonts or
images from anywhere), built from the charts, the rules catalog, the worked examples and the
verifier's reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from support_flows import __name__ as _package
from support_flows.diagrams.graph import Graph
from support_flows.errors import Reason
from support_flows.review.catalog_html import rules_section
from support_flows.review.chart_html import chart_section
from support_flows.review.scenarios import Worked
from support_flows.review.verification import shortfalls, verification_section
from support_flows.review.worked_html import worked_section
from support_flows.rules import RULES
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
