"""Worked plan timelines: a short list of requests at instants, run through a real `SupportPlan`.

A step is ``ACTION[:TIER]@INSTANT`` (``subscribe:premium@2026-07-02T00:00Z``, ``cancel@...``).
``change`` asks the plan for a tier (``plan.change``; the plan decides which chart event that
is, and the timeline shows it); ``subscribe``, ``upgrade``, ``downgrade`` and ``reactivate`` ask
the same but name the event, and a request that would take another event is malformed (U2);
``cancel`` and ``revoke_pending`` are the plan's own calls; ``observe`` only reads the plan,
letting whatever has come due take effect (T7). After each step the timeline keeps the plan's
state, pending change, trial, billing periods and the history entries the step added.

The plan runs under a catalog (RULES.md K, default Atlas's): each step is decided by the version
in force at its instant (K3), which its frame names; what the clock applies keeps the version
that scheduled it, and every entry, trial and pending change names its own (K4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import pendulum

from support_flows.clock import FrozenClock
from support_flows.errors import Reason, Refused, SupportFlowsError, describe, invalid
from support_flows.guards.plan import TierRelation
from support_flows.localtime import parse_instant
from support_flows.machines.plan import SupportPlan
from support_flows.machines.plan_chart import COMPILED
from support_flows.values import Member, Organization, PlanState, Project, Role, Tier, parse
from support_flows.values.events import PlanEvent, PlanRequest
from support_flows.values.plan import BillingPeriod, HistoryEntry, PendingChange, Trial
from support_flows.values.policy import ATLAS, Catalog

__all__ = [
    "ACTIONS",
    "Frame",
    "PlanTimeline",
    "Step",
    "catalog_text",
    "format_text",
    "local",
    "parse_step",
    "run_plan",
    "to_dict",
]

_MOVES = {
    route.event
    for route in COMPILED.routes
    if route.request == PlanRequest.CHANGE
    and route.relation in (TierRelation.HIGHER, TierRelation.LOWER)
}
NAMED = tuple(event for event in COMPILED.events if event in _MOVES)
"""Steps named after the chart event they must take (U2): the events the chart routes a move to
another paid tier to (subscribe, upgrade, downgrade, reactivate)."""
CHANGES = (*NAMED, PlanRequest.CHANGE)
CALLS = (PlanRequest.CANCEL, PlanRequest.REVOKE_PENDING)
"""Steps that are the plan's own calls, as `SupportPlan.check` names them."""
ACTIONS = (*CHANGES, *CALLS, "observe")


def local(moment: pendulum.DateTime, tz: str) -> str:
    """An instant as its local wall time in `tz`, with the zone's abbreviation."""
    shown = moment.in_timezone(tz)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"


def _utc(moment: pendulum.DateTime) -> str:
    return moment.in_timezone("UTC").strftime("%Y-%m-%dT%H:%MZ")


@attrs.frozen
class Step:
    """One request of a timeline: what, for which tier, at which instant."""

    action: str
    tier: Tier | None
    at: pendulum.DateTime

    @property
    def text(self) -> str:
        what = self.action if self.tier is None else f"{self.action}:{self.tier.value}"
        return f"{what}@{_utc(self.at)}"


def _malformed(text: object, why: str) -> SupportFlowsError:
    return invalid(
        Reason.INVALID_VALUE,
        "V1",
        f"step {describe(text)}: {why}; write ACTION[:TIER]@INSTANT with ACTION one of "
        f"{', '.join(ACTIONS)}, e.g. subscribe:premium@2026-07-02T00:00Z",
    )


def parse_step(text: str) -> Step:
    """``ACTION[:TIER]@INSTANT`` as a `Step`; anything else is malformed (V1, T1)."""
    if not isinstance(text, str) or "@" not in text:
        raise _malformed(text, "no @INSTANT")
    head, _, when = text.partition("@")
    action, _, tier_text = head.partition(":")
    if action not in ACTIONS:
        raise _malformed(text, f"unknown action {action!r}")
    tier: Tier | None = None
    if tier_text:
        if action not in CHANGES:
            raise _malformed(text, f"{action} takes no tier")
        tier = parse(Tier, tier_text, "tier")
    elif action == PlanEvent.DOWNGRADE:
        tier = Tier.DEVELOPER
    elif action in CHANGES:
        raise _malformed(text, f"{action} needs a tier ({action}:TIER)")
    return Step(action, tier, parse_instant(when))


@attrs.frozen
class Frame:
    """The plan as it stands right after one step; `policy` is the version in force at the
    step's instant, the one that decided it (K3)."""

    step: Step
    refused: SupportFlowsError | None
    added: tuple[HistoryEntry, ...]
    state: PlanState
    pending: PendingChange | None
    trial: Trial | None
    billing: tuple[BillingPeriod, ...]
    policy: str = "atlas"

    @property
    def outcome(self) -> str:
        if self.refused is not None:
            return "refused"
        return "observed" if self.step.action == "observe" else "accepted"


@attrs.frozen
class PlanTimeline:
    """A plan run through its steps: the organization, the start, one frame per step, and the
    catalog it ran under."""

    org: Organization
    start: pendulum.DateTime
    frames: tuple[Frame, ...]
    catalog: Catalog = ATLAS

    @property
    def tz(self) -> str:
        return self.org.billing_timezone

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        return tuple(e for f in self.frames for e in f.added)


def _act(plan: SupportPlan, step: Step, actor: Member) -> None:
    if step.action == PlanRequest.CANCEL:
        plan.cancel(actor=actor)
    elif step.action == PlanRequest.REVOKE_PENDING:
        plan.revoke_pending(actor=actor)
    elif step.action != "observe":
        assert step.tier is not None
        plan.change(step.tier, actor=actor)


def _named_event(plan: SupportPlan, step: Step) -> None:
    """U2: a step named after an event takes that event; the plan's own routing says which
    event its request is, so a step that names another is malformed, naming the event."""
    if step.action not in NAMED:
        return
    assert step.tier is not None
    state = plan.state
    event = COMPILED.route(state, PlanRequest.CHANGE, step.tier)
    if event == step.action:
        return
    tier = step.tier.value
    write = f"{event}:{tier}@... or change:{tier}@..." if event in NAMED else f"change:{tier}@..."
    raise invalid(
        Reason.INVALID_VALUE,
        "U2",
        f"step {step.text}: on a {state.value} plan, choosing {tier} is the {event} event, "
        f"not {step.action}; write {write}",
    )


def actor_with(roles: Iterable[Role | str], org: Organization) -> Member:
    """A member holding `roles`: organization roles in the organization, project roles in its
    first project."""
    held = [parse(Role, r, "role") for r in roles]
    project = {org.projects[0].project_id: [r for r in held if not r.is_org_role]}
    return Member(
        "u-1",
        org_roles=[r for r in held if r.is_org_role],
        project_roles=project if org.projects else None,
        email="u-1@example.com",
    )


def run_plan(
    steps: Sequence[Step | str],
    *,
    start: pendulum.DateTime | str,
    tz: str = "UTC",
    roles: Iterable[Role | str] = (Role.ORG_OWNER,),
    cross_org_billing: bool = False,
    org_id: str = "org-1",
    catalog: Catalog = ATLAS,
) -> PlanTimeline:
    """Run `steps` in order on a new plan whose clock starts at `start`, under `catalog` (K3:
    each step decided by the version in force at its instant); a refused step is kept as
    refused and the next one goes on (malformed input raises)."""
    begins = parse_instant(start) if isinstance(start, str) else start
    parsed = [s if isinstance(s, Step) else parse_step(s) for s in steps]
    org = Organization(
        org_id, projects=(Project("p-1"),), billing_timezone=tz, cross_org_billing=cross_org_billing
    )
    actor = actor_with(roles, org)
    clock = FrozenClock(begins)
    plan = SupportPlan(org, clock=clock, catalog=catalog)
    frames = []
    seen = 0
    for step in parsed:
        clock.set(step.at)
        _named_event(plan, step)
        refused = None
        try:
            _act(plan, step, actor)
        except Refused as error:
            refused = error
        history = plan.history
        frames.append(
            Frame(
                step,
                refused,
                history[seen:],
                plan.state,
                plan.pending,
                plan.trial,
                plan.billing,
                catalog.at(step.at).version,
            )
        )
        seen = len(history)
    return PlanTimeline(org, begins, tuple(frames), catalog)


# Output -------------------------------------------------------------------------------------


def period_text(p: BillingPeriod, tz: str) -> str:
    end = "open" if p.ends_at is None else local(p.ends_at, tz)
    flag = " (retroactive)" if p.retroactive else ""
    return f"{p.tier.value} {local(p.starts_at, tz)} -> {end}{flag}"


def entry_text(e: HistoryEntry, tz: str, *, versions: bool = False) -> str:
    """One history entry; with `versions`, the policy version that decided it (K4)."""
    who = f"requested by {e.requested_by}" if e.requested_by else "applied by the clock"
    if versions:
        who += f" under {e.policy}" if e.requested_by else f", as {e.policy} scheduled it"
    change = e.source.value if e.source is e.target else f"{e.source.value} -> {e.target.value}"
    scheduled = f", takes effect {local(e.effective_at, tz)}" if e.effective_at else ""
    return f"{local(e.at, tz)}  {e.event}: {change} ({who}{scheduled})"


def pending_text(p: PendingChange | None, tz: str, *, versions: bool = False) -> str:
    """The pending change; with `versions`, the policy version that scheduled it (K4)."""
    if p is None:
        return "none"
    under = f" under {p.policy}" if versions else ""
    return (
        f"{p.target.value} from {local(p.effective_at, tz)} "
        f"(requested {local(p.requested_at, tz)}{under})"
    )


def catalog_text(catalog: Catalog, tz: str) -> str:
    """The catalog's versions, each with the instant it comes into force (K2)."""
    shown = [
        p.version if p.effective_from is None else f"{p.version} from {local(p.effective_from, tz)}"
        for p in catalog
    ]
    return f"polic{'y' if len(shown) == 1 else 'ies'} {', '.join(shown)}"


def format_text(timeline: PlanTimeline) -> str:
    """The timeline as a reader's text: after each step, what happened and where the plan is."""
    tz = timeline.tz
    out = [
        f"billing timezone {tz}; clock starts {local(timeline.start, tz)}; "
        f"{catalog_text(timeline.catalog, tz)}"
    ]
    for number, f in enumerate(timeline.frames, start=1):
        out.append("")
        out.append(
            f"{number}. {f.step.text}  ({local(f.step.at, tz)})  {f.outcome} under {f.policy}"
        )
        if f.refused is not None:
            out.append(f"   refused: {f.refused}")
        out += [f"   - {entry_text(e, tz, versions=True)}" for e in f.added]
        out.append(f"   state: {f.state.value}")
        if f.trial is not None:
            t = f.trial
            days = timeline.catalog[t.policy].trial_days
            out.append(f"   trial ends: {local(t.ends_at, tz)} ({days}-day trial under {t.policy})")
        out.append(f"   pending: {pending_text(f.pending, tz, versions=True)}")
        billing = [period_text(p, tz) for p in f.billing] or ["nothing billed"]
        out.append(f"   billing: {billing[0]}")
        out += [f"            {line}" for line in billing[1:]]
    return "\n".join(out) + "\n"


def _iso(moment: pendulum.DateTime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def to_dict(timeline: PlanTimeline) -> dict[str, Any]:
    """The timeline as JSON-safe data (instants in ISO 8601 UTC)."""
    return {
        "billing_timezone": timeline.tz,
        "start": _iso(timeline.start),
        "policies": [
            {"id": p.version, "effective_from": _iso(p.effective_from)} for p in timeline.catalog
        ],
        "steps": [
            {
                "step": f.step.text,
                "at": _iso(f.step.at),
                "outcome": f.outcome,
                "policy": f.policy,
                "error": None if f.refused is None else f.refused.to_dict(),
                "added": [e.to_dict() for e in f.added],
                "state": f.state.value,
                "pending": None if f.pending is None else f.pending.to_dict(),
                "trial": None if f.trial is None else f.trial.to_dict(),
                "billing": [p.to_dict() for p in f.billing],
            }
            for f in timeline.frames
        ],
    }
