"""One registry of checks per machine: each check is a pure function of that machine's facts,
named after the reason it reports, carrying its reason code and rule ids as data.

A check's body returns None when the request passes, or the message of the refusal (with the
rule id first, ``(rule, message)``, when it can cite more than one rule of its machine). The
decorator turns that into a `Violation`, so every check of every machine answers the same way:
``check(facts) -> Violation | None``. Selectors (which edge of an event applies) are plain
predicates of the same facts. Both are collected here, checked when declared, and read by the
charts, the decisions, the diagrams and the verifier.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

import attrs

from support_flows.errors import Reason, Violation

__all__ = ["Body", "Check", "Facts", "Registry", "Selector", "answer", "holds_under"]


class Facts(Protocol):
    """What every facts object declares: the rule section of its machine ("P", "C", "F")."""

    section: ClassVar[str]


F = TypeVar("F", bound=Facts)
Body = Callable[[Any], str | tuple[str, str] | None]


class Check(Protocol):
    """A registered check: ``check(facts) -> Violation | None``, with its data."""

    __name__: str
    reason: Reason
    rules: tuple[str, ...]
    body: Body
    rule_for: Callable[[str], str]

    def __call__(self, facts: Any) -> Violation | None: ...


class Selector(Protocol):
    """A registered selector: ``selector(facts) -> bool``."""

    __name__: str

    def __call__(self, facts: Any) -> bool: ...


def answer(reason: Reason, rule: str, found: str | tuple[str, str]) -> Violation:
    """The violation a check's body reports: its message, citing `rule` unless the body names
    the rule itself (``(rule, message)``)."""
    if type(found) is tuple:
        return Violation(reason, *found)
    return Violation(reason, rule, found)  # type: ignore[arg-type]


def _make_check(body: Body, reason: Reason, rules: tuple[str, ...]) -> Check:
    by_section: dict[str, str] = {}
    for rule in rules:
        by_section.setdefault(rule[0], rule)

    def rule_for(section: str) -> str:
        """The rule this check cites for a machine of `section` ("P", "C", "F")."""
        return by_section.get(section, rules[0])

    @functools.wraps(body)
    def check(facts: Any) -> Violation | None:
        found = body(facts)
        if found is None:
            return None
        return answer(reason, rule_for(facts.section), found)

    del check.__wrapped__  # python-statemachine injects by name: `facts`, not the body's name
    check.reason = reason  # type: ignore[attr-defined]
    check.rules = rules  # type: ignore[attr-defined]
    check.body = body  # type: ignore[attr-defined]
    check.rule_for = rule_for  # type: ignore[attr-defined]
    return check  # type: ignore[return-value]


def shared_check(reason: Reason, *rules: str) -> Callable[[Body], Check]:
    """A check several machines register: it cites the rule of the asking machine's section."""

    def declare(body: Body) -> Check:
        _check_name(body, reason)
        return _make_check(body, reason, rules)

    return declare


def _check_name(body: Callable[..., Any], reason: Reason) -> None:
    if body.__name__ != reason.value:
        raise TypeError(f"check {body.__name__!r} must be named after its reason {reason.value!r}")
    if not (body.__doc__ or "").strip():
        raise TypeError(f"check {body.__name__!r} needs a docstring citing its rule")


class Registry:
    """The checks and selectors of one machine, in declaration order."""

    def __init__(self, machine: str, section: str) -> None:
        self.machine = machine
        self.section = section
        self.checks: dict[str, Check] = {}
        self.selectors: dict[str, Selector] = {}

    def check(self, reason: Reason, *rules: str) -> Callable[[Body], Check]:
        """Declare a check reporting `reason`, citing `rules` (the first of its section by
        default)."""

        def declare(body: Body) -> Check:
            _check_name(body, reason)
            return self.add(_make_check(body, reason, rules))

        return declare

    def unwrapped(self, check: Check) -> tuple[Body, Reason, str]:
        """What calling `check` for this machine's facts amounts to, for a compiled table's hot
        path: its body, its reason, and the rule it cites here when its body names none."""
        return check.body, check.reason, check.rule_for(self.section)

    def add(self, check: Check) -> Check:
        """Register a check (one of this machine's, or a shared one that cites this section)."""
        if check.__name__ in self.checks:
            raise TypeError(f"{self.machine} already has a check named {check.__name__!r}")
        if not any(rule[0] in (self.section, "V", "T") for rule in check.rules):
            raise TypeError(f"check {check.__name__!r} cites no {self.section}, V or T rule")
        for rule in check.rules:
            if rule not in (check.__doc__ or ""):
                raise TypeError(f"check {check.__name__!r} must cite {rule} in its docstring")
        self.checks[check.__name__] = check
        return check

    def selector(self, predicate: Callable[[Any], bool]) -> Selector:
        """Declare a selector: a predicate of the machine's facts, taken as `facts` (the name
        python-statemachine injects), that says which edge of an event applies."""
        if predicate.__name__ in self.selectors:
            raise TypeError(f"{self.machine} already has a selector {predicate.__name__!r}")
        if list(inspect.signature(predicate).parameters) != ["facts"]:
            raise TypeError(f"selector {predicate.__name__!r} must take one argument, `facts`")
        self.selectors[predicate.__name__] = predicate  # type: ignore[assignment]
        return predicate  # type: ignore[return-value]

    def choice(self, predicate: Callable[[Any], bool]) -> Selector:
        """Declare a selector that reads only the policy (`facts.policy`) and the pending change
        (`facts.pending`): a choice of the policy that decides whether an edge exists at all
        (K1), which diagrams and the verifier read with `holds_under`."""
        found = self.selector(predicate)
        found.policy_choice = True  # type: ignore[attr-defined]
        return found

    def knows(self, func: object) -> bool:
        name = getattr(func, "__name__", None)
        return self.checks.get(str(name)) is func or self.selectors.get(str(name)) is func


@attrs.frozen
class _PolicyOnly:
    """The facts a policy choice is asked with when no request is at hand: the policy, with
    nothing pending and no state yet."""

    policy: Any
    pending: None = None
    state: None = None


def holds_under(selector: Any, policy: Any) -> bool:
    """Whether `selector` lets its edge exist under `policy`: a policy choice is asked with the
    policy and nothing pending; any other selector depends on the request, and holds."""
    if not getattr(selector, "policy_choice", False):
        return True
    return bool(selector(_PolicyOnly(policy)))
