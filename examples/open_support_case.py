"""A host application's "open a support case" endpoint, built on support_flows.

Run it: `python examples/open_support_case.py`. Each request prints one JSON line: what was asked
and the HTTP-like response the handler sends. A refusal carries its status, the primary reason's
code, rule and message, and every reason (RULES.md C6); a success carries the opened case.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pendulum

import support_flows as sf

STATUS_BY_REASON = {
    sf.Reason.NOT_ORG_MEMBER: 403,
    sf.Reason.ORG_OWNER_REQUIRED: 403,
    sf.Reason.PROJECT_ROLE_REQUIRED: 403,
    sf.Reason.PROJECT_NOT_FOUND: 404,
    sf.Reason.PLAN_EXCLUDES_CASES: 402,
    sf.Reason.ORG_HAS_NO_PROJECTS: 409,
    sf.Reason.EVENT_NOT_ALLOWED: 409,
}


class Response(NamedTuple):
    status: int
    body: dict[str, Any]


def handle_open_case(
    body: dict[str, Any],
    *,
    org: sf.Organization,
    plan: sf.SupportPlan,
    member: sf.Member,
    clock: sf.Clock,
    new_case_id: Callable[[], str],
) -> Response:
    """POST /orgs/{org}/support-cases: 201 with the case, or the refusal as an error body."""
    try:
        case = sf.open_case(
            org,
            plan,  # a SupportPlan: its current state is used
            member,
            scope=body.get("scope", "project"),
            project_id=body.get("project_id"),
            title=body.get("title", ""),
            severity=body.get("severity", "S3"),
            clock=clock,
            case_id=new_case_id,
        )
    except sf.InvalidInput as error:
        return Response(400, error.to_dict())
    except sf.Refused as error:
        return Response(STATUS_BY_REASON.get(sf.Reason(error.code), 403), error.to_dict())
    return Response(201, case.to_dict())


def main() -> None:
    clock = sf.FrozenClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    ids = (f"case-{n:04d}" for n in itertools.count(1))
    acme = sf.Organization("acme", projects=("web", "billing-api"))
    empty = sf.Organization("newco")
    owner = sf.Member("alice", org_roles={sf.Role.ORG_OWNER})
    viewer = sf.Member("bob", org_roles={sf.Role.ORG_READ_ONLY})
    developer = sf.Member("carol", project_roles={"web": {sf.Role.PROJECT_DATA_ACCESS_READ_WRITE}})
    acme_plan = sf.SupportPlan(acme, clock=clock)
    newco_plan = sf.SupportPlan(empty, clock=clock)

    def request(
        what: str,
        org: sf.Organization,
        plan: sf.SupportPlan,
        member: sf.Member,
        body: dict[str, Any],
    ) -> None:
        response = handle_open_case(
            body, org=org, plan=plan, member=member, clock=clock, new_case_id=lambda: next(ids)
        )
        print(json.dumps({"request": what, "status": response.status, "body": response.body}))

    web_case = {"project_id": "web", "title": "Slow queries"}
    request("carol, on Basic, asks about web", acme, acme_plan, developer, web_case)
    acme_plan.change("premium", actor=owner)
    clock.advance(minutes=5)
    org_case = {"scope": "organization", "title": "Invoices"}
    request("bob asks for an organization-level case", acme, acme_plan, viewer, org_case)
    elsewhere = {"project_id": "mobile", "title": "Crash"}
    request(
        "carol asks about another organization's project", acme, acme_plan, developer, elsewhere
    )
    request("alice, at an organization without projects", empty, newco_plan, owner, org_case)
    bad = {**web_case, "severity": "S0"}
    request("carol sends an unknown severity", acme, acme_plan, developer, bad)
    urgent = {**web_case, "severity": "S2"}
    request("carol, on Premium, asks about web", acme, acme_plan, developer, urgent)


if __name__ == "__main__":
    main()
