"""The invariants checked on a support plan after every step (P9-P21, V2), as verdicts.

Each check reads the plan through its public surface only and compares it with the reference
(`verify.reference.plan`) or with a rule stated on the timeline itself (P20's two invariants),
on the reference's own calendar: nothing here is computed by the library it checks.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import attrs

from support_flows.machines.plan import SupportPlan
from support_flows.values import Organization
from support_flows.verify.common import Verdict
from support_flows.verify.policy import catalog
from support_flows.verify.reference.calendar import is_month_start
from support_flows.verify.reference.plan import RefPlan, billing, entitled

__all__ = [
    "PlanView",
    "agreement",
    "premium_billed",
    "round_trip",
    "specific",
    "timeline",
    "view",
]

Period = tuple[str, dt.datetime, dt.datetime | None, bool]


@attrs.frozen
class PlanView:
    """What a host sees of a plan, as plain values."""

    state: str
    trial: tuple[dt.datetime, dt.datetime] | None
    pending: tuple[str, dt.datetime, dt.datetime, str] | None
    billing: tuple[Period, ...]
    entitlements: frozenset[str]
    history: tuple[tuple[dt.datetime, str, str, str | None], ...]


def view(plan: SupportPlan) -> PlanView:
    trial, pending = plan.trial, plan.pending
    return PlanView(
        plan.state.value,
        None if trial is None else (trial.started_at, trial.ends_at),
        None
        if pending is None
        else (
            pending.target.value,
            pending.effective_at,
            pending.requested_at,
            pending.requested_by,
        ),
        tuple((p.tier.value, p.starts_at, p.ends_at, p.retroactive) for p in plan.billing),
        frozenset(c.value for c in plan.entitlements),
        tuple((e.at, e.source.value, e.target.value, e.requested_by) for e in plan.history),
    )


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return repr(value)


def agreement(seen: PlanView, ref: RefPlan, rules: Sequence[str]) -> list[Verdict]:
    """The plan is what the rules say after the step that applied `rules`."""
    rule = rules[0] if rules else "P14"
    name = "agrees with the rules"
    pending = None
    if ref.pending is not None:
        p = ref.pending
        pending = (p.target, p.effective_at, p.requested_at, p.requested_by)
    expected = tuple((p.tier, p.starts_at, p.ends_at, p.retroactive) for p in billing(ref))
    trial_rule = "T5" if (seen.trial and ref.trial and seen.trial[0] == ref.trial[0]) else rule
    pending_rule = rule
    if seen.pending and pending and seen.pending[0] == pending[0]:
        pending_rule = "P9" if seen.pending[1] != pending[1] else "P10"
    billing_rule = "P21" if "P21" in rules else rule
    if billing_rule == rule and "P15" in rules:
        billing_rule = "P15"

    def agrees(rule: str, what: str, part: str, got: Any, want: Any) -> Verdict:
        """One part of the plan against the reference; when they differ, both beside the
        message (printed as dated lines: periods and history entries one a line)."""
        if got == want:
            return Verdict(rule, f"{name} ({part})", True)
        message = f"{what} is {_show(got)}; the rules say {_show(want)}"
        return Verdict(rule, f"{name} ({part})", False, message, expected=want, actual=got)

    entitled_to = entitled(seen.state)
    return [
        agrees(rule, "the state", "state", seen.state, ref.state),
        agrees(trial_rule, "the trial", "trial", seen.trial, ref.trial),
        agrees(pending_rule, "the pending change", "pending change", seen.pending, pending),
        agrees(billing_rule, "the billing timeline", "billing timeline", seen.billing, expected),
        Verdict(
            "P17",
            "entitlements follow the state",
            seen.entitlements == entitled_to,
            ""
            if seen.entitlements == entitled_to
            else f"the entitlements in {seen.state} are {_show(sorted(seen.entitlements))}; "
            f"the rules say {_show(sorted(entitled_to))}",
            expected=None if seen.entitlements == entitled_to else tuple(sorted(entitled_to)),
            actual=None if seen.entitlements == entitled_to else tuple(sorted(seen.entitlements)),
        ),
        Verdict(
            "P10",
            "history keeps every request and applied change",
            seen.history == ref.history,
            ""
            if seen.history == ref.history
            else f"the history is {_show(seen.history)}; the rules say {_show(ref.history)}",
            expected=None if seen.history == ref.history else ref.history,
            actual=None if seen.history == ref.history else seen.history,
        ),
    ]


def timeline(
    seen: PlanView,
    tz: str,
    trial_end: dt.datetime | None,
    requests: frozenset[dt.datetime] = frozenset(),
) -> list[Verdict]:
    """P20: periods ordered, not overlapping, of positive length; and its first invariant: every
    boundary is a month start but for a trial's end, a retroactive or catch-up start, the
    premium start P8 moves up to a trial's end (both the trial's end), and under K1's
    `immediately` the instants of the `requests` it governs."""
    periods = seen.billing
    shape = ""
    for tier, starts, ends, _ in periods:
        if ends is not None and ends <= starts:
            shape = f"the {tier} period from {starts.isoformat()} has no length"
    for earlier, later in itertools.pairwise(periods):
        if earlier[2] is None or earlier[2] > later[1]:
            shape = (
                f"the periods starting {earlier[1].isoformat()} and {later[1].isoformat()} overlap"
            )
        elif earlier[1] >= later[1]:
            shape = f"the period starting {later[1].isoformat()} is out of order"
    exceptions = {p[1] for p in periods if p[3]}
    if trial_end is not None:
        exceptions.add(trial_end)
    exceptions |= requests
    bounds = [b for p in periods for b in (p[1], p[2]) if b is not None]
    strays = [b for b in bounds if b not in exceptions and not is_month_start(b, tz)]
    return [
        Verdict("P20", "periods ordered, not overlapping, of positive length", not shape, shape),
        Verdict(
            "P20",
            "every billing boundary is a month start (or an allowed exception)",
            not strays,
            f"{strays[0].isoformat()} is a billing boundary but not the first instant of a month "
            f"in {tz}, nor a trial's end or a retroactive start"
            if strays
            else "",
        ),
    ]


def _instants(periods: Sequence[Any], pending: Any) -> set[dt.datetime]:
    found = {b for p in periods for b in p[1:3] if b is not None}
    return found if pending is None else {*found, pending}


def specific(
    seen: PlanView, before: RefPlan, after: RefPlan, rules: Sequence[str], now: dt.datetime
) -> tuple[str, frozenset[dt.datetime]] | None:
    """The calendar rule a request broke, when the plan put the instant it schedules somewhere
    else than the reference's calendar: T5 for a trial's end; T3 for E(now) (a pending change's
    effective instant, a premium billing start), or T4 for a request at exactly a month start
    answered with a later instant. With the instants the plan used instead (None: it agrees)."""
    if "T5" in rules and after.trial is not None:
        got = seen.trial[1] if seen.trial is not None else None
        return None if got == after.trial[1] else ("T5", frozenset(() if got is None else (got,)))
    if "T3" not in rules:
        return None
    pending = seen.pending[1] if seen.pending is not None else None
    want = after.pending.effective_at if after.pending is not None else None
    periods = [(p.tier, p.starts_at, p.ends_at) for p in billing(after)]
    expected = _instants(periods, want)
    strays = frozenset(_instants(seen.billing, pending) - expected)
    if after.pending is not None and after.pending != before.pending:
        off = pending != want
    else:
        added = [p.at for p in after.points if p not in before.points]
        off = (
            bool(added)
            and added[-1] in expected
            and added[-1] not in _instants(seen.billing, pending)
        )
    if not off:
        return None
    later = bool(strays) and all(s > now for s in strays)
    return ("T4" if "T4" in rules and later else "T3"), strays


def _in_premium(seen: PlanView) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """The stretches in which premium was in force, read off the history; the last one still in
    force ends where the pending change takes effect (None: open)."""
    stretches: list[tuple[dt.datetime, dt.datetime | None]] = []
    begun: dt.datetime | None = None
    for at, source, target, _ in seen.history:
        if begun is None and target == "premium" != source:
            begun = at
        elif begun is not None and source == "premium" != target:
            stretches.append((begun, at))
            begun = None
    if begun is not None:
        stretches.append((begun, seen.pending[1] if seen.pending is not None else None))
    return stretches


def premium_billed(seen: PlanView) -> Verdict:
    """P20's second invariant (P21): every stretch in premium overlaps, or is followed without a
    gap by, a premium billing period (the pending change's effective instant ends the last)."""
    billed = [(p[1], p[2]) for p in seen.billing if p[0] == "premium"]
    for begins, ends in _in_premium(seen):
        if ends == begins:  # in force for no time (K1: changed at the instant it began)
            continue
        if not any(
            (ends is None or starts <= ends) and (stops is None or stops > begins)
            for starts, stops in billed
        ):
            until = ends.isoformat() if ends is not None else "now"
            return Verdict(
                "P21",
                "premium is never held unbilled",
                False,
                f"premium in force from {begins.isoformat()} to {until} is never billed",
            )
    return Verdict("P21", "premium is never held unbilled", True)


def round_trip(plan: SupportPlan, org: Organization, clock: Any) -> list[Verdict]:
    """V2: a snapshot restores to a plan that writes the same snapshot and reads the same
    (state, trial, pending change, billing, entitlements; the history when it was kept)."""
    verdicts = []
    seen = view(plan)
    for history in (True, False):
        data = plan.snapshot(history=history)
        what = "with" if history else "without"
        try:
            again = SupportPlan.restore(data, org, clock=clock, catalog=catalog())
            read = view(again)
            kept = seen if history else attrs.evolve(seen, history=())
            message = ""
            if again.snapshot(history=history) != data:
                message = "the restored plan writes another snapshot"
            elif read != kept:
                message = f"the restored plan reads otherwise: {_differences(read, kept)}"
        except Exception as error:  # a snapshot the library wrote and then refuses
            message = f"restore refused its own snapshot: {error}"
        verdicts.append(
            Verdict("V2", f"snapshot round trip ({what} history)", not message, message)
        )
    return verdicts


def _differences(got: PlanView, want: PlanView) -> str:
    names = [f.name for f in attrs.fields(PlanView)]
    return ", ".join(n for n in names if getattr(got, n) != getattr(want, n))
