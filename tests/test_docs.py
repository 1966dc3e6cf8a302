"""The documentation site: it builds strictly, its generated pages say what the code says, and
every Python block of every page runs."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from snippets import run_defined_tests

from support_flows import diagrams
from support_flows.cli import main
from support_flows.errors import HTTP_STATUS
from support_flows.rules import RULES, SECTIONS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r'<h([1-6]) id="([^"]+)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with `mkdocs build --strict` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return out


def text_of(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    inline = re.sub(r"</?(?:code|a|em|strong|span)\b[^>]*>", "", markup)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def plain(markdown: str) -> str:
    """A Markdown snippet as the reader sees it once rendered (code spans and emphasis shown)."""
    return " ".join(re.sub(r"[`*]", "", markdown).split())


def sections(page: Path) -> dict[str, str]:
    """The page's main content cut at each heading: heading id -> text up to the next heading."""
    markup = page.read_text(encoding="utf-8")
    markup = markup[markup.index('role="main"') :]
    marks = list(HEADING.finditer(markup))
    return {
        mark.group(2): markup[mark.start() : marks[n + 1].start() if n + 1 < len(marks) else None]
        for n, mark in enumerate(marks)
    }


def commands(
    command: click.Command, path: tuple[str, ...], ctx: click.Context | None = None
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under `command`, as its path of names, the lazily loaded ones included."""
    here = click.Context(command, info_name=path[-1], parent=ctx)
    yield path, command
    if isinstance(command, click.Group):
        for name in command.list_commands(here):
            sub = command.get_command(here, name)
            assert sub is not None
            yield from commands(sub, (*path, name), here)


def test_site_builds_strictly(site: Path) -> None:
    """`mkdocs build --strict` succeeds without a warning, and writes every page of the nav."""
    for page in ("index.html", "rules/index.html", "cli/index.html", "diagrams/index.html"):
        assert (site / page).is_file(), page
    for module in ("support_flows", "bulk", "diagrams", "verify", "testing", "store"):
        assert (site / "reference" / module / "index.html").is_file(), module


def test_site_cites_no_file_readers_lack(site: Path) -> None:
    """Docstrings cite the specification as RULES.md, which is not in the repository: every page
    of the site links the rules catalog instead."""
    for page in site.rglob("*.html"):
        assert "RULES.md" not in page.read_text(encoding="utf-8"), page.relative_to(site)
    store = (site / "reference" / "store" / "index.html").read_text(encoding="utf-8")
    assert '<a href="../../rules/">rules</a> S1' in store


def test_api_reference_documents_the_public_names(site: Path) -> None:
    """Every name of `support_flows.__all__` has its entry in the API reference, and an attrs
    value class lists its fields."""
    import support_flows as sf

    page = (site / "reference" / "support_flows" / "index.html").read_text(encoding="utf-8")
    for name in sf.__all__:
        assert f'id="support_flows.{name}"' in page, name
    organization = sections(site / "reference" / "support_flows" / "index.html")[
        "support_flows.Organization"
    ]
    for field in ("org_id", "projects", "billing_timezone", "cross_org_billing"):
        assert f"<code>{field}</code>" in organization, field


def test_cli_reference_documents_every_command_and_option(site: Path) -> None:
    """U1's command line: the reference has a section per click command (the lazily registered
    ones too), with its usage, its help and every option (flags, metavar, help, default, range)
    as the command's --help prints it."""
    found = sections(site / "cli" / "index.html")
    listed = list(commands(main, ("support-flows",)))
    assert {"rollover", "verify", "outbox"} <= {path[1] for path, _ in listed if len(path) > 1}
    for path, command in listed:
        anchor = "-".join(path)
        assert anchor in found, f"no section for {' '.join(path)}"
        shown = text_of(found[anchor])
        ctx = click.Context(command, info_name=" ".join(path))
        usage = " ".join([" ".join(path), *command.collect_usage_pieces(ctx)])
        assert usage in shown, f"{anchor}: usage {usage!r} missing"
        first_paragraph = (command.help or "").split("\n\n")[0]
        assert plain(first_paragraph) in shown, f"{anchor}: help missing"
        for param in command.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            # click wraps to the page's width, and may break a line after a hyphen
            as_click_prints = "".join("".join(record).split())
            assert as_click_prints in "".join(shown.split()), f"{anchor}: {param.opts} differs"


def test_rules_page_states_every_rule(site: Path) -> None:
    """The rules page is the catalog of `support_flows.rules`, rule for rule and in order: each
    id is an anchor in its section, with its title, statement, sources and reason codes."""
    page = site / "rules" / "index.html"
    found = sections(page)
    anchors = [anchor for anchor in found if anchor in RULES]
    assert anchors == list(RULES)
    for letter, name in SECTIONS.items():
        assert text_of(found[f"section-{letter}"]).startswith(f"{letter}: {name}")
    for rule in RULES.values():
        shown = text_of(found[rule.id])
        assert shown.startswith(f"{rule.id}: {rule.title}"), rule.id
        assert plain(rule.statement) in shown, f"{rule.id}: statement differs"
        for source in rule.sources:
            assert source.value in shown, f"{rule.id}: source {source} missing"
        for reason in rule.reasons:
            assert f"<code>{reason.value}</code>" in found[rule.id], f"{rule.id}: {reason}"
    assert "`" not in text_of(page.read_text(encoding="utf-8")), "Markdown left unrendered"


def test_rules_page_notes_the_gap_in_plan_rule_ids(site: Path) -> None:
    """A reader meets P17 then P20: the page says that no rule has the ids between."""
    missing = [f"P{n}" for n in range(1, 22) if f"P{n}" not in RULES]
    assert missing, "no gap left: drop this test"
    shown = text_of(sections(site / "rules" / "index.html")["section-P"])
    assert f"no rule has the id {' or '.join(missing)}" in shown


def test_diagrams_page_shows_each_chart_as_drawn(site: Path) -> None:
    """Every chart's picture on the diagrams page is `diagrams.render(chart, "svg")`, and its
    Mermaid source is `diagrams.render(chart, "mermaid")`."""
    page = site / "diagrams" / "index.html"
    markup = page.read_text(encoding="utf-8")
    pictures = [page.parent / src for src in re.findall(r'<img[^>]* src="([^"]+)"', markup)]
    drawn = [picture.read_text(encoding="utf-8") for picture in pictures]
    assert drawn == [diagrams.render(chart, "svg") for chart in diagrams.CHARTS]
    for chart in diagrams.CHARTS:
        mermaid = str(diagrams.render(chart, "mermaid"))
        assert " ".join(mermaid.split()) in text_of(markup), f"{chart}: Mermaid source differs"


def test_http_status_table_is_the_code(site: Path) -> None:
    """The host guide's status table lists every reason under the status `sf.http_status`
    gives (`HTTP_STATUS`)."""
    found = sections(site / "guides" / "host-app" / "index.html")["http-status"]
    shown: dict[str, int] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found, re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        if cells:
            for code in re.findall(r"<code>([a-z_]+)</code>", cells[1]):
                shown[code] = int(text_of(cells[0]))
    assert shown == {reason.value: status for reason, status in HTTP_STATUS.items()}


def test_site_loads_nothing_from_the_network(site: Path) -> None:
    """The built pages work offline: no script, stylesheet or image is fetched from elsewhere."""
    for page in site.rglob("*.html"):
        markup = page.read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', markup)
        assert not remote, f"{page.relative_to(site)} loads {remote}"


def pages_with_python() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if BLOCK.search(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", pages_with_python(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_python_blocks_run(page: Path) -> None:
    """Every Python block of a page runs, in order, in one namespace (so the docs cannot drift),
    and the tests a page defines (test functions, unittest classes) pass."""
    namespace: dict[str, object] = {"__name__": "docs"}
    for number, block in enumerate(BLOCK.findall(page.read_text(encoding="utf-8")), start=1):
        exec(compile(block, f"{page.relative_to(ROOT)} python block {number}", "exec"), namespace)
    run_defined_tests(namespace)
