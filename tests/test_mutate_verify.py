"""tools/mutate_verify.py, the verifier's own mutation score: the mutants it plants
(tools/mutant_planter.py) and how it scores verify's answers, on small inputs (the full run is
the tool's, not the suite's)."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import mutant_planter as planter
import mutate_verify as mv

LOCALTIME = "support_flows/localtime.py"

SMALL = '''
def check(f) -> str | None:
    """A check."""
    if f.a < 3 or f.b:
        return "refused"
    return None


def shift(at, tz):
    starts = sorted(at)
    return add_wall_days(at, 30, tz), min(starts[0], starts[-1]), at.replace(fold=0)


if False:
    unreachable = 1 <= 2
'''


def _all_kinds() -> frozenset[str]:
    return frozenset().union(*(kinds for _, kinds in mv.AREAS.values()))


@pytest.fixture(scope="module")
def real() -> list[tuple[planter.Mutant, str]]:
    return list(mv.mutants())


def test_each_place_changes_exactly_one_node() -> None:
    """A mutant differs from the original in one place only: its source parses, and its AST
    dump differs from the original's by the one change the planter describes."""
    kinds = _all_kinds()
    counter = planter.Planter(kinds)
    counter.visit(ast.parse(SMALL))
    original = ast.dump(ast.parse(SMALL))
    described = [(kind, after) for _, kind, _, after in counter.places]
    assert ("boundary", "f.a <= 3") in described
    assert ("drop clause", "drop the or clause `f.b`") in described
    assert ("return None", "return None first") in described
    assert ("shift", "add_wall_days(at, 30 + 1, tz)") in described
    assert ("min/max", "max(starts[0], starts[-1])") in described
    assert ("fold", "fold=1") in described
    assert ("first/last", "starts[-1]") in described
    for index in range(len(counter.places)):
        mutated = ast.parse(planter.plant(SMALL, kinds, index))
        assert ast.dump(mutated) != original


def test_mutants_skip_code_that_compiles_the_same() -> None:
    """A mutation in dead code (`if False:`) compiles to the original's code: it is not a mutant;
    every mutant kept compiles to code of its own."""
    text = {LOCALTIME: SMALL}
    kept = list(mv.mutants(["localtime"], texts=text))
    counter = planter.Planter(mv.AREAS["localtime"][1])
    counter.visit(ast.parse(SMALL))
    dead = [n for n, (_, _, before, _) in enumerate(counter.places) if before == "1 <= 2"]
    assert dead, "the dead comparison is a place the planter offers"
    assert all(m.index not in dead for m, _ in kept)
    compiled = {planter.compiled_as(source, LOCALTIME) for _, source in kept}
    assert len(compiled) == len(kept)
    assert planter.compiled_as(SMALL, LOCALTIME) not in compiled


def test_real_mutants_are_many_deterministic_and_in_every_area(
    real: list[tuple[planter.Mutant, str]],
) -> None:
    """Over guards, actions, localtime and restore there are at least 100 mutants, each area has
    some, each is described once, and the order is the same on every run (one area again)."""
    assert len(real) >= 100
    assert {m.area for m, _ in real} == set(mv.AREAS)
    described = [m.describe() for m, _ in real]
    assert len(set(described)) == len(described)
    again = [m.describe() for m, _ in mv.mutants(["actions"])]
    assert again == [m.describe() for m, _ in real if m.area == "actions"]


def test_real_mutants_touch_only_their_areas_files(real: list[tuple[planter.Mutant, str]]) -> None:
    """Each mutant is of a file of its area and of a kind its area plants, and its source
    compiles."""
    for mutant, source in real:
        paths, kinds = mv.AREAS[mutant.area]
        assert mutant.path in paths
        assert mutant.kind in kinds
        compile(source, mutant.path, "exec")


def test_restore_drops_checks_from_or_chains_only(real: list[tuple[planter.Mutant, str]]) -> None:
    """In the restore checks only a check of an `or` chain is dropped, never a default such as
    `record.history or ()`."""
    restore = [m for m, _ in real if m.area == "restore" and m.kind == "drop check"]
    assert restore
    assert all(m.after.startswith("drop the or clause") for m in restore)
    assert not any("`()`" in m.after for m in restore)


def test_classify_reads_verify_answer() -> None:
    """Exit 0 survives; a violation, or a refusal for what is not covered (U1), is caught; a
    traceback without a report is a crash, not a catch."""
    report = [{"machine": "plan", "violations": [{"rule": "T3"}, {"rule": "P20"}]}]
    assert mv.classify(0, "[]", "") == ("survived", "")
    assert mv.classify(1, json.dumps(report), "Error: verification_failed") == (
        "caught",
        "violation T3, P20",
    )
    verdict, said = mv.classify(
        1, json.dumps([{"violations": []}]), "verification_failed U1: plan: not covered: rule P3"
    )
    assert verdict == "caught"
    assert "rule P3" in said
    crash = "Traceback (most recent call last):\n  ...\nKeyError: 'x'\n"
    assert mv.classify(1, "", crash) == ("crashed", "KeyError: 'x'")


def test_score_leaves_out_the_equivalent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The score is caught / (total - equivalent): a mutant on the allow-list is neither caught
    nor counted, and the table marks it."""
    one = planter.Mutant(
        "guards", "support_flows/guards/plan.py", 1, "negate", "if a", "if not a", 0
    )
    two = planter.Mutant(
        "guards", "support_flows/guards/plan.py", 2, "negate", "if b", "if not b", 1
    )
    outcomes = [
        mv.Outcome(one, "caught", 1.0, 2.0, "violation P2"),
        mv.Outcome(two, "survived", 1.0, 2.0, ""),
    ]
    assert mv.score(outcomes) == (1, 2, 0)
    monkeypatch.setitem(mv.EQUIVALENT, two.describe(), "b is always true here")
    assert mv.score(outcomes) == (1, 1, 1)
    assert "equiv" in mv.table(outcomes).splitlines()[2]


def test_timed_reports_status_output_cpu_and_timeout(tmp_path: Path) -> None:
    """A run gives its exit status, output, CPU and elapsed seconds; one over its CPU time is
    killed and reported by the CPU seconds it had used, while one that only waits is not."""
    env = {"PATH": "/usr/bin:/bin"}
    done = mv.timed([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], tmp_path, env, 30)
    assert not isinstance(done, float)
    status, out, _, cpu, wall = done
    assert (status, out) == (3, "hi\n")
    assert cpu >= 0
    assert wall > 0
    spin = mv.timed([sys.executable, "-c", "while True: pass"], tmp_path, env, 0.5)
    assert isinstance(spin, float)
    assert spin > 0.5
    waits = [sys.executable, "-c", "import time; time.sleep(1)"]
    assert not isinstance(mv.timed(waits, tmp_path, env, 0.5), float)


def test_machines_are_those_whose_verify_runs_the_mutated_line() -> None:
    """A mutant is run on the machines whose unmutated verify ran its line, on all three
    without tracing, and on none when no machine ran it."""
    mutant = planter.Mutant("guards", "support_flows/guards/plan.py", 7, "negate", "a", "b", 0)
    reached = {
        "plan": {"support_flows/guards/plan.py": frozenset({5, 6, 7})},
        "case": {"support_flows/guards/plan.py": frozenset({1})},
        "consulting": {},
    }
    assert mv.machines_for(mutant, reached) == ("plan",)
    assert mv.machines_for(mutant, None) == mv.MACHINES
    nowhere = planter.Mutant("guards", "support_flows/guards/plan.py", 9, "negate", "a", "b", 1)
    assert mv.machines_for(nowhere, reached) == ()
    outcome = mv.run(nowhere, "", [], None, tests=False, machines=())
    assert (outcome.verdict, outcome.seconds) == ("survived", 0.0)


def test_equivalent_mutants_are_real_and_explained(real: list[tuple[planter.Mutant, str]]) -> None:
    """Each entry of the equivalence allow-list names a mutant the tool plants (it goes stale
    when the code moves) and says why it cannot change behaviour."""
    planted = {m.describe() for m, _ in real}
    for described, why in mv.EQUIVALENT.items():
        assert described in planted
        assert len(why) > 20


def test_sample_is_stratified_in_proportion_and_deterministic(
    real: list[tuple[planter.Mutant, str]],
) -> None:
    """`--sample N --seed S` draws every area, at least 20 each when N >= 100 and the rest in
    proportion to each area's size; the same seed draws the same mutants, in the tool's order,
    another seed others; `--every AREA` adds the rest of AREA."""
    sizes = {a: sum(m.area == a for m, _ in real) for a in mv.AREAS}
    drawn = mv.sample(real, 100, 7)
    counts = {a: sum(m.area == a for m, _ in drawn) for a in mv.AREAS}
    assert sum(counts.values()) == 100
    assert all(counts[a] >= min(20, sizes[a]) for a in mv.AREAS)
    largest, smallest = max(sizes, key=sizes.__getitem__), min(sizes, key=sizes.__getitem__)
    assert counts[largest] > counts[smallest]
    assert [m.describe() for m, _ in drawn] == [m.describe() for m, _ in mv.sample(real, 100, 7)]
    order = [m.describe() for m, _ in real]
    positions = [order.index(m.describe()) for m, _ in drawn]
    assert positions == sorted(positions)
    assert {m.describe() for m, _ in drawn} != {m.describe() for m, _ in mv.sample(real, 100, 8)}
    small = mv.sample(real, 8, 7)
    assert len(small) == 8
    assert {m.area for m, _ in small} == set(mv.AREAS)
    every = mv.sample(real, 100, 7, ["localtime"])
    assert sum(m.area == "localtime" for m, _ in every) == sizes["localtime"]
    assert {m.describe() for m, _ in drawn} <= {m.describe() for m, _ in every}


def test_sample_shares_add_up_and_never_exceed_an_area() -> None:
    """Each area's share is at most its size, the shares add up to N (or to every mutant when N
    is larger), and a share follows its area's size."""
    sizes = {"guards": 120, "actions": 47, "localtime": 42, "restore": 272}
    assert mv.shares(sizes, 110) == {"guards": 27, "actions": 22, "localtime": 22, "restore": 39}
    assert mv.shares(sizes, 1_000) == sizes
    tiny = {"guards": 3, "restore": 200}
    shares = mv.shares(tiny, 120)
    assert shares == {"guards": 3, "restore": 117}
    assert sum(mv.shares(sizes, 37).values()) == 37


def test_first_stops_verify_at_the_first_failed_check_and_counts_it_caught(
    real: list[tuple[planter.Mutant, str]],
) -> None:
    """With `--first`, a mutant's verify stops at its first failed check and is caught, naming
    that check's rule; the unmutated project passes the same way."""
    mutant, source = next(
        (m, s)
        for m, s in real
        if m.describe().endswith("def project_not_found -> return None first")
    )
    outcome = mv.run(mutant, source, [], None, False, ("case",), first=True)
    assert outcome.verdict == "caught", outcome.detail
    assert outcome.detail.startswith("violation C")
    base = mv.run(None, "", [], None, False, ("case",), first=True)
    assert base.verdict == "survived", base.detail
