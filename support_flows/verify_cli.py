"""``support-flows verify``: run the verifier and print a table per machine (or JSON).

Exit status 1 when any invariant is broken, 0 otherwise. Long runs print progress on stderr.
"""

from __future__ import annotations

import json
import time

import click

from support_flows.verify import MACHINES, Report, run

__all__ = ["verify"]

QUIET_SECONDS = 2.0
"""Progress lines start once a machine has run this long."""


class _Progress:
    """Progress lines on stderr, once a run has gone on for a while."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, line: str) -> None:
        if time.monotonic() - self.started >= QUIET_SECONDS:
            click.echo(f"verify {line}", err=True)


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
def verify(machines: tuple[str, ...], depth: int | None, as_json: bool) -> None:
    """Explore every action sequence of the charts against the rules; exit 1 on any violation."""
    reports: list[Report] = []
    for machine in machines or MACHINES:
        progress = _Progress()
        report = run(machine, depth=depth, progress=progress)
        progress(f"{machine}: {report.seconds:.1f} s")
        reports.append(report)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        click.echo("\n\n".join(r.describe() for r in reports))
    if any(r.violations for r in reports):
        raise click.exceptions.Exit(1)
