"""MkDocs hooks: the pages that are generated from the package at build time, so they cannot
drift from the code: the rules catalog (`support_flows.rules`), the diagrams (drawn from the
compiled charts) and the command line reference (mkdocs-click, after the lazily registered
commands are loaded).
"""

from __future__ import annotations

import html
import itertools
import re

import click
import griffe
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from pygments.formatters import HtmlFormatter

from support_flows import diagrams
from support_flows.cli import main
from support_flows.errors import HTTP_STATUS
from support_flows.rules import RULES, SECTIONS, Rule, Source, rules_for

__all__ = ["on_config", "on_files", "on_page_content", "on_page_markdown"]

RULES_MARKER = "<!-- generated: rules catalog -->"
DIAGRAMS_MARKER = "<!-- generated: diagrams -->"
STATUS_MARKER = "<!-- generated: http statuses -->"
SPEC = re.compile(r"RULES\.md")
SPEC_BEFORE_IDS = re.compile(r"RULES\.md(?= [A-Z]\d| [A-Z][,)])")
CHART_TITLES = {
    "plan": "The support plan",
    "case": "Opening a support case",
    "consulting": "A Flex Consulting order",
}
"""Page headings for the charts; every chart of `diagrams.CHARTS` is drawn, titled or not."""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Load every command the `support-flows` group registers lazily, so that mkdocs-click,
    which documents the commands a group holds, documents all of them."""
    _load_commands(main, click.Context(main, info_name="support-flows"))
    return config


def _load_commands(command: click.Command, ctx: click.Context) -> None:
    _as_plain_text(command)
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                _load_commands(sub, click.Context(sub, info_name=name, parent=ctx))


def _as_plain_text(command: click.Command) -> None:
    """mkdocs-click renders a command's help as Markdown (its options as click prints them, in a
    code block); the help is plain text, where `<chart>.svg` is a file name, not an HTML tag:
    escape what Markdown would swallow (once, however often MkDocs reloads its configuration)."""
    if command.help:
        command.help = html.escape(html.unescape(command.help), quote=False)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated assets: each chart's SVG and the code colours."""
    for chart in diagrams.CHARTS:
        svg = diagrams.render(chart, "svg")
        assert isinstance(svg, str)
        files.append(File.generated(config, f"diagrams/{chart}.svg", content=svg))
    css = HtmlFormatter().get_style_defs(".highlight")
    files.append(File.generated(config, "pygments.css", content=css))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the generated sections of the rules and diagrams pages."""
    if RULES_MARKER in markdown:
        markdown = markdown.replace(RULES_MARKER, rules_markdown())
    if DIAGRAMS_MARKER in markdown:
        markdown = markdown.replace(DIAGRAMS_MARKER, diagrams_markdown())
    if STATUS_MARKER in markdown:
        to_root = "../" * page.file.src_uri.count("/")
        markdown = markdown.replace(STATUS_MARKER, statuses_markdown(f"{to_root}rules.md"))
    return markdown


def on_page_content(content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Docstrings cite the specification as "RULES.md", a file readers do not have: link each
    citation to the rules catalog, which ships the same rules."""
    catalog = "../" * page.url.count("/") + "rules/"
    content = SPEC_BEFORE_IDS.sub(f'<a href="{catalog}">rules</a>', content)
    return SPEC.sub(f'<a href="{catalog}">the rules catalog</a>', content)


# The rules catalog -----------------------------------------------------------------------------


def rules_markdown() -> str:
    """The catalog as Markdown: what each source means, then every section and rule in order."""
    parts = ["## Sources {#sources}", "", *_source_lines(), ""]
    for letter, rules in itertools.groupby(RULES.values(), key=lambda r: r.section):
        listed = list(rules)
        parts += [f"## {letter}: {SECTIONS[letter]} {{#section-{letter}}}", ""]
        gaps = _gaps(letter, listed)
        if gaps:
            parts += [f"Rule ids are never reused or renumbered: no rule has the id {gaps}.", ""]
        for rule in listed:
            parts += _rule_lines(rule)
    return "\n".join(parts)


def _source_lines() -> list[str]:
    """Each `Source`, with its meaning read from the member's docstring in the package."""
    members = griffe.load("support_flows.rules", allow_inspection=False)["Source"].members
    lines = []
    for source in Source:
        docstring = members[source.name].docstring
        meaning = docstring.value if docstring is not None else ""
        lines.append(f"- **{source.value}**: {meaning}")
    return lines


def _gaps(letter: str, rules: list[Rule]) -> str:
    numbers = sorted(int(rule.id[1:]) for rule in rules)
    missing = [f"{letter}{n}" for n in range(numbers[0], numbers[-1]) if n not in numbers]
    return " or ".join(missing)


def _rule_lines(rule: Rule) -> list[str]:
    sources = " + ".join(source.value for source in rule.sources)
    if rule.source_note:
        sources += f" ({rule.source_note})"
    facts = f"*Source:* {sources}."
    if rule.reasons:
        facts += " *Reasons:* " + ", ".join(f"`{reason.value}`" for reason in rule.reasons) + "."
    return [f"### {rule.id}: {rule.title} {{#{rule.id}}}", "", rule.statement, "", facts, ""]


# The diagrams -----------------------------------------------------------------------------------


def diagrams_markdown() -> str:
    """Each chart: its picture (drawn at build time) and its Mermaid source."""
    parts = []
    for chart in diagrams.CHARTS:
        title = CHART_TITLES.get(chart, chart)
        mermaid = diagrams.render(chart, "mermaid")
        assert isinstance(mermaid, str)
        parts += [
            f"## {title} {{#{chart}}}",
            "",
            f"[![{title}: states and transitions](diagrams/{chart}.svg)](diagrams/{chart}.svg)",
            "",
            f"[Open the {chart} diagram full size](diagrams/{chart}.svg). "
            f"`support-flows diagram {chart} --format svg -o {chart}.svg` writes the same file.",
            "",
            f'??? note "The {chart} chart in Mermaid"',
            "",
            "    ```text",
            *(f"    {line}" for line in mermaid.rstrip("\n").splitlines()),
            "    ```",
            "",
        ]
    return "\n".join(parts)


# HTTP statuses -----------------------------------------------------------------------------------


def statuses_markdown(rules_page: str) -> str:
    """`HTTP_STATUS` as a table: each status with its reasons and the rules that give them."""
    by_status: dict[int, list[str]] = {}
    for reason, status in HTTP_STATUS.items():
        rules = ", ".join(f"[{r.id}]({rules_page}#{r.id})" for r in rules_for(reason))
        by_status.setdefault(status, []).append(f"`{reason.value}` ({rules})")
    rows = [f"| {status} | {'; '.join(by_status[status])} |" for status in sorted(by_status)]
    return "\n".join(["| status | reasons (rules) |", "|---:|---|", *rows])
