"""A plan story run through ``support-flows timeline``'s engine, as the review page shows it: a
row per step and a picture of what the plan was entitled to and what was billed (RULES.md P)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pendulum

from support_flows.localtime import parse_instant
from support_flows.review.picture import Bar, Guide, Lane, Mark, Picture
from support_flows.review.policy_runs import run_under
from support_flows.review.worked import PlanStory, Worked, cell_lines
from support_flows.timeline import (
    PlanTimeline,
    entry_text,
    local,
    pending_text,
    period_text,
    run_plan,
)
from support_flows.values import PlanState
from support_flows.values.plan import BillingPeriod
from support_flows.values.policy import Catalog, Policy

__all__ = ["PLAN_HEADERS", "plan_example"]


def _when(at: pendulum.DateTime, tz: str) -> str:
    shown = local(at, tz)
    return shown if tz == "UTC" else f"{shown}\n{at.in_timezone('UTC'):%Y-%m-%d %H:%M} UTC"


def _plan_rows(t: PlanTimeline) -> tuple[tuple[str, ...], ...]:
    tz = t.tz
    rows = []
    for number, f in enumerate(t.frames, start=1):
        happened = [entry_text(e, tz) for e in f.added]
        if f.refused is not None:
            happened.insert(0, f"refused: {f.refused}")
        billing = [period_text(p, tz) for p in f.billing] or ["nothing billed"]
        rows.append(
            (
                str(number),
                _when(f.step.at, tz),
                f.step.text.partition("@")[0],
                f.outcome,
                cell_lines(happened) or "nothing came due",
                f.state.value,
                pending_text(f.pending, tz),
                cell_lines(billing),
            )
        )
    return tuple(rows)


def _entitlement(state: PlanState, policy: Policy) -> str:
    channels = ", ".join(c.value.replace("_", " ") for c in sorted(policy.entitlements(state)))
    return f"{state.value}: {channels}"


def _plan_picture(slug: str, t: PlanTimeline, guides: Sequence[Guide]) -> Picture:
    tz = t.tz
    segments: list[Bar] = []
    since, state = t.start, PlanState.BASIC
    for entry in t.history:
        if entry.target is entry.source:
            continue
        title = _entitlement(state, t.catalog.at(since))
        segments.append(Bar(since, entry.at, state.value, state.value, title=title))
        since, state = entry.at, entry.target
    title = _entitlement(state, t.catalog.at(since))
    segments.append(Bar(since, None, state.value, state.value, title=title))
    last = t.frames[-1]
    billing = tuple(_billing_bar(p, tz) for p in last.billing)
    marks = tuple(
        Mark(f.step.at, n, f.refused is not None) for n, f in enumerate(t.frames, start=1)
    )
    more = list(guides)
    if last.pending is not None:
        more.append(Guide(last.pending.effective_at, f"pending: {last.pending.target.value}"))
    if last.trial is not None:
        more.append(Guide(last.trial.ends_at, "trial ends"))
    end = max([f.step.at for f in t.frames] + [g.at for g in more])
    span = end - t.start
    return Picture(
        slug,
        tz,
        t.start,
        end + span * 0.06,
        (Lane("Entitled to (plan)", tuple(segments)), Lane("Billed", billing)),
        marks,
        tuple(more),
    )


def _zoomed(p: Picture, start: pendulum.DateTime, end: pendulum.DateTime) -> Picture:
    """`p` between `start` and `end`: bars cut to that window (one running on past it keeps
    its arrow), and the marks and guides inside it."""

    def cut(bar: Bar) -> Bar | None:
        if bar.start >= end or (bar.end is not None and bar.end <= start):
            return None
        runs_on = bar.end is None or bar.end > end
        return attrs.evolve(bar, start=max(bar.start, start), end=None if runs_on else bar.end)

    lanes = tuple(
        Lane(lane.label, tuple(c for b in lane.bars if (c := cut(b)) is not None))
        for lane in p.lanes
    )
    return Picture(
        f"{p.slug}-zoom",
        p.tz,
        start,
        end,
        lanes,
        tuple(m for m in p.marks if start <= m.at <= end),
        tuple(g for g in p.guides if start <= g.at <= end),
    )


def _day(at: pendulum.DateTime, tz: str) -> str:
    shown = at.in_timezone(tz)
    return f"{shown:%b} {shown.day}"


def _retroactive_note(t: PlanTimeline) -> str:
    """In plain words, when a reactivation bills the time the organization spent cancelled."""
    for entry in t.history:
        if entry.source is not PlanState.CANCELLED or entry.target is entry.source:
            continue
        billed = [
            p
            for p in t.frames[-1].billing
            if p.retroactive and p.starts_at < entry.at <= (p.ends_at or entry.at)
        ]
        if not billed:
            continue
        period = billed[0]
        weeks = (entry.at - period.starts_at).days // 7
        cap = t.catalog.at(entry.at).retroactive_days
        return (
            f"In plain words: this organization had no paid support from "
            f"{_day(period.starts_at, t.tz)} to {_day(entry.at, t.tz)}, because its plan was "
            f"cancelled, and reactivating bills {period.tier.value} for those {weeks} weeks too. "
            "That is the rule, not a billing error: a reactivation is billed from the moment "
            f"the last plan ended, at most {cap} days back (P15), so cancelling and coming back "
            "later costs what staying would have cost."
        )
    return ""


def _billing_bar(p: BillingPeriod, tz: str) -> Bar:
    return Bar(
        p.starts_at,
        p.ends_at,
        p.tier.value + (" (retro)" if p.retroactive else ""),
        p.tier.value,
        hatched=p.retroactive,
        title=period_text(p, tz),
    )


PLAN_HEADERS = (
    "#",
    "When (billing zone / UTC)",
    "Request",
    "Outcome",
    "What happened",
    "Plan after",
    "Pending after",
    "Billing after",
)


def plan_example(story: PlanStory, catalog: Catalog | None = None, slug: str = "") -> Worked:
    """`story` run as ``support-flows timeline`` runs it, or under `catalog` (K5); `slug` names
    the picture when one story is drawn twice on a page."""
    if catalog is None:
        timeline = run_plan(story.steps, start=story.start, tz=story.tz)
    else:
        timeline = run_under(story.steps, start=story.start, tz=story.tz, catalog=catalog)
    guides = tuple(Guide(parse_instant(at), label) for at, label in story.guides)
    slug = slug or story.slug
    picture = _plan_picture(slug, timeline, guides)
    zoom = None
    if story.zoom:
        zoom = _zoomed(picture, parse_instant(story.zoom[0]), parse_instant(story.zoom[1]))
    return Worked(
        slug,
        story.title,
        story.story.format_map(timeline.catalog.at(parse_instant(story.start)).words()),
        story.rules,
        story.command,
        PLAN_HEADERS,
        _plan_rows(timeline),
        picture,
        zoom,
        story.zoom[2] if story.zoom else "",
        _retroactive_note(timeline),
    )
