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
    "Channel",
    "Clock",
    "Decision",
    "FrozenClock",
    "InvalidInput",
    "Member",
    "Organization",
    "PlanState",
    "Project",
    "Reason",
    "Refused",
    "Role",
    "Scope",
    "Severity",
    "SupportFlowsError",
    "SystemClock",
    "Tier",
    "Violation",
    "next_month_start",
]
