"""The `support-flows` group: every failure, usage errors and commands' exceptions alike, is
one U1 line; commands other modules add are loaded by name when listed or run."""

from __future__ import annotations

import importlib
from typing import Any

import click

from support_flows.cli.errors import UNAVAILABLE, Failure, failure
from support_flows.extras import MissingExtra

__all__ = ["Main", "load_optional"]


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


def _is_absent(error: ModuleNotFoundError, module: str) -> bool:
    """Whether `error` says `module` itself (or a package on its path) does not exist."""
    parts = module.split(".")
    return error.name in {".".join(parts[:n]) for n in range(1, len(parts) + 1)}


def _unavailable(name: str, missing: str) -> click.Command:
    """A stand-in for a command whose module needs a package that is not installed: run, it
    fails as every missing extra does (`MissingExtra`, U1)."""
    error = MissingExtra(name, missing)

    def refuse(**_: object) -> None:
        raise Failure(error.code, error.rule, error.message, UNAVAILABLE)

    return click.Command(
        name,
        callback=refuse,
        params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        help=f"(unavailable: {error.message})",
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
            return _unavailable(attribute, missing)
        raise
    command: click.Command = getattr(module, attribute)
    return command
