"""How a ``support-flows`` command fails (RULES.md U1): one line ``error: [code, rule] message``
on stderr and an exit status, never a traceback.

Exit statuses: 1 a refusal (or a verification that found a violation or an uncovered part), 2
malformed input or usage, 3 the environment (a store that cannot be reached, a file that cannot
be written, a missing extra, a worker that died). Failures that have no reason code of the
library's own carry one of the command line's: ``environment_failed`` for what the environment
did, ``verification_failed`` for what the verifier found, ``internal_error`` for anything else.
"""

from __future__ import annotations

import errno
from typing import IO, Any

import click

from support_flows.errors import InvalidInput, SupportFlowsError, Unavailable, error_for
from support_flows.extras import LayoutEngineMissing, MissingExtra

__all__ = [
    "ENVIRONMENT_FAILED",
    "INTERNAL_ERROR",
    "MALFORMED",
    "REFUSED",
    "UNAVAILABLE",
    "VERIFICATION_FAILED",
    "Failure",
    "failure",
]

REFUSED, MALFORMED, UNAVAILABLE = 1, 2, 3
"""The exit statuses of U1 besides 0."""

ENVIRONMENT_FAILED = "environment_failed"
VERIFICATION_FAILED = "verification_failed"
INTERNAL_ERROR = "internal_error"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Failure(click.ClickException):
    """A command's failure: the code and rule it prints, its message, and its exit status."""

    def __init__(self, code: str, rule: str, message: str, exit_code: int) -> None:
        super().__init__(_one_line(message))
        self.code = code
        self.rule = rule
        self.exit_code = exit_code

    @property
    def line(self) -> str:
        return f"error: [{self.code}, {self.rule}] {self.message}"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.line, file=file, err=file is None)

    @classmethod
    def of(cls, error: SupportFlowsError, about: str = "") -> Failure:
        """The library's coded error, its status by its kind; `about` prefixes the message."""
        kind = type(error_for(error.reasons))
        status = MALFORMED if kind is InvalidInput else UNAVAILABLE if kind is Unavailable else 1
        return cls(error.code, error.rule, f"{about}{error.message}", status)


def _usage(error: click.UsageError) -> Failure:
    ctx = error.ctx
    path = ctx.command_path if ctx is not None else "support-flows"
    if isinstance(error, click.exceptions.NoArgsIsHelpError) and ctx is not None:
        names: list[str] = getattr(ctx.command, "list_commands", lambda _: [])(ctx)
        message = f"missing command: one of {', '.join(names)}" if names else "missing arguments"
    else:
        message = error.format_message().rstrip(".")
    return Failure("invalid_value", "U1", f"{message} (see {path} --help)", MALFORMED)


def _environment(error: OSError) -> Failure:
    where = f"{error.filename}: " if error.filename else ""
    what = error.strerror or str(error) or type(error).__name__
    return Failure(ENVIRONMENT_FAILED, "U1", f"{where}{what}", UNAVAILABLE)


def _third_party(module: str | None) -> bool:
    return bool(module) and str(module).partition(".")[0] != __name__.partition(".")[0]


def failure(error: Exception) -> Failure | None:
    """The `Failure` a command's exception is, or None for click's own exits (help, version,
    a requested status) and a closed pipe, which click handles."""
    if isinstance(error, click.exceptions.Exit | click.Abort):
        return None
    if isinstance(error, Failure):
        return error
    if isinstance(error, LayoutEngineMissing):
        return Failure(ENVIRONMENT_FAILED, "U1", error.message, UNAVAILABLE)
    if isinstance(error, SupportFlowsError):
        return Failure.of(error)
    if isinstance(error, click.UsageError):
        return _usage(error)
    if isinstance(error, click.FileError):
        return Failure(ENVIRONMENT_FAILED, "U1", error.format_message(), UNAVAILABLE)
    if isinstance(error, click.ClickException):
        return Failure("invalid_value", "U1", error.format_message(), MALFORMED)
    if isinstance(error, ModuleNotFoundError) and _third_party(error.name):
        if not isinstance(error, MissingExtra):
            error = MissingExtra("this command", str(error.name))
        return Failure(error.code, error.rule, error.message, UNAVAILABLE)
    if isinstance(error, OSError):
        return None if error.errno == errno.EPIPE else _environment(error)
    return Failure(
        INTERNAL_ERROR,
        "U1",
        f"{type(error).__name__}: {error} (a defect of support-flows: please report it)",
        UNAVAILABLE,
    )
