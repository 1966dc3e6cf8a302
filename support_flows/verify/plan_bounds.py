"""V4 at the edges of the years the product holds: a plan whose host clock reads the first or
the last instant of 1970-2999, or a microsecond outside, in UTC or at an offset that shows
another year there, and a trial that would end past 2999.

Each call is judged by the reference: an instant given or computed outside the years is refused
`invalid_value` (V4) and changes nothing (`reference.malformed.outside`); any other request is
what `reference.plan` makes of it, checked as the explorer checks every step.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import attrs
import pendulum

from support_flows.machines.plan import SupportPlan
from support_flows.verify.common import HostClock, Outcome, Verdict, attempt, crashed
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.plan_checks import agreement, specific, view
from support_flows.verify.plan_roots import PlanRoot, iso, utc
from support_flows.verify.policy import catalog, payer
from support_flows.verify.reference.malformed import FIRST_INSTANT, LAST_INSTANT, outside
from support_flows.verify.reference.plan import RefPlan, billing, decide, perform

__all__ = ["EDGES", "bounds"]

MICROSECOND = dt.timedelta(microseconds=1)
TRIAL_PAST_2999 = dt.datetime(2999, 12, 2, tzinfo=dt.UTC)
"""Its trial would end on 3000-01-01 (T5's 30 days)."""

EDGES: tuple[tuple[dt.datetime, int | None, str], ...] = (
    (FIRST_INSTANT, -5, "the first instant, read at UTC-5 (1969 there)"),
    (FIRST_INSTANT, None, "the first instant, in UTC"),
    (FIRST_INSTANT - MICROSECOND, 1, "a microsecond before it, read at UTC+1 (1970 there)"),
    (FIRST_INSTANT - MICROSECOND, None, "a microsecond before it, in UTC"),
    (LAST_INSTANT, 1, "the last instant, read at UTC+1 (3000 there)"),
    (LAST_INSTANT, None, "the last instant, in UTC"),
    (LAST_INSTANT + MICROSECOND, -5, "a microsecond after it, read at UTC-5 (2999 there)"),
    (LAST_INSTANT + MICROSECOND, None, "a microsecond after it, in UTC"),
    (TRIAL_PAST_2999, None, "a trial from here would end on 3000-01-01"),
)
"""(the instant, the UTC offset in hours the host's clock gives it at (None: a UTC instant, as
pendulum gives it), what it is)."""
CALLS: tuple[tuple[str, str | None], ...] = (
    ("state", None),
    ("apply_due", None),
    ("change", "developer"),
    ("change", "premium"),
)


def _reading(at: dt.datetime, offset: int | None) -> Any:
    """`at` as the host's clock gives it."""
    if offset is None:
        return pendulum.instance(at).in_timezone("UTC")
    return at.astimezone(dt.timezone(dt.timedelta(hours=offset)))


def _call(plan: SupportPlan, name: str, tier: str | None) -> Any:
    if name == "state":
        return plan.state
    if name == "apply_due":
        return plan.apply_due()
    return plan.change(str(tier), actor=payer().member())


def _computed(ref: RefPlan) -> list[dt.datetime]:
    """Every instant the reference holds after a step."""
    found = [*(ref.trial or ()), *(p.at for p in ref.points)]
    if ref.pending is not None:
        found += [ref.pending.effective_at, ref.pending.requested_at]
    for period in billing(ref):
        found += [at for at in (period.starts_at, period.ends_at) if at is not None]
    return found


def bounds(tracker: Tracker) -> None:
    """Every call of `CALLS` on a fresh plan in UTC at every instant of `EDGES`."""
    for at, offset, what in EDGES:
        reading = _reading(at, offset)
        root = PlanRoot("UTC", utc(at), note=f"the clock reads {reading.isoformat()}: {what}")
        for name, tier in CALLS:
            tracker.sequences += 1
            plan = SupportPlan(root.org(), clock=HostClock(reading), catalog=catalog())
            outcome = attempt(functools.partial(_call, plan, name, tier))
            args = {} if tier is None else {"tier": tier, "actor": payer().as_arg()}
            step = Step(iso(at), name, args, note=what, outcome=outcome.describe())
            where = functools.partial(Counterexample, root.setup(), (step,))
            try:
                verdicts = _judged(plan, at, name, tier, outcome)
            except Exception as error:  # a read that crashes after the call: reported (T7)
                verdicts = [crashed(error, "T7")]
            tracker.expect_all(verdicts, where)
            tracker.produced(outcome.reasons)


def _judged(
    plan: SupportPlan, at: dt.datetime, name: str, tier: str | None, outcome: Outcome
) -> list[Verdict]:
    ref = RefPlan("UTC", False)
    rules: tuple[str, ...] = ()
    if not outside(at) and name == "change":
        assert tier is not None
        buyer = payer()
        refused = decide(ref, name, buyer.org_roles, tier)
        assert not refused, refused  # a billing member may choose any tier of a fresh plan
        ref, rules = perform(ref, name, buyer.name, tier, at)
    beyond = [t for t in (at, *_computed(ref)) if outside(t)]
    if beyond:
        return [_refused(plan, outcome, beyond[0])]
    name_of = "a call within the years 1970-2999 is answered (V4)"
    answered = Verdict(
        "V4",
        name_of,
        outcome.error is None and outcome.crash is None,
        f"{name} gave {outcome.describe()}",
        expected="accepted",
        actual=outcome.describe(),
    )
    if not answered.ok or name != "change":
        return [answered]
    seen = view(plan)
    checks = agreement(seen, ref, rules)
    found = specific(seen, RefPlan("UTC", False), ref, rules, at)
    if found is not None:  # a calendar rule (T3, T4, T5) explains it: named first, as explored
        checks = [c if c.ok else attrs.evolve(c, rule=found[0]) for c in checks]
    return [answered, *checks]


def _refused(plan: SupportPlan, outcome: Outcome, beyond: dt.datetime) -> Verdict:
    """V4: refused `invalid_value`, the plan still the fresh one it was."""
    unchanged = attempt(plan.snapshot)
    fresh = unchanged.result is not None and unchanged.result.get("state") == "basic"
    fresh = fresh and not unchanged.result.get("history")
    ok = outcome.reasons[:1] == (("invalid_value", "V4"),) and (
        unchanged.error is not None or fresh
    )
    return Verdict(
        "V4",
        "an instant given or computed outside 1970-2999 is refused and changes nothing",
        ok,
        f"with {beyond.isoformat()} outside the years, the call was {outcome.describe()}"
        + ("" if fresh or unchanged.error is not None else " and changed the plan"),
        expected="refused: invalid_value (V4)",
        actual=outcome.describe(),
    )
