"""The verifier's own mutation score: how many planted bugs does `support-flows verify` catch?

Run it: `python tools/mutate_verify.py [--jobs 2] [--only AREA]... [--match TEXT]... [--limit N]
[--list] [--tests] [--verify-args "--depth 4"] [--timeout SECONDS]`.

It plants one mutation at a time, each in a temporary copy of the project, in four areas:

- guards (guards/plan.py, case.py, consulting.py, common.py; not registry.py, which holds the
  checks rather than being one): negate an `if`, move a comparison's boundary (< and <=,
  > and >=), return None first thing in a check, drop one clause of an `and`/`or`;
- actions (machines/plan_book.py, plan_billing.py, consulting_book.py): an integer off by one,
  the days or months handed to the calendar off by one, min and max swapped, one assignment to a
  field of the book dropped (outside `__init__`);
- localtime (localtime.py): an integer off by one (days, months, the gap's search), the days or
  months of a `timedelta` off by one, `fold=0` and `fold=1` swapped, min and max swapped (which
  end of a gap), the first and the last of the day's starts swapped, a comparison's boundary;
- restore (snapshots/plan_checks.py, plan_periods.py, consulting.py, strict.py,
  machines/plan_record.py, consulting_record.py): drop one check from an `or` chain (not a
  default such as `history or ()`), negate an `if`, return first thing in a check.

The mutants come from the AST: a NodeTransformer counts the places it could change, in source
order, and changes exactly the one asked for; a mutant whose compiled code is the original's (or
another mutant's) is skipped. The order is deterministic. For each mutant it runs
`python -m support_flows verify --json` (all three machines, default depth, plus `--verify-args`)
in the copy, with a timeout (5 times the elapsed time of the unmutated run, measured first,
unless `--timeout`), and classifies it:

- caught: verify reports a violation, or refuses (exit 1, U1) because a state, transition,
  reason or rule is no longer covered;
- survived: exit 0;
- crashed: verify stopped on a traceback without a report: not counted as caught (no user
  reads a rule from a traceback), listed so each one can be looked at;
- timeout: no answer in time: not caught.

The score is caught / (total - equivalent), the equivalent mutants being those of EQUIVALENT
below, each with the reason it cannot change behaviour. With `--tests`, each mutant verify does
not catch is also run against the test suite (behaviour tests, as tools/mutate_charts.py does),
to compare with what the tests catch. The exit status is 1 if any mutant was not caught.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mutate_charts import ORDER, ROOT, TRACKED

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
    "support_flows/guards/plan.py:81 boundary: RANK[chosen] > RANK[current] -> "
    "RANK[chosen] >= RANK[current]": "RANK gives each tier its own rank, and a chosen tier that "
    "is the current one has returned SAME on the line before: the ranks are never equal here",
}
"""Mutants that cannot change what the library does, by `Mutant.describe()`, each with why (read
the mutant before adding one: a survivor is a gap of the verifier until shown otherwise)."""

CALENDAR = frozenset({"add_wall_days", "add_wall_months_clamped", "hours_later", "expiry_for"})
"""Calls whose second argument is a count of days, months or hours ("shift" adds one to it)."""
SPANS = frozenset({"days", "months", "hours", "weeks"})
"""Keyword arguments that are a count of days, months or hours (`timedelta(days=...)`)."""
BOUNDARY: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
}


@dataclass(frozen=True)
class Mutant:
    area: str
    path: str
    line: int
    kind: str
    before: str
    after: str
    index: int  # which place of the file the planter changes, in source order

    def describe(self) -> str:
        return f"{self.path}:{self.line} {self.kind}: {self.before} -> {self.after}"


def _short(node: ast.AST, width: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _is_int(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant) and type(node.value) is int  # a bool is not a count
    )


def _plus_one(node: ast.expr) -> ast.expr:
    return ast.BinOp(left=node, op=ast.Add(), right=ast.Constant(1))


def _nudged(node: ast.Constant) -> ast.Constant:
    """An integer one off: one less if positive, one more otherwise."""
    value = node.value
    assert type(value) is int
    return ast.Constant(value - 1 if value > 0 else value + 1)


def _negated(test: ast.expr) -> ast.expr:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    return ast.UnaryOp(op=ast.Not(), operand=test)


def _docstring_length(body: Sequence[ast.stmt]) -> int:
    first = body[0] if body else None
    is_doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return 1 if is_doc else 0


def _may_return_none(fn: ast.FunctionDef) -> bool:
    """`-> X | None` (a check: None means it passes)."""
    returns = fn.returns
    if returns is None:
        return False
    text = returns.value if isinstance(returns, ast.Constant) else ast.unparse(returns)
    return isinstance(text, str) and text.replace(" ", "").endswith("|None")


def _raises(fn: ast.FunctionDef) -> bool:
    """`-> None` with a `raise` of its own: a check that refuses by raising."""
    returns = fn.returns
    none = isinstance(returns, ast.Constant) and returns.value in (None, "None")
    return none and any(isinstance(n, ast.Raise) for n in ast.walk(fn))


class Planter(ast.NodeTransformer):
    """Counts the places `kinds` can change, in source order (children before their parent);
    with a `target`, changes that place only."""

    def __init__(self, kinds: frozenset[str], target: int | None = None) -> None:
        self.kinds = kinds
        self.target = target
        self.places: list[tuple[int, str, str, str]] = []  # line, kind, before, after
        self.function: str | None = None

    def _offer(
        self,
        kind: str,
        node: ast.AST,
        new: ast.AST,
        before: str | None = None,
        after: str | None = None,
    ) -> ast.AST:
        if kind not in self.kinds:
            return node
        index = len(self.places)
        shown_after = after if after is not None else _short(new)
        self.places.append((getattr(node, "lineno", 0), kind, before or _short(node), shown_after))
        if index != self.target:
            return node
        return ast.copy_location(new, node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer
        returned = ast.Constant(None) if _may_return_none(node) else None
        if node.name == "__init__" or (returned is None and not _raises(node)):
            return node
        skip = _docstring_length(node.body)
        early = ast.Return(value=returned)
        body = [*node.body[:skip], early, *node.body[skip:]]
        new = ast.FunctionDef(
            name=node.name,
            args=node.args,
            body=body,
            decorator_list=node.decorator_list,
            returns=node.returns,
            type_comment=node.type_comment,
        )
        first = "return None" if returned is not None else "return"
        return self._offer("return None", node, new, f"def {node.name}", f"{first} first")

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        negated = _negated(node.test)
        new = ast.If(test=negated, body=node.body, orelse=node.orelse)
        return self._offer("negate", node, new, f"if {_short(node.test)}", f"if {_short(negated)}")

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        new = ast.IfExp(test=_negated(node.test), body=node.body, orelse=node.orelse)
        return self._offer("negate", node, new)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        word = "or" if isinstance(node.op, ast.Or) else "and"
        # A default (`history or ()`) is no clause of a condition.
        if any(isinstance(v, ast.Constant | ast.Tuple | ast.List | ast.Dict) for v in node.values):
            return node
        # "drop check" takes one check out of an `or` chain only; "drop clause" any clause.
        kind = "drop clause" if "drop clause" in self.kinds or word == "and" else "drop check"
        for dropped in range(len(node.values)):
            rest = [v for n, v in enumerate(node.values) if n != dropped]
            new = rest[0] if len(rest) == 1 else ast.BoolOp(op=node.op, values=rest)
            shown = f"drop the {word} clause `{_short(node.values[dropped], 40)}`"
            result = self._offer(kind, node, new, after=shown)
            if result is not node:
                return result
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for n, op in enumerate(node.ops):
            if type(op) in BOUNDARY:
                ops = [*node.ops[:n], BOUNDARY[type(op)](), *node.ops[n + 1 :]]
                new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
                result = self._offer("boundary", node, new)
                if result is not node:
                    return result
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return node  # an integer one off in an order is the boundary moved
        values = [node.left, *node.comparators]
        for n, operand in enumerate(values):
            if isinstance(operand, ast.Constant) and _is_int(operand):
                changed = [*values[:n], _nudged(operand), *values[n + 1 :]]
                new = ast.Compare(left=changed[0], ops=node.ops, comparators=changed[1:])
                result = self._offer("off by one", node, new)
                if result is not node:
                    return result
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        for side in ("left", "right"):
            operand = getattr(node, side)
            if _is_int(operand):
                parts = {"left": node.left, "right": node.right, side: _nudged(operand)}
                new = ast.BinOp(left=parts["left"], op=node.op, right=parts["right"])
                result = self._offer("off by one", node, new)
                if result is not node:
                    return result
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if _is_int(node.value):
            assert isinstance(node.value, ast.Constant)
            new = ast.AugAssign(target=node.target, op=node.op, value=_nudged(node.value))
            result = self._offer("off by one", node, new)
            if result is not node:
                return result
        if self._field(node.target):
            return self._offer("drop assignment", node, ast.Pass(), after="pass")
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if all(self._field(t) for t in node.targets):
            return self._offer("drop assignment", node, ast.Pass(), after="pass")
        return node

    def _field(self, target: ast.expr) -> bool:
        """`self.name`, outside `__init__` (there every field must be set)."""
        return (
            self.function not in (None, "__init__")
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        )

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in ("min", "max"):
            other = ast.Name(id="max" if name == "min" else "min", ctx=ast.Load())
            result = self._offer("min/max", node, ast.Call(other, node.args, node.keywords))
            if result is not node:
                return result
        called = node.func.attr if isinstance(node.func, ast.Attribute) else name
        if called in CALENDAR and len(node.args) >= 2:
            args = [node.args[0], _plus_one(node.args[1]), *node.args[2:]]
            result = self._offer("shift", node, ast.Call(node.func, args, node.keywords))
            if result is not node:
                return result
        for n, keyword in enumerate(node.keywords):
            value = keyword.value
            if keyword.arg in SPANS and not _is_int(value):
                changed = ast.keyword(arg=keyword.arg, value=_plus_one(value))
                kind = "shift"
            elif (
                keyword.arg == "fold" and isinstance(value, ast.Constant) and value.value in (0, 1)
            ):
                changed = ast.keyword(arg="fold", value=ast.Constant(1 - value.value))
                kind = "fold"
            else:
                continue
            keywords = [*node.keywords[:n], changed, *node.keywords[n + 1 :]]
            new = ast.Call(node.func, node.args, keywords)
            result = self._offer(kind, node, new, _short(keyword), _short(changed))
            if result is not node:
                return result
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        index = node.slice
        first = _is_int(index) and isinstance(index, ast.Constant) and index.value == 0
        last = (
            isinstance(index, ast.UnaryOp)
            and isinstance(index.op, ast.USub)
            and isinstance(index.operand, ast.Constant)
            and index.operand.value == 1
        )
        if not (first or last):
            return node
        other: ast.expr = (
            ast.UnaryOp(op=ast.USub(), operand=ast.Constant(1)) if first else ast.Constant(0)
        )
        return self._offer("first/last", node, ast.Subscript(node.value, other, node.ctx))


def fingerprint(code: types.CodeType) -> tuple[object, ...]:
    """What a code object does, without where its lines are."""
    consts = tuple(
        fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, consts)


def compiled_as(source: str, path: str) -> tuple[object, ...]:
    return fingerprint(compile(source, path, "exec", dont_inherit=True))


def plant(path: str, kinds: frozenset[str], index: int, text: str | None = None) -> str:
    """The source of `path` with its place number `index` changed."""
    text = (ROOT / path).read_text(encoding="utf-8") if text is None else text
    planter = Planter(kinds, index)
    tree = ast.fix_missing_locations(planter.visit(ast.parse(text)))
    return ast.unparse(tree) + "\n"


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
            counter = Planter(kinds)
            counter.visit(ast.parse(text))
            seen = {compiled_as(ast.unparse(ast.parse(text)), path)}
            for index, (line, kind, before, after) in enumerate(counter.places):
                source = plant(path, kinds, index, text)
                compiled = compiled_as(source, path)
                if compiled in seen:  # the original's code, or another mutant's
                    continue
                seen.add(compiled)
                yield Mutant(area, path, line, kind, before, after, index), source


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant | None  # None: the unmutated project
    verdict: str  # caught, survived, crashed, timeout
    seconds: float  # CPU time of verify (user + system of its process alone)
    wall: float  # elapsed time of verify (what the timeout measures)
    detail: str
    tests: str = ""  # with --tests, what the suite said of a mutant verify did not catch


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
    for name in TRACKED:
        if (ROOT / name).is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, target)


def run(
    mutant: Mutant | None,
    source: str,
    verify_args: Sequence[str],
    timeout: float | None,
    tests: bool,
) -> Outcome:
    """Plant `mutant` in a temporary copy and run verify there (and the suite, with `tests`, if
    verify did not catch it)."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        _copy(copy)
        if mutant is not None:
            (copy / mutant.path).write_text(source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy), "HYPOTHESIS_PROFILE": "dev"}
        command = [sys.executable, "-m", "support_flows", "verify", "--json", *verify_args]
        finished = timed(command, copy, env, timeout)
        if finished is None:
            wall = timeout or 0.0
            return Outcome(mutant, "timeout", 0.0, wall, f"no answer in {wall:.0f}s")
        returncode, stdout, stderr, seconds, wall = finished
        verdict, detail = classify(returncode, stdout, stderr)
        said = _suite(copy, env) if tests and verdict != "caught" else ""
    return Outcome(mutant, verdict, seconds, wall, detail, said)


def timed(
    command: Sequence[str], cwd: Path, env: dict[str, str], timeout: float | None
) -> tuple[int, str, str, float, float] | None:
    """Run `command`: its exit status, output, error output, CPU seconds (user + system, its
    own, whatever else runs beside it) and elapsed seconds; None if it ran out of time (it is
    killed)."""
    out, err = cwd / ".verify.out", cwd / ".verify.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        started = time.monotonic()
        deadline = started + timeout if timeout else None
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                child.returncode = -9
                return None
            time.sleep(0.05)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    seconds = usage.ru_utime + usage.ru_stime
    return child.returncode, out.read_text(), err.read_text(), seconds, wall


def _suite(copy: Path, env: dict[str, str]) -> str:
    """What the behaviour tests say of the mutant in `copy` (as tools/mutate_charts.py asks)."""
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest, "-m", "not structure", *ORDER],
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
    equivalent = sum(
        1 for o in outcomes if o.mutant is not None and o.mutant.describe() in EQUIVALENT
    )
    counted = [o for o in outcomes if o.mutant is None or o.mutant.describe() not in EQUIVALENT]
    return sum(o.verdict == "caught" for o in counted), len(counted), equivalent


def table(outcomes: Sequence[Outcome]) -> str:
    lines = [f"{'area':<10} {'outcome':<9} {'CPU s':>6}  mutant  [what verify said]"]
    for o in outcomes:
        assert o.mutant is not None
        verdict = "equiv" if o.mutant.describe() in EQUIVALENT else o.verdict
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
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--tests", action="store_true", help="run the suite on the survivors")
    parser.add_argument(
        "--verify-args", default="", help="more arguments for verify, e.g. '--depth 4'"
    )
    parser.add_argument(
        "--timeout", type=float, default=0, help="seconds per mutant (default: 5x unmutated)"
    )
    options = parser.parse_args(argv)
    areas = [a for a in AREAS if not options.only or a in options.only]
    todo = [
        (m, source)
        for m, source in mutants(areas)
        if not options.match or any(text in m.describe() for text in options.match)
    ]
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
        f"{base.detail}".rstrip()
    )
    if base.verdict != "survived":
        print("verify must pass on the unmutated project before a mutant means anything")
        return 2
    # Elapsed time, measured under the same load as the mutants (CPU time would time out a
    # mutant that only waited for a core).
    timeout = options.timeout or 5 * base.wall
    print(f"{len(todo)} mutants, {options.jobs} at a time, timeout {timeout:.0f}s each", flush=True)
    outcomes: dict[int, Outcome] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = {
            pool.submit(run, m, source, verify_args, timeout, options.tests): n
            for n, (m, source) in enumerate(todo)
        }
        for future in concurrent.futures.as_completed(futures):
            outcome = future.result()
            outcomes[futures[future]] = outcome
            assert outcome.mutant is not None
            print(
                f"  {len(outcomes):4}/{len(todo)} {outcome.verdict:<8} {outcome.seconds:5.1f}s CPU "
                f"{outcome.mutant.describe()}",
                file=sys.stderr,
                flush=True,
            )
    ordered = [outcomes[n] for n in range(len(todo))]
    print(table(ordered))
    caught, counted, equivalent = score(ordered)
    share = f"{100 * caught / counted:.1f}%" if counted else "-"
    verdicts = {v: sum(o.verdict == v for o in ordered) for v in ("survived", "crashed", "timeout")}
    print(
        f"\nscore: caught {caught} / ({len(ordered)} - {equivalent} equivalent) = {share}; "
        + ", ".join(f"{v} {c}" for v, c in verdicts.items())
    )
    if ordered:
        cpu = sum(o.seconds for o in ordered) / len(ordered)
        wall = sum(o.wall for o in ordered) / len(ordered)
        print(
            f"one mutant: {cpu:.1f}s CPU, {wall:.1f}s elapsed on average ({options.jobs} at a time)"
        )
    return 0 if caught == counted else 1


if __name__ == "__main__":
    sys.exit(main())
