"""check_case, open_case and check_channel at every point of the product, against the reference."""

from __future__ import annotations

import functools
from typing import Any

from support_flows.machines.case import check_case, check_channel, open_case
from support_flows.verify.case_roots import CASE_ID, NOW, TITLE, Combo
from support_flows.verify.common import HostClock, Outcome, Verdict, attempt, iso, rule_of
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Step
from support_flows.verify.policy import catalog
from support_flows.verify.reference.case import Refusal, expected_case, expected_channel

__all__ = ["CHANNELS", "TARGETS", "Decisions", "recorded"]

TARGETS = (None, "p-1", "p-2", "p-9")
CHANNELS = ("chat", "developer_resources", "support_case")


def _reasons(asked: Outcome) -> tuple[Refusal, ...]:
    """The reasons of a Decision (or of the error the call raised)."""
    if asked.result is None:
        return asked.reasons
    return tuple((r.code.value, r.rule) for r in asked.result.reasons)


def _decision(asked: Outcome) -> str:
    if asked.result is None:
        return asked.describe()
    reasons = _reasons(asked)
    return "allowed" if not reasons else "refused: " + ", ".join(f"{c} ({r})" for c, r in reasons)


class Decisions:
    """Asks every decision of the product once, checked when `check`."""

    def __init__(self, tracker: Tracker, *, check: bool = True) -> None:
        self.tracker = tracker
        self.check = check

    def __call__(self, combos: list[Combo]) -> None:
        """check_case and open_case at every scope, check_channel for every channel (C1-C7)."""
        for combo in combos:
            somewhere = [self._case(combo, target) for target in TARGETS]
            for channel in CHANNELS:
                self._channel(combo, channel, any(somewhere))

    def _case(self, combo: Combo, target: str | None) -> bool:
        """C2-C7 at one scope; whether a case can be opened there."""
        t, org, member, state = self.tracker, combo.org(), combo.actor.member(), combo.plan_state
        roles, project_roles = combo.actor.roles
        scope = "organization" if target is None else "project"
        want = expected_case(state, roles, project_roles, combo.projects, target)
        asked = attempt(
            functools.partial(
                check_case,
                org,
                state,
                member,
                scope=scope,
                project_id=target,
                catalog=catalog(),
            )
        )
        opened = attempt(
            functools.partial(
                open_case,
                org,
                state,
                member,
                scope=scope,
                project_id=target,
                title=TITLE,
                severity="S2",
                clock=HostClock(NOW),
                case_id=CASE_ID,
                catalog=catalog(),
            )
        )
        got = _reasons(asked)
        t.sequences += 2
        t.produced(got)
        t.produced(opened.reasons)
        t.exercised(r for _, r in want)
        if len(want) > 1:
            t.exercised(("C6",))
        args = {"scope": scope, "project_id": target}
        asking = Step(iso(NOW), "check_case", args, outcome=_decision(asked))
        opening = Step(
            iso(NOW),
            "open_case",
            {**args, "title": TITLE, "severity": "S2"},
            outcome=opened.describe(),
        )
        if self.check:
            t.expect(
                Verdict(
                    rule_of(want, got, "C6"),
                    "check_case gives every failing check, in C6 order",
                    asked.crash is None and got == want,
                    f"check_case(scope={scope!r}, project_id={target!r}) gives {list(got)}; "
                    f"the rules say {list(want)}",
                ),
                combo.where(asking),
            )
            t.expect(
                Verdict(
                    rule_of(want, opened.reasons, "C6"),
                    "open_case refuses exactly as check_case",
                    opened.crash is None and opened.reasons == want,
                    f"open_case(scope={scope!r}, project_id={target!r}) was "
                    f"{opened.describe()}; the rules say {list(want) or 'accepted'}",
                ),
                combo.where(opening),
            )
            if opened.result is not None:
                t.expect(recorded(opened.result, combo, target, "S2"), combo.where(opening))
        if opened.result is not None:
            t.exercised(("C7",))
        return not want

    def _channel(self, combo: Combo, channel: str, somewhere: bool) -> None:
        """C1: members only; support_case exactly where some scope allows a case."""
        t, state = self.tracker, combo.plan_state
        roles, project_roles = combo.actor.roles
        want = expected_channel(state, roles, project_roles, combo.projects, channel)
        member = combo.actor.member()
        asked = attempt(
            functools.partial(check_channel, combo.org(), state, member, channel, catalog=catalog())
        )
        got = _reasons(asked)
        t.sequences += 1
        t.produced(got)
        t.exercised(("C1", *(r for _, r in want)))
        if not self.check:
            return
        step = Step(iso(NOW), "check_channel", {"channel": channel}, outcome=_decision(asked))
        t.expect(
            Verdict(
                rule_of(want, got, "C1"),
                "check_channel answers as the rules",
                asked.crash is None and got == want,
                f"check_channel({channel!r}) gives {list(got)}; the rules say {list(want)}",
            ),
            combo.where(step),
        )
        if channel == "support_case":
            allowed = asked.crash is None and not got
            t.expect(
                Verdict(
                    "C1",
                    "support_case is allowed exactly where some scope allows a case",
                    allowed == somewhere,
                    f"check_channel('support_case') allowed={allowed}, but a case can "
                    f"{'' if somewhere else 'not '}be opened at some scope",
                ),
                combo.where(step),
            )


def recorded(case: Any, combo: Combo, project: str | None, severity: str) -> Verdict:
    """C7: the opened case records its organization, scope, project, requester, instant, title
    and severity."""
    want = (
        "org-1",
        "organization" if project is None else "project",
        project,
        combo.actor.name,
        NOW,
        TITLE,
        severity,
    )
    got = (
        case.org_id,
        case.scope.value,
        case.project_id,
        case.requester,
        case.opened_at,
        case.title,
        case.severity.value,
    )
    return Verdict(
        "C7",
        "an opened case records what it was opened with",
        got == want,
        f"the case records {got}; the rules say {want}",
    )
