"""The review of a change (K5) put together for the pack: what changes, computed by the library,
as the section that opens the page and the proposed diagrams as files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from support_flows.diagrams import standalone_svg, to_dot
from support_flows.diagrams.graph import chart_graph
from support_flows.review.changes import edge_changes, field_changes
from support_flows.review.changes_html import CHANGES_CSS, changes_section
from support_flows.review.markup import inline_svg
from support_flows.review.proposal import Proposal
from support_flows.review.side_by_side import compare_worked
from support_flows.review.stored import Impact, impact

__all__ = ["Opening", "opening"]


@attrs.frozen
class Opening:
    """The "What changes" section, its CSS, and the files written for it."""

    html: str
    css: str
    files: tuple[Path, ...]
    impact: Impact | None


def opening(p: Proposal, out: Path, store: Any | None, step: Callable[[str], None]) -> Opening:
    """Compare `p`'s versions: fields, chart edges (each changed chart drawn under the proposal
    into ``<chart>-proposed.svg``), worked timelines, and with `store` its records (read-only)."""
    fields = field_changes(p.current, p.proposed)
    edges = edge_changes(p.current, p.proposed)
    diagrams, files = [], []
    for chart in dict.fromkeys(e.chart for e in edges):
        graph = chart_graph(chart, p.proposed)
        marked = {e.after for e in edges if e.chart == chart and e.after is not None}
        svg = standalone_svg(to_dot(attrs.evolve(graph, changed=frozenset(marked))))
        path = out / f"{chart}-proposed.svg"
        path.write_text(svg, encoding="utf-8")
        files.append(path)
        name = f"Diagram of the {graph.title} chart under {p.proposed.version}, changes marked"
        diagrams.append((graph.title, inline_svg(svg, f"{chart}-proposed", name), path.name))
    step(f"what changes: {len(fields)} fields, {len(edges)} chart edges")
    compared = compare_worked(p.current, p.proposed)
    step(f"worked timelines under both versions: {sum(c.changed for c in compared)} steps differ")
    found = None
    if store is not None:
        found = impact(p, store.plans(), store.orders())
        step(
            f"stored records: {found.plans.differ} of {found.plans.seen} plans, "
            f"{found.orders.differ} of {found.orders.seen} orders treated differently"
        )
    html = changes_section(p, fields, edges, diagrams, compared, found)
    return Opening(html, CHANGES_CSS, tuple(files), found)
