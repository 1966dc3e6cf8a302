"""support_flows: support plan, support case and Flex Consulting rules as verified state charts."""

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
from support_flows.machines.case import CaseFlow, SupportCase, check_case, check_channel, open_case
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
