"""The review pack (support_flows.review): its files, its offline page, and what the page shows,
all generated from the charts, the rules catalog, the library's own runs and the verifier."""

from __future__ import annotations

import re
import sys
import types
import xml.etree.ElementTree as ET
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import support_flows
from support_flows import review
from support_flows.diagrams import render
from support_flows.diagrams.graph import compiled
from support_flows.review.markdown import plain
from support_flows.review.scenarios import PLAN_STORIES
from support_flows.rules import RULES
from support_flows.timeline import run_plan
from support_flows.values.policy import ATLAS_POLICY

CHARTS = ("plan", "case", "consulting")


class Tables(HTMLParser):
    """Every table of a page: (id of the enclosing section, table class, rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tables: list[tuple[str, str, list[list[str]]]] = []
        self._cell: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section":
            self.sections.append(found.get("id") or "")
        elif tag == "table":
            self.tables.append(
                (self.sections[-1] if self.sections else "", found.get("class") or "", [])
            )
        elif tag == "tr" and self.tables:
            self.tables[-1][2].append([])
        elif tag == "td":
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.sections.pop()
        elif tag == "td" and self._cell is not None:
            self.tables[-1][2][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, section: str, cls: str) -> list[list[str]]:
        found = [rows for s, c, rows in self.tables if s == section and c == cls]
        assert len(found) == 1, (section, cls, len(found))
        return [row for row in found[0] if row]


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> tuple[review.Pack, list[str]]:
    """The pack built once, without the verifier, with its progress lines."""
    lines: list[str] = []
    built = review.build(
        tmp_path_factory.mktemp("review"), verify_depth=None, progress=lines.append
    )
    return built, lines


@pytest.fixture(scope="module")
def html(pack: tuple[review.Pack, list[str]]) -> str:
    return pack[0].index.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tables(html: str) -> Tables:
    parsed = Tables()
    parsed.feed(html)
    return parsed


def test_pack_writes_the_page_and_each_chart_as_svg_and_mermaid(
    pack: tuple[review.Pack, list[str]],
) -> None:
    """DIR/index.html, and DIR/<chart>.svg (well-formed XML) and DIR/<chart>.mmd (the chart's
    Mermaid) for plan, case and consulting."""
    built, _ = pack
    out = built.index.parent
    assert built.index == out / "index.html"
    for name in CHARTS:
        svg = ET.parse(out / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg")
        assert (out / f"{name}.mmd").read_text(encoding="utf-8") == render(name, "mermaid")
    assert {p.name for p in built.files} == {
        "index.html",
        *(f"{n}.{s}" for n in CHARTS for s in ("svg", "mmd")),
    }


def test_pack_reports_one_numbered_progress_line_per_step(
    pack: tuple[review.Pack, list[str]],
) -> None:
    """Each step reports one line `[n/total] ...`, numbered in order up to the total."""
    _, lines = pack
    total = len(lines)
    assert [line.split("]")[0] for line in lines] == [f"[{n}/{total}" for n in range(1, total + 1)]
    assert any("diagram consulting" in line for line in lines)
    assert lines[-1].startswith(f"[{total}/{total}] page:")


def test_page_works_offline_inline_svg_and_css_only(html: str) -> None:
    """No scripts, stylesheets, images, fonts or frames, and no URL but SVG's namespaces."""
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "@font"):
        assert tag not in html.lower()
    assert not re.search(r"\bsrc\s*=", html)
    urls = set(re.findall(r"https?://[^\s\"')]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert set(re.findall(r"url\(([^)]*)\)", html)) <= {
        f"#{m}" for m in re.findall(r'<pattern id="([^"]+)"', html)
    }


def test_page_ids_are_unique(html: str) -> None:
    """Every id on the page is unique (the diagrams' ids are prefixed by their chart)."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_page_contains_every_rule_of_the_catalog_with_its_sources(tables: Tables) -> None:
    """The rules catalog lists every rule id with its statement rendered (no Markdown left:
    not one backtick), its sources and its reasons."""
    rows = [row for s, c, found in tables.tables if s == "rules" and c == "rules" for row in found]
    by_id = {row[0]: row for row in rows if row}
    assert set(by_id) == set(RULES)
    for rule_id, r in RULES.items():
        assert plain(r.statement) in by_id[rule_id][1]
        assert "`" not in by_id[rule_id][1]
        for source in r.sources:
            assert source.value in by_id[rule_id][2]
        for code in r.reasons:
            assert code.value in by_id[rule_id][3]


@pytest.mark.parametrize("name", CHARTS)
def test_transition_table_has_a_row_per_edge_with_guards_and_policy(
    tables: Tables, name: str
) -> None:
    """A chart's transition table has one row per edge of COMPILED, in order: the event, from,
    to, every guard's reason with its rule id, and the actions' effective-date policies."""
    chart = compiled(name)
    names = {str(s.value): str(s.name) for s in chart.chart.states}
    rows = tables.rows(name, "transitions")
    assert len(rows) == len(chart.edges_under(ATLAS_POLICY))
    for row, edge in zip(rows, chart.edges_under(ATLAS_POLICY), strict=True):
        event, source, target, _, refusals, policy = row
        assert event.startswith(chart.event_names[edge.event])
        assert source == names[edge.source]
        assert target == ("stays (internal)" if edge.internal else names[edge.target])
        for guard in edge.guards:
            assert guard.reason.value in refusals
        for action in edge.actions:
            declared = getattr(chart.chart.model_class, action)
            said = declared.terms.format_map(ATLAS_POLICY.words())
            assert f"{said} ({declared.rule})" in policy


@pytest.mark.parametrize("story", PLAN_STORIES, ids=lambda s: s.slug)
def test_plan_timelines_are_the_librarys_own_results(tables: Tables, story: Any) -> None:
    """Each plan timeline's table has a row per step showing what running the library gives:
    the outcome, state and billing periods of a `SupportPlan` on a frozen clock."""
    rows = tables.rows(story.slug, "worked")
    ran = run_plan(story.steps, start=story.start, tz=story.tz)
    assert len(rows) == len(ran.frames) == len(story.steps)
    for row, frame in zip(rows, ran.frames, strict=True):
        assert row[3] == frame.outcome
        assert row[5] == frame.state.value
        for period in frame.billing:
            assert period.tier.value in row[7]


def test_upgrade_then_downgrade_shows_p21_catch_up(tables: Tables) -> None:
    """P21's example: premium from Mar 14 to Apr 1 billed retroactively, developer from Apr 1."""
    billing = tables.rows("upgrade-then-downgrade", "worked")[1][7]
    assert "premium 2026-03-14 10:00 UTC -> 2026-04-01 00:00 UTC (retroactive)" in billing
    assert "developer 2026-04-01 00:00 UTC -> open" in billing


def test_cancel_far_from_utc_takes_effect_at_the_local_first(tables: Tables) -> None:
    """A cancel at 13:30 UTC on June 30 (July 1 in Auckland) takes effect on Auckland's Aug 1."""
    row = tables.rows("cancel-far-from-utc", "worked")[1]
    assert row[1].startswith("2026-07-01 01:30 NZST")
    assert "takes effect 2026-08-01 00:00 NZST" in row[4]


def test_reactivation_bills_retroactively_without_gap(tables: Tables) -> None:
    """Reactivating developer bills from the instant the last plan ended, flagged retroactive."""
    billing = tables.rows("reactivation", "worked")[2][7]
    assert "developer 2026-03-01 00:00 UTC -> open (retroactive)" in billing


def test_consulting_order_runs_from_purchase_through_expiry(tables: Tables) -> None:
    """The order example: bought, a refusal for too many units, unused units expire at the
    expiry while the booked session stays deliverable, and delivering it ends the order."""
    rows = tables.rows("consulting-order", "worked")
    assert rows[0][5] == "purchased"
    assert any(row[3].startswith("refused: [insufficient_units, F4]") for row in rows)
    expiry = next(row for row in rows if "expire:" in row[4])
    assert expiry[5] == "scheduled"
    assert "3 expired" in expiry[6]
    assert rows[-1][5] == "expired"


def test_every_timeline_picture_is_svg_with_lanes_and_marks(html: str) -> None:
    """Each worked example is drawn as an inline SVG: lanes of bars, a numbered mark per step."""
    pictures = re.findall(
        r'<svg xmlns="http://www.w3.org/2000/svg" class="timeline".*?</svg>', html
    )
    zooms = sum(1 for story in PLAN_STORIES if story.zoom)
    assert len(pictures) == len(PLAN_STORIES) + 1 + zooms
    for picture in pictures:
        root = ET.fromstring(picture)
        assert root.findall(".//{http://www.w3.org/2000/svg}rect")
        assert root.findall(".//{http://www.w3.org/2000/svg}circle")


def _fake_verify(monkeypatch: pytest.MonkeyPatch, run: Any) -> None:
    module = types.ModuleType("support_flows.verify")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "support_flows.verify", module)
    monkeypatch.setattr(support_flows, "verify", module, raising=False)


class _Report:
    def __init__(self, data: Any) -> None:
        self.data = data

    def to_dict(self) -> Any:
        return self.data


def test_verification_renders_each_report_as_a_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With a verifier, each machine's report is a row: coverage ratios with what is missing,
    invariants checked, and each violation with its rule and counterexample."""
    calls: list[tuple[str, int]] = []

    def run(machine: str, *, depth: int) -> _Report:
        calls.append((machine, depth))
        return _Report(
            {
                "machine": machine,
                "sequences": 120,
                "states": {"reached": 5, "total": 5, "missing": []},
                "transitions": {"covered": 15, "total": 16, "missing": ["revoke: a -> a"]},
                "reasons": {"produced": 9, "total": 9, "missing": []},
                "rules": {"exercised": 20, "total": 27, "missing": ["P16"]},
                "invariants_checked": 3000,
                "violations": [
                    {"rule": "P21", "message": "premium held for free", "counterexample": ["x"]}
                ]
                if machine == "plan"
                else [],
                "seconds": 0.25,
                "something_new": 7,
            }
        )

    _fake_verify(monkeypatch, run)
    lines: list[str] = []
    built = review.build(tmp_path, verify_depth=2, progress=lines.append)
    assert calls == [(m, 2) for m in CHARTS]
    assert sum("verify" in line for line in lines) == 3
    parsed = Tables()
    parsed.feed(built.index.read_text(encoding="utf-8"))
    rows = parsed.rows("verification", "verification")
    assert [row[0] for row in rows] == list(CHARTS)
    plan = rows[0]
    assert plan[1] == "120"
    assert plan[3].startswith("15 / 16")
    assert "revoke: a -> a" in plan[3]
    assert "P16" in plan[5]
    assert "P21" in plan[7]
    assert "premium held for free" in plan[7]
    assert "something_new: 7" in plan[9]
    assert rows[1][7] == "none"


def test_verification_survives_odd_reports_and_failures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A report missing keys renders what is there; a verifier that raises is shown as such;
    the rest of the page is still written."""

    def run(machine: str, *, depth: int) -> _Report:
        if machine == "case":
            raise NotImplementedError("case")
        return _Report({"machine": machine, "states": 3} if machine == "plan" else ["odd"])

    _fake_verify(monkeypatch, run)
    built = review.build(tmp_path, verify_depth=1)
    text = built.index.read_text(encoding="utf-8")
    assert "NotImplementedError: case" in text
    assert "incomplete" in text
    parsed = Tables()
    parsed.feed(text)
    assert [row[0] for row in parsed.rows("verification", "verification")] == list(CHARTS)


def test_verification_absent_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without a verifier module the section says so in one line and the pack is complete."""
    monkeypatch.setitem(sys.modules, "support_flows.verify", None)
    built = review.build(tmp_path, verify_depth=2)
    text = built.index.read_text(encoding="utf-8")
    section = text.split('<section id="verification">')[1]
    assert "<table" not in section
    assert "is not installed in this build" in section


def _complete(machine: str, missing: tuple[str, ...] = ()) -> dict[str, Any]:
    """A report dict with no violation, every part covered but the transitions in `missing`."""
    return {
        "machine": machine,
        "sequences": 10,
        "states": {"reached": 3, "total": 3, "missing": []},
        "transitions": {
            "covered": 4,
            "total": 4 + len(missing),
            "missing": list(missing),
        },
        "reasons": {"produced": 2, "total": 2, "missing": []},
        "rules": {"exercised": 5, "total": 5, "missing": []},
        "invariants_checked": 100,
        "violations": [],
        "seconds": 0.1,
    }


def _first_screen(text: str) -> str:
    """The page up to the first chart: the header and the summary cards."""
    return text.split('<section class="chart"')[0]


def test_summary_is_green_only_when_everything_is_covered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """U1: with no violation but a transition not covered, the summary card is not green: it
    says "incomplete", and the first screen names the machine and the transition; the pack
    records the shortfall for the command's exit status."""
    gap = "cancel_session: scheduled -> expired"
    _fake_verify(
        monkeypatch,
        lambda machine, *, depth: _Report(
            _complete(machine, (gap,) if machine == "consulting" else ())
        ),
    )
    built = review.build(tmp_path, verify_depth=1)
    first = _first_screen(built.index.read_text(encoding="utf-8"))
    assert 'class="card ok"' not in first
    assert '<div class="card bad"><b>incomplete</b>' in first
    assert f"consulting: not covered: transition {escape(gap)}" in first
    assert built.shortfalls == (f"consulting: not covered: transition {gap}",)


def test_summary_is_green_when_covered_and_clean(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """U1: no violation and every state, transition, reason and rule covered on every machine:
    the card is green, and nothing is listed as missing."""
    _fake_verify(monkeypatch, lambda machine, *, depth: _Report(_complete(machine)))
    built = review.build(tmp_path, verify_depth=1)
    first = _first_screen(built.index.read_text(encoding="utf-8"))
    assert '<div class="card ok"><b>0</b>' in first
    assert "<div class='shortfalls'>" not in first
    assert built.shortfalls == ()


def test_summary_counts_an_unreported_tally_as_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """U1: a report that does not say what it covered is not taken as complete."""
    _fake_verify(monkeypatch, lambda machine, *, depth: _Report({"machine": machine}))
    built = review.build(tmp_path, verify_depth=1)
    assert built.shortfalls[0].startswith("plan: not covered: states: not reported")
    assert 'class="card ok"' not in _first_screen(built.index.read_text(encoding="utf-8"))
