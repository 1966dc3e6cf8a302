"""support_flows: support plan, support case and Flex Consulting rules as verified state charts."""

from support_flows.clock import Clock, FrozenClock, SystemClock, next_month_start
from support_flows.errors import (
    Decision,
    InvalidInput,
    Reason,
    Refused,
    SupportFlowsError,
    Violation,
)
from support_flows.machines.plan import SupportPlan
from support_flows.machines.plan_records import BillingPeriod, HistoryEntry, PendingChange, Trial
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

__all__ = [
    "BillingPeriod",
    "Channel",
    "Clock",
    "Decision",
    "FrozenClock",
    "HistoryEntry",
    "InvalidInput",
    "Member",
    "Organization",
    "PendingChange",
    "PlanState",
    "Project",
    "Reason",
    "Refused",
    "Role",
    "Scope",
    "Severity",
    "SupportFlowsError",
    "SupportPlan",
    "SystemClock",
    "Tier",
    "Trial",
    "Violation",
    "next_month_start",
]
