"""The commands that answer about requests: `explain` (why one would be refused, RULES.md P, C,
F) and `timeline` (what a sequence of plan requests bills), each under Atlas's policy or the
catalog a `--policy FILE` states (K)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from support_flows.cli.errors import Failure
from support_flows.cli.group import Main
from support_flows.errors import SupportFlowsError

if TYPE_CHECKING:
    import pendulum

    from support_flows.values.policy import Catalog

__all__ = ["explain", "instant", "policy_option", "role_names", "timeline"]


def role_names(text: str) -> tuple[str, ...]:
    """``--roles ORG_OWNER,PROJECT_OWNER`` (empty: no role); each name is checked (V1)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def instant(value: str | None) -> pendulum.DateTime:
    """``--at INSTANT`` (ISO 8601 with an offset, T1), or now."""
    from support_flows.clock import SystemClock
    from support_flows.localtime import parse_instant

    return SystemClock().now() if value is None else parse_instant(value)


def _catalog(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Catalog:
    """--policy FILE: the TOML catalog it states (K2), refused whole as malformed input (U1);
    Atlas's policy without it."""
    from support_flows.values.policy import ATLAS, Catalog

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


@click.group(cls=Main)
def explain() -> None:
    """Why a request would be refused: the decision, each reason with its rule."""


# Loaded when listed or run (`support_flows.cli.explain`): their options read the library's names.
explain.optional.update(
    {
        "case": ("support_flows.cli.explain", "explain_case"),
        "consulting": ("support_flows.cli.explain", "explain_consulting"),
        "plan": ("support_flows.cli.explain", "explain_plan"),
    }
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
    from support_flows.localtime import parse_instant
    from support_flows.timeline import format_text, parse_step, run_plan, to_dict

    parsed = [parse_step(s) for s in steps]
    result = run_plan(
        parsed,
        start=parsed[0].at if start is None else parse_instant(start),
        tz=tz,
        roles=role_names(roles),
        cross_org_billing=cross_org_billing,
        catalog=catalog,
    )
    click.echo(json.dumps(to_dict(result), indent=2) if as_json else format_text(result), nl=False)
    if as_json:
        click.echo()
    for number, frame in enumerate(result.frames, start=1):
        if frame.refused is not None:
            raise Failure.of(frame.refused, f"step {number} ({frame.step.text}) refused: ")
