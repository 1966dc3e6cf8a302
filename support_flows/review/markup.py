"""The review page's table cells and tables, escaped, with the header cells scoped for screen
readers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["cell", "inline_svg", "table"]


def cell(value: object, cls: str = "") -> str:
    """One data cell holding `value` as text."""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def table(
    headers: Sequence[str],
    rows: Iterable[str],
    cls: str = "",
    caption: str = "",
    label: str = "",
) -> str:
    """A table of `rows` (each an HTML ``<tr>``) under column headers, with its caption; in a
    region that scrolls sideways on a narrow screen, reachable by keyboard and named `label`
    (else the caption, else the headers)."""
    attr = f' class="{cls}"' if cls else ""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    cap = f"<caption class='note'>{escape(caption)}</caption>" if caption else ""
    name = label or caption or "Table: " + ", ".join(headers)
    return (
        f'<div class="wide" tabindex="0" role="region" aria-label="{escape(name)}">'
        f"<table{attr}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</div>"
    )


def inline_svg(svg: str, prefix: str, name: str = "") -> str:
    """An SVG of the layout engine, made safe to inline beside others: every id prefixed; named
    `name` for assistive technology when given."""
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    own = "|".join(re.escape(prefix + dash) for dash in ("-", "&#45;"))
    svg = re.sub(rf'\bid="(?!{own})', f'id="{prefix}-', svg)
    named = f' role="img" aria-label="{escape(name)}"' if name else ""
    return svg.replace("<svg ", f'<svg class="diagram {prefix}"{named} ', 1)
