"""Diagrams of the charts: Mermaid and DOT as text, SVG and PNG laid out by `graphviz-pure`.

``render("plan", "mermaid")`` draws a chart from its one declaration (`COMPILED`, the guard
registry, the model's actions); ``render(plan, "svg")`` draws a live plan, order or case flow with
its current state highlighted. Mermaid and DOT need nothing beyond the package; SVG and PNG need
the layout engine of the ``diagrams`` extra, found next to this interpreter's scripts (never on
PATH). This is the only module that runs a layout engine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sysconfig
from pathlib import Path

from support_flows.diagrams.graph import CHARTS, Graph, Node, Transition, graph_of
from support_flows.errors import Reason, Violation
from support_flows.extras import LayoutEngineMissing, needs
from support_flows.inputs import choice
from support_flows.values.policy import Policy

__all__ = [
    "CHARTS",
    "ENGINE",
    "FORMATS",
    "LayoutEngineMissing",
    "layout_engine",
    "render",
    "to_dot",
    "to_mermaid",
]

FORMATS = ("mermaid", "dot", "svg", "png")
ENGINE = "graphviz-pure"
EXTRA = "diagrams"

CURRENT = "#ffd54f"
CURRENT_LINE = "#a34f00"
NODE_FILL = "#eef3fb"
NODE_LINE = "#4a6fa5"
FINAL_FILL = "#e8f5e9"
EDGE = "#5b6b7f"
MUTED = "#55606e"
SMALLEST = 11
"""The smallest font size of a diagram, in points: a diagram drawn no smaller than one CSS pixel
per point (as the review page lays them out at 1400 px) shows every label at 11 px or more."""
CHANGED = "#ad1457"
CHANGED_NAME = "magenta"
CHANGED_LEAD = "CHANGED"


def layout_engine() -> Path | None:
    """The `graphviz-pure` executable installed with this interpreter, or None."""
    schemes = [None, f"{os.name}_user"]
    for scheme in schemes:
        try:
            scripts = (
                sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
            )
        except KeyError:
            continue
        for name in (ENGINE, f"{ENGINE}.exe"):
            found = Path(scripts) / name
            if found.is_file() and os.access(found, os.X_OK):
                return found
    return None


# Mermaid ------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    """Label text Mermaid reads literally (`;` ends a statement, `#` starts an entity)."""
    text = text.replace("#", "#35;").replace("; ", ", ")
    return text.replace(";", "#59;").replace('"', "#quot;")


def _mermaid_label(t: Transition) -> str:
    return _mermaid_text(" · ".join(t.phrases()))


def to_mermaid(graph: Graph) -> str:
    """A Mermaid ``stateDiagram-v2``: every state, its internal transitions as lines of its
    description (as UML draws them), and every transition between states."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for n in graph.nodes:
        lines.append(f'    state "{_mermaid_text(n.name)}" as {n.id}')
        lines += [
            f"    {n.id} : {_mermaid_label(t)}"
            for t in graph.transitions
            if t.internal and t.source == n.id
        ]
    lines += [f"    [*] --> {n.id}" for n in graph.nodes if n.initial]
    for t in graph.transitions:
        if t.internal:
            continue
        label = _mermaid_label(t)
        if graph.is_waiting(t):
            assert graph.highlight is not None
            label = f"{_mermaid_text(graph.highlight.waiting_label)} · {label}"
        lines.append(f"    {t.source} --> {t.target} : {label}")
    lines += [f"    {n.id} --> [*]" for n in graph.nodes if n.final]
    h = graph.highlight
    if h is not None:
        lines += [
            f"    classDef current fill:{CURRENT},stroke:{CURRENT_LINE},stroke-width:3px",
            f"    class {h.current} current",
            f"    note right of {h.current}",
            f"        now: {_mermaid_text(h.caption)}",
            "    end note",
        ]
        if h.waiting is not None:
            lines += [
                f"    classDef waiting stroke:{CURRENT_LINE},stroke-width:2px,stroke-dasharray:5 5",
                f"    class {h.waiting[1]} waiting",
            ]
    return "\n".join(lines) + "\n"


# DOT ----------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT string (ASCII: layout engines measure it reliably)."""
    return '"' + _ascii(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ascii(text: str) -> str:
    return text.replace("·", "-").encode("ascii", "replace").decode("ascii")


def _html(text: str) -> str:
    return _ascii(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _wrap(phrase: str, width: int = 36) -> list[str]:
    """`phrase` in lines of about `width` characters; a rule id stays with the word before it,
    and "unless" with the first refusal."""
    words: list[str] = []
    for word in phrase.split(" "):
        glued = word.startswith("(") and word.endswith((")", "),"))
        if words and (glued or words[-1] == "unless"):
            words[-1] += " " + word
        else:
            words.append(word)
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) + 1 <= width:
            lines[-1] += " " + word
        else:
            lines.append(("   " if lines else "") + word)
    return lines


def _rows(t: Transition, lead: str = "", colour: str = "") -> str:
    """An edge's label as HTML-like table rows: title, policies, then refusals in grey."""
    rows = []
    if lead:
        rows.append(
            f'<tr><td align="left"><font color="{colour or CURRENT_LINE}"><b>{_html(lead)}</b>'
            "</font></td></tr>"
        )
    lines = [t.title] if len(t.title) <= 40 or not t.when else [t.words, f"[{', '.join(t.when)}]"]
    # One row per line: lines of bold text in one cell are set too close to one another.
    rows += [f'<tr><td align="left"><b>{_html(line)}</b></td></tr>' for line in lines]
    for policy in t.policies:
        text = '<br align="left"/>'.join(_html(line) for line in _wrap(str(policy)))
        rows.append(f'<tr><td align="left">{text}<br align="left"/></td></tr>')
    if t.refusals:
        text = '<br align="left"/>'.join(_html(line) for line in _wrap(t.unless))
        rows.append(
            f'<tr><td align="left"><font color="{MUTED}">{text}<br align="left"/></font></td></tr>'
        )
    return "".join(rows)


def _marked_rows(graph: Graph, t: Transition) -> str:
    return _rows(t, CHANGED_LEAD, CHANGED) if t in graph.changed else _rows(t)


def _edge_label(t: Transition, lead: str = "", colour: str = "") -> str:
    return (
        '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        f"{_rows(t, lead, colour)}</table>>"
    )


def _legend(name: str) -> str:
    """A key for the changed edges: their colour, their line and the word on their label."""
    lines = (
        f'<font color="{CHANGED}"><b>{CHANGED_LEAD}</b></font>: a bold dashed {CHANGED_NAME} arrow',
        "whose label, guards or existence",
        "differ from the version in force",
    )
    return (
        f"  {_quote(name + '__legend')} [id={_quote(name + '-legend')}, label=<"
        f'<table border="1" cellborder="0" cellspacing="0" cellpadding="3" color="{CHANGED}">'
        f"{''.join(f'<tr><td>{line}</td></tr>' for line in lines)}</table>>];"
    )


def _node_label(graph: Graph, node: Node, inside: list[Transition]) -> str:
    h = graph.highlight
    current = h is not None and node.id == h.current
    waiting = h is not None and h.waiting is not None and node.id == h.waiting[1]
    fill = CURRENT if current else FINAL_FILL if node.final else NODE_FILL
    line = CURRENT_LINE if current or waiting else NODE_LINE
    width = "3" if current else "2" if waiting or node.final else "1"
    style = ' style="rounded,dashed"' if waiting else ' style="rounded"'
    name = _html(node.name) + (" (now)" if current else "")
    cells = [f'<tr><td cellpadding="6"><font point-size="15"><b>{name}</b></font></td></tr>']
    if inside:
        cells.append("<hr/>")
        body = "".join(
            f'<tr><td align="left" cellpadding="3"><table border="0" cellborder="0" '
            f'cellspacing="0" cellpadding="0">{_marked_rows(graph, t)}</table></td></tr>'
            for t in inside
        )
        cells.append(
            f'<tr><td><font point-size="{SMALLEST}"><table border="0" cellborder="0" '
            f'cellspacing="0" cellpadding="0">{body}</table></font></td></tr>'
        )
    return (
        f'<<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2"{style} '
        f'bgcolor="{fill}" color="{line}">{"".join(cells)}</table>>'
    )


def to_dot(graph: Graph) -> str:
    """A Graphviz DOT digraph: one node per state (its internal transitions listed inside, as
    UML draws them), one edge per transition between states, the highlight if live."""
    h = graph.highlight
    title = graph.title if h is None else f"{graph.title}: {h.caption}"
    out = [
        f"digraph {_quote(graph.name)} {{",
        "  graph [rankdir=TB, fontname=Helvetica, fontsize=16, "
        f"labelloc=t, label={_quote(title)}, id={_quote(graph.name + '-diagram')}, pad=0.3, "
        "nodesep=0.5, ranksep=0.8, bgcolor=white];",
        "  node [shape=plain, fontname=Helvetica];",
        f'  edge [fontname=Helvetica, fontsize={SMALLEST}, color="{EDGE}", fontcolor="#222222"];',
    ]
    for n in graph.nodes:
        inside = [t for t in graph.transitions if t.internal and t.source == n.id]
        node_id = _quote(f"{graph.name}-{n.id}")
        out.append(f"  {_quote(n.id)} [id={node_id}, label={_node_label(graph, n, inside)}];")
    for n in graph.nodes:
        if n.initial:
            start = _quote(f"{n.id}__start")
            begin = _quote(f"{graph.name}--initial")
            out.append(f'  {start} [id={begin}, shape=point, width=0.18, label="", color=black];')
            out.append(f"  {start} -> {_quote(n.id)} [id={_quote(graph.name + '--initial-edge')}];")
    for number, t in enumerate(graph.transitions, start=1):
        if t.internal:
            continue
        attrs = [f"id={_quote(f'{graph.name}-edge-{number}')}"]
        lead = ""
        if graph.is_waiting(t):
            assert h is not None
            lead = h.waiting_label
            attrs += [f'color="{CURRENT_LINE}"', "penwidth=2.5"]
        elif t in graph.changed:
            lead = CHANGED_LEAD
            attrs += [f'color="{CHANGED}"', "penwidth=3", 'style="bold,dashed"']
        attrs.insert(0, f"label={_edge_label(t, lead, CHANGED if lead == CHANGED_LEAD else '')}")
        out.append(f"  {_quote(t.source)} -> {_quote(t.target)} [{', '.join(attrs)}];")
    if graph.changed:
        out.append(_legend(graph.name))
    out.append("}")
    return "\n".join(out) + "\n"


# Layout -------------------------------------------------------------------------------------


def _missing(fmt: str) -> LayoutEngineMissing:
    return LayoutEngineMissing(
        Violation(Reason.INVALID_VALUE, "V1", needs(f"{fmt.upper()} output", ENGINE, EXTRA))
    )


def layout(dot: str, fmt: str) -> bytes:
    """`dot` laid out as SVG or PNG by the engine of the ``diagrams`` extra."""
    engine = layout_engine()
    if engine is None:
        raise _missing(fmt)
    done = subprocess.run(
        [str(engine), f"-T{fmt}"],
        input=dot.encode("utf-8"),
        capture_output=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"{engine} -T{fmt} failed: {problem[-1] if problem else 'no output'}")
    return done.stdout


_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)


def standalone_svg(dot: str) -> str:
    """An SVG document of `dot` (no XML prolog or DOCTYPE: it also embeds in HTML as it is)."""
    return _PROLOG.sub("", layout(dot, "svg").decode("utf-8"), count=1)


def render(subject: object, fmt: str = "mermaid", policy: Policy | None = None) -> str | bytes:
    """`subject` (a chart name, or a live SupportPlan, ConsultingOrder or CaseFlow) drawn as
    "mermaid", "dot" or "svg" (text) or "png" (bytes), under `policy` (K1): its edges and terms.
    By default a chart name is drawn under Atlas's policy, a live object under its catalog's
    version in force at its clock's now."""
    choice(fmt, FORMATS, "diagram format")
    graph = graph_of(subject, policy)
    if fmt == "mermaid":
        return to_mermaid(graph)
    dot = to_dot(graph)
    if fmt == "dot":
        return dot
    if fmt == "svg":
        return standalone_svg(dot)
    return layout(dot, "png")
