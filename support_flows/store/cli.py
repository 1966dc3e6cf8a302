"""The store's commands for `support-flows`: ``rollover`` (the month-start job, S5) and
``outbox relay`` (deliver queued confirmation emails, S3).

`support_flows.cli` registers `rollover` and `outbox` when this module imports (the ``store``
extra is installed); ``python -m support_flows.store`` runs them on their own.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from support_flows.clock import SystemClock
from support_flows.errors import SupportFlowsError
from support_flows.localtime import parse_instant
from support_flows.outbox import Outbox
from support_flows.store import jobs
from support_flows.store._db import Database
from support_flows.store.mail import JsonLinesOutbox
from support_flows.store.schema import SchemaError, migrate

__all__ = ["main", "outbox", "rollover"]

_DB_HELP = "Database URL: sqlite:///FILE or postgresql://USER@HOST/DB."


def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except SupportFlowsError as error:
        raise click.BadParameter(error.message) from None


@click.command("rollover")
@click.option("--db", "url", required=True, metavar="URL", help=_DB_HELP)
@click.option(
    "--until",
    metavar="INSTANT",
    callback=_instant,
    help="Apply what is due up to this ISO 8601 instant with an offset (default: now).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (PostgreSQL; SQLite uses one).",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 100_000), default=jobs.BATCH_SIZE, show_default=True
)
def rollover(url: str, until: Any, workers: int, batch_size: int) -> None:
    """Apply the trial ends, pending plan changes and order expiries that have come due, each at
    its recorded instant, saving every plan and order with its revision check (S5).

    Safe to interrupt and rerun: nothing is applied twice.
    """
    try:
        if sys.stdout.isatty():
            db = Database(url)
            try:
                migrate(db)
                total = jobs.due_count(db, until or SystemClock().now())
            finally:
                db.dispose()
            with click.progressbar(length=total, label="rollover") as bar:
                report = jobs.rollover(
                    url, until=until, workers=workers, batch_size=batch_size, progress=bar.update
                )
        else:
            report = jobs.rollover(url, until=until, workers=workers, batch_size=batch_size)
    except (SupportFlowsError, SchemaError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.summary())
    if report.invalid:
        sys.exit(1)


@click.group("outbox")
def outbox() -> None:
    """The store's outbox of confirmation emails (S3)."""


def _load_outbox(target: str | None) -> Outbox:
    if target is None:
        return JsonLinesOutbox()
    module, _, name = target.partition(":")
    if not module or not name:
        raise click.BadParameter("expected MODULE:NAME", param_hint="--outbox")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise click.BadParameter(f"cannot load {target}: {error}", param_hint="--outbox") from None
    made = found if callable(getattr(found, "send", None)) else found()
    if not callable(getattr(made, "send", None)):
        raise click.BadParameter(
            f"{target} is not an outbox (no send method)", param_hint="--outbox"
        )
    return made  # type: ignore[no-any-return]


@outbox.command("relay")
@click.option("--db", "url", required=True, metavar="URL", help=_DB_HELP)
@click.option(
    "--outbox",
    "target",
    metavar="MODULE:NAME",
    help="An Outbox object, or a factory returning one (default: JSON lines on stdout).",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Send at most this many.")
def relay(url: str, target: str | None, limit: int | None) -> None:
    """Deliver queued emails, each under its stable message id, and mark them sent."""
    chosen = _load_outbox(target)
    try:
        sent = jobs.relay(url, chosen, limit=limit)
    except (SupportFlowsError, SchemaError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"relayed {sent} email{'s' if sent != 1 else ''}", err=target is None)


main = click.Group("support-flows-store", commands=[rollover, outbox])
"""Both commands in one group, for ``python -m support_flows.store``."""
