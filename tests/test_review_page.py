"""What the review page explains to a reviewer: the rules catalog rendered from its Markdown, the
Source values and the numbers the catalog skips, the refusals no arrow carries, captions that
fit their chart, links to the full-size diagrams, named pictures, the Auckland day drawn closer,
and P15's retroactive billing said in plain words."""

from __future__ import annotations

import re
import sys
import types
from html import unescape
from pathlib import Path
from typing import Any

import pytest

import support_flows
from support_flows import review
from support_flows.review.markdown import inline, plain
from support_flows.review.worked_html import command_bar
from support_flows.rules import RULES, Source
from support_flows.values.policy import ATLAS_POLICY


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page of a pack built once, without the verifier."""
    built = review.build(tmp_path_factory.mktemp("page"), verify_depth=None)
    return built.index.read_text(encoding="utf-8")


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    return html[start : html.index("</section>", start)]


def _text(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_markdown_renders_code_spans_and_strong_and_escapes_the_rest() -> None:
    """Code spans become <code>, **strong** becomes <strong>, and any other character that
    means something in HTML is escaped, inside code too."""
    assert inline("reason `naive_datetime` & **after `t`** <b>") == (
        "reason <code>naive_datetime</code> &amp; <strong>after <code>t</code></strong> &lt;b&gt;"
    )
    assert inline("`a < b`") == "<code>a &lt; b</code>"
    assert plain("reason `naive_datetime`, **now**") == "reason naive_datetime, now"


def test_markdown_leaves_markers_that_open_nothing_as_written() -> None:
    """A lone backtick or a pair of asterisks around spaces is text, not markup."""
    assert inline("a ` b") == "a ` b"
    assert inline("2 ** 3 ** 4") == "2 ** 3 ** 4"
    assert inline("``code with ` inside``") == "<code>code with ` inside</code>"


def test_rules_catalog_has_no_raw_markdown(html: str) -> None:
    """Every statement of the catalog is rendered: its code spans are <code>, not one backtick
    is left in the rules section."""
    rules = _section(html, "rules")
    assert "`" not in rules
    assert "<code>naive_datetime</code>" in rules
    for r in RULES.values():
        assert inline(r.statement) in rules


def test_rules_catalog_says_what_each_source_value_means(html: str) -> None:
    """SEED, DOCS, INDUSTRY and DECISION are each explained above the catalog."""
    rules = _section(html, "rules")
    legend = rules[rules.index("<dl class='sources'>") : rules.index("</dl>")]
    for source in Source:
        assert f"<dt>{source.value}</dt>" in legend
        assert source.meaning.replace('"', "&quot;") in legend
    assert "Atlas" in Source.SEED.meaning


def test_rules_catalog_notes_the_numbers_it_skips(html: str) -> None:
    """P jumps from P17 to P20: the P section says there is no P18 or P19, and why; a section
    numbered without gaps says nothing."""
    rules = _section(html, "rules")
    plan = rules[rules.index('id="rules-P"') : rules.index('id="rules-C"')]
    assert "There is no P18 or P19" in plan
    time = rules[rules.index('id="rules-T"') : rules.index('id="rules-P"')]
    assert "There is no" not in time


def test_plan_caption_mentions_a_double_border_only_where_a_state_is_final(html: str) -> None:
    """No plan state is final, so the plan's caption says nothing of a double border; the case
    chart's submitted state is final and its caption explains the border."""
    assert "double border" not in _section(html, "plan")
    assert "double border" in _section(html, "case")


def test_each_diagram_links_its_full_size_files(html: str, tmp_path: Path) -> None:
    """Under each diagram the file names are links to the full-size SVG and the Mermaid file."""
    for name in ("plan", "case", "consulting"):
        section = _section(html, name)
        assert f'<a class="full-size" href="{name}.svg">{name}.svg</a>' in section
        assert f'<a href="{name}.mmd">{name}.mmd</a>' in section


def test_no_reviewer_meets_the_seeds_navigation_or_a_missing_file(html: str) -> None:
    """The page never says "the seed's navigation", and cites no RULES.md a reader cannot open:
    a chart's citation links to its section of the catalog below."""
    assert "seed's" not in html
    assert "RULES.md" not in html
    assert '(rules <a href="#rules-P">P</a> below)' in _section(html, "plan")


def _request_rows(html: str) -> dict[str, list[str]]:
    plan = _section(html, "plan")
    found = plan[
        plan.index('<table class="requests">') : plan.index("</table>", plan.index("requests"))
    ]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", found)[1:]:
        cells = [_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        rows[cells[0]] = cells[1:]
    return rows


def test_p2_p13_p11_refusals_no_arrow_carries_are_listed_for_every_state(html: str) -> None:
    """The plan's request table lists, for an owner: enterprise refused with contact_sales (P2)
    in every state, cancelling Basic or Cancelled refused with nothing_to_cancel (P13), and the
    plan in force refused with already_on_plan (P11) unless a change is pending, when it takes
    the revoke arrow."""
    rows = _request_rows(html)
    assert set(rows) == {
        "basic",
        "trial",
        "developer",
        "developer, a cancel pending",
        "premium",
        "premium, a downgrade pending",
        "cancelled",
    }
    for cells in rows.values():
        assert cells[3] == "contact_sales P2"
    assert rows["basic"][4] == "nothing_to_cancel P13"
    assert rows["cancelled"][4] == "nothing_to_cancel P13"
    assert rows["developer"][1] == "already_on_plan P11"
    assert rows["premium"][2] == "already_on_plan P11"
    assert rows["developer, a cancel pending"][1] == "Revoke the pending change"
    assert rows["premium, a downgrade pending"][2] == "Revoke the pending change"
    assert rows["basic"][1] == "Subscribe"


def test_p11_revoke_row_says_it_is_asked_as_choosing_the_tier_in_force(html: str) -> None:
    """The plan's transitions table says which host requests take each event: the revoke is
    asked as revoke_pending or as a change choosing the tier in force (P11), which is why
    already_on_plan is among its refusals."""
    plan = _section(html, "plan")
    found = plan[plan.index('<table class="transitions">') :]
    revoke = next(
        row for row in re.findall(r"<tr>(.*?)</tr>", found) if "<code>revoke</code>" in row
    )
    assert "asked as <code>revoke_pending</code> or <code>change</code> (the tier in force)" in (
        revoke
    )
    assert "already_on_plan" in revoke


def test_pictures_carry_accessible_names(html: str) -> None:
    """Every timeline picture is an image named by its <title> (WCAG 1.1.1), and every inline
    diagram by its aria-label."""
    pictures = re.findall(r'<svg[^>]*class="timeline"[^>]*>\s*<title id="([^"]+)">([^<]+)', html)
    opened = re.findall(r'<svg[^>]*class="timeline"[^>]*aria-labelledby="([^"]+)"', html)
    assert len(pictures) == len(opened) >= 7
    assert [found for found, _ in pictures] == opened
    assert all(name.strip() for _, name in pictures)
    diagrams = re.findall(r'<svg class="diagram \w+" role="img" aria-label="([^"]+)"', html)
    assert len(diagrams) == 3


def test_t3_auckland_day_is_drawn_closer(html: str) -> None:
    """The Auckland cancel is drawn again over one day, ticked in Auckland time: its local
    midnight of July 1, the cancel (step 2) and UTC's July 1 each visible apart."""
    section = _section(html, "cancel-far-from-utc")
    zoom = section[section.index('id="cancel-far-from-utc-zoom-picture"') :]
    zoom = zoom[: zoom.index("</svg>")]
    labels = re.findall(r'class="ticklabel"[^>]*>([^<]+)<', zoom)
    assert labels[0] == "Jun 30 18:00"
    assert "Jul 1 00:00" in labels
    assert ">Jul 1 00:00 UTC<" in zoom
    assert re.search(r'class="marknumber"[^>]*>2<', zoom)
    local = float(re.search(r'x="([\d.]+)"[^>]*class="ticklabel"[^>]*>Jul 1 00:00<', zoom)[1])
    utc = float(re.search(r'x="([\d.]+)"[^>]*class="guidelabel"[^>]*>Jul 1 00:00 UTC<', zoom)[1])
    assert utc - local > 300  # twelve hours apart on a one-day axis


def test_p15_reactivation_is_explained_in_plain_words(html: str) -> None:
    """Beside the reactivation picture, a note says the customer is billed for the weeks they
    were cancelled, and that this is the rule (P15), with the policy's own cap."""
    section = _section(html, "reactivation")
    note = _text(section[section.index('class="plain-words"') :].split("</p>")[0])
    assert "from Mar 1 to Apr 20" in note
    assert "billed" in note or "bills" in note
    assert "That is the rule" in note
    assert "P15" in note
    assert f"at most {ATLAS_POLICY.retroactive_days} days back" in note
    assert 'class="plain-words"' not in _section(html, "trial-converts")


def test_command_bar_breaks_only_between_arguments() -> None:
    """Each argument of a command is one unbreakable span; spaces between them are where the
    dark bar may wrap."""
    bar = command_bar("support-flows timeline --start 2026-03-14T08:00Z", "The command")
    assert bar.count('<span class="arg">') == 5
    assert '<span class="arg">2026-03-14T08:00Z</span>' in bar
    assert 'aria-label="The command"' in bar


class _Report:
    def __init__(self, data: Any) -> None:
        self.data = data

    def to_dict(self) -> Any:
        return self.data


def test_verification_shows_no_empty_column(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With reports holding only keys the page knows, the verification table has no column for
    anything more (the old "Other" column, always empty)."""

    def run(machine: str, *, depth: int) -> _Report:
        tally = {"total": 1, "missing": []}
        return _Report(
            {
                "machine": machine,
                "sequences": 3,
                "states": {"reached": 1, **tally},
                "transitions": {"covered": 1, **tally},
                "reasons": {"produced": 1, **tally},
                "rules": {"exercised": 1, **tally},
                "invariants_checked": 9,
                "violations": [],
                "seconds": 0.1,
            }
        )

    module = types.ModuleType("support_flows.verify")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "support_flows.verify", module)
    monkeypatch.setattr(support_flows, "verify", module, raising=False)
    built = review.build(tmp_path, verify_depth=1)
    verification = _section(built.index.read_text(encoding="utf-8"), "verification")
    headers = re.findall(r'<th scope="col">([^<]+)</th>', verification)
    assert headers[-1] == "Seconds"
    assert "Other" not in headers
