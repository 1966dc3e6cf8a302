"""A worked timeline drawn as inline SVG: lanes of bars on one time axis, in the billing zone.

The axis is ticked at the first instant of each month in the billing timezone (T3), so a bar
that starts on a tick starts on a local 1st; a picture spanning a few days (a zoom) is ticked
every six hours of local time instead. Numbered marks are the steps of the table beside the
picture; guides are dashed lines for instants worth pointing at (an expiry, UTC's month).

No two labels overlap: a bar's label goes inside it when it fits, else below its lane on the
first free row, tied to the bar by a short line; marks too close to share a spot are spread
along their row, each tied to its instant; guide labels and legend entries take rows as needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

import attrs
import pendulum

from support_flows.localtime import next_month_start

__all__ = ["COLOURS", "Bar", "Guide", "Lane", "Mark", "Picture", "draw"]

COLOURS = {
    "basic": "#cfd8dc",
    "trial": "#b3e5fc",
    "developer": "#81c784",
    "premium": "#b39ddb",
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
WIDTH = 1180
LEFT = 160
RIGHT = 24
TOP = 36
LANE = 30
GAP = 14
ROW = 15
"""The height of one row of labels below a lane, under the guides or in the legend."""
CHAR = 6.8
"""A generous width of one character of the pictures' 11 px labels, for placing them."""
MARK_STEP = 20.0
ZOOM_DAYS = 4
"""A picture spanning at most this many days is ticked every six hours, not at each 1st."""


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


class _Rows:
    """Rows of labels: each label takes the first row where it overlaps no other."""

    def __init__(self) -> None:
        self.taken: list[list[tuple[float, float]]] = []

    def place(self, x0: float, x1: float) -> int:
        for number, spans in enumerate(self.taken):
            if all(x1 + 6 <= a or x0 >= b + 6 for a, b in spans):
                spans.append((x0, x1))
                return number
        self.taken.append([(x0, x1)])
        return len(self.taken) - 1


def _width(words: str) -> float:
    return len(words) * CHAR


def _ticks(p: Picture) -> list[tuple[pendulum.DateTime, str]]:
    if (p.end - p.start).total_seconds() <= ZOOM_DAYS * 86400:
        at = p.start.in_timezone(p.tz).start_of("day")
        ticks: list[tuple[pendulum.DateTime, str]] = []
        while at <= p.end:
            if at >= p.start:
                dated = at.hour == 0 or not ticks
                words = f"{at:%b} {at.day} {at:%H:%M}" if dated else f"{at:%H:%M}"
                ticks.append((at, words))
            at = at.add(hours=6)
        return ticks
    months: list[tuple[pendulum.DateTime, str]] = []
    at = next_month_start(p.start, p.tz)
    while at <= p.end and len(months) < 60:
        shown = at.in_timezone(p.tz)
        words = f"{shown:%b} {shown.day}" + (f" {shown.year}" if shown.month == 1 else "")
        months.append((at, words))
        at = next_month_start(at, p.tz)
    return months


def _text(x: float, y: float, words: str, cls: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(words)}</text>'
    )


def _span(axis: _Axis, bar: Bar) -> tuple[float, float]:
    x0 = axis.x(bar.start)
    x1 = WIDTH - RIGHT if bar.end is None else axis.x(bar.end)
    return x0, max(x1, x0 + 3.0)


def _inside(axis: _Axis, bar: Bar) -> bool:
    x0, x1 = _span(axis, bar)
    return _width(bar.label) + 10 < x1 - x0 - (9 if bar.end is None else 0)


def _callouts(axis: _Axis, lane: Lane) -> tuple[dict[int, int], int]:
    """For each bar whose label does not fit inside it, the row below the lane it goes on."""
    rows = _Rows()
    found = {}
    for number, bar in enumerate(lane.bars):
        if not _inside(axis, bar):
            x0, _ = _span(axis, bar)
            found[number] = rows.place(x0, x0 + 4 + _width(bar.label))
    return found, len(rows.taken)


def _bar(p: Picture, axis: _Axis, bar: Bar, y: float, row: int | None) -> str:
    x0, x1 = _span(axis, bar)
    width = x1 - x0
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
    if row is None:
        parts.append(_text(x0 + 5, y + LANE / 2 + 4, bar.label, "barlabel"))
    else:
        below = y + LANE + (row + 1) * ROW - 3
        parts.append(
            f'<line x1="{x0 + 1:.1f}" y1="{y + LANE:.1f}" x2="{x0 + 1:.1f}" y2="{below:.1f}" '
            'class="callout"/>'
        )
        parts.append(_text(x0 + 4, below, bar.label, "barlabel outside"))
    parts.append("</g>")
    return "".join(parts)


def _legend(p: Picture, y: float) -> tuple[str, float]:
    """The key of colours from `y` down, wrapped onto rows; and the height it takes."""
    items = [(COLOURS.get(k, "#e0e0e0"), k, "") for k in _kinds(p)]
    if any(b.hatched for lane in p.lanes for b in lane.bars):
        items.append(("#ffffff", "billed retroactively", f"url(#{p.slug}-hatch)"))
    out, x, row = [], float(LEFT), 0
    for fill, words, pattern in items:
        size = 26 + _width(words)
        if x + size > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        top = y + row * (ROW + 3)
        out.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="12" height="12" rx="2" fill="{fill}" '
            'stroke="#455a64" stroke-width="0.6"/>'
        )
        if pattern:
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="12" height="12" fill="{pattern}"/>')
        out.append(_text(x + 16, top + 10, words, "legend"))
        x += size
    return "".join(out), (row + 1) * (ROW + 3)


def _kinds(p: Picture) -> list[str]:
    return list(dict.fromkeys(b.kind for lane in p.lanes for b in lane.bars))


def draw(p: Picture, name: str = "") -> str:
    """The picture as an inline SVG element (no external references), named `name` for
    assistive technology (the slug in words when not given)."""
    axis = _Axis(p.start, p.end)
    lanes: list[tuple[Lane, float, dict[int, int]]] = []
    y = float(TOP)
    for lane in p.lanes:
        rows, count = _callouts(axis, lane)
        lanes.append((lane, y, rows))
        y += LANE + count * ROW + GAP
    lanes_bottom = y - GAP
    guide_rows = _Rows()
    guides = []
    for guide in p.guides:
        x = axis.x(guide.at)
        right = x + 3 + _width(guide.label) > WIDTH - RIGHT
        width = _width(guide.label)
        x0, x1 = (x - 3 - width, x - 3) if right else (x + 3, x + 3 + width)
        guides.append((guide, x, right, guide_rows.place(x0, x1)))
    axis_bottom = lanes_bottom + 4 + ROW
    guide_bottom = axis_bottom + 4 + len(guide_rows.taken) * ROW
    legend, legend_height = _legend(p, guide_bottom + 10)
    height = guide_bottom + 10 + legend_height + 4
    label = name or p.slug.replace("-", " ")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="{p.slug}-picture" '
        f'width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{p.slug}-picture-title">',
        f'<title id="{p.slug}-picture-title">{escape(label)}</title>',
        f'<defs><pattern id="{p.slug}-hatch" width="7" height="7" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="7" stroke="#263238" stroke-width="1.6" '
        'stroke-opacity="0.45"/></pattern></defs>',
    ]
    for tick, words in _ticks(p):
        x = axis.x(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{lanes_bottom + 4:.1f}" '
            'class="tick"/>'
        )
        out.append(_text(x, axis_bottom, words, "ticklabel", "middle"))
    for guide, x, right, row in guides:
        below = axis_bottom + 4 + (row + 1) * ROW - 3
        out.append(
            f'<path d="M{x:.1f},{TOP - 4} V{lanes_bottom + 4:.1f} M{x:.1f},{axis_bottom + 4:.1f} '
            f'V{below - 9:.1f}" class="guide"/>'
        )
        if right:
            out.append(_text(x - 3, below, guide.label, "guidelabel", "end"))
        else:
            out.append(_text(x + 3, below, guide.label, "guidelabel"))
    for lane, top, rows in lanes:
        out.append(_text(LEFT - 10, top + LANE / 2 + 4, lane.label, "lanelabel", "end"))
        out += [_bar(p, axis, bar, top, rows.get(n)) for n, bar in enumerate(lane.bars)]
    out += _marks(axis, p.marks, lanes_bottom)
    out.append(legend)
    out.append("</svg>")
    return "".join(out)


def _spread(xs: Sequence[float]) -> list[float]:
    """Circle centres along one row, each at least MARK_STEP from the next, as near their
    instants as that allows and inside the axis."""
    placed: list[float] = []
    for x in xs:
        placed.append(max(x, placed[-1] + MARK_STEP) if placed else x)
    limit = WIDTH - RIGHT - 8
    for i in range(len(placed) - 1, -1, -1):
        cap = limit if i == len(placed) - 1 else placed[i + 1] - MARK_STEP
        placed[i] = min(placed[i], cap)
    return placed


def _marks(axis: _Axis, marks: Sequence[Mark], bottom: float) -> list[str]:
    ordered = sorted(marks, key=lambda m: (m.at, m.number))
    xs = [axis.x(m.at) for m in ordered]
    out = []
    cy = 15.0
    for mark, x, cx in zip(ordered, xs, _spread(xs), strict=True):
        cls = "mark refused" if mark.refused else "mark"
        tie = (
            f'<line x1="{cx:.1f}" y1="{cy + 8:.1f}" x2="{x:.1f}" y2="{TOP - 2}" class="markline"/>'
            if abs(cx - x) > 0.5
            else ""
        )
        out.append(
            f'<g class="{cls}"><title>{quoteattr(f"step {mark.number}")[1:-1]}</title>'
            f'<line x1="{x:.1f}" y1="{TOP - 2}" x2="{x:.1f}" y2="{bottom:.1f}" class="markline"/>'
            f'{tie}<circle cx="{cx:.1f}" cy="{cy}" r="8"/>'
            f"{_text(cx, cy + 4, str(mark.number), 'marknumber', 'middle')}</g>"
        )
    return out
