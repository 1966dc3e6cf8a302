"""support_flows: support plan, support case and Flex Consulting rules as verified state charts."""

from typing import TYPE_CHECKING

from support_flows.lazy import lazy_exports

if TYPE_CHECKING:
    from support_flows.clock import Clock, FrozenClock, SystemClock, next_month_start
    from support_flows.errors import (
        Decision,
        InvalidInput,
        Reason,
        Refused,
        SupportFlowsError,
        Unavailable,
        Violation,
        http_status,
    )
    from support_flows.localtime import parse_instant
    from support_flows.machines.case import (
        CaseFlow,
        SupportCase,
        check_case,
        check_channel,
        open_case,
    )
    from support_flows.machines.consulting import ConsultingOrder
    from support_flows.machines.plan import SupportPlan
    from support_flows.outbox import Email, InMemoryOutbox, Outbox
    from support_flows.values import (
        Channel,
        Member,
        Organization,
        PlanState,
        Project,
        Role,
        Scope,
        Severity,
        Tier,
    )
    from support_flows.values.consulting import OrderState, Session, SessionStatus, UnitBalance
    from support_flows.values.plan import BillingPeriod, HistoryEntry, PendingChange, Trial
    from support_flows.values.policy import ATLAS, Catalog, Policy

__all__ = [
    "ATLAS",
    "BillingPeriod",
    "CaseFlow",
    "Catalog",
    "Channel",
    "Clock",
    "ConsultingOrder",
    "Decision",
    "Email",
    "FrozenClock",
    "HistoryEntry",
    "InMemoryOutbox",
    "InvalidInput",
    "Member",
    "OrderState",
    "Organization",
    "Outbox",
    "PendingChange",
    "PlanState",
    "Policy",
    "Project",
    "Reason",
    "Refused",
    "Role",
    "Scope",
    "Session",
    "SessionStatus",
    "Severity",
    "SupportCase",
    "SupportFlowsError",
    "SupportPlan",
    "SystemClock",
    "Tier",
    "Trial",
    "Unavailable",
    "UnitBalance",
    "Violation",
    "check_case",
    "check_channel",
    "http_status",
    "next_month_start",
    "open_case",
    "parse_instant",
]

# Each name is imported from its module when first read (PEP 562): `import support_flows` costs
# what a host uses, and the command line starts without the machines.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "support_flows.clock": ("Clock", "FrozenClock", "SystemClock", "next_month_start"),
        "support_flows.errors": (
            "Decision",
            "InvalidInput",
            "Reason",
            "Refused",
            "SupportFlowsError",
            "Unavailable",
            "Violation",
            "http_status",
        ),
        "support_flows.localtime": ("parse_instant",),
        "support_flows.machines.case": (
            "CaseFlow",
            "SupportCase",
            "check_case",
            "check_channel",
            "open_case",
        ),
        "support_flows.machines.consulting": ("ConsultingOrder",),
        "support_flows.machines.plan": ("SupportPlan",),
        "support_flows.outbox": ("Email", "InMemoryOutbox", "Outbox"),
        "support_flows.values": (
            "Channel",
            "Member",
            "Organization",
            "PlanState",
            "Project",
            "Role",
            "Scope",
            "Severity",
            "Tier",
        ),
        "support_flows.values.consulting": (
            "OrderState",
            "Session",
            "SessionStatus",
            "UnitBalance",
        ),
        "support_flows.values.plan": ("BillingPeriod", "HistoryEntry", "PendingChange", "Trial"),
        "support_flows.values.policy": ("ATLAS", "Catalog", "Policy"),
    },
)
