"""The review page's rules catalog: what each Source value means, each section's rules with
their statements rendered from the catalog's Markdown, the numbers a section skips, and every
refusal reason with the rules that produce it."""

from __future__ import annotations

from html import escape

from support_flows.errors import Reason
from support_flows.review.markdown import inline
from support_flows.review.markup import table
from support_flows.rules import RULES, SECTIONS, Rule, Source, rules_for

__all__ = ["rules_section", "sources_part"]


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
