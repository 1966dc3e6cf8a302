"""The review page's table cells and tables, escaped, with the header cells scoped for screen
readers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["cell", "table"]


def cell(value: object, cls: str = "") -> str:
    """One data cell holding `value` as text."""
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{escape(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[str], cls: str = "", caption: str = "") -> str:
    """A table of `rows` (each an HTML ``<tr>``) under column headers, with its caption."""
    attr = f' class="{cls}"' if cls else ""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    cap = f"<caption class='note'>{escape(caption)}</caption>" if caption else ""
    return f"<table{attr}>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
