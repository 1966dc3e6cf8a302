"""A worked timeline drawn as inline SVG: lanes of bars on one time axis, in the billing zone.

The axis is ticked at the first instant of each month in the billing timezone (T3), so a bar
that starts on a tick starts on a local 1st. Numbered marks are the steps of the table beside
the picture; guides are dashed lines for instants worth pointing at (an expiry, UTC's month).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

import attrs
import pendulum

from support_flows.localtime import next_month_start

__all__ = ["COLOURS", "Bar", "Guide", "Lane", "Mark", "Picture", "draw"]

COLOURS = {
    "basic": "#cfd8dc",
    "trial": "#b3e5fc",
    "developer": "#81c784",
    "premium": "#9575cd",
    "cancelled": "#ef9a9a",
    "new": "#eceff1",
    "checkout": "#ffe082",
    "purchased": "#81d4fa",
    "scheduled": "#4fc3f7",
    "consumed": "#a5d6a7",
    "expired": "#ef9a9a",
    "delivered": "#66bb6a",
    "cancelled session": "#e0e0e0",
    "units": "#fff3c4",
}
WIDTH = 980
LEFT = 170
RIGHT = 24
TOP = 46
LANE = 30
GAP = 14


@attrs.frozen
class Bar:
    """A stretch of one lane; `end` None runs on past the picture's right edge."""

    start: pendulum.DateTime
    end: pendulum.DateTime | None
    label: str
    kind: str
    hatched: bool = False
    title: str = ""


@attrs.frozen
class Lane:
    label: str
    bars: tuple[Bar, ...]


@attrs.frozen
class Mark:
    """A numbered step of the table, at its instant."""

    at: pendulum.DateTime
    number: int
    refused: bool = False


@attrs.frozen
class Guide:
    at: pendulum.DateTime
    label: str


@attrs.frozen
class Picture:
    slug: str
    tz: str
    start: pendulum.DateTime
    end: pendulum.DateTime
    lanes: tuple[Lane, ...]
    marks: tuple[Mark, ...] = ()
    guides: tuple[Guide, ...] = ()


class _Axis:
    def __init__(self, start: pendulum.DateTime, end: pendulum.DateTime) -> None:
        self.start, self.span = start, max((end - start).total_seconds(), 1.0)

    def x(self, at: pendulum.DateTime) -> float:
        share = (at - self.start).total_seconds() / self.span
        return LEFT + min(max(share, 0.0), 1.0) * (WIDTH - LEFT - RIGHT)


def _month_ticks(p: Picture) -> list[pendulum.DateTime]:
    ticks: list[pendulum.DateTime] = []
    at = next_month_start(p.start, p.tz)
    while at <= p.end and len(ticks) < 60:
        ticks.append(at)
        at = next_month_start(at, p.tz)
    return ticks


def _text(x: float, y: float, words: str, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(words)}</text>'
    )


def _bar(p: Picture, axis: _Axis, bar: Bar, y: float) -> str:
    x0 = axis.x(bar.start)
    x1 = WIDTH - RIGHT if bar.end is None else axis.x(bar.end)
    width = max(x1 - x0, 3.0)
    fill = COLOURS.get(bar.kind, "#e0e0e0")
    title = escape(bar.title or bar.label)
    parts = [
        f'<g class="bar {escape(bar.kind)}"><title>{title}</title>',
        f'<rect x="{x0:.1f}" y="{y:.1f}" width="{width:.1f}" height="{LANE}" rx="3" '
        f'fill="{fill}" stroke="#455a64" stroke-width="0.6"/>',
    ]
    if bar.hatched:
        parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{width:.1f}" height="{LANE}" rx="3" '
            f'fill="url(#{p.slug}-hatch)"/>'
        )
    if bar.end is None:
        tip = WIDTH - RIGHT
        mid = y + LANE / 2
        parts.append(
            f'<path d="M{tip - 9:.1f},{y + 4:.1f} L{tip:.1f},{mid:.1f} L{tip - 9:.1f},'
            f'{y + LANE - 4:.1f}" fill="none" stroke="#455a64" stroke-width="1.2"/>'
        )
    if len(bar.label) * 6.4 + 8 < width:
        parts.append(_text(x0 + 5, y + LANE / 2 + 4, bar.label, "barlabel"))
    elif width < 12:
        parts.append(_text(x0 + width + 4, y + LANE / 2 + 4, bar.label, "barlabel"))
    parts.append("</g>")
    return "".join(parts)


def _legend(p: Picture, y: float) -> str:
    kinds = list(dict.fromkeys(b.kind for lane in p.lanes for b in lane.bars))
    out, x = [], float(LEFT)
    for kind in kinds:
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" '
            f'fill="{COLOURS.get(kind, "#e0e0e0")}" stroke="#455a64" stroke-width="0.6"/>'
        )
        out.append(_text(x + 16, y + 10, kind, "legend"))
        x += 26 + len(kind) * 6.6
    if any(b.hatched for lane in p.lanes for b in lane.bars):
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" rx="2" fill="#ffffff" '
            'stroke="#455a64" stroke-width="0.6"/>'
        )
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="url(#{p.slug}-hatch)"/>'
        )
        out.append(_text(x + 16, y + 10, "billed retroactively", "legend"))
    return "".join(out)


def draw(p: Picture) -> str:
    """The picture as an inline SVG element (no external references)."""
    axis = _Axis(p.start, p.end)
    lanes_bottom = TOP + len(p.lanes) * (LANE + GAP)
    height = lanes_bottom + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="{p.slug}-picture" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" role="img">',
        f'<defs><pattern id="{p.slug}-hatch" width="7" height="7" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="7" stroke="#263238" stroke-width="1.6" '
        'stroke-opacity="0.45"/></pattern></defs>',
    ]
    for tick in _month_ticks(p):
        x = axis.x(tick)
        shown = tick.in_timezone(p.tz)
        words = f"{shown:%b} {shown.day}" + (f" {shown.year}" if shown.month == 1 else "")
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{lanes_bottom - GAP + 4}" '
            'class="tick"/>'
        )
        out.append(_text(x, TOP - 12, words, "ticklabel", "middle"))
    for guide in p.guides:
        x = axis.x(guide.at)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{lanes_bottom - GAP + 8}" '
            'class="guide"/>'
        )
        right = x + len(guide.label) * 6.2 > WIDTH
        words = _text(x - 3 if right else x + 3, lanes_bottom - GAP + 20, guide.label, "guidelabel")
        out.append(words.replace('text-anchor="start"', 'text-anchor="end"') if right else words)
    for row, lane in enumerate(p.lanes):
        y = TOP + row * (LANE + GAP)
        out.append(_text(LEFT - 10, y + LANE / 2 + 4, lane.label, "lanelabel", "end"))
        out += [_bar(p, axis, bar, y) for bar in lane.bars]
    out += _marks(p, axis, p.marks)
    out.append(_legend(p, height - 18))
    out.append("</svg>")
    return "".join(out)


def _marks(p: Picture, axis: _Axis, marks: Sequence[Mark]) -> list[str]:
    out = []
    last_x = -100.0
    level = 0
    for mark in marks:
        x = axis.x(mark.at)
        level = level + 1 if x - last_x < 18 else 0
        last_x = x
        y = 14 + (level % 2) * 0
        cls = "mark refused" if mark.refused else "mark"
        cx = x + level * 16 if level else x
        out.append(
            f'<g class="{cls}"><line x1="{x:.1f}" y1="{TOP - 2}" x2="{x:.1f}" '
            f'y2="{TOP + len(p.lanes) * (LANE + GAP) - GAP}" class="markline"/>'
            f'<circle cx="{cx:.1f}" cy="{y}" r="8"/>'
            f"{_text(cx, y + 4, str(mark.number), 'marknumber', 'middle')}</g>"
        )
    return out
