"""The store's commands for `support-flows`: ``rollover`` (the month-start job, S5) and
``outbox relay`` (deliver queued confirmation emails, S3).

`support_flows.cli` registers `rollover` and `outbox` when this module imports (the ``store``
extra is installed); ``python -m support_flows.store`` runs them on their own.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from support_flows.cli.errors import MALFORMED, REFUSED, Failure
from support_flows.cli.group import Main
from support_flows.errors import SupportFlowsError, describe

if TYPE_CHECKING:
    from support_flows.outbox import Outbox
    from support_flows.values.policy import Catalog

# The store itself (SQLAlchemy) is imported inside the commands: listing them stays fast.

__all__ = ["main", "outbox", "rollover"]

_DB_HELP = "Database URL: sqlite:///FILE or postgresql://USER@HOST/DB."


def _instant(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    from support_flows.localtime import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except SupportFlowsError as error:
        raise Failure.of(error, "--until: ") from None


def _catalog(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Catalog:
    """--policy FILE: the TOML catalog it states (K2); Atlas's policy without it."""
    from support_flows.values.policy import ATLAS, Catalog

    if value is None:
        return ATLAS
    try:
        return Catalog.from_toml(Path(value))
    except SupportFlowsError as error:
        raise Failure.of(error, "--policy: ") from None


class _BatchSize:
    """The store's batch size as the option's default: read when a rollover runs or its help is
    shown, not when the commands are listed."""

    def __call__(self) -> int:
        from support_flows.store.batches import BATCH_SIZE

        return BATCH_SIZE

    def __str__(self) -> str:
        return str(self())


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
    "--batch-size", type=click.IntRange(1, 100_000), default=_BatchSize(), show_default=True
)
@click.option(
    "--policy",
    "catalog",
    metavar="FILE",
    callback=_catalog,
    help="A TOML policy catalog the records were decided under (default: Atlas's policy).",
)
def rollover(url: str, until: Any, workers: int, batch_size: int, catalog: Catalog) -> None:
    """Apply the trial ends, pending plan changes and order expiries that have come due, each at
    its recorded instant and under the terms of the policy version that scheduled it, saving
    every plan and order with its revision check (S5, K3).

    Safe to interrupt and rerun: nothing is applied twice. A record naming a version the
    catalog lacks is left as it is and reported (K4).
    """
    from support_flows.clock import SystemClock
    from support_flows.store import batches, jobs
    from support_flows.store.database import Database
    from support_flows.store.schema import migrate

    if sys.stdout.isatty():
        db = Database(url)
        try:
            migrate(db)
            total = batches.due_count(db, until or SystemClock().now())
        finally:
            db.dispose()
        with click.progressbar(length=total, label="rollover") as bar:
            report = jobs.rollover(
                url,
                until=until,
                workers=workers,
                batch_size=batch_size,
                progress=bar.update,
                catalog=catalog,
            )
    else:
        report = jobs.rollover(
            url, until=until, workers=workers, batch_size=batch_size, catalog=catalog
        )
    click.echo(report.summary())
    if report.invalid:
        count = len(report.invalid)
        raise Failure(
            "invalid_snapshot",
            "V2",
            f"{count} stored record{'s' if count != 1 else ''} could not be read and were left "
            f"as they are: {', '.join(report.invalid[:5])}{' ...' if count > 5 else ''}",
            REFUSED,
        )


@click.group("outbox")
def outbox() -> None:
    """The store's outbox of confirmation emails (S3)."""


def _bad_outbox(target: str, why: str) -> Failure:
    return Failure("invalid_value", "U1", f"--outbox {describe(target)}: {why}", MALFORMED)


def _is_outbox(found: object) -> bool:
    return not isinstance(found, type) and callable(getattr(found, "send", None))


def _made(target: str, factory: Callable[[], object]) -> object:
    """What a factory (a class, or a function taking no argument) makes; a factory that needs
    arguments is not called."""
    try:
        inspect.signature(factory).bind()
    except TypeError:
        raise _bad_outbox(
            target, "neither an outbox nor a factory callable with no argument"
        ) from None
    except ValueError:  # no signature to read (some builtins): call it and see
        pass
    try:
        return factory()
    except (Exception, SystemExit) as error:
        raise _bad_outbox(
            target, f"its factory failed: {type(error).__name__} {error}".rstrip()
        ) from None


def _load_outbox(target: str | None) -> Outbox:
    """--outbox MODULE:NAME: an outbox object, or a class or factory that makes one with no
    argument (S3)."""
    from support_flows.store.mail import JsonLinesOutbox

    if target is None:
        return JsonLinesOutbox()
    module, _, name = target.partition(":")
    if not module or not name:
        raise _bad_outbox(target, "expected MODULE:NAME")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError, TypeError) as error:
        raise _bad_outbox(target, f"cannot load it: {error}") from None
    if not _is_outbox(found):
        if not callable(found):
            raise _bad_outbox(target, "not an outbox (no send method) nor a factory of one")
        found = _made(target, found)
    if not _is_outbox(found):
        raise _bad_outbox(target, f"it made {type(found).__name__}, not an outbox (no send method)")
    return found  # type: ignore[no-any-return]


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
    from support_flows.store import jobs

    chosen = _load_outbox(target)
    sent = jobs.relay(url, chosen, limit=limit)
    click.echo(f"relayed {sent} email{'s' if sent != 1 else ''}", err=target is None)


main = Main("support-flows-store", commands=[rollover, outbox])
"""Both commands in one group, for ``python -m support_flows.store``, failing as every
``support-flows`` command does (U1)."""
