"""The verifier's own mutation score: how many planted bugs does `support-flows verify` catch?

Run it: `python tools/mutate_verify.py [--jobs 2] [--only AREA]... [--match TEXT]... [--limit N]
[--sample N --seed S [--every AREA]...] [--first] [--all-machines] [--list] [--tests]
[--verify-args "--depth 4"] [--timeout CPU_SECONDS]`.

It plants one mutation at a time, each in a temporary copy of the project, in four AREAS (the
kinds of change are tools/mutant_planter.py's): guards (not registry.py, which holds the checks
rather than being one), the book actions (outside `__init__`), localtime, and the restore checks.
The order is deterministic. A full run takes hours (a verify is most of a minute of CPU),
so `--sample N --seed S` runs a stratified sample instead: each area its share of N in
proportion to its size, at least `PER_AREA` each when N >= 100 (all of a smaller area), drawn
with seed S, the same on every run; `--every AREA` adds every other mutant of AREA. For each
mutant it runs `python -m support_flows verify --json` (default depth, plus `--verify-args`)
in the copy, on the machines whose unmutated verify runs the mutated line (traced once per
machine when the run begins: a run is deterministic, so a line it never runs cannot change it;
`--all-machines` runs all three), stopped at its first failed check with `--first` (a finding
stays in the report once made, so the full run reports it too), with a CPU-time limit (5 times
the unmutated run's, unless `--timeout`: elapsed time would time out mutants that only waited
for a shared core), and classifies it:

- caught: verify reports a violation, or refuses (exit 1, U1) because a state, transition,
  reason or rule is no longer covered;
- survived: exit 0;
- crashed: verify stopped on a traceback without a report: not counted as caught (no user
  reads a rule from a traceback), listed so each one can be looked at;
- timeout: no answer within its CPU time: not caught.

Mutants listed in EQUIVALENT are not run.

The score is caught / (total - equivalent), the equivalent mutants being those of EQUIVALENT
below, each with the reason it cannot change behaviour. With `--tests`, each mutant verify does
not catch is also run against the test suite (behaviour tests, as tools/mutate_charts.py does),
to compare with what the tests catch. The exit status is 1 if any mutant was not caught.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from mutant_planter import Mutant, file_mutants

ROOT = Path(__file__).resolve().parent.parent


@cache
def tracked() -> tuple[str, ...]:
    """The project's committed files (as they are in the work tree): the copy each mutant runs in.
    Asked of git when a run begins, not on import (the suite imports this module in copies that
    have no repository)."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return tuple(name for name in listed if (ROOT / name).is_file())


def suite() -> list[str]:
    """The behaviour test files, the rule engine's first (as tools/mutate_charts.py orders them);
    not this tool's own tests, which read the mutated files themselves."""
    first = ("tests/test_plan", "tests/test_case", "tests/test_consulting", "tests/test_engines")
    tests = [
        n
        for n in tracked()
        if n.startswith("tests/test_") and n.endswith(".py") and n != "tests/test_mutate_verify.py"
    ]
    return sorted(tests, key=lambda n: (not n.startswith(first), n))


AREAS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "guards": (
        tuple(
            f"support_flows/guards/{name}.py" for name in ("plan", "case", "consulting", "common")
        ),
        frozenset({"negate", "boundary", "return None", "drop clause"}),
    ),
    "actions": (
        (
            "support_flows/machines/plan_book.py",
            "support_flows/machines/plan_billing.py",
            "support_flows/machines/consulting_book.py",
        ),
        frozenset({"off by one", "shift", "min/max", "drop assignment"}),
    ),
    "localtime": (
        ("support_flows/localtime.py",),
        frozenset({"off by one", "shift", "fold", "min/max", "first/last", "boundary"}),
    ),
    "restore": (
        (
            "support_flows/snapshots/plan_checks.py",
            "support_flows/snapshots/plan_periods.py",
            "support_flows/snapshots/consulting.py",
            "support_flows/snapshots/strict.py",
            "support_flows/machines/plan_record.py",
            "support_flows/machines/consulting_record.py",
        ),
        frozenset({"drop check", "negate", "return None"}),
    ),
}
"""Each area: the files it mutates and the kinds of mutation it plants in them."""

EQUIVALENT: dict[str, str] = {
    "support_flows/guards/plan.py:83 boundary: RANK[chosen] > RANK[current] -> "
    "RANK[chosen] >= RANK[current]": "RANK gives each tier its own rank, and a chosen tier that "
    "is the current one has returned SAME on the line before: the ranks are never equal here",
    "support_flows/localtime.py:247 boundary: s > at -> s >= at": "each s begins the 1st of the "
    "month after the one `at` shows locally, so s shows that 1st and `at` an earlier date: they "
    "are never the same instant",
    "support_flows/guards/consulting.py:129 drop clause: f.start is None or f.start > f.now -> "
    "drop the or clause `f.start is None`": "session_in_past guards schedule alone, whose facts "
    "always hold a start: the call makes it an instant first (None is refused, T1), and a "
    "replayed booking takes it from the booked session's record",
    "support_flows/guards/consulting.py:137 drop clause: f.start is None or f.hours is None or "
    "f.expires_at is None -> drop the or clause `f.start is None`": "as for line 127: "
    "session_after_expiry guards schedule alone, whose facts always hold a start",
    "support_flows/snapshots/strict.py:157 drop check: type(found) is not str or found != name "
    "-> drop the or clause `type(found) is not str`": "a `found` that is not a str is never "
    "equal to the str `name`, so `found != name` alone raises the same refusal",
    # Message only: RULES.md fixes whether a call is refused and with what reason and rule (for
    # restore, V2's invalid_snapshot), never a message's wording; these change the wording only.
    "support_flows/guards/plan.py:103 negate: f.tier.value if f.tier is not None else "
    "'a paid plan' -> f.tier.value if not f.tier is not None else 'a paid plan'": "message "
    "only: P3's check runs on requests that choose a tier, so its refusal (cross_org_billing, "
    "P3) stands and only its wording says 'a paid plan' instead of the tier",
    "support_flows/snapshots/plan_checks.py:62 drop check: r.trial_started_at is not None or "
    "last_plan is not None o... -> drop the or clause `r.pending`": "message only: a basic "
    "record with a pending change is still refused invalid_snapshot (V2), by `_pending`'s "
    "first check (no pending change outside developer or premium), which the message then names",
    "support_flows/snapshots/consulting.py:207 drop check: r.purchased_at is not None or "
    "r.sessions or r.units.expired -> drop the or clause `r.units.expired`": "message only: an "
    "order in checkout with expired units is still refused invalid_snapshot (V2) by "
    "`_purchase`, which refuses expired units without an ended validity and an ended validity "
    "in checkout",
    "support_flows/snapshots/strict.py:30 negate: if member is not None -> if not member is not "
    "None": "message only: cattrs' detailed converter runs only to name the field of a record "
    "the generated codec has already refused, and every way through `_refusal` refuses it "
    "invalid_snapshot (V2); the mutant changes which problem the message names",
    "support_flows/snapshots/strict.py:42 negate: if type(value) is not kind -> if not "
    "type(value) is not kind": "message only: as for line 30, the detailed converter only "
    "words a refusal already made",
    "support_flows/snapshots/strict.py:59 negate: if type(value) is not list -> if not "
    "type(value) is not list": "message only: as for line 30, the detailed converter only "
    "words a refusal already made",
    "support_flows/snapshots/strict.py:89 negate: f\"missing {', '.join(missing)}\" if missing "
    'else f"extra {... -> f"missing {\', \'.join(missing)}" if not missing else f"ext...': (
        "message only: the wording of the detailed converter's refusal (missing or extra fields)"
    ),
    "support_flows/snapshots/strict.py:186 negate: if type(written) is dict and type(derived) "
    "is dict -> if not (type(written) is dict and type(derived) is dict)": "message only: "
    "`differs` runs only on a record already found unequal to what its history replays to; the "
    "mutant compares the two whole and still finds them different, naming `$`, not the field",
    "support_flows/snapshots/strict.py:197 negate: if len(written) == len(derived) -> if not "
    "len(written) == len(derived)": "message only: `differs` runs only on a record already "
    "found unequal to its replay, which holds its history; the mutant takes that history, "
    "equal in length, for a difference, so a refusal is still made, naming another path",
    "support_flows/localtime.py:189 fold: fold=0 -> fold=1": "the two sides of `==` are naive "
    "datetimes, and Python ignores `fold` when it compares naive datetimes (PEP 495)",
    "support_flows/localtime.py:207 min/max: min(earlier, later) -> max(earlier, later)": "in "
    "every zone of the tz database (scanned over 1970-2069; the rules recur after), a DST gap "
    "over the midnight of a 1st begins exactly at that midnight, so the first instant of the day "
    "is the later reading, `max(earlier, later)`, where the search starting there also ends",
    "support_flows/localtime.py:211 boundary: dt.datetime.fromtimestamp(mid, tz).date() >= day "
    "-> dt.datetime.fromtimestamp(mid, tz).date() > day": "as for line 207: every gap over the "
    "midnight of a 1st begins at that midnight, so the day begins at the search's upper end, "
    "`max(earlier, later)`, the one second no date after `day` pushes the search past",
    "support_flows/localtime.py:247 first/last: starts[-1] -> starts[0]": "the fallback is never "
    "taken: `at` shows a date of the month before, and a clock shows such a date again after a "
    "beginning of the 1st only if it goes back across that midnight, which makes the next "
    "beginning one of `starts`; so some start is after `at`",
    "support_flows/localtime.py:311 boundary: len(this) > 1 -> len(this) >= 1": "only the fast "
    "path is lost: with None, is_next_month_start computes next_month_start exactly, which is "
    "`target` just when `previous <= at < target` where neither month begins twice",
    "support_flows/localtime.py:311 boundary: len(before) > 1 -> len(before) >= 1": "as for "
    "`len(this)`: None sends is_next_month_start to the exact computation, which gives the same "
    "answer as the fast path",
    "support_flows/localtime.py:313 first/last: before[0] -> before[-1]": "the line is reached "
    "only when `before` has one element (the line above returns None otherwise), so its first "
    "and its last are the same",
}
"""Mutants that cannot change what the library does, by `Mutant.describe()`, each with why (read
the mutant before adding one: a survivor is a gap of the verifier until shown otherwise)."""


def mutants(
    areas: Sequence[str] = tuple(AREAS), texts: dict[str, str] | None = None
) -> Iterator[tuple[Mutant, str]]:
    """Every mutant of `areas` with its mutated source, in a fixed order; `texts` stands in for
    the files' text (a test's own small module)."""
    for area in areas:
        paths, kinds = AREAS[area]
        for path in paths:
            text = (texts or {}).get(path)
            if text is None:
                text = (ROOT / path).read_text(encoding="utf-8")
            yield from file_mutants(area, path, kinds, text)


PER_AREA = 20
"""The fewest mutants a sample of 100 or more draws from an area (all of a smaller one)."""


def shares(sizes: dict[str, int], n: int) -> dict[str, int]:
    """How many of `n` mutants each area gives: the floor (`PER_AREA` when n >= 100, else one
    each when there are as many as areas), then the rest in proportion to what each area has
    left, largest remainders first."""
    n = min(n, sum(sizes.values()))
    floor = PER_AREA if n >= 100 else int(n >= len(sizes))
    given = {a: min(size, floor) for a, size in sizes.items()}
    while (rest := n - sum(given.values())) > 0:
        left = {a: sizes[a] - given[a] for a in sizes if sizes[a] > given[a]}
        total = sum(left.values())
        exact = {a: rest * c / total for a, c in left.items()}
        whole = {a: min(int(x), left[a]) for a, x in exact.items()}
        by_remainder = sorted(left, key=lambda a: (whole[a] - exact[a], list(sizes).index(a)))
        for a in by_remainder[: rest - sum(whole.values())]:
            whole[a] = min(whole[a] + 1, left[a])
        for a, c in whole.items():
            given[a] += c
    return given


def sample(
    todo: Sequence[tuple[Mutant, str]], n: int, seed: int, every: Sequence[str] = ()
) -> list[tuple[Mutant, str]]:
    """A stratified sample of `todo`: each area its share of `n` (`shares`), drawn with `seed`
    (each area by its own generator, so one area's draw does not move another's), plus every
    mutant of the areas in `every`; in `todo`'s order."""
    areas: dict[str, list[int]] = {}
    for position, (m, _) in enumerate(todo):
        areas.setdefault(m.area, []).append(position)
    quota = shares({a: len(p) for a, p in areas.items()}, n)
    chosen = {p for a in every for p in areas.get(a, ())}
    for area, positions in areas.items():
        chosen.update(random.Random(f"{seed}:{area}").sample(positions, quota[area]))
    return [todo[p] for p in sorted(chosen)]


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant | None  # None: the unmutated project
    verdict: str  # caught, survived, crashed, timeout
    seconds: float  # CPU time of verify (user + system of its process alone)
    wall: float  # elapsed time of verify (what the timeout measures)
    detail: str
    tests: str = ""  # with --tests, what the suite said of a mutant verify did not catch

    @property
    def described(self) -> str:
        return "the unmutated project" if self.mutant is None else self.mutant.describe()

    @property
    def equivalent(self) -> bool:
        return self.described in EQUIVALENT


def classify(returncode: int, stdout: str, stderr: str) -> tuple[str, str]:
    """The verdict on one run of `verify --json`, and what it named."""
    if returncode == 0:
        return "survived", ""
    try:
        reports = json.loads(stdout)
    except ValueError:
        reports = None
    if isinstance(reports, list):
        rules = [
            str(v.get("rule"))
            for r in reports
            if isinstance(r, dict)
            for v in r.get("violations", ())
            if isinstance(v, dict)
        ]
        if rules:
            return "caught", "violation " + ", ".join(dict.fromkeys(rules))
        if returncode == 1 and "verification_failed" in stderr:
            return "caught", "refused: " + " ".join(stderr.split())[:120]
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    return "crashed", (lines[-1].strip() if lines else f"exit {returncode}")[:160]


def _copy(into: Path) -> None:
    for name in tracked():
        if (ROOT / name).is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, target)


MACHINES = ("plan", "case", "consulting")
TRACER = """
import json, runpy, sys
out, files, argv = sys.argv[1], set(json.loads(sys.argv[2])), sys.argv[3:]
called = set()

def tracer(frame, event, arg):
    if frame.f_code.co_filename in files:
        called.add(frame.f_code)

sys.settrace(tracer)
sys.argv = ["support_flows", *argv]
try:
    runpy.run_module("support_flows", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
sys.settrace(None)
lines = {}
for code in called:
    numbers = [n for _, _, n in code.co_lines() if n is not None]
    if code.co_name != "<module>" and numbers:
        numbers = range(code.co_firstlineno, max(numbers) + 1)
    lines.setdefault(code.co_filename, set()).update(numbers)
with open(out, "w") as f:
    json.dump({k: sorted(v) for k, v in lines.items()}, f)
"""
"""Run in a copy of the project: verify on one machine, recording the lines of the mutated files
whose code it runs (a function's every line once it is called; at module level, the lines run)."""

FIRST = """
import json, runpy, sys
from support_flows.verify import explore

class Caught(BaseException):
    pass

kept = explore.Tracker.expect

def expect(self, verdict, where):
    if not kept(self, verdict, where):
        raise Caught(self.machine, verdict.rule, verdict.invariant)
    return True

explore.Tracker.expect = expect
sys.argv = ["support_flows", *sys.argv[1:]]
try:
    runpy.run_module("support_flows", run_name="__main__", alter_sys=True)
except Caught as caught:
    machine, rule, invariant = caught.args
    found = {"rule": rule, "invariant": invariant}
    print(json.dumps([{"machine": machine, "violations": [found]}]))
    sys.exit(1)
"""
"""Run in a copy of the project with `--first`: verify as the command line runs it, stopped at
the first check that fails (a finding, once made, stays in the report: the full run would
report it too)."""

Reach = dict[str, dict[str, frozenset[int]]]
"""Per machine, per mutated file (relative path), the lines its unmutated verify runs."""


def reach(paths: Sequence[str], verify_args: Sequence[str]) -> Reach:
    """Which lines of `paths` each machine's unmutated verify runs, traced once per machine
    (with the tracer on, a run costs a few times its usual CPU)."""
    found: Reach = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        _copy(copy)
        env = {**os.environ, "PYTHONPATH": str(copy), "HYPOTHESIS_PROFILE": "dev"}
        files = json.dumps([str(copy / path) for path in paths])
        for machine in MACHINES:
            out = Path(tmp) / f"{machine}.json"
            args = ["verify", "--json", *verify_args, "--machine", machine]
            command = [sys.executable, "-c", TRACER, str(out), files, *args]
            subprocess.run(command, cwd=copy, env=env, capture_output=True, check=False)
            traced = json.loads(out.read_text()) if out.exists() else {}
            found[machine] = {
                str(Path(name).relative_to(copy)): frozenset(lines)
                for name, lines in traced.items()
            }
    return found


def machines_for(mutant: Mutant, reached: Reach | None) -> tuple[str, ...]:
    """The machines whose unmutated verify runs the mutated line: only their runs can differ
    (a run is deterministic, and a line never run cannot change it); all without `reached`."""
    if reached is None:
        return MACHINES
    return tuple(m for m in MACHINES if mutant.line in reached[m].get(mutant.path, ()))


def run(
    mutant: Mutant | None,
    source: str,
    verify_args: Sequence[str],
    timeout: float | None,
    tests: bool,
    machines: Sequence[str] = MACHINES,
    first: bool = False,
) -> Outcome:
    """Plant `mutant` in a temporary copy and run verify there on `machines` (stopped at the
    first failed check, with `first`), and the suite, with `tests`, if verify did not catch
    it."""
    if mutant is not None and not machines:
        return Outcome(mutant, "survived", 0.0, 0.0, "no machine's verify runs this line")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        _copy(copy)
        if mutant is not None:
            (copy / mutant.path).write_text(source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy), "HYPOTHESIS_PROFILE": "dev"}
        start = ["-c", FIRST] if first else ["-m", "support_flows"]
        command = [sys.executable, *start, "verify", "--json", *verify_args]
        if tuple(machines) != MACHINES:
            command += [arg for m in machines for arg in ("--machine", m)]
        finished = timed(command, copy, env, timeout)
        if isinstance(finished, float):
            return Outcome(mutant, "timeout", finished, 0.0, f"no answer in {finished:.0f}s CPU")
        returncode, stdout, stderr, seconds, wall = finished
        verdict, detail = classify(returncode, stdout, stderr)
        said = _suite(copy, env) if tests and verdict != "caught" else ""
    return Outcome(mutant, verdict, seconds, wall, detail, said)


TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """The CPU seconds (user + system) process `pid` has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def timed(
    command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float | None
) -> tuple[int, str, str, float, float] | float:
    """Run `command`: its exit status, output, error output, CPU seconds (user + system, its
    own, whatever else runs beside it) and elapsed seconds; or, if it used more than `timeout`
    seconds of CPU, the CPU seconds it had used when it was killed. CPU time, not elapsed: on
    cores shared with other work a mutant waiting for one is not out of time."""
    out, err = cwd / ".verify.out", cwd / ".verify.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        started = time.monotonic()
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if timeout and (used := _cpu(child.pid)) > timeout:
                child.kill()
                os.wait4(child.pid, 0)
                child.returncode = -9
                return used
            time.sleep(0.05)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    seconds = usage.ru_utime + usage.ru_stime
    return child.returncode, out.read_text(), err.read_text(), seconds, wall


def _suite(copy: Path, env: dict[str, str]) -> str:
    """What the behaviour tests say of the mutant in `copy` (as tools/mutate_charts.py asks)."""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest, "-m", "not structure", *suite()],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return "tests miss it too"
    failed = [ln for ln in result.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return "tests catch it: " + (failed[0] if failed else f"exit {result.returncode}")


def score(outcomes: Sequence[Outcome]) -> tuple[int, int, int]:
    """Caught, counted (all but the equivalent) and equivalent."""
    equivalent = sum(o.equivalent for o in outcomes)
    counted = [o for o in outcomes if not o.equivalent]
    return sum(o.verdict == "caught" for o in counted), len(counted), equivalent


def table(outcomes: Sequence[Outcome]) -> str:
    lines = [f"{'area':<10} {'outcome':<9} {'CPU s':>6}  mutant  [what verify said]"]
    for o in outcomes:
        assert o.mutant is not None
        verdict = "equiv" if o.equivalent else o.verdict
        said = f"  [{o.detail}]" if o.detail else ""
        tests = f"  ({o.tests})" if o.tests else ""
        lines.append(
            f"{o.mutant.area:<10} {verdict:<9} {o.seconds:6.1f}  {o.mutant.describe()}{said}{tests}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=sorted(AREAS), action="append", default=[])
    parser.add_argument(
        "--match", action="append", default=[], help="only mutants whose description has TEXT"
    )
    parser.add_argument("--limit", type=int, default=0, help="run only the first N mutants")
    parser.add_argument(
        "--sample", type=int, default=0, help="a stratified sample of N mutants over the areas"
    )
    parser.add_argument("--seed", type=int, default=18, help="the sample's seed (default: 18)")
    parser.add_argument(
        "--every",
        choices=sorted(AREAS),
        action="append",
        default=[],
        help="with --sample, every mutant of AREA as well",
    )
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--tests", action="store_true", help="run the suite on what verify misses")
    parser.add_argument(
        "--verify-args", default="", help="more arguments for verify, e.g. '--depth 4'"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="CPU seconds per mutant (default: 5x the unmutated run's)",
    )
    parser.add_argument(
        "--first",
        action="store_true",
        help="stop each mutant's verify at its first failed check (caught: the full run would "
        "report it too)",
    )
    parser.add_argument(
        "--all-machines",
        action="store_true",
        help="run every machine on each mutant, not only those whose verify runs its line",
    )
    options = parser.parse_args(argv)
    areas = [a for a in AREAS if not options.only or a in options.only]
    todo = [
        (m, source)
        for m, source in mutants(areas)
        if not options.match or any(text in m.describe() for text in options.match)
    ]
    if options.sample:
        todo = sample(todo, options.sample, options.seed, options.every)
    if options.limit:
        todo = todo[: options.limit]
    if options.list:
        for n, (m, _) in enumerate(todo, 1):
            print(f"{n:4} {m.area:<10} {m.describe()}")
        counts = {a: sum(m.area == a for m, _ in todo) for a in areas}
        print(f"{len(todo)} mutants: " + ", ".join(f"{a} {c}" for a, c in counts.items()))
        return 0
    verify_args = shlex.split(options.verify_args)
    base = run(None, "", verify_args, None, tests=False)
    print(
        f"unmutated: verify {base.verdict}, {base.seconds:.1f}s CPU, {base.wall:.1f}s elapsed "
        f"{base.detail}".rstrip(),
        flush=True,
    )
    if base.verdict != "survived":
        print("verify must pass on the unmutated project before a mutant means anything")
        return 2
    timeout = options.timeout or 5 * base.seconds
    reached = None
    if not options.all_machines:
        reached = reach(sorted({m.path for m, _ in todo}), verify_args)
        print("machines per mutant: those whose unmutated verify runs the mutated line")
    print(
        f"{len(todo)} mutants, {options.jobs} at a time, timeout {timeout:.0f}s CPU each",
        flush=True,
    )
    outcomes: dict[int, Outcome] = {}
    for n, (m, _) in enumerate(todo):
        if m.describe() in EQUIVALENT:
            outcomes[n] = Outcome(m, "equivalent", 0.0, 0.0, "not run: " + EQUIVALENT[m.describe()])
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = {
            pool.submit(
                run,
                m,
                source,
                verify_args,
                timeout,
                options.tests,
                machines_for(m, reached),
                options.first,
            ): n
            for n, (m, source) in enumerate(todo)
            if n not in outcomes
        }
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            assert outcome.mutant is not None
            print(
                f"  {len(outcomes):4}/{len(todo)} {outcome.verdict:<8} {outcome.seconds:5.1f}s CPU "
                f"{outcome.mutant.describe()}  {outcome.detail}".rstrip(),
                file=sys.stderr,
                flush=True,
            )
    ordered = [outcomes[n] for n in range(len(todo))]
    print(table(ordered))
    caught, counted, equivalent = score(ordered)
    share = f"{100 * caught / counted:.1f}%" if counted else "-"
    missed = [o for o in ordered if o.verdict != "caught" and not o.equivalent]
    verdicts = {v: sum(o.verdict == v for o in missed) for v in ("survived", "crashed", "timeout")}
    print(
        f"\nscore: caught {caught} / ({len(ordered)} - {equivalent} equivalent) = {share}; "
        + ", ".join(f"{v} {c}" for v, c in verdicts.items())
    )
    wording = sum(EQUIVALENT.get(o.described, "").startswith("message only") for o in ordered)
    if wording:
        strict = f"{100 * caught / (counted + wording):.1f}%"
        print(
            f"  ({wording} of the equivalent change a message's wording only; counted as missed: "
            f"{caught} / {counted + wording} = {strict})"
        )
    for o in missed:
        print(f"  {o.verdict}: {o.described}  {o.detail}".rstrip())
    if ordered:
        cpu = sum(o.seconds for o in ordered) / len(ordered)
        wall = sum(o.wall for o in ordered) / len(ordered)
        print(
            f"one mutant: {cpu:.1f}s CPU, {wall:.1f}s elapsed on average ({options.jobs} at a time)"
        )
    return 0 if caught == counted else 1


if __name__ == "__main__":
    sys.exit(main())
