"""Checks on what one plan step answered, and the one-off probes of malformed input (T1, T2)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pendulum

from support_flows.errors import SupportFlowsError
from support_flows.machines.plan import SupportPlan
from support_flows.values import Member, Organization
from support_flows.verify.common import HostClock, Outcome, Verdict, attempt, iso, rule_of
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Counterexample, Step
from support_flows.verify.plan_calls import open_at
from support_flows.verify.plan_roots import ROOTS, PlanNode
from support_flows.verify.policy import catalog

__all__ = ["PROBES", "answers", "applied", "on_time", "probes", "reopened", "skewed_clock"]


def answers(
    node: PlanNode,
    step: Step,
    expected: tuple[tuple[str, str], ...],
    asked: Outcome,
    outcome: Outcome,
    base: SupportPlan,
) -> list[Verdict]:
    """check() and the request give exactly the rules' reasons; a refusal changes nothing."""
    answered: tuple[tuple[str, str], ...] = ()
    if asked.result is not None:
        answered = tuple((r.code.value, r.rule) for r in asked.result.reasons)
    got, tier, who = outcome.reasons, step.args.get("tier"), step.args["actor"]["id"]
    said = f"refused with {list(expected)}" if expected else "accepted"
    verdicts = [
        Verdict(
            rule_of(expected, answered, "P1"),
            "check() answers as the rules",
            asked.crash is None and answered == expected,
            f"check({step.call!r}, tier={tier!r}) by {who} gives {list(answered)}; "
            f"the rules say {list(expected)}",
        ),
        Verdict(
            rule_of(expected, got, "P1"),
            "the request is accepted or refused as the rules say",
            outcome.crash is None and got == expected,
            f"{step.call}(tier={tier!r}) by {who} was {outcome.describe()}; the rules say {said}",
        ),
    ]
    if outcome.refused or outcome.crash is not None:
        verdicts.append(
            Verdict(
                rule_of(expected, got, "P1"),
                "a refusal changes nothing",
                base.snapshot() == node.snapshot,
                "the refused request changed the plan's snapshot",
            )
        )
    return verdicts


def applied(
    node: PlanNode,
    at: pendulum.DateTime,
    expected: tuple[Any, ...],
    outcome: Outcome,
    late: SupportPlan,
    rule: str,
) -> list[Verdict]:
    """P14: apply_due applies what is due at its recorded instant, and nothing when asked again;
    what it applies late equals reading the plan at each due instant on the way."""
    got = [(e.at, e.source.value, e.target.value) for e in outcome.result or ()]
    want = [(a[0], a[1], a[2]) for a in expected]
    again = attempt(late.apply_due)
    verdicts = [
        Verdict(
            rule,
            "apply_due applies what is due, at its recorded instant",
            outcome.crash is None and got == want,
            f"apply_due() gave {outcome.describe()} {_pairs(got)}; the rules say {_pairs(want)}",
        ),
        Verdict(
            "P14",
            "apply_due again applies nothing",
            again.result == (),
            f"a second apply_due() gave {again.describe()} {again.result!r}",
        ),
    ]
    if expected:
        verdicts.append(on_time(node, at, expected, late))
    return verdicts


def on_time(
    node: PlanNode, at: pendulum.DateTime, expected: tuple[Any, ...], late: SupportPlan
) -> Verdict:
    """P14/T7: a plan only read at each due instant on the way ends up as the late one."""
    walker, clock = open_at(node, "table")
    for when in [a[0] for a in expected] + [at]:
        clock.at = when
        walker.state  # noqa: B018  (reading is what applies what is due)
    return Verdict(
        "P14",
        "late apply_due equals on time",
        walker.snapshot() == late.snapshot(),
        "apply_due() after the due instants gives another record than reading the plan at "
        "each of them",
    )


def skewed_clock(child: PlanNode, owner: Member) -> Verdict:
    """T8: restored on a clock an hour behind its last entry, the plan reads and acts as of
    that entry."""
    try:
        behind = SupportPlan.restore(
            child.snapshot,
            child.org,
            clock=HostClock(child.now.subtract(hours=1)),
            catalog=catalog(),
        )
        straight = SupportPlan.restore(
            child.snapshot, child.org, clock=HostClock(child.now), catalog=catalog()
        )
    except SupportFlowsError:  # the round trip reports a snapshot its own restore refuses
        return Verdict("T8", "a clock behind the last entry reads as that entry", True)
    same = behind.snapshot() == child.snapshot
    first = attempt(lambda: behind.revoke_pending(actor=owner))
    second = attempt(lambda: straight.revoke_pending(actor=owner))
    same = same and first.same_as(second) and behind.snapshot() == straight.snapshot()
    return Verdict(
        "T8",
        "a clock behind the last entry reads as that entry",
        same,
        "a plan restored on a clock an hour behind its last entry answers otherwise",
    )


def reopened(plan: SupportPlan, org: Organization) -> tuple[Outcome, Verdict]:
    """P3's host step: the plan reopened from its snapshot with its organization's cross-org
    flag changed is the same plan (the flag decides requests, never the record)."""
    outcome = attempt(
        lambda: SupportPlan.restore(plan.snapshot(), org, clock=plan.clock, catalog=catalog())
    )
    same = outcome.result is not None and outcome.result.snapshot() == plan.snapshot()
    return outcome, Verdict(
        "P3",
        "a plan reopens as it was after its organization joins or leaves cross-org billing",
        same,
        f"restoring the plan with cross_org_billing={org.cross_org_billing} gave "
        f"{outcome.describe()}",
    )


def _pairs(entries: list[tuple[Any, str, str]]) -> str:
    return "[" + ", ".join(f"{s} -> {t} at {a.isoformat()}" for a, s, t in entries) + "]"


class _NaiveClock:
    def now(self) -> Any:
        return pendulum.naive(2026, 3, 14, 10)


def _read_with_naive_clock() -> Any:
    return SupportPlan(ROOTS[0].org(), clock=_NaiveClock(), catalog=catalog()).state


def _unknown_zone() -> Any:
    return Organization("org-1", billing_timezone="Mars/Olympus_Mons")


PROBES: tuple[tuple[str, str, Callable[[], Any], str, dict[str, str]], ...] = (
    (
        "T1",
        "naive_datetime",
        _read_with_naive_clock,
        "SupportPlan(org, clock=<naive clock>).state",
        {},
    ),
    (
        "T2",
        "unknown_timezone",
        _unknown_zone,
        "Organization",
        {"billing_timezone": "Mars/Olympus_Mons"},
    ),
)


def probes(tracker: Tracker) -> None:
    """T1 and T2, once: a naive clock reading and an unknown billing zone are refused."""
    root = ROOTS[0]
    for rule, reason, make, name, args in PROBES:
        outcome = attempt(make)
        tracker.produced(outcome.reasons)
        tracker.exercised((rule,))
        done = Step(iso(root.start), name, args, outcome=outcome.describe())
        verdict = Verdict(
            rule,
            "malformed input is refused with its reason",
            outcome.reasons[:1] == ((reason, rule),),
            f"gave {outcome.describe()}; the rules say {reason}",
        )
        tracker.expect(verdict, functools.partial(Counterexample, root.setup(), (done,)))
