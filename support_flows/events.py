"""The names of each chart's events, one enum per machine, and the plan's requests.

Every module that names an event uses these members; each chart declares its enum
(`BaseChart.event_enum`) and `compile_chart` refuses at import a chart whose events differ from
it, so a renamed event breaks where it is declared, not silently where it is spelled.
"""

from __future__ import annotations

import enum

__all__ = ["CaseEvent", "ConsultingEvent", "PlanEvent", "PlanRequest"]


class _Name(enum.StrEnum):
    """A name that is its text everywhere: compared, hashed, formatted and quoted in a message
    (``{event!r}``) as the plain string it stands for."""

    def __repr__(self) -> str:
        return repr(self._value_)


class PlanEvent(_Name):
    """The support plan chart's events (RULES.md P)."""

    SUBSCRIBE = "subscribe"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    CANCEL = "cancel"
    REVOKE = "revoke"
    END_TRIAL = "end_trial"
    APPLY_PENDING = "apply_pending"
    REACTIVATE = "reactivate"


class PlanRequest(_Name):
    """What a host asks of a plan (`SupportPlan.check`'s actions); the chart routes each to an
    event (`Compiled.route`)."""

    CHANGE = "change"
    CANCEL = "cancel"
    REVOKE_PENDING = "revoke_pending"


class ConsultingEvent(_Name):
    """The Flex Consulting order chart's events (RULES.md F)."""

    START_CHECKOUT = "start_checkout"
    BUY_FROM_REPRESENTATIVE = "buy_from_representative"
    CONFIRM = "confirm"
    SCHEDULE = "schedule"
    CANCEL_SESSION = "cancel_session"
    DELIVER = "deliver"
    EXPIRE = "expire"


class CaseEvent(_Name):
    """The case-creation chart's events (RULES.md C)."""

    CHOOSE_ORGANIZATION = "choose_organization"
    OPEN_ORGANIZATION_SUPPORT = "open_organization_support"
    CHOOSE_PROJECT = "choose_project"
    OPEN_PROJECT_SUPPORT = "open_project_support"
    SUBMIT = "submit"
