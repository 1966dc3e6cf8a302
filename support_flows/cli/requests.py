"""The commands that answer about requests: `explain` (why one would be refused, RULES.md P, C,
F) and `timeline` (what a sequence of plan requests bills), each under Atlas's policy or the
catalog a `--policy FILE` states (K)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pendulum

from support_flows.cli.errors import Failure
from support_flows.clock import SystemClock
from support_flows.errors import Refused, SupportFlowsError
from support_flows.guards.plan import REQUESTS
from support_flows.localtime import parse_instant
from support_flows.values import PlanState, Scope
from support_flows.values.consulting import OrderState
from support_flows.values.events import ConsultingEvent, PlanEvent
from support_flows.values.policy import ATLAS, Catalog

__all__ = ["explain", "policy_option", "timeline"]


def _roles(text: str) -> tuple[str, ...]:
    """``--roles ORG_OWNER,PROJECT_OWNER`` (empty: no role); each name is checked (V1)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _instant(value: str | None) -> pendulum.DateTime:
    return SystemClock().now() if value is None else parse_instant(value)


def _catalog(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Catalog:
    """--policy FILE: the TOML catalog it states (K2), refused whole as malformed input (U1);
    Atlas's policy without it."""
    if value is None:
        return ATLAS
    try:
        return Catalog.from_toml(Path(value))
    except SupportFlowsError as error:
        raise Failure.of(error, "--policy: ") from None


def policy_option(command: Callable[..., None]) -> Callable[..., None]:
    """``--policy FILE``, passed to the command as `catalog`."""
    return click.option(
        "--policy",
        "catalog",
        metavar="FILE",
        callback=_catalog,
        help="A TOML policy catalog to decide under, each request by the version in force at "
        "its instant (default: Atlas's policy).",
    )(command)


# explain -------------------------------------------------------------------------------------


@click.group()
def explain() -> None:
    """Why a request would be refused: the decision, each reason with its rule."""


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


@explain.command("case")
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
            roles=_roles(roles),
            projects=projects,
            scope=scope,
            project_id=project_id,
            at=_instant(at),
            catalog=catalog,
        ),
        as_json,
    )


@explain.command("plan")
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
            roles=_roles(roles),
            pending=pending,
            cross_org_billing=cross_org_billing,
            tz=tz,
            at=_instant(at),
            catalog=catalog,
        ),
        as_json,
    )


@explain.command("consulting")
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
            roles=_roles(roles),
            at=_instant(at),
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


# timeline ------------------------------------------------------------------------------------


@click.command()
@click.argument("steps", nargs=-1, required=True)
@click.option("--tz", default="UTC", show_default=True, help="Billing timezone (IANA).")
@click.option("--start", default=None, help="When the clock starts (default: the first step).")
@click.option("--roles", default="ORG_OWNER", show_default=True, help="The requester's roles.")
@click.option("--cross-org-billing", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")
@policy_option
def timeline(
    steps: tuple[str, ...],
    tz: str,
    start: str | None,
    roles: str,
    cross_org_billing: bool,
    as_json: bool,
    catalog: Catalog,
) -> None:
    """Preview a plan's billing timeline: STEPS are ACTION[:TIER]@INSTANT, e.g.
    subscribe:premium@2026-07-02T00:00Z downgrade@2026-07-10T00:00Z observe@2026-09-01T00:00Z
    (actions: subscribe, upgrade, downgrade, reactivate, change, cancel, revoke_pending,
    observe). A named event that the request is not (an upgrade to a lower tier) is malformed
    (U2). Each step is decided by the --policy version in force at its instant, which the
    output names. Exits 1 when a step was refused."""
    from support_flows.timeline import format_text, parse_step, run_plan, to_dict

    parsed = [parse_step(s) for s in steps]
    result = run_plan(
        parsed,
        start=parsed[0].at if start is None else parse_instant(start),
        tz=tz,
        roles=_roles(roles),
        cross_org_billing=cross_org_billing,
        catalog=catalog,
    )
    click.echo(json.dumps(to_dict(result), indent=2) if as_json else format_text(result), nl=False)
    if as_json:
        click.echo()
    for number, frame in enumerate(result.frames, start=1):
        if frame.refused is not None:
            raise Failure.of(frame.refused, f"step {number} ({frame.step.text}) refused: ")
