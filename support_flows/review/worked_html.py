"""A worked example on the review page: its story, the command that reruns it on a dark bar,
its pictures (and a closer one), a note in plain words, and its table of steps."""

from __future__ import annotations

from html import escape

from support_flows.review.markup import cell, table
from support_flows.review.picture import Picture, draw
from support_flows.review.worked import Worked

__all__ = ["command_bar", "worked_section"]


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
