"""The review page in a real headless Chromium: no console errors, nothing fetched, every
picture drawn with a size, every rule id readable."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from chromium import Browser, chromium

from support_flows import review
from support_flows.review.scenarios import PLAN_STORIES
from support_flows.rules import RULES

SIZES = """JSON.stringify([...document.querySelectorAll('figure svg')].map(svg => {
  const box = svg.getBoundingClientRect();
  return {kind: svg.classList.contains('timeline') ? 'timeline' : 'diagram',
          id: svg.id, width: box.width, height: box.height};
}))"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review pack's page, built once."""
    return review.build(tmp_path_factory.mktemp("pack"), verify_depth=None).index


def test_review_page_renders_in_headless_chromium(page: Path) -> None:
    """Opened in Chromium the page logs no error and requests nothing but itself; every diagram
    and timeline picture has a non-zero rendered size; its text holds every rule id."""
    if chromium() is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with Browser(timeout=55) as browser:
        browser.open(page.as_uri())
        assert browser.errors() == []
        assert browser.requested() == [page.as_uri()]
        sizes = json.loads(browser.evaluate(SIZES))
        text = browser.evaluate("document.body.innerText")
    kinds = [s["kind"] for s in sizes]
    assert kinds.count("diagram") == 3
    assert kinds.count("timeline") == len(PLAN_STORIES) + 1
    for size in sizes:
        assert size["width"] > 100, size
        assert size["height"] > 50, size
    missing = [r for r in RULES if not re.search(rf"\b{r}\b", text)]
    assert missing == []


PROPOSAL = Path(__file__).resolve().parent.parent / "examples" / "policies" / "proposal-2027.toml"


@pytest.fixture(scope="module")
def proposal_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review of the example proposal (14-day trials, immediate changes), built once."""
    return review.build(
        tmp_path_factory.mktemp("proposal"), verify_depth=None, propose=str(PROPOSAL)
    ).index


def test_k5_proposal_page_renders_in_headless_chromium(proposal_page: Path) -> None:
    """The page of a proposal opens in Chromium with no console error, fetching nothing else;
    its "What changes" section is there first; every picture (the proposed diagram and each
    timeline under both versions included) has a non-zero rendered size."""
    if chromium() is None:
        message = "chromium is not installed (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with Browser(timeout=55) as browser:
        browser.open(proposal_page.as_uri())
        assert browser.errors() == []
        assert browser.requested() == [proposal_page.as_uri()]
        sizes = json.loads(browser.evaluate(SIZES))
        first = browser.evaluate("document.querySelector('main section').id")
        heading = browser.evaluate("document.querySelector('#changes h2').innerText")
        marked = browser.evaluate("document.querySelectorAll('#changes tr.changed').length")
    assert first == "changes"
    assert heading == "What changes"
    assert marked > 0
    kinds = [s["kind"] for s in sizes]
    assert kinds.count("diagram") == 3 + 1  # the charts, and the proposed plan marked
    assert kinds.count("timeline") == (len(PLAN_STORIES) + 1) * 3
    for size in sizes:
        assert size["width"] > 100, size
        assert size["height"] > 50, size
