"""The ``support-flows explain`` subcommands: may a member open a case (C1-C6), would a plan
request (P1-P15) or a Flex Consulting request (F0-F7) be accepted; each under Atlas's policy or
the catalog a ``--policy FILE`` states (K)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from support_flows.cli.errors import Failure
from support_flows.cli.requests import instant, policy_option, role_names
from support_flows.errors import Refused
from support_flows.guards.plan import REQUESTS
from support_flows.localtime import parse_instant
from support_flows.values import PlanState, Scope
from support_flows.values.consulting import OrderState
from support_flows.values.events import ConsultingEvent, PlanEvent
from support_flows.values.policy import Catalog

__all__ = ["explain_case", "explain_consulting", "explain_plan"]


def _answer(explanation: Any, as_json: bool) -> None:
    from support_flows.explain import format_text, to_dict

    if as_json:
        click.echo(json.dumps(to_dict(explanation), indent=2))
    else:
        click.echo(format_text(explanation), nl=False)
    if not explanation.decision.allowed:
        raise Failure.of(Refused(explanation.decision.reasons), f"{explanation.question}: ")


def _common(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")(command)
    command = policy_option(command)
    return click.option(
        "--roles",
        default="",
        show_default=True,
        help="The requester's roles, comma-separated (ORG_OWNER, PROJECT_READ_ONLY, ...); "
        "project roles are held in the project asked about.",
    )(command)


@click.command("case")
@click.option("--plan", type=click.Choice([s.value for s in PlanState]), default="basic")
@click.option("--projects", type=click.IntRange(0, 1000), default=1, show_default=True)
@click.option("--scope", type=click.Choice([s.value for s in Scope]), default="project")
@click.option("--project", "project_id", default=None, help="Project asked about (p-1).")
@click.option("--at", default=None, help="Instant of the request (ISO 8601); default now.")
@_common
def explain_case(
    plan: str,
    projects: int,
    scope: str,
    project_id: str | None,
    at: str | None,
    roles: str,
    as_json: bool,
    catalog: Catalog,
) -> None:
    """May a member open a support case here? (C1-C6)"""
    from support_flows.explain import explain_case as ask

    _answer(
        ask(
            plan=plan,
            roles=role_names(roles),
            projects=projects,
            scope=scope,
            project_id=project_id,
            at=instant(at),
            catalog=catalog,
        ),
        as_json,
    )


@click.command("plan")
@click.option("--state", type=click.Choice([s.value for s in PlanState]), default="basic")
@click.option(
    "--action",
    type=click.Choice(REQUESTS),
    default="change",
    show_default=True,
)
@click.option("--tier", default=None, help="For change: basic, developer, premium, enterprise.")
@click.option(
    "--pending",
    type=click.Choice(["none", PlanEvent.CANCEL, PlanEvent.DOWNGRADE]),
    default="none",
)
@click.option("--cross-org-billing", is_flag=True)
@click.option("--tz", default="UTC", show_default=True, help="Billing timezone (IANA).")
@click.option("--at", default=None, help="Instant of the request (ISO 8601); default now.")
@_common
def explain_plan(
    state: str,
    action: str,
    tier: str | None,
    pending: str,
    cross_org_billing: bool,
    tz: str,
    at: str | None,
    roles: str,
    as_json: bool,
    catalog: Catalog,
) -> None:
    """Would a plan request be accepted? (P1-P15)"""
    from support_flows.explain import explain_plan as ask

    _answer(
        ask(
            state=state,
            action=action,
            tier=tier,
            roles=role_names(roles),
            pending=pending,
            cross_org_billing=cross_org_billing,
            tz=tz,
            at=instant(at),
            catalog=catalog,
        ),
        as_json,
    )


@click.command("consulting")
@click.option(
    "--action",
    type=click.Choice(
        [
            "buy",
            ConsultingEvent.SCHEDULE,
            ConsultingEvent.CANCEL_SESSION,
            ConsultingEvent.DELIVER,
        ]
    ),
    default=ConsultingEvent.SCHEDULE,
    show_default=True,
)
@click.option(
    "--state",
    type=click.Choice([s.value for s in OrderState]),
    default="purchased",
    show_default=True,
)
@click.option("--units", type=int, default=10, show_default=True, help="Units bought.")
@click.option("--hours", type=int, default=None, help="Hours to schedule (default: one unit's).")
@click.option("--start", default=None, help="Start of the session to schedule (ISO 8601).")
@click.option("--session", default="s-1", show_default=True, help="Session to cancel/deliver.")
@click.option("--session-start", default=None, help="Start of the booked session s-1.")
@click.option("--validity-months", type=int, default=None, help="Default: the policy's.")
@click.option("--tz", default="UTC", show_default=True, help="Billing timezone (IANA).")
@click.option("--at", default=None, help="Instant of the request (ISO 8601); default now.")
@_common
def explain_consulting(
    action: str,
    state: str,
    units: int,
    hours: int | None,
    start: str | None,
    session: str,
    session_start: str | None,
    validity_months: int | None,
    tz: str,
    at: str | None,
    roles: str,
    as_json: bool,
    catalog: Catalog,
) -> None:
    """Would a Flex Consulting request be accepted? (F0-F7)"""
    from support_flows.explain import explain_consulting as ask
    from support_flows.machines.consulting import FROM_POLICY

    _answer(
        ask(
            action=action,
            state=state,
            roles=role_names(roles),
            at=instant(at),
            units=units,
            hours=hours,
            start=None if start is None else parse_instant(start),
            session=session,
            session_start=None if session_start is None else parse_instant(session_start),
            validity_months=FROM_POLICY if validity_months is None else validity_months,
            tz=tz,
            catalog=catalog,
        ),
        as_json,
    )
