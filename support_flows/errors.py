"""Reason codes, decisions and the errors that carry them (RULES.md, "Refusal reasons")."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from typing import Any


class Reason(enum.StrEnum):
    """A stable refusal code; its value is the exact code of RULES.md."""

    NAIVE_DATETIME = "naive_datetime"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    INVALID_VALUE = "invalid_value"
    INVALID_SNAPSHOT = "invalid_snapshot"
    BILLING_ROLE_REQUIRED = "billing_role_required"
    CONTACT_SALES = "contact_sales"
    CROSS_ORG_BILLING = "cross_org_billing"
    ALREADY_ON_PLAN = "already_on_plan"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    NO_PENDING_CHANGE = "no_pending_change"
    CHANGE_ALREADY_EFFECTIVE = "change_already_effective"
    EVENT_NOT_ALLOWED = "event_not_allowed"
    NOT_ORG_MEMBER = "not_org_member"
    PLAN_EXCLUDES_CASES = "plan_excludes_cases"
    ORG_OWNER_REQUIRED = "org_owner_required"
    ORG_HAS_NO_PROJECTS = "org_has_no_projects"
    PROJECT_NOT_FOUND = "project_not_found"
    PROJECT_ROLE_REQUIRED = "project_role_required"
    SALES_REFERENCE_REQUIRED = "sales_reference_required"
    INVALID_QUANTITY = "invalid_quantity"
    INSUFFICIENT_UNITS = "insufficient_units"
    SESSION_IN_PAST = "session_in_past"
    SESSION_AFTER_EXPIRY = "session_after_expiry"
    SESSION_NOT_STARTED = "session_not_started"
    SESSION_ALREADY_STARTED = "session_already_started"
    UNKNOWN_SESSION = "unknown_session"
    ORDER_NOT_ACTIVE = "order_not_active"
    BUYER_EMAIL_REQUIRED = "buyer_email_required"
    REENTRANT_CALL = "reentrant_call"
    STALE_REVISION = "stale_revision"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    NOT_FOUND = "not_found"
    STORE_UNAVAILABLE = "store_unavailable"


class Violation(str):
    """One failing check: equal to its reason code, and carrying the rule id and a message.

    Being a ``str`` lets hosts write ``Reason.ORG_OWNER_REQUIRED in decision.reasons``.
    """

    __slots__ = ("code", "message", "rule")
    code: Reason
    rule: str
    message: str

    def __new__(cls, code: Reason | str, rule: str, message: str) -> Violation:
        reason = code if type(code) is Reason else _reason(code)
        if type(rule) is not str or type(message) is not str:
            raise invalid(
                Reason.INVALID_VALUE,
                "V5",
                f"a violation's rule and message are text, got {describe(rule)}, "
                f"{describe(message)}",
            )
        self = str.__new__(cls, reason._value_)
        _set_code(self, reason)
        _set_rule(self, rule)
        _set_message(self, message)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Violation is immutable (tried to set {name!r})")

    def __repr__(self) -> str:
        return f"Violation({self.code.value!r}, rule={self.rule!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Violation, (self.code, self.rule, self.message))

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "rule": self.rule, "message": self.message}


def _reason(code: object) -> Reason:
    found = Reason._value2member_map_.get(code) if type(code) is str else None
    if found is None:
        raise invalid(Reason.INVALID_VALUE, "V1", f"unknown reason code {describe(code)}")
    return found  # type: ignore[return-value]


def _violations(reasons: object, what: str) -> tuple[Violation, ...]:
    """`reasons` as a tuple of Violations, read once; anything else is V5."""
    found = reasons if type(reasons) is tuple else None
    if found is None and type(reasons) is not str:
        try:
            found = tuple(reasons)  # type: ignore[arg-type]
        except Exception:  # not iterable, or an iteration of its own that raises
            found = None
    if found is None or any(type(reason) is not Violation for reason in found):
        raise invalid(
            Reason.INVALID_VALUE, "V5", f"{what} must be Violations, got {describe(reasons)}"
        )
    return found


# The slots' own setters: Violation refuses attribute assignment once built.
_set_code = vars(Violation)["code"].__set__
_set_rule = vars(Violation)["rule"].__set__
_set_message = vars(Violation)["message"].__set__


class Decision:
    """The answer of a check: allowed, or every failing check in rule order. Truthy when allowed."""

    __slots__ = ("reasons",)
    reasons: tuple[Violation, ...]

    def __init__(self, reasons: Iterable[Violation] = ()) -> None:
        if type(reasons) is not tuple:
            reasons = _violations(reasons, "a decision's reasons")
        for reason in reasons:  # a loop, not a generator: every check answers through here
            if type(reason) is not Violation:
                _violations(reasons, "a decision's reasons")
        _set_reasons(self, reasons)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Decision is immutable (tried to set {name!r})")

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def code(self) -> str | None:
        """The primary reason's code, or None when allowed."""
        return self.reasons[0].code.value if self.reasons else None

    def __bool__(self) -> bool:
        return self.allowed

    def __eq__(self, other: object) -> bool:
        return type(other) is Decision and self.reasons == other.reasons

    def __hash__(self) -> int:
        return hash(self.reasons)

    def __repr__(self) -> str:
        if self.allowed:
            return "Decision(allowed)"
        return f"Decision(refused: {', '.join(r.code.value for r in self.reasons)})"

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reasons": [r.to_dict() for r in self.reasons]}

    def raise_if_refused(self) -> None:
        """Raise `Refused` (or `InvalidInput` for malformed-input reasons) unless allowed."""
        if self.reasons:
            raise error_for(self.reasons)


_set_reasons = vars(Decision)["reasons"].__set__


class SupportFlowsError(Exception):
    """Base of every error this library raises; carries every failing check."""

    reasons: tuple[Violation, ...]

    def __init__(self, reasons: Violation | Iterable[Violation]) -> None:
        self.reasons = (
            (reasons,) if type(reasons) is Violation else _violations(reasons, "an error's reasons")
        )
        if not self.reasons:
            raise ValueError(f"{type(self).__name__} needs at least one reason")
        super().__init__(self.message)

    @property
    def primary(self) -> Violation:
        return self.reasons[0]

    @property
    def code(self) -> str:
        return self.primary.code.value

    @property
    def rule(self) -> str:
        return self.primary.rule

    @property
    def message(self) -> str:
        return "; ".join(r.message for r in self.reasons)

    def __str__(self) -> str:
        return f"[{self.code}, {self.rule}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "reasons": [r.to_dict() for r in self.reasons],
        }


class Refused(SupportFlowsError):
    """A business rule refused the request; nothing changed."""


class InvalidInput(SupportFlowsError, ValueError):
    """The request was malformed (bad name, naive datetime, bad quantity, bad snapshot)."""


class Unavailable(SupportFlowsError):
    """The environment failed: a store that cannot be reached, opened or written (S6); nothing
    changed, and the same request may succeed once the environment is back."""


class InvalidChart(SupportFlowsError, TypeError):
    """A chart declaration the compiled table could not run faithfully, refused when the chart
    is compiled (at import): `.chart` names the chart class, the message the edge and what to
    declare instead. Its reason is `invalid_value` (V1: a definition naming what is not there)."""

    def __init__(self, chart: type, problem: str) -> None:
        self.chart = chart
        super().__init__(Violation(Reason.INVALID_VALUE, "V1", f"{chart.__name__}: {problem}"))


MALFORMED = frozenset(
    {
        Reason.NAIVE_DATETIME,
        Reason.UNKNOWN_TIMEZONE,
        Reason.INVALID_VALUE,
        Reason.INVALID_SNAPSHOT,
        Reason.INVALID_QUANTITY,
    }
)


def error_for(reasons: Iterable[Violation]) -> SupportFlowsError:
    """`InvalidInput` when the primary reason is malformed input, `Unavailable` when the store
    cannot be reached, otherwise `Refused`."""
    found = tuple(reasons)
    if found and found[0].code in MALFORMED:
        return InvalidInput(found)
    if found and found[0].code is Reason.STORE_UNAVAILABLE:
        return Unavailable(found)
    return Refused(found)


def invalid(code: Reason, rule: str, message: str) -> InvalidInput:
    """Shorthand for an `InvalidInput` with one reason."""
    return InvalidInput(Violation(code, rule, message))


def describe(value: object, limit: int = 80) -> str:
    """`repr(value)` for a message, shortened when long: the start and the full length. Only the
    value's type is trusted: a repr (or a date's isoformat) that raises names the type instead."""
    kind = type(value)
    text = _text(lambda: value.isoformat()) if issubclass(kind, dt.date) else None  # type: ignore[attr-defined]
    if text is None:
        text = _text(lambda: repr(value))
    if text is None:
        return f"<{kind.__name__} object>"
    if len(text) <= limit:
        return text
    size = len(value) if kind is str or kind is bytes else len(text)  # type: ignore[arg-type]
    return f"{text[: limit - 20]}... ({size} characters)"


def _text(read: Callable[[], object]) -> str | None:
    """What `read` returns, as plain text; None if it raises or returns no text."""
    try:
        text = read()
    except Exception:  # a foreign tzinfo, or a hostile object's own method
        return None
    return str.__str__(text) if issubclass(type(text), str) else None


HTTP_STATUS: dict[Reason, int] = {
    **dict.fromkeys(MALFORMED, 400),
    Reason.PLAN_EXCLUDES_CASES: 402,
    **dict.fromkeys(
        (
            Reason.BILLING_ROLE_REQUIRED,
            Reason.NOT_ORG_MEMBER,
            Reason.ORG_OWNER_REQUIRED,
            Reason.PROJECT_ROLE_REQUIRED,
        ),
        403,
    ),
    **dict.fromkeys((Reason.PROJECT_NOT_FOUND, Reason.UNKNOWN_SESSION, Reason.NOT_FOUND), 404),
    **dict.fromkeys(
        (
            Reason.EVENT_NOT_ALLOWED,
            Reason.ORDER_NOT_ACTIVE,
            Reason.ALREADY_ON_PLAN,
            Reason.NOTHING_TO_CANCEL,
            Reason.NO_PENDING_CHANGE,
            Reason.CHANGE_ALREADY_EFFECTIVE,
            Reason.SESSION_ALREADY_STARTED,
            Reason.SESSION_NOT_STARTED,
            Reason.STALE_REVISION,
            Reason.IDEMPOTENCY_KEY_REUSED,
            Reason.REENTRANT_CALL,
        ),
        409,
    ),
    **dict.fromkeys(
        (
            Reason.CONTACT_SALES,
            Reason.CROSS_ORG_BILLING,
            Reason.ORG_HAS_NO_PROJECTS,
            Reason.SALES_REFERENCE_REQUIRED,
            Reason.INSUFFICIENT_UNITS,
            Reason.SESSION_IN_PAST,
            Reason.SESSION_AFTER_EXPIRY,
            Reason.BUYER_EMAIL_REQUIRED,
        ),
        422,
    ),
    Reason.STORE_UNAVAILABLE: 503,
}
"""The HTTP status a host answers for each reason: 400 malformed input, 402 the plan, 403 the
role, 404 not found, 409 a conflict with the current state (a stale revision, a re-entrant call),
422 any other business refusal, 503 a store that cannot be reached."""


def http_status(error: SupportFlowsError | Decision | Violation | Reason | str) -> int:
    """The HTTP status for an error (or refused decision, violation, reason) by its primary
    reason; 200 for an allowed decision."""
    kind = type(error)
    if issubclass(kind, Decision):
        if error.allowed:  # type: ignore[union-attr]
            return 200
        error = error.reasons[0]  # type: ignore[union-attr]
    elif issubclass(kind, SupportFlowsError):
        error = error.primary  # type: ignore[union-attr]
    # Reason, Violation and str hash and compare as the code's text; no other type is asked.
    status = HTTP_STATUS.get(error) if type(error) in _CODE_TYPES else None  # type: ignore[arg-type]
    if status is None:
        raise invalid(
            Reason.INVALID_VALUE, "V1", f"no HTTP status for {describe(error)}: not a reason code"
        )
    return status


_CODE_TYPES = (Reason, Violation, str)
