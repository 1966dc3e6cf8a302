"""The inline Markdown the rules catalog is written in, rendered to HTML: code spans
(`` `naive_datetime` ``) and strong emphasis (``**…**``); everything else is text, escaped. A
backtick or a pair of asterisks that opens nothing stays as written."""

from __future__ import annotations

import re
from html import escape

__all__ = ["inline", "plain"]

_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)|\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)


def _code(text: str) -> str:
    # CommonMark: one leading and one trailing space are stripped when both are there.
    if len(text) > 1 and text.startswith(" ") and text.endswith(" ") and text.strip():
        return text[1:-1]
    return text


def inline(text: str) -> str:
    """`text` as HTML: its code spans as ``<code>``, its strong emphasis as ``<strong>``."""
    out, at = [], 0
    for found in _SPAN.finditer(text):
        out.append(escape(text[at : found.start()]))
        if found.group(1):
            out.append(f"<code>{escape(_code(found.group(2)))}</code>")
        else:
            out.append(f"<strong>{inline(found.group(3))}</strong>")
        at = found.end()
    out.append(escape(text[at:]))
    return "".join(out)


def plain(text: str) -> str:
    """`text` as a reader sees it rendered: the markup gone, the words kept."""
    out, at = [], 0
    for found in _SPAN.finditer(text):
        out.append(text[at : found.start()])
        out.append(_code(found.group(2)) if found.group(1) else plain(found.group(3)))
        at = found.end()
    out.append(text[at:])
    return "".join(out)
