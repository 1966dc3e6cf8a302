"""The review page in a real headless Chromium, at 1400 px and at 390 px: no console errors,
nothing fetched, every diagram readable or opening full size, no serious accessibility
violation (axe-core), every text at 4.5:1 contrast or more, no overlapping labels in the
pictures, and command lines that wrap only between arguments."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from chromium import Browser, chromium

from support_flows import review
from support_flows.review.scenarios import PLAN_STORIES
from support_flows.rules import RULES

WIDTHS = (1400, 390)
READABLE = 11.0
"""The smallest text size, in CSS pixels, a reviewer reads without zooming."""
HERE = Path(__file__).resolve().parent
AXE = HERE / "browser" / "node_modules" / "axe-core" / "axe.min.js"
"""Where ``npm ci --prefix tests/browser`` puts axe-core (pinned in tests/browser/); the
environment variable SUPPORT_FLOWS_AXE may name another copy of axe.min.js."""
CHECKS = (HERE / "page_checks.js").read_text(encoding="utf-8")
ZOOMED = sum(1 for story in PLAN_STORIES if story.zoom)

SIZES = """JSON.stringify([...document.querySelectorAll('figure svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {kind: svg.classList.contains('timeline') ? 'timeline' : 'diagram',
          id: svg.id, width: box.width, height: box.height};
}))"""


def _need(what: str, found: object, install: str) -> None:
    """Skip on a developer's machine without `what`; fail in CI, which installs it."""
    if found:
        return
    message = f"{what} is not installed ({install}; .ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def axe_source() -> str | None:
    """axe-core's script, if installed; where it is not and npm is, the pinned copy is installed
    first (so the README's test command needs no step of its own)."""
    given = os.environ.get("SUPPORT_FLOWS_AXE")
    path = Path(given) if given else AXE
    npm = shutil.which("npm")
    if not path.is_file() and not given and npm is not None:
        command = [npm, "ci", "--prefix", str(AXE.parents[2]), "--no-audit", "--no-fund"]
        subprocess.run([*command, "--silent"], capture_output=True, timeout=600, check=False)
    return path.read_text(encoding="utf-8") if path.is_file() else None


PROPOSAL = Path(__file__).resolve().parent.parent / "examples" / "policies" / "proposal-2027.toml"
PAGES = ("atlas", "proposal")
"""The pack of the policy in force, and the review of the example proposal (K5)."""
SEEN = [(which, width) for which in PAGES for width in WIDTHS]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each page, built once: the pack, and the proposal's (14-day trials, immediate changes)."""
    return {
        "atlas": review.build(tmp_path_factory.mktemp("pack"), verify_depth=None).index,
        "proposal": review.build(
            tmp_path_factory.mktemp("proposal"), verify_depth=None, propose=str(PROPOSAL)
        ).index,
    }


@pytest.fixture(scope="module")
def page(pages: dict[str, Path]) -> Path:
    """The review pack's page."""
    return pages["atlas"]


def _axe(browser: Browser, source: str) -> list[dict[str, Any]]:
    browser.evaluate(source)
    run = browser.call(
        "Runtime.evaluate",
        expression=(
            "axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify("
            "r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
            "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ),
        awaitPromise=True,
        returnByValue=True,
    )
    if "exceptionDetails" in run:
        raise RuntimeError(f"axe-core failed: {run['exceptionDetails']}")
    found: list[dict[str, Any]] = json.loads(run["result"]["value"])
    return found


@pytest.fixture(scope="module")
def seen(pages: dict[str, Path]) -> dict[tuple[str, int], dict[str, Any]]:
    """What each page shows at each width: errors, requests, text, measurements, axe's
    violations (None without axe-core), each from one Chromium opened at that width."""
    _need("chromium", chromium(), "apt-get install chromium")
    source = axe_source()
    found = {}
    for which, width in SEEN:
        with Browser(width=width, height=900, timeout=50) as browser:
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=900,
                deviceScaleFactor=1,
                mobile=False,
            )
            browser.open(pages[which].as_uri())
            found[which, width] = {
                "page": pages[which],
                "errors": browser.errors(),
                "requested": browser.requested(),
                "sizes": json.loads(browser.evaluate(SIZES)),
                "text": browser.evaluate("document.body.innerText"),
                "scroll_width": browser.evaluate("document.documentElement.scrollWidth"),
                "first": browser.evaluate("document.querySelector('main section').id"),
                **json.loads(browser.evaluate(CHECKS)),
                "axe": None if source is None else _axe(browser, source),
                "late_errors": browser.errors(),
            }
    return found


@pytest.mark.parametrize("width", WIDTHS)
def test_review_page_renders_in_headless_chromium(
    page: Path, seen: dict[tuple[str, int], dict[str, Any]], width: int
) -> None:
    """Opened in Chromium the page logs no error and requests nothing but itself; every diagram
    and timeline picture has a non-zero rendered size; its text holds every rule id; nothing
    makes the page wider than the screen."""
    at = seen["atlas", width]
    assert at["errors"] == []
    assert at["late_errors"] == []
    assert at["requested"] == [page.as_uri()]
    kinds = [s["kind"] for s in at["sizes"]]
    assert kinds.count("diagram") == 3
    assert kinds.count("timeline") == len(PLAN_STORIES) + 1 + ZOOMED
    for size in at["sizes"]:
        assert size["width"] > 100, size
        assert size["height"] > 50, size
    missing = [r for r in RULES if not re.search(rf"\b{r}\b", at["text"])]
    assert missing == []
    assert at["scroll_width"] <= width


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_every_diagram_is_readable_or_opens_full_size(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """Every diagram's smallest text renders at 11 px or more, or its figure links to its
    full-size file, which exists; at 1400 px every diagram is readable on the page itself, and
    a timeline picture is readable at every width (it scrolls rather than shrinks)."""
    at = seen[which, width]
    for picture in at["pictures"]:
        if picture["smallest"] >= READABLE:
            continue
        assert width != 1400, picture
        assert picture["kind"] == "diagram", picture
        assert picture["links"], picture
        for target in picture["links"]:
            assert (at["page"].parent / target).is_file(), target


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_every_picture_has_an_accessible_name(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """Every diagram and timeline picture carries a name for assistive technology (WCAG 1.1.1)."""
    unnamed = [p["id"] for p in seen[which, width]["pictures"] if not p["name"].strip()]
    assert unnamed == []


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_no_serious_or_critical_axe_violations(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """axe-core, injected into the page offline, finds no serious or critical violation."""
    found = seen[which, width]["axe"]
    _need("axe-core", found is not None, "npm ci --prefix tests/browser")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == []


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_every_text_has_at_least_4_5_to_1_contrast(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """Every text on the page, in HTML and inside the diagrams and pictures, has a contrast of
    4.5:1 or more against what is drawn behind it (WCAG 1.4.3, for large text too)."""
    assert seen[which, width]["lowContrast"] == []


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_no_two_labels_of_a_picture_overlap(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """In every timeline picture, no label's rendered box overlaps another label or a mark."""
    assert seen[which, width]["collisions"] == []


@pytest.mark.parametrize(("which", "width"), SEEN)
def test_command_bars_wrap_only_between_arguments(
    seen: dict[tuple[str, int], dict[str, Any]], which: str, width: int
) -> None:
    """A worked example's command line wraps between arguments, never inside a timestamp."""
    assert seen[which, width]["brokenArguments"] == []


@pytest.mark.parametrize("width", WIDTHS)
def test_k5_proposal_page_renders_in_headless_chromium(
    seen: dict[tuple[str, int], dict[str, Any]], width: int
) -> None:
    """The page of a proposal opens in Chromium with no console error, fetching nothing else;
    its "What changes" section is there first; every picture (the proposed diagram and each
    timeline under both versions included) has a non-zero rendered size; nothing makes the
    page wider than the screen."""
    at = seen["proposal", width]
    assert at["errors"] == []
    assert at["late_errors"] == []
    assert at["requested"] == [at["page"].as_uri()]
    assert at["first"] == "changes"
    assert "What changes" in at["text"]
    kinds = [s["kind"] for s in at["sizes"]]
    assert kinds.count("diagram") == 3 + 1  # the charts, and the proposed plan marked
    assert kinds.count("timeline") == (len(PLAN_STORIES) + 1) * 3 + ZOOMED
    for size in at["sizes"]:
        assert size["width"] > 100, size
        assert size["height"] > 50, size
    assert at["scroll_width"] <= width
