"""The verifier's part of the review page: one row per machine (coverage ratios with what is
missing, invariants checked, violations with their counterexamples), then per machine the table
of what each rule was seen to decide, and the shortfalls that keep the verification from being
whole (U1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from support_flows.review.markup import cell, table

__all__ = ["decisions_table", "shortfalls", "verification_section"]


def _get(data: Mapping[str, Any], *path: str) -> Any:
    found: Any = data
    for key in path:
        if not isinstance(found, Mapping) or key not in found:
            return None
        found = found[key]
    return found


def _ratio(data: Mapping[str, Any], key: str, done: str) -> str:
    part = _get(data, key)
    if not isinstance(part, Mapping):
        return "-" if part is None else escape(str(part))
    text = f"{part.get(done, '?')} / {part.get('total', '?')}"
    missing = part.get("missing")
    if missing:
        shown = ", ".join(map(str, list(missing)[:12]))
        more = f" (+{len(missing) - 12})" if len(missing) > 12 else ""
        text += f"<br><span class='note'>missing: {escape(shown)}{more}</span>"
    return text


KNOWN = {"machine", "sequences", "states", "transitions", "reasons", "rules"}
KNOWN |= {"invariants_checked", "violations", "seconds", "decisions"}


def _violations(found: object) -> str:
    if not found:
        return '<span style="color:var(--ok)">none</span>'
    if not isinstance(found, list):
        return escape(str(found))
    items = []
    for v in found:
        if isinstance(v, Mapping):
            steps = v.get("counterexample")
            items.append(
                f"<li><span class='rule'>{escape(str(v.get('rule', '?')))}</span> "
                f"{escape(str(v.get('message', '')))}"
                + (f"<br><code>{escape(str(steps))}</code>" if steps else "")
                + "</li>"
            )
        else:
            items.append(f"<li>{escape(str(v))}</li>")
    return f'<b style="color:var(--bad)">{len(found)}</b><ul>{"".join(items)}</ul>'


def verification_section(reports: Sequence[Mapping[str, Any]], note: str) -> str:
    """The verifier's reports as a table (whatever keys they carry), or one line saying why not."""
    if not reports:
        return f"<p>{escape(note)}</p>"
    rows = []
    # A key this page does not know yet is shown in one more column, only when some report has.
    more = any(k not in KNOWN for r in reports for k in r)
    for r in reports:
        seconds = r.get("seconds")
        extra = {k: v for k, v in r.items() if k not in KNOWN}
        other = (
            f"<td class='note'>{escape(', '.join(f'{k}: {v}' for k, v in extra.items()))}</td>"
            if more
            else ""
        )
        rows.append(
            "<tr>"
            f"{cell(r.get('machine', '?'))}{cell(r.get('sequences', '-'))}"
            f"<td>{_ratio(r, 'states', 'reached')}</td>"
            f"<td>{_ratio(r, 'transitions', 'covered')}</td>"
            f"<td>{_ratio(r, 'reasons', 'produced')}</td>"
            f"<td>{_ratio(r, 'rules', 'exercised')}</td>"
            f"{cell(r.get('invariants_checked', '-'))}"
            f"<td>{_violations(r.get('violations'))}</td>"
            f"{cell(f'{seconds:.1f}' if isinstance(seconds, int | float) else '-')}"
            f"{other}</tr>"
        )
    headers = (
        "Machine",
        "Sequences",
        "States reached",
        "Transitions covered",
        "Reasons produced",
        "Rules exercised",
        "Invariants checked",
        "Violations",
        "Seconds",
        *(("More from the verifier",) if more else ()),
    )
    decided = "".join(decisions_table(r) for r in reports)
    if decided:
        decided = (
            "<h3>What each rule was seen to decide</h3><p class='lede'>A check counts as covered "
            "once the exploration has seen it refuse and seen it allow on every event it guards; "
            "a check that only explains a refusal with no edge can only refuse; a rule with no "
            f"check counts once exercised.</p>{decided}"
        )
    return f"<p class='lede'>{escape(note)}</p>{table(headers, rows, 'verification')}{decided}"


def _outcomes(items: object) -> str:
    return ", ".join(map(str, items)) if isinstance(items, list | tuple) else ""


def _decision_row(row: Mapping[str, Any]) -> str:
    missing = _outcomes(row.get("missing"))
    check = str(row.get("check") or "")
    cls = ' class="unseen"' if missing else ""
    rule = escape(str(row.get("rule", "?")))
    return (
        f'<tr{cls}><th scope="row"><span class="rule">{rule}</span></th>'
        + (f"<td><code>{escape(check)}</code></td>" if check else "<td>(no check)</td>")
        + cell(row.get("where") or "-")
        + cell(_outcomes(row.get("seen")) or "none")
        + cell(missing or "-")
        + "</tr>"
    )


def decisions_table(report: Mapping[str, Any]) -> str:
    """Per rule of one machine: each check and the event it guards, the outcomes seen
    (refused, allowed) and those never seen; a rule with no check, whether it was exercised.
    Nothing when the report carries no decisions."""
    decided = _get(report, "decisions")
    rows = _get(report, "decisions", "rules")
    if not isinstance(decided, Mapping) or not isinstance(rows, list | tuple):
        return ""
    lenient = not decided.get("strict") and decided.get("missing")
    caption = (
        f"{report.get('machine', '?')}: what each rule was seen to decide, "
        f"{decided.get('seen', '?')} of {decided.get('total', '?')} outcomes of its checks seen"
        + (" (those never seen are reported, not failing)" if lenient else "")
    )
    return table(
        ("Rule", "Check", "On event", "Seen", "Never seen"),
        [_decision_row(row) for row in rows if isinstance(row, Mapping)],
        "decisions",
        caption,
    )


TALLIES: tuple[tuple[str, str], ...] = (
    ("states", "state"),
    ("transitions", "transition"),
    ("reasons", "reason"),
    ("rules", "rule"),
)


def _gaps(report: Mapping[str, Any]) -> list[str]:
    """The parts a report says are not covered; a tally it does not report counts as one."""
    gaps = []
    for key, noun in TALLIES:
        missing = _get(report, key, "missing")
        if not isinstance(missing, list | tuple):
            gaps.append(f"{key}: not reported")
        else:
            gaps += [f"{noun} {item}" for item in missing]
    if _get(report, "decisions", "strict"):
        unseen = _get(report, "decisions", "missing")
        gaps += [f"decision {item}" for item in unseen or ()]
    return gaps


def shortfalls(reports: Sequence[Mapping[str, Any]], shown: int = 8) -> tuple[str, ...]:
    """What keeps the verification from being whole, one line per machine that falls short:
    the verifier's failure, its violations, the parts it did not cover (U1)."""
    found = []
    for report in reports:
        parts = []
        if report.get("error"):
            parts.append(f"the verifier failed ({report['error']})")
        violations = report.get("violations")
        if violations:
            count = len(violations) if isinstance(violations, list) else 1
            parts.append(f"{count} violation{'s' if count != 1 else ''}")
        gaps = [] if report.get("error") else _gaps(report)
        if gaps:
            more = f" and {len(gaps) - shown} more" if len(gaps) > shown else ""
            parts.append(f"not covered: {', '.join(gaps[:shown])}{more}")
        if parts:
            found.append(f"{report.get('machine', '?')}: {'; '.join(parts)}")
    return tuple(found)
