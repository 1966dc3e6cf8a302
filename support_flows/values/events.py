"""The names of each chart's events, one class of names per machine, and the plan's requests.

Every module that names an event uses these; each chart declares its class (`BaseChart.named_by`)
and `compile_chart` refuses at import a chart whose events differ from it, so a renamed event
breaks where it is declared, not silently where it is spelled. The names are plain text (not enum
members): records, messages and snapshots hold them as such, and reading one costs a class
attribute's lookup.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["CaseEvent", "ConsultingEvent", "Names", "PlanEvent", "PlanRequest"]


class Names:
    """A set of names, each an upper-case class attribute holding the plain text it stands for
    (compared, hashed, formatted and stored as that text). `members` lists them in order."""

    members: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        cls.members = tuple(v for k, v in vars(cls).items() if k.isupper())


class PlanEvent(Names):
    """The support plan chart's events (RULES.md P)."""

    SUBSCRIBE = "subscribe"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    CANCEL = "cancel"
    REVOKE = "revoke"
    END_TRIAL = "end_trial"
    APPLY_PENDING = "apply_pending"
    REACTIVATE = "reactivate"


class PlanRequest(Names):
    """What a host asks of a plan (`SupportPlan.check`'s actions); the chart routes each to an
    event (`Compiled.route`)."""

    CHANGE = "change"
    CANCEL = "cancel"
    REVOKE_PENDING = "revoke_pending"


class ConsultingEvent(Names):
    """The Flex Consulting order chart's events (RULES.md F)."""

    START_CHECKOUT = "start_checkout"
    BUY_FROM_REPRESENTATIVE = "buy_from_representative"
    CONFIRM = "confirm"
    SCHEDULE = "schedule"
    CANCEL_SESSION = "cancel_session"
    DELIVER = "deliver"
    EXPIRE = "expire"


class CaseEvent(Names):
    """The case-creation chart's events (RULES.md C)."""

    CHOOSE_ORGANIZATION = "choose_organization"
    OPEN_ORGANIZATION_SUPPORT = "open_organization_support"
    CHOOSE_PROJECT = "choose_project"
    OPEN_PROJECT_SUPPORT = "open_project_support"
    SUBMIT = "submit"
