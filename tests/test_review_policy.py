"""The review of a change (K5): the page built for any catalog, and for a proposed version
beside the one in force: changed fields with their rules, chart edges that differ, worked
timelines under both versions, and the stored records it would treat differently, read-only."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest
from store_helpers import OWNER, db_url, postgres_database, table_rows  # noqa: F401

import support_flows as sf
from support_flows import review
from support_flows.review.changes import edge_changes, field_changes
from support_flows.review.markdown import inline
from support_flows.review.proposal import proposal_of
from support_flows.review.side_by_side import compare_worked
from support_flows.review.stored import impact
from support_flows.store import Store

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"
ATLAS_FILE = EXAMPLES / "atlas.toml"
PROPOSAL_FILE = EXAMPLES / "proposal-2027.toml"
NOW = pendulum.datetime(2026, 12, 1, tz="UTC")
STORED_AT = pendulum.datetime(2026, 11, 2, 9, tz="UTC")
PROPOSED = sf.Catalog.from_toml(PROPOSAL_FILE)["2027"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> review.Pack:
    """The proposal's review pack (atlas in force, 2027 proposed), built once."""
    return review.build(
        tmp_path_factory.mktemp("proposal"),
        verify_depth=None,
        catalog=sf.Catalog.from_toml(ATLAS_FILE),
        propose=str(PROPOSAL_FILE),
        now=NOW,
    )


@pytest.fixture(scope="module")
def page(pack: review.Pack) -> str:
    return pack.index.read_text(encoding="utf-8")


def _changes(page: str) -> str:
    start = page.index('<section id="changes">')
    return page[start : page.index('<section class="chart"', start)]


def test_k5_example_proposal_is_14_day_trials_and_immediate_changes() -> None:
    """The shipped proposal is the one a reviewer would weigh: 14-day trials plus immediate
    downgrades and cancels from 2027-01-01, over Atlas's terms."""
    assert PROPOSED.changes_from(sf.Policy()) == {
        "trial_days": (30, 14),
        "change_timing": ("next_month_start", "immediately"),
    }
    assert PROPOSED.effective_from == pendulum.datetime(2027, 1, 1, tz="UTC")
    assert sf.Catalog.from_toml(ATLAS_FILE) == sf.ATLAS


def test_k5_page_opens_with_what_changes(page: str) -> None:
    """The page's first section is "What changes", linked first in the navigation."""
    main = page[page.index("<main>") :]
    assert main.index('<section id="changes">') < main.index('<section class="chart"')
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert nav.startswith('<nav><a href="#changes">What changes</a>')


def test_k5_changed_fields_name_their_rules_and_statements(page: str) -> None:
    """Each changed field is listed before -> after with every rule it tunes: id and statement."""
    fields = field_changes(sf.Policy(), PROPOSED)
    assert [(f.name, f.before, f.after) for f in fields] == [
        ("trial_days", 30, 14),
        ("change_timing", "next_month_start", "immediately"),
    ]
    section = html.unescape(_changes(page))
    for f in fields:
        assert f.name in section
        for r in f.rules:
            assert f"#rule-{r.id}" in section
            assert html.unescape(inline(r.statement)) in section
    assert {r.id for f in fields for r in f.rules} >= {"T5", "P4", "P9", "P21"}


def test_k5_edge_changes_name_label_existence_differences() -> None:
    """The 14-day trial relabels basic -> trial; immediate changes add premium -> developer in
    force now and remove the pending downgrade and the pending change's later effect."""
    found = {
        (e.chart, e.kind, e.edge.event, e.edge.source, e.edge.target)
        for e in edge_changes(sf.Policy(), PROPOSED)
    }
    assert ("plan", "label", "subscribe", "basic", "trial") in found
    assert ("plan", "added", "downgrade", "premium", "developer") in found
    assert ("plan", "added", "cancel", "developer", "cancelled") in found
    assert ("plan", "removed", "downgrade", "premium", "premium") in found
    assert all(chart == "plan" for chart, *_ in found)


def test_k5_same_terms_change_no_edge_and_no_field() -> None:
    """A proposal holding the terms in force changes no field and no edge."""
    same = sf.Policy(version="again", effective_from=pendulum.datetime(2027, 1, 1, tz="UTC"))
    assert field_changes(sf.Policy(), same) == ()
    assert edge_changes(sf.Policy(), same) == ()


def test_k5_proposed_diagram_marks_changed_edges_in_words_and_colour(pack: review.Pack) -> None:
    """plan-proposed.svg draws the proposal with every added or relabelled edge marked CHANGED
    (a word, not colour alone) in the highlight colour, and a legend saying so."""
    svg = (pack.index.parent / "plan-proposed.svg").read_text(encoding="utf-8")
    marked = [e for e in edge_changes(sf.Policy(), PROPOSED) if e.after is not None]
    assert svg.count(">CHANGED<") == len(marked) + 1  # each edge, and the legend
    assert "differ from the version in force" in svg
    assert 'stroke="#ad1457"' in svg
    assert pack.index.parent / "plan-proposed.svg" in pack.files


def test_k5_worked_timelines_under_both_versions_mark_differences(page: str) -> None:
    """Every worked timeline is computed under both versions: the trial that converts differs
    at its first step (a 14-day trial), the downgrade story at the downgrade (in force at
    once), the order not at all; the page marks each differing row."""
    compared = {c.before.slug: c for c in compare_worked(sf.Policy(), PROPOSED)}
    assert compared["trial-converts-current"].differs[0]
    assert "2026-03-28" in compared["trial-converts-current"].after.rows[0][-1]
    assert compared["upgrade-then-downgrade-current"].differs == (False, True, True)
    assert compared["consulting-order-current"].changed == 0
    section = _changes(page)
    rows = re.findall(r'<tr class="changed">.*?</tr>', section, re.DOTALL)
    assert len(rows) == sum(c.changed for c in compared.values())
    assert all("≠ differs" in row for row in rows)
    for c in compared.values():
        assert f'id="compare-{c.before.slug}"' in section


def test_k5_propose_a_version_id_of_the_catalog() -> None:
    """--propose may name a version of the current catalog: before its instant the version in
    force is atlas, and the proposal is that version."""
    catalog = sf.Catalog.from_toml(PROPOSAL_FILE)
    proposal = proposal_of(catalog, "2027", NOW)
    assert proposal.current.version == "atlas"
    assert proposal.proposed is catalog["2027"]
    assert proposal.changes == PROPOSED.changes_from(sf.Policy())


def test_k5_review_for_any_catalog_draws_the_version_in_force(tmp_path: Path) -> None:
    """Without --propose, the pack is drawn and computed under the catalog's version in force."""
    pack = review.build(
        tmp_path,
        verify_depth=None,
        catalog=sf.Catalog.from_toml(PROPOSAL_FILE),
        now=pendulum.datetime(2027, 2, 1, tz="UTC"),
    )
    assert "the 14-day trial starts now" in (tmp_path / "plan.mmd").read_text(encoding="utf-8")
    page = pack.index.read_text(encoding="utf-8")
    assert 'id="changes"' not in page
    assert "developer 2026-03-28" in page  # the trial that converts, 14 days


def _store_records(store: Store) -> None:
    """Four plans and an order as a store holds them on Nov 2, 2026: by 2027 a basic plan (a
    trial the proposal shortens), a premium and a developer plan (downgrades and cancels in force
    at once), and a cancelled one (its reactivation is the same under both)."""
    clock = sf.FrozenClock(STORED_AT)
    for org_id, moves in (
        ("org-basic", ()),
        ("org-premium", ("premium",)),
        ("org-pending", ("premium", "developer")),
        ("org-cancelled", ("premium", "basic")),
    ):
        plan = sf.SupportPlan(
            sf.Organization(org_id, billing_timezone="Europe/Berlin"), clock=clock
        )
        for tier in moves:
            plan.change(tier, actor=OWNER)
        store.save(plan)
    org = sf.Organization("org-premium", billing_timezone="Europe/Berlin")
    order = sf.ConsultingOrder.start_checkout(
        org, units=4, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox(), order_id="co-1"
    )
    order.confirm()
    store.save(order)


def test_k5_store_counts_records_by_rule_and_changes_no_row(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """With a store, the pack counts the plans and orders the proposal treats differently at
    their next request, by the rules of each changed field, and no row of the database changes
    (SQLite and PostgreSQL)."""
    with Store(db_url) as store:
        _store_records(store)
        before = table_rows(store)
        pack = review.build(
            tmp_path / "pack",
            verify_depth=None,
            propose=str(PROPOSAL_FILE),
            store=store,
            now=NOW,
        )
        after = table_rows(store)
    assert after == before
    proposal = proposal_of(sf.ATLAS, str(PROPOSAL_FILE), NOW)
    with Store(db_url) as store:
        found = impact(proposal, store.plans(), store.orders())
    assert found.at == PROPOSED.effective_from
    assert (found.plans.seen, found.plans.differ, found.plans.unreadable) == (4, 3, 0)
    by_field = {name: (rules, count) for name, rules, count in found.plans.by_field}
    assert by_field["trial_days"] == (("T5", "P4", "P6", "P7"), 1)  # only basic can start one
    assert by_field["change_timing"] == (("P9", "P20", "P21"), 2)
    assert (found.orders.seen, found.orders.differ) == (1, 0)
    section = html.unescape(_changes(pack.index.read_text(encoding="utf-8")))
    assert "Stored records at their next request" in section
    assert "P9, P20, P21" in section


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "support_flows", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_k5_command_reviews_the_example_proposal_against_a_store(tmp_path: Path) -> None:
    """`review --policy atlas.toml --propose proposal-2027.toml --db URL` writes the page with
    its changes section and the store's counts, and leaves the SQLite file's rows as they were."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        _store_records(store)
        before = table_rows(store)
    out = tmp_path / "pack"
    done = _cli(
        "review", "-o", str(out), "--no-verify", "--policy", str(ATLAS_FILE),
        "--propose", str(PROPOSAL_FILE), "--db", url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"stored records: [1-4] of 4 plans, 0 of 1 orders", done.stderr)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<section id="changes">' in page
    with Store(url) as store:
        assert table_rows(store) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--policy", "{bad}"), ("trial_days", "'broken'")),
        (("--propose", "{bad}"), ("trial_days", "'broken'")),
        (("--policy", "{missing}"), ("cannot read",)),
        (("--propose", "nosuch"), ("nosuch", "atlas")),
    ],
)
def test_k2_bad_policy_file_or_unknown_version_is_one_line_exit_2(
    tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """A malformed --policy/--propose file or an unknown version is one line
    `error: [invalid_value, K2] ...` on stderr, exit 2 (U1), and no page is written."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[[version]]\nid = "broken"\ntrial_days = 999\n', encoding="utf-8")
    names = {"bad": str(bad), "missing": str(tmp_path / "missing.toml")}
    done = _cli(
        "review", "-o", str(tmp_path / "pack"), "--no-verify", *(a.format(**names) for a in args)
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: [invalid_value, K2] ")
    for word in words:
        assert word in lines[0]
    assert not (tmp_path / "pack" / "index.html").exists()


def test_k4_records_under_a_version_the_catalog_lacks_are_counted_unreadable(
    tmp_path: Path,
) -> None:
    """A stored plan decided under a version the reviewed catalog lacks is not judged: it is
    counted unreadable, apart from those the proposal treats the same or differently."""
    mid = sf.Policy(
        version="mid", effective_from=pendulum.datetime(2026, 10, 1, tz="UTC"), trial_days=20
    )
    with Store(f"sqlite:///{tmp_path / 'store.db'}", catalog=sf.Catalog([sf.Policy(), mid])) as s:
        plan = sf.SupportPlan(
            sf.Organization("org-mid"), clock=sf.FrozenClock(STORED_AT), catalog=s.catalog
        )
        plan.change("developer", actor=OWNER)  # a 20-day trial under "mid"
        s.save(plan)
        found = impact(proposal_of(sf.ATLAS, str(PROPOSAL_FILE), NOW), s.plans(), s.orders())
    assert (found.plans.seen, found.plans.differ, found.plans.unreadable) == (1, 0, 1)
