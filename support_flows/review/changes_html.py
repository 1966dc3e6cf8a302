"""The review page's "What changes" section (K5): the changed fields with the rules they tune,
the chart edges that differ (a table and the proposed diagrams with those edges marked), each
worked timeline under both versions side by side, and what a store's records would meet."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from support_flows.diagrams.graph import Transition
from support_flows.review.changes import EdgeChange, FieldChange, shown
from support_flows.review.markdown import inline
from support_flows.review.markup import cell, table
from support_flows.review.picture import draw
from support_flows.review.proposal import Proposal
from support_flows.review.side_by_side import Compared
from support_flows.review.stored import Impact
from support_flows.review.worked import cell_lines

__all__ = ["CHANGES_CSS", "changes_section"]

CHANGES_CSS = """
#changes { border:2px solid #ad1457; border-radius:12px; padding:4px 20px 12px; margin-top:24px; }
#changes h2 { margin-top:16px; }
.pair figure { margin:6px 0; }
tr.changed td { background:#fce4ec; }
.differs { font-weight:700; color:#ad1457; }
.same { color:var(--muted); }
"""


def _when(p: Proposal) -> str:
    at = p.proposed.effective_from
    return "from the beginning" if at is None else f"from {at.isoformat()}"


def _rules(f: FieldChange) -> str:
    return "<br>".join(
        f'<a class="rule" href="#rule-{escape(r.id)}">{escape(r.id)}</a> '
        f"<b>{inline(r.title)}</b>: {inline(r.statement)}"
        for r in f.rules
    )


def _fields(fields: Sequence[FieldChange], p: Proposal) -> str:
    if not fields:
        return "<p>The proposal changes no K1 field: every rule reads the same values.</p>"
    rows = [
        f"<tr><td><code>{escape(f.name)}</code></td>{cell(f.means)}"
        f"{cell(shown(f.before))}<td><b>{escape(shown(f.after))}</b></td>"
        f"<td>{_rules(f)}</td></tr>"
        for f in fields
    ]
    headers = (
        "Field (K1)",
        "What it sets",
        f"In force now ({p.current.version})",
        f"Proposed ({p.proposed.version})",
        "Rules it tunes",
    )
    return table(headers, rows, "fields")


def _edge_text(t: Transition | None) -> str:
    return "(no such edge)" if t is None else cell_lines(t.phrases())


def _edges(edges: Sequence[EdgeChange]) -> str:
    if not edges:
        return "<p>No chart edge changes: every diagram reads the same under both versions.</p>"
    rows = []
    for e in edges:
        t = e.edge
        target = "stays (internal)" if t.internal else t.target
        rows.append(
            f"<tr>{cell(e.chart)}<td><b>{escape(t.title)}</b><br>"
            f"<code>{escape(t.source)} → {escape(target)}</code></td>"
            f'<td class="differs">{escape(e.kind)}</td>'
            f"{cell(_edge_text(e.before), 'pre')}{cell(_edge_text(e.after), 'pre')}</tr>"
        )
    headers = ("Chart", "Edge", "What differs", "In force now", "Proposed")
    return table(headers, rows, "edges")


def _step_text(row: Sequence[str]) -> str:
    outcome, happened, *after = row[3:]
    return cell_lines([outcome, happened, *after])


def _compared(c: Compared, p: Proposal) -> str:
    b, a = c.before, c.after
    rows = []
    for before, after, differs in zip(b.rows, a.rows, c.differs, strict=True):
        mark = '<td class="differs">≠ differs</td>' if differs else '<td class="same">same</td>'
        cls = ' class="changed"' if differs else ""
        rows.append(
            f"<tr{cls}>{cell(before[0])}"
            f"{cell(before[1], 'pre')}{cell(before[2])}{cell(_step_text(before), 'pre')}"
            f"{cell(_step_text(after), 'pre')}{mark}</tr>"
        )
    headers = (
        "#",
        "When",
        "Request",
        f"Under {p.current.version} (outcome, what happened, after)",
        f"Under {p.proposed.version}",
        "Differs?",
    )
    summary = (
        f"{c.changed} of {len(c.differs)} steps differ" if c.changed else "every step is the same"
    )
    drawn_before = draw(b.picture, f"{b.title} under {p.current.version}")
    drawn_after = draw(a.picture, f"{a.title} under {p.proposed.version}")
    return (
        f'<section class="compared" id="compare-{escape(b.slug)}"><h4>{escape(b.title)}: '
        f"{escape(summary)}</h4><div class='pair'>"
        f'<figure class="picture" tabindex="0">{drawn_before}<figcaption>Under '
        f"{escape(p.current.version)} "
        "(in force now).</figcaption></figure>"
        f'<figure class="picture" tabindex="0">{drawn_after}<figcaption>Under '
        f"{escape(p.proposed.version)} "
        "(proposed).</figcaption></figure></div>"
        f"{table(headers, rows, 'worked compared', label=f'{b.title} under both versions')}"
        "</section>"
    )


def _impact(impact: Impact | None) -> str:
    if impact is None:
        return (
            '<p class="note">No store was given (<code>--db URL</code>): the stored plans and '
            "orders the proposal would treat differently are not counted.</p>"
        )
    kinds = (impact.plans, impact.orders)
    rows = [
        f"<tr>{cell(k.kind)}{cell(k.seen)}<td><b>{k.differ}</b></td>{cell(k.unreadable)}</tr>"
        for k in kinds
    ]
    fields: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {}
    for k in kinds:
        for name, rules, count in k.by_field:
            fields.setdefault(name, (rules, {}))[1][k.kind] = count
    by_rule = [
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(', '.join(rules))}</td>"
        f"{cell(counts.get('plans', '-'))}{cell(counts.get('orders', '-'))}</tr>"
        for name, (rules, counts) in fields.items()
    ]
    return (
        f"<p>Each stored record was restored in memory (nothing was saved) at "
        f"{escape(impact.at.isoformat())}, and every request it could receive next (a change "
        "to each tier, a cancel, a revoke, scheduling a session, a new order) was decided by "
        "an actor holding each billing role of either version, under both versions.</p>"
        + table(("Records", "Read", "Treated differently", "Unreadable under the catalog"), rows)
        + table(
            (
                "Changed field",
                "Rules it tunes",
                "Plans it alone changes",
                "Orders it alone changes",
            ),
            by_rule,
            caption="By rule: the records each field's change alone treats differently.",
        )
    )


def changes_section(
    p: Proposal,
    fields: Sequence[FieldChange],
    edges: Sequence[EdgeChange],
    diagrams: Sequence[tuple[str, str, str]],
    compared: Sequence[Compared],
    impact: Impact | None,
) -> str:
    """The section that opens a review of a change. `diagrams` holds (chart title, inline SVG,
    full-size file name) of each proposed chart that has a changed edge."""
    figures = "".join(
        f'<figure class="diagram">{svg}<figcaption>{escape(title)} under '
        f"{escape(p.proposed.version)}: each edge that differs from {escape(p.current.version)} "
        "is bold, dashed, magenta and labelled CHANGED (the key is in the picture); removed "
        f'edges are listed in the table above. <a class="full-size" href="{escape(file)}">'
        f"Open {escape(file)} full size</a>.</figcaption></figure>"
        for title, svg, file in diagrams
    )
    changed = sum(c.changed for c in compared)
    return (
        '<section id="changes"><h2>What changes</h2>'
        f'<p class="lede">Proposed version <b>{escape(p.proposed.version)}</b> '
        f"({escape(_when(p))}) "
        f"beside <b>{escape(p.current.version)}</b>, the version in force at "
        f"{escape(p.now.isoformat())}. New terms govern requests made from the proposal's "
        "effective instant on; what is already scheduled keeps its terms (K3).</p>"
        f"<h3>Changed fields ({len(fields)})</h3>{_fields(fields, p)}"
        f"<h3>Chart edges that differ ({len(edges)})</h3>{_edges(edges)}{figures}"
        f"<h3>Worked timelines under both versions ({changed} steps differ)</h3>"
        "<p class='lede'>Each story is run twice, each version alone in force over it; rows "
        "that differ are shaded and marked ≠.</p>"
        f"{''.join(_compared(c, p) for c in compared)}"
        f"<h3>Stored records at their next request</h3>{_impact(impact)}</section>"
    )
