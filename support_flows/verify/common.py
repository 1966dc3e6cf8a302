"""Helpers every machine's verifier shares: the kinds of actor, a settable clock, what a call
gave (`Outcome`), one checked invariant (`Verdict`), and the recorder of chart edges taken."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pendulum

from support_flows.errors import SupportFlowsError
from support_flows.localtime import instant
from support_flows.machines.base_object import Listener
from support_flows.values import Member
from support_flows.verify.watchdog import Stalled, entered, left

__all__ = [
    "ACTORS",
    "Actor",
    "HostClock",
    "Outcome",
    "Recorder",
    "Verdict",
    "attempt",
    "crashed",
    "iso",
    "rule_of",
]


@attrs.frozen
class Verdict:
    """One invariant checked once: the rule it stands for, its name, and whether it held; when
    broken, optionally what the reference expected and what the library gave (periods, history
    entries, instants or any value: a finding prints them as dated lines; None: not stated)."""

    rule: str
    invariant: str
    ok: bool
    message: str = ""
    expected: Any = attrs.field(default=None, hash=False)
    actual: Any = attrs.field(default=None, hash=False)


@attrs.frozen
class Actor:
    """A kind of person acting on an organization: an id and role sets."""

    name: str
    org_roles: tuple[str, ...] = ()
    project_roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    email: str | None = None

    def member(self) -> Member:
        return Member(
            self.name,
            org_roles=set(self.org_roles),
            project_roles={p: set(r) for p, r in self.project_roles},
            email=self.email,
        )

    @property
    def roles(self) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        return self.org_roles, dict(self.project_roles)

    def as_arg(self) -> dict[str, Any]:
        return {
            "id": self.name,
            "org_roles": list(self.org_roles),
            "project_roles": {p: list(r) for p, r in self.project_roles},
            "email": self.email,
        }

    @classmethod
    def from_arg(cls, data: Mapping[str, Any]) -> Actor:
        return cls(
            data["id"],
            tuple(data.get("org_roles", ())),
            tuple((p, tuple(r)) for p, r in data.get("project_roles", {}).items()),
            data.get("email"),
        )


ACTORS: Mapping[str, Actor] = {
    a.name: a
    for a in (
        Actor("owner", ("ORG_OWNER",), email="owner@example.com"),
        Actor("billing-admin", ("ORG_BILLING_ADMIN",), email="billing@example.com"),
        Actor("billing-reader", ("ORG_BILLING_READ_ONLY",), email="reader@example.com"),
        Actor("org-reader", ("ORG_READ_ONLY", "ORG_MEMBER"), email="org-reader@example.com"),
        Actor("project-creator", ("ORG_PROJECT_CREATOR",), email="creator@example.com"),
        Actor(
            "project-member",
            project_roles=(("p-1", ("PROJECT_OWNER",)),),
            email="member@example.com",
        ),
        Actor(
            "outsider",
            project_roles=(("p-elsewhere", ("PROJECT_OWNER",)),),
            email="outsider@example.com",
        ),
        Actor("nobody", email="nobody@example.com"),
    )
}
"""Every kind of actor the rules tell apart: billing roles, other organization roles, a role in
a project only, a role in another organization's project, and no role at all."""


class HostClock:
    """A clock the verifier sets anywhere, backwards included (each sequence has its own)."""

    __slots__ = ("at",)

    def __init__(self, at: pendulum.DateTime) -> None:
        self.at = at

    def now(self) -> pendulum.DateTime:
        return self.at


def iso(moment: Any) -> str:
    return instant(moment).isoformat()


@attrs.frozen
class Outcome:
    """What a public call gave: its result, the coded error it raised, or an uncoded crash."""

    result: Any = None
    error: SupportFlowsError | None = None
    crash: BaseException | None = None

    @property
    def refused(self) -> bool:
        return self.error is not None

    @property
    def reasons(self) -> tuple[tuple[str, str], ...]:
        if self.error is None:
            return ()
        return tuple((r.code.value, r.rule) for r in self.error.reasons)

    def same_as(self, other: Outcome) -> bool:
        """Equal results, or errors of the same type with the same reasons and messages."""
        if self.crash is not None or other.crash is not None:
            return repr(self.crash) == repr(other.crash)
        if self.error is None or other.error is None:
            return self.error is other.error and self.result == other.result
        mine = [(type(self.error), r.code, r.rule, r.message) for r in self.error.reasons]
        theirs = [(type(other.error), r.code, r.rule, r.message) for r in other.error.reasons]
        return mine == theirs

    def describe(self) -> str:
        if self.crash is not None:
            return f"crashed: {self.crash!r}"
        if self.error is None:
            return "accepted"
        return "refused: " + ", ".join(f"{code} ({rule})" for code, rule in self.reasons)


def attempt(call: Callable[[], Any]) -> Outcome:
    """Make a call; a coded error is an outcome, and so is any other exception (a crash), and a
    call the watchdog stopped (`verify.watchdog`: it never returned)."""
    entered()
    try:
        return Outcome(call())
    except SupportFlowsError as error:
        return Outcome(None, error)
    except Exception as crash:  # the verifier reports it instead of stopping
        return Outcome(None, None, crash)
    except Stalled as stall:
        return Outcome(None, None, stall)
    finally:
        left()


class Recorder(Listener):
    """Listens to an object and records the chart edge each of its steps takes."""

    __slots__ = ("taken",)

    def __init__(self) -> None:
        self.taken: list[tuple[str, str, str]] = []

    def on_transition(self, obj: Any, event: str, source: str, target: str) -> None:
        self.taken.append((event, source, target))


def crashed(error: Exception, rule: str) -> Verdict:
    """A read or a snapshot that raised something other than a coded error after a step (T7:
    whatever has come due, a read answers)."""
    return Verdict(
        rule, "every read answers after a step", False, f"{type(error).__name__}: {error}"
    )


def rule_of(
    expected: tuple[tuple[str, str], ...], got: tuple[tuple[str, str], ...], default: str
) -> str:
    """The rule of the first reason on which an expected and an actual refusal differ (or of
    the first expected one, or `default` when neither refuses)."""
    for want, have in zip(expected, got, strict=False):
        if want != have:
            return want[1]
    longer = expected[len(got) :] or got[len(expected) :]
    if longer:
        return longer[0][1]
    return expected[0][1] if expected else default
