"""``support-flows verify``: run the verifier and print a table per machine (or JSON).

Each table also says, per rule, what its checks were seen to decide on each event they guard
(refused, allowed; "never ..." for an outcome not seen), and each violation names the most
specific rule first, once per distinct problem, with what the rules expected beside what
happened.

Exit status 1 (U1) when any invariant is broken or any state, transition, reason or rule of a
machine is not covered, or when a check was never seen to refuse or to allow on an event it
guards (``--no-strict-both-ways`` reports such an outcome without failing on it); 0 otherwise.
Long runs print progress on stderr when it is a terminal, or with ``--progress``.

``--policy FILE`` verifies each version of a TOML policy catalog (RULES.md K2, K6) as a policy of
its own, one set of tables per version, headed by its id; a file that is not a catalog is one
line ``error: [invalid_value, K2] ...`` and exit status 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from support_flows.cli.errors import REFUSED, VERIFICATION_FAILED, Failure
from support_flows.errors import SupportFlowsError
from support_flows.verify.defaults import MACHINES, STRICT_BOTH_WAYS

if TYPE_CHECKING:
    from support_flows.values.policy import Policy
    from support_flows.verify.model import Report

__all__ = ["verify"]

QUIET_SECONDS = 2.0
"""Progress lines start once a machine has run this long."""


class _Progress:
    """Progress lines on stderr, once a run has gone on for a while; none when not shown."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.started = time.monotonic()

    def __call__(self, line: str) -> None:
        if self.shown and time.monotonic() - self.started >= QUIET_SECONDS:
            click.echo(f"verify {line}", err=True)


def run(machine: str, **options: Any) -> Report:
    """`support_flows.verify.run`, imported when the command runs: listing the commands does not
    load the explorers."""
    from support_flows.verify.runs import run as explore

    return explore(machine, **options)


def _shown(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def _policies(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[Policy, ...]:
    """--policy FILE: the versions of the TOML catalog it states (K2); none without it."""
    from support_flows.values.policy import Catalog

    if value is None:
        return ()
    try:
        return Catalog.from_toml(Path(value)).versions
    except SupportFlowsError as error:
        raise Failure.of(error, "--policy: ") from None


@click.command("verify")
@click.option(
    "--machine",
    "machines",
    type=click.Choice(MACHINES),
    multiple=True,
    help="Verify this machine only (repeatable); all three by default.",
)
@click.option(
    "--depth",
    type=click.IntRange(1, 12),
    default=None,
    help="Explore action sequences up to N steps (default: each machine's own, a run of all "
    "three within a minute).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress lines on stderr during long runs (default: only when stderr is a terminal).",
)
@click.option(
    "--strict-both-ways/--no-strict-both-ways",
    "strict",
    default=STRICT_BOTH_WAYS,
    show_default=True,
    help="Also exit 1 when a check was never seen to refuse, or never seen to allow, on an "
    "event it guards (the per-rule table lists those outcomes either way).",
)
@click.option(
    "--policy",
    "policies",
    metavar="FILE",
    callback=_policies,
    help="A TOML policy catalog: each of its versions is verified as a policy of its own "
    "(tables per version, headed by its id), not as versions in force one after another "
    "(default: Atlas's policy).",
)
def verify(
    machines: tuple[str, ...],
    depth: int | None,
    as_json: bool,
    progress: bool | None,
    strict: bool,
    policies: tuple[Policy, ...],
) -> None:
    """Explore every action sequence of the charts against the rules, and print per machine
    what was covered and, per rule, what its checks were seen to decide; exit 1 on any
    violation, any state, transition, reason or rule not covered, or any check not seen to
    decide both ways (unless --no-strict-both-ways)."""
    reports: list[tuple[Policy | None, Report]] = []
    for policy in policies or (None,):
        for machine in machines or MACHINES:
            report_progress = _Progress(_shown(progress))
            report = run(
                machine, depth=depth, progress=report_progress, strict=strict, policy=policy
            )
            named = "" if policy is None else f" under {policy.version}"
            report_progress(f"{machine}{named}: {report.seconds:.1f} s")
            reports.append((policy, report))
    if as_json:
        shown = [
            r.to_dict() if p is None else {"policy": p.version, **r.to_dict()} for p, r in reports
        ]
        click.echo(json.dumps(shown, indent=2))
    else:
        click.echo("\n\n".join(_described(p, r) for p, r in reports))
    short = [_named(p, r.shortfall()) for p, r in reports if not r.ok]
    if short:
        rules = [v.rule for _, r in reports for v in r.violations]
        raise Failure(VERIFICATION_FAILED, rules[0] if rules else "U1", "; ".join(short), REFUSED)


def _named(policy: Policy | None, text: str) -> str:
    return text if policy is None else f"policy {policy.version}: {text}"


def _described(policy: Policy | None, report: Report) -> str:
    return report.describe() if policy is None else f"policy {policy.version}\n{report.describe()}"
