"""Shared builders for the support plan tests."""

from __future__ import annotations

import pendulum

import support_flows as sf

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
BILLING_ADMIN = sf.Member("u-billing", org_roles={"ORG_BILLING_ADMIN"})
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY, sf.Role.ORG_BILLING_READ_ONLY})
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})


def utc(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="UTC")


def make_plan(
    at: pendulum.DateTime,
    tz: str = "UTC",
    cross_org_billing: bool = False,
) -> tuple[sf.SupportPlan, sf.FrozenClock]:
    clock = sf.FrozenClock(at)
    org = sf.Organization(
        "org-1",
        projects=(sf.Project("p-1"),),
        billing_timezone=tz,
        cross_org_billing=cross_org_billing,
    )
    return sf.SupportPlan(org, clock=clock), clock


def periods(plan: sf.SupportPlan) -> list[tuple[str, str, str | None, bool]]:
    """The billing timeline as (tier, start, end, retroactive), instants in UTC ISO form."""
    return [
        (
            p.tier.value,
            p.starts_at.in_timezone("UTC").isoformat(),
            p.ends_at.in_timezone("UTC").isoformat() if p.ends_at else None,
            p.retroactive,
        )
        for p in plan.billing
    ]
