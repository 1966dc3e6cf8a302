"""The ``support-flows`` command: diagrams, the review pack, explanations and timelines.

Exit statuses (RULES.md U1, `support_flows.cli_errors`): 0 done (or allowed), 1 refused (or a
verification found a violation or an uncovered part), 2 malformed input or usage, 3 the
environment failed; every failure prints one line ``error: [code, rule] message`` on stderr.
Other modules add their commands by being importable (see `OPTIONAL_COMMANDS`); cli.py need not
change for them.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pendulum

from support_flows.cli_errors import (
    ENVIRONMENT_FAILED,
    REFUSED,
    UNAVAILABLE,
    VERIFICATION_FAILED,
    Failure,
    failure,
)
from support_flows.clock import SystemClock
from support_flows.errors import Refused
from support_flows.guards.plan import REQUESTS
from support_flows.localtime import parse_instant
from support_flows.values import PlanState, Scope
from support_flows.values.consulting import OrderState
from support_flows.values.events import ConsultingEvent, PlanEvent

__all__ = ["OPTIONAL_COMMANDS", "Main", "load_optional", "main", "register_optional"]

CHART_NAMES = ("plan", "case", "consulting")
FORMATS = ("mermaid", "dot", "svg", "png")


class Main(click.Group):
    """A group whose every failure, its own usage errors and its commands' exceptions alike, is
    one `Failure` line with U1's exit status; it loads the commands other modules add only when
    they are listed or run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.optional: dict[str, tuple[str, str]] = {}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except Exception as error:
            raise failure(error) or error from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            raise failure(error) or error from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        found = [name for name in list(self.optional) if self.get_command(ctx, name)]
        return sorted({*super().list_commands(ctx), *found})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self.optional:
            command = load_optional(*self.optional.pop(name))
            if command is not None:
                self.add_command(command, name)
        return command


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="support-flows", prog_name="support-flows")
def main() -> None:
    """Support plans, support cases and Flex Consulting: diagrams, the review pack, and why a
    request would be refused."""


def _roles(text: str) -> tuple[str, ...]:
    """``--roles ORG_OWNER,PROJECT_OWNER`` (empty: no role); each name is checked (V1)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _instant(value: str | None) -> pendulum.DateTime:
    return SystemClock().now() if value is None else parse_instant(value)


# diagram --------------------------------------------------------------------------------------


@main.command()
@click.argument("chart", type=click.Choice(CHART_NAMES))
@click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
def diagram(chart: str, fmt: str, output: Path | None) -> None:
    """Export one chart's diagram; text formats go to stdout without -o."""
    from support_flows.diagrams import render

    drawn = render(chart, fmt)
    if output is not None:
        if isinstance(drawn, bytes):
            output.write_bytes(drawn)
        else:
            output.write_text(drawn, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    elif isinstance(drawn, bytes):
        if sys.stdout.isatty():
            raise click.UsageError("PNG is binary: write it to a file with -o FILE")
        sys.stdout.buffer.write(drawn)
    else:
        click.echo(drawn, nl=False)


# review ---------------------------------------------------------------------------------------


@main.command()
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory to write index.html, <chart>.svg and <chart>.mmd into.",
)
@click.option(
    "--verify-depth",
    type=click.IntRange(1, 12),
    default=None,
    help="How deep the verifier explores each machine (default: the pack's own).",
)
@click.option("--no-verify", is_flag=True, help="Leave the verifier out.")
def review(directory: Path, verify_depth: int | None, no_verify: bool) -> None:
    """Write the product review pack: one offline page, each chart as SVG and Mermaid."""
    from support_flows.review import VERIFY_DEPTH, build

    depth = None if no_verify else (verify_depth or VERIFY_DEPTH)
    pack = build(directory, verify_depth=depth, progress=lambda line: click.echo(line, err=True))
    click.echo(str(pack.index))
    if pack.shortfalls:
        raise Failure(
            VERIFICATION_FAILED,
            "U1",
            f"the pack is written, but the verifier reports {'; '.join(pack.shortfalls)}",
            REFUSED,
        )


# explain --------------------------------------------------------------------------------------


@main.group()
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
@_common
def explain_case(
    plan: str, projects: int, scope: str, project_id: str | None, roles: str, as_json: bool
) -> None:
    """May a member open a support case here? (C1-C6)"""
    from support_flows.explain import explain_case as ask

    _answer(
        ask(plan=plan, roles=_roles(roles), projects=projects, scope=scope, project_id=project_id),
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
@click.option("--hours", type=int, default=1, show_default=True, help="Hours to schedule.")
@click.option("--start", default=None, help="Start of the session to schedule (ISO 8601).")
@click.option("--session", default="s-1", show_default=True, help="Session to cancel/deliver.")
@click.option("--session-start", default=None, help="Start of the booked session s-1.")
@click.option("--validity-months", type=int, default=None)
@click.option("--tz", default="UTC", show_default=True, help="Billing timezone (IANA).")
@click.option("--at", default=None, help="Instant of the request (ISO 8601); default now.")
@_common
def explain_consulting(
    action: str,
    state: str,
    units: int,
    hours: int,
    start: str | None,
    session: str,
    session_start: str | None,
    validity_months: int | None,
    tz: str,
    at: str | None,
    roles: str,
    as_json: bool,
) -> None:
    """Would a Flex Consulting request be accepted? (F0-F7)"""
    from support_flows.explain import explain_consulting as ask

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
            validity_months=validity_months,
            tz=tz,
        ),
        as_json,
    )


# timeline -------------------------------------------------------------------------------------


@main.command()
@click.argument("steps", nargs=-1, required=True)
@click.option("--tz", default="UTC", show_default=True, help="Billing timezone (IANA).")
@click.option("--start", default=None, help="When the clock starts (default: the first step).")
@click.option("--roles", default="ORG_OWNER", show_default=True, help="The requester's roles.")
@click.option("--cross-org-billing", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Answer as JSON.")
def timeline(
    steps: tuple[str, ...],
    tz: str,
    start: str | None,
    roles: str,
    cross_org_billing: bool,
    as_json: bool,
) -> None:
    """Preview a plan's billing timeline: STEPS are ACTION[:TIER]@INSTANT, e.g.
    subscribe:premium@2026-07-02T00:00Z downgrade@2026-07-10T00:00Z observe@2026-09-01T00:00Z
    (actions: subscribe, upgrade, downgrade, reactivate, change, cancel, revoke_pending,
    observe). A named event that the request is not (an upgrade to a lower tier) is malformed
    (U2). Exits 1 when a step was refused."""
    from support_flows.timeline import format_text, parse_step, run_plan, to_dict

    parsed = [parse_step(s) for s in steps]
    result = run_plan(
        parsed,
        start=parsed[0].at if start is None else parse_instant(start),
        tz=tz,
        roles=_roles(roles),
        cross_org_billing=cross_org_billing,
    )
    click.echo(json.dumps(to_dict(result), indent=2) if as_json else format_text(result), nl=False)
    if as_json:
        click.echo()
    for number, frame in enumerate(result.frames, start=1):
        if frame.refused is not None:
            raise Failure.of(frame.refused, f"step {number} ({frame.step.text}) refused: ")


# Commands other modules add -------------------------------------------------------------------

OPTIONAL_COMMANDS = (
    ("support_flows.verify.cli", "verify"),
    ("support_flows.store.cli", "rollover"),
    ("support_flows.store.cli", "outbox"),
)
"""(module, attribute): a click command, registered under the attribute's name when its module
exists."""


def _is_absent(error: ModuleNotFoundError, module: str) -> bool:
    """Whether `error` says `module` itself (or a package on its path) does not exist."""
    parts = module.split(".")
    return error.name in {".".join(parts[:n]) for n in range(1, len(parts) + 1)}


def _unavailable(name: str, module_name: str, missing: str) -> click.Command:
    """A stand-in for a command whose module needs a package that is not installed."""
    why = f"{module_name} needs the package {missing!r}, which is not installed"

    def refuse(**_: object) -> None:
        raise Failure(
            ENVIRONMENT_FAILED,
            "U1",
            f"{name} is unavailable: {why} (install the extra that has it)",
            UNAVAILABLE,
        )

    return click.Command(
        name,
        callback=refuse,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        help=f"(unavailable: {why})",
    )


def load_optional(module_name: str, attribute: str) -> click.Command | None:
    """The command `attribute` of `module_name`, or None when that module does not exist.

    A module that exists but needs a third-party package that is not installed (its extra) gives
    a stand-in that says so when run; any other import error of our own modules is raised, so a
    broken install is never silent.
    """
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if _is_absent(error, module_name):
            return None
        missing = error.name or ""
        if missing and missing.partition(".")[0] != __name__.partition(".")[0]:
            return _unavailable(attribute, module_name, missing)
        raise
    command: click.Command = getattr(module, attribute)
    return command


def register_optional(
    group: click.Group, commands: tuple[tuple[str, str], ...] = OPTIONAL_COMMANDS
) -> list[str]:
    """Add each optional command whose module exists: to a `Main` group lazily (imported when
    listed or run, so each command starts fast and runs without the others' extras), to any
    other group at once. Returns the names added at once."""
    added = []
    for module_name, attribute in commands:
        if isinstance(group, Main):
            group.optional[attribute] = (module_name, attribute)
            continue
        command = load_optional(module_name, attribute)
        if command is not None:
            group.add_command(command, attribute)
            added.append(attribute)
    return added


register_optional(main)
