"""Case requests off the beaten path: malformed names and ids at each entry point (V1, V5), the
default severity (C7), and a flow's clock moving back before it submits (T8)."""

from __future__ import annotations

import functools
from typing import Any

from support_flows.machines.case import CaseFlow, check_case, check_channel, open_case
from support_flows.verify.case_decisions import recorded
from support_flows.verify.case_roots import CASE_ID, NOW, ROLE_SETS, TITLE, Combo, new_flow
from support_flows.verify.common import HostClock, Outcome, Verdict, attempt, iso
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Step
from support_flows.verify.policy import catalog
from support_flows.verify.reference.case import (
    DEFAULT_SEVERITY,
    SCOPES,
    SEVERITIES,
    Refusal,
    named,
)
from support_flows.verify.reference.malformed import WRONG_TYPE, identifier
from support_flows.verify.reference.terms import current

__all__ = ["BEHIND_HOURS", "NAMES", "PROJECT_IDS", "Probes"]

NAMES = ("galaxy", "S5", "s1", "ORGANIZATION", "", "S3 ", None, 3, True)
PROJECT_IDS = (" p-1", "p-1 ", "", "x" * 201, "p\n1", 5)
BEHIND_HOURS = 1
"""How far back a flow's clock moves before it submits (T8: a draft records no instant, so
its case records the reading as it is)."""


def _shown(value: Any) -> Any:
    return value if isinstance(value, bool | int | str | None) else repr(value)


class Probes:
    """Asks each probe once at an owner's point where every well-formed request is allowed
    (under another policy, a point of one of its case states, asked by one of its organization
    case roles)."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        terms = current()  # K1: a state of its case_states, a role of its org_case_roles
        states = [s for s in ("premium", "developer", "trial") if s in terms.case_states]
        alone = [a for a in ROLE_SETS if len(a.org_roles) == 1 and not a.project_roles]
        openers = [a for a in alone if a.org_roles[0] in terms.org_case_roles]
        self.opens = bool(states and openers)
        """Whether some case can be opened under the policy (none when no state has cases)."""
        owner = next(a for a in alone if a.org_roles == ("ORG_OWNER",))
        self.combo = Combo(
            states[0] if states else "premium", (openers or [owner])[0], ("p-1", "p-2")
        )
        self.member = self.combo.actor.member()

    def __call__(self) -> None:
        """Malformed scopes, severities and project ids; the default severity; a clock behind."""
        for value in NAMES:
            self._refused(named(value, SCOPES), "check_case", {"scope": value})
            self._refused(named(value, SCOPES), "open_case", {"scope": value})
            want = named(value, SEVERITIES)
            self._refused(want, "open_case", {"scope": "organization", "severity": value})
            self._refused(want, "CaseFlow.submit", {"severity": value})
        for value in PROJECT_IDS:
            args = {"scope": "project", "project_id": value}
            self._refused(identifier(value), "check_case", args)
            self._refused(identifier(value), "open_case", args)
            self._refused(identifier(value), "CaseFlow.choose_project", {"project_id": value})
        strangers: tuple[object, ...] = (None, "u-org-owner", 5, self.combo.org())
        for stranger in strangers:
            for call in ("check_case", "open_case", "check_channel"):
                self._refused(WRONG_TYPE, call, {"scope": "organization", "member": stranger})
        if not self.opens:
            return
        opened = attempt(functools.partial(self._call, "open_case", {"scope": "organization"}))
        step = Step(iso(NOW), "open_case", {"scope": "organization"}, outcome=opened.describe())
        self._defaulted(opened, step)
        self._behind()
        self.tracker.exercised(("C7",))

    def _call(self, call: str, args: dict[str, Any]) -> Any:
        c, args = self.combo, dict(args)
        member = args.pop("member", self.member)
        if call == "check_channel":
            return check_channel(c.org(), c.plan_state, member, "chat", catalog=catalog())
        if call == "check_case":
            return check_case(c.org(), c.plan_state, member, **args, catalog=catalog())
        if call == "open_case":
            kept = {"title": TITLE, "case_id": CASE_ID, **args}
            return open_case(
                c.org(), c.plan_state, member, clock=HostClock(NOW), **kept, catalog=catalog()
            )
        flow = self._flow(call)
        if call == "CaseFlow.choose_project":
            return flow.choose_project(args["project_id"])
        return flow.submit(title=TITLE, severity=args["severity"])

    def _flow(self, call: str, clock: HostClock | None = None) -> CaseFlow:
        c = self.combo
        if clock is None:
            flow = new_flow(c, "table")
        else:
            flow = CaseFlow(
                c.org(), c.plan_state, self.member, clock=clock, case_id=CASE_ID, catalog=catalog()
            )
        flow.choose_organization()
        if call == "CaseFlow.submit":
            flow.open_organization_support()
        return flow

    def _refused(self, want: Refusal | None, call: str, args: dict[str, Any]) -> None:
        """A malformed value is refused with the reason the rules give, and opens nothing."""
        if want is None:
            return
        outcome = attempt(functools.partial(self._call, call, args))
        codes = [code for code, _ in outcome.reasons]
        opened = call != "check_case" and outcome.result is not None
        shown = {k: _shown(v) for k, v in args.items()}
        step = Step(iso(NOW), call, shown, outcome=outcome.describe())
        self._expect(
            Verdict(
                want[1],
                "malformed input is refused with its reason and changes nothing",
                outcome.crash is None and codes[:1] == [want[0]] and not opened,
                f"{call}({', '.join(f'{k}={v!r}' for k, v in args.items())}) was "
                f"{outcome.describe()}; the rules say {want[0]} ({want[1]})",
            ),
            step,
            outcome,
        )

    def _defaulted(self, opened: Outcome, step: Step) -> None:
        """C7: a case opened without a severity records the default."""
        self.tracker.sequences += 1
        if opened.result is None:
            what = "an opened case records what it was opened with"
            verdict = Verdict("C7", what, False, f"open_case was {opened.describe()}")
        else:
            verdict = recorded(opened.result, self.combo, None, DEFAULT_SEVERITY)
        self.tracker.expect(verdict, self.combo.where(step))

    def _behind(self) -> None:
        """T8: a flow whose clock moves back before it submits records that reading (a draft
        records no instant, so there is nothing to floor it at)."""
        clock = HostClock(NOW)
        flow = self._flow("CaseFlow.submit", clock)
        back = NOW.subtract(hours=BEHIND_HOURS)
        clock.at = back
        outcome = attempt(lambda: flow.submit(title=TITLE, severity="S2"))
        steps = (
            Step(iso(NOW), "CaseFlow.choose_organization", {}),
            Step(iso(NOW), "CaseFlow.open_organization_support", {}),
            Step(
                iso(back),
                "CaseFlow.submit",
                {"title": TITLE, "severity": "S2"},
                outcome=outcome.describe(),
            ),
        )
        case = outcome.result
        got = None if case is None else case.opened_at
        want = back
        self.tracker.sequences += 1
        self.tracker.expect(
            Verdict(
                "T8",
                "a flow's case records its clock's reading, however far back",
                got == want,
                f"the case records opened_at {got}; the rules say {want}",
            ),
            self.combo.where(*steps),
        )

    def _expect(self, verdict: Verdict, step: Step, outcome: Outcome) -> None:
        self.tracker.sequences += 1
        self.tracker.produced(outcome.reasons)
        self.tracker.expect(verdict, self.combo.where(step))
