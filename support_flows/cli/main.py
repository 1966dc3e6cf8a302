"""The ``support-flows`` command: diagrams, the review pack, explanations and timelines.

Exit statuses (RULES.md U1, `support_flows.cli.errors`): 0 done (or allowed), 1 refused (or a
verification found a violation or an uncovered part), 2 malformed input or usage, 3 the
environment failed; every failure prints one line ``error: [code, rule] message`` on stderr.
`explain` and `timeline` live in `support_flows.cli.requests` (the explain subcommands in
`support_flows.cli.explain`, loaded when listed or run), the group in `support_flows.cli.group`;
other modules add their commands by being importable (see `OPTIONAL_COMMANDS`). Listing the
commands (``--help``) imports none of the machines, the store, the verifier or the diagrams:
each command imports what it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from support_flows.cli.errors import REFUSED, VERIFICATION_FAILED, Failure
from support_flows.cli.group import Main, load_optional
from support_flows.cli.requests import explain, timeline

__all__ = ["OPTIONAL_COMMANDS", "main", "register_optional"]

CHART_NAMES = ("plan", "case", "consulting")
FORMATS = ("mermaid", "dot", "svg", "png")


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="support-flows", prog_name="support-flows")
def main() -> None:
    """Support plans, support cases and Flex Consulting: diagrams, the review pack, and why a
    request would be refused."""


# diagram --------------------------------------------------------------------------------------


@main.command()
@click.argument("chart", type=click.Choice(CHART_NAMES))
@click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), default="mermaid", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE."
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A catalog (TOML): draw under its version in force now (default: Atlas's policy).",
)
def diagram(chart: str, fmt: str, output: Path | None, policy_file: Path | None) -> None:
    """Export one chart's diagram; text formats go to stdout without -o."""
    from support_flows.diagrams import render

    policy = None
    if policy_file is not None:
        from support_flows.clock import SystemClock
        from support_flows.review.proposal import catalog_from

        policy = catalog_from(policy_file).at(SystemClock().now())
    drawn = render(chart, fmt, policy=policy)
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
@click.option(
    "--fresh",
    is_flag=True,
    help="Run the verifier even when the cache holds its result for this code and policy "
    "(the new result is stored).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor store a cached verification.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where verification results are kept, by the fingerprint of the code and policy they "
    "verified (default: $XDG_CACHE_HOME/support-flows/verify, else "
    "~/.cache/support-flows/verify).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    default=None,
    help="The current catalog, a TOML file (default: Atlas's policy).",
)
@click.option(
    "--propose",
    default=None,
    metavar="FILE_OR_VERSION",
    help="A TOML file whose last version is proposed, or a version id of the current catalog: "
    "the page opens with what it changes (K5).",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="With --propose: count the stored plans and orders it would treat differently "
    "(read-only).",
)
def review(
    directory: Path,
    verify_depth: int | None,
    no_verify: bool,
    fresh: bool,
    no_cache: bool,
    cache_dir: Path | None,
    policy_file: Path | None,
    propose: str | None,
    db: str | None,
) -> None:
    """Write the product review pack: one offline page, each chart as SVG and Mermaid; with
    --propose, opened by the review of a change (K5). The verifier's result is reused while
    the code and policy it verified are unchanged (the page says when it was computed and for
    which fingerprint)."""
    from support_flows.review import VERIFY_DEPTH, build
    from support_flows.review.proposal import catalog_from
    from support_flows.review.verify_cache import VerifyCache
    from support_flows.values.policy import ATLAS

    if db is not None and propose is None:
        raise click.UsageError("--db counts what a proposal changes: give --propose too")
    catalog = ATLAS if policy_file is None else catalog_from(policy_file)
    depth = None if no_verify else (verify_depth or VERIFY_DEPTH)
    if no_cache and (fresh or cache_dir is not None):
        raise click.UsageError("--no-cache uses no cache: leave out --fresh and --cache-dir")
    cache = None
    if not no_cache:
        cache = VerifyCache(fresh=fresh) if cache_dir is None else VerifyCache(cache_dir, fresh)
    store = None
    if db is not None:
        from support_flows.store import Store

        store = Store(db, catalog=catalog)
    try:
        pack = build(
            directory,
            verify_depth=depth,
            progress=lambda line: click.echo(line, err=True),
            catalog=catalog,
            propose=propose,
            store=store,
            cache=cache,
        )
    finally:
        if store is not None:
            store.close()
    click.echo(str(pack.index))
    if pack.shortfalls:
        raise Failure(
            VERIFICATION_FAILED,
            "U1",
            f"the pack is written, but the verifier reports {'; '.join(pack.shortfalls)}",
            REFUSED,
        )


main.add_command(explain)
main.add_command(timeline)


# Commands other modules add -------------------------------------------------------------------

OPTIONAL_COMMANDS = (
    ("support_flows.cli.verify", "verify"),
    ("support_flows.store.cli", "rollover"),
    ("support_flows.store.cli", "outbox"),
)
"""(module, attribute): a click command, registered under the attribute's name when its module
exists."""


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
