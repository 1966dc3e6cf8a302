"""Mutation testing of the chart declarations: does some behaviour test catch every mutated edge?

Run it: `python tools/mutate_charts.py [--jobs 2] [--only plan|case|consulting] [--match TEXT]...
[--limit N]`.

For each chart module (machines/plan_chart.py, case_chart.py, consulting_chart.py) it rewrites
one `edge(...)` of the chart class at a time, in a temporary copy of the project:

- drop one guard from the edge's `unless`,
- add one registered check of the same machine that the edge does not carry,
- retarget the edge to another state of the chart,
- drop one action from the edge's `on`,

and drops one check at a time from the chart's `refusals_without_edge` (what explains an event
with no edge from the state, such as cancelling a session that has always started). Then it
runs the test suite with the structural pins deselected (`-m "not structure"`: tables and
declared-guard lists, which would catch every mutation trivially) and stops at the first failure.
A mutation is caught when some behaviour test fails (a definition-time error counts too: the chart
refuses to load). It prints a line per mutation and a summary; the exit status is 1 if any
mutation survived.

A first run of the suite with tools/edge_recorder.py records, for each edge selected, which checks
would refuse there, which edges were taken, and which explanations failed for events with no
edge. Mutations no test of the suite can tell apart are listed instead of run: a guard added or
dropped where it never fails in the suite, an action dropped from an edge the suite never takes,
an explanation dropped that never fails in the suite. Each is impossible (the guard cannot fail
there, the edge cannot be taken) or a missing test; the list says which mutations to look at.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TRACKED = [
    name
    for name in subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    if (ROOT / name).is_file()
]
"""The project's committed files (as they are in the work tree): the copy each mutation runs in."""

FIRST = ("tests/test_plan", "tests/test_case", "tests/test_consulting", "tests/test_engines")
ORDER = sorted(
    (n for n in TRACKED if n.startswith("tests/test_") and n.endswith(".py")),
    key=lambda n: (not n.startswith(FIRST), n),
)
"""Every test file, the rule engine's own first, so a caught mutation stops early."""

EQUIVALENT: list[str] = []
"""Added guards that never fail where their edge is taken in the suite: no test can tell."""
UNOBSERVABLE: list[str] = []
"""Dropped guards that never fail where their edge is selected in the suite, and dropped actions
of edges the suite never takes: no test of the suite can tell. Listed, because each is either
impossible (the guard cannot fail there, the edge cannot be taken) or a test that is missing."""

CHARTS = {
    "plan": ("support_flows/machines/plan_chart.py", "PlanChart"),
    "case": ("support_flows/machines/case_chart.py", "CaseChart"),
    "consulting": ("support_flows/machines/consulting_chart.py", "ConsultingChart"),
}


@dataclass(frozen=True)
class Mutation:
    chart: str
    kind: str
    edge: str
    change: str
    index: int  # which edge(...) call of the class body (or group of refusals), in source order
    source: str  # the mutated module source

    def describe(self) -> str:
        return f"{self.chart}: {self.kind} on {self.edge}: {self.change}"


def _names(node: ast.expr, module: ast.Module) -> list[str]:
    """The names in a guard list literal, or in the module-level list a name refers to."""
    if isinstance(node, ast.List):
        return [ast.unparse(e) for e in node.elts]
    if isinstance(node, ast.Name):
        for stmt in module.body:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
                and isinstance(stmt.value, ast.List)
            ):
                return [ast.unparse(e) for e in stmt.value.elts]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [repr(node.value)]
    raise ValueError(f"cannot read the list {ast.unparse(node)}")


def _edge_calls(cls: ast.ClassDef) -> Iterator[tuple[str, ast.Call]]:
    for stmt in cls.body:
        if not isinstance(stmt, ast.Assign) or not isinstance(stmt.targets[0], ast.Name):
            continue
        event = stmt.targets[0].id
        for node in ast.walk(stmt.value):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "edge":
                yield event, node


def _groups(cls: ast.ClassDef, module: ast.Module) -> tuple[ast.Tuple | None, list[list[str]]]:
    """The class's `refusals_without_edge` tuple and the check names of each of its groups
    (a tuple of names, or `tuple(LIST)` of a module-level list)."""
    for stmt in cls.body:
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "refusals_without_edge"
            and isinstance(stmt.value, ast.Tuple)
        ):
            groups = []
            for group in stmt.value.elts:
                if isinstance(group, ast.Call) and ast.unparse(group.func) == "tuple":
                    groups.append(_names(group.args[0], module))
                elif isinstance(group, ast.Tuple):
                    groups.append([ast.unparse(e) for e in group.elts])
                else:
                    raise ValueError(f"cannot read the group {ast.unparse(group)}")
            return stmt.value, groups
    return None, []


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def record_failing_checks(python: str) -> tuple[dict[str, set[str]], set[str]]:
    """Run the suite once with the edge recorder: for each edge selected, the checks that fail
    there; and the edges taken."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "edges.json"
        tests = [name for name in TRACKED if name.startswith("tests/") and name.endswith(".py")]
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tools")]),
            "EDGE_RECORD": str(out),
            "HYPOTHESIS_PROFILE": "dev",
        }
        subprocess.run(
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "edge_recorder", *tests],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=False,
        )
        recorded = json.loads(out.read_text(encoding="utf-8"))
        return {k: set(v) for k, v in recorded["failing"].items()}, set(recorded["taken"])


def mutations(chart: str, failing: dict[str, set[str]], taken: set[str]) -> Iterator[Mutation]:
    path, class_name = CHARTS[chart]
    text = (ROOT / path).read_text(encoding="utf-8")
    module_name = path.removesuffix(".py").replace("/", ".")
    module = importlib.import_module(module_name)
    chart_class = getattr(module, class_name)
    registry = chart_class.registry
    states = [s.id for s in chart_class.states]

    def variants() -> Iterator[tuple[str, str, str, int, tuple[str, Any]]]:
        tree = ast.parse(text)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
        for index, (event, call) in enumerate(_edge_calls(cls)):
            source = ast.unparse(call.args[0])
            target = ast.unparse(call.args[1]) if len(call.args) > 1 else source
            label = f"{event} {source}->{target}"
            unless = _keyword(call, "unless")
            guards = _names(unless.value, tree) if unless else []
            key = f"{class_name} {event} {source}->{target}"
            for guard in guards:
                if guard not in failing.get(key, ()):
                    UNOBSERVABLE.append(f"{chart}: drop guard on {label}: {guard}")
                    continue
                yield (
                    "drop guard",
                    label,
                    guard,
                    index,
                    ("unless", [g for g in guards if g != guard]),
                )
            for check in registry.checks:
                if check in guards:
                    continue
                if check not in failing.get(key, ()):
                    EQUIVALENT.append(f"{chart}: add guard on {label}: {check}")
                    continue
                yield "add guard", label, check, index, ("unless", [*guards, check])
            for other in states:
                if other != target:
                    yield "retarget", label, f"-> {other}", index, ("target", other)
            on = _keyword(call, "on")
            actions = _names(on.value, tree) if on else []
            for act in actions:
                name = act.strip("'\"")
                if key not in taken:
                    UNOBSERVABLE.append(f"{chart}: drop action on {label}: {name}")
                    continue
                yield "drop action", label, name, index, ("on", [a for a in actions if a != act])
        for index, group in enumerate(_groups(cls, tree)[1]):
            label = f"refusals without an edge, group {index + 1}"
            for check in group:
                if check not in failing.get(f"{class_name} without edge {index}", ()):
                    UNOBSERVABLE.append(f"{chart}: drop explanation from {label}: {check}")
                    continue
                rest = [c for c in group if c != check]
                yield "drop explanation", label, check, index, ("group", rest)

    for kind, label, change, index, (field, value) in variants():
        tree = ast.parse(text)
        cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
        if field == "group":
            found, _ = _groups(cls, tree)
            assert found is not None
            elements = [ast.parse(v, mode="eval").body for v in value]
            found.elts[index] = ast.Tuple(elts=elements, ctx=ast.Load())
            yield Mutation(chart, kind, label, change, index, ast.unparse(tree) + "\n")
            continue
        call = list(_edge_calls(cls))[index][1]
        if field == "target":
            if len(call.args) > 1:
                call.args[1] = ast.Name(id=value, ctx=ast.Load())
            else:
                call.args.append(ast.Name(id=value, ctx=ast.Load()))
        else:
            elements = [ast.parse(v, mode="eval").body for v in value]
            new = ast.List(elts=elements, ctx=ast.Load())
            keyword = _keyword(call, field)
            if keyword is None:
                call.keywords.append(ast.keyword(arg=field, value=new))
            else:
                keyword.value = new
        yield Mutation(chart, kind, label, change, index, ast.unparse(tree) + "\n")


def run(mutation: Mutation, python: str) -> tuple[Mutation, bool, float, str]:
    """Apply `mutation` in a temporary copy and run the behaviour tests; True when caught."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        for name in TRACKED:
            if not (ROOT / name).is_file():  # removed from the work tree since the run began
                continue
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, target)
        (copy / CHARTS[mutation.chart][0]).write_text(mutation.source, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(copy), "HYPOTHESIS_PROFILE": "dev"}
        result = subprocess.run(
            [
                python,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-m",
                "not structure",
                *ORDER,
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return mutation, result.returncode != 0, time.perf_counter() - started, " ".join(lines[:1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=sorted(CHARTS))
    parser.add_argument(
        "--match", action="append", default=[], help="run only mutations whose line has TEXT"
    )
    parser.add_argument("--limit", type=int, default=0, help="run only the first N mutations")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    failing, taken = record_failing_checks(sys.executable)
    todo = [
        m
        for chart in CHARTS
        if options.only in (None, chart)
        for m in mutations(chart, failing, taken)
        if not options.match or any(text in m.describe() for text in options.match)
    ]
    if options.limit:
        todo = todo[: options.limit]
    print(
        f"{len(todo)} mutations of the chart edges and refusals without an edge; behaviour tests "
        "only (-m 'not structure')"
    )
    caught = 0
    survivors: list[Mutation] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        futures = [pool.submit(run, m, sys.executable) for m in todo]
        for future in concurrent.futures.as_completed(futures):
            mutation, killed, seconds, first = future.result()
            caught += killed
            if not killed:
                survivors.append(mutation)
            verdict = "caught  " if killed else "SURVIVED"
            print(f"{verdict} {seconds:5.1f}s  {mutation.describe()}  {first}", flush=True)
    print(f"\ncaught {caught} of {len(todo)} mutations")
    print(
        f"{len(EQUIVALENT)} added guards were not run: each never fails where its edge is taken "
        "in the suite (an equivalent mutation), e.g. contact_sales on an edge selected only for "
        "developer or premium"
    )
    print(
        f"{len(UNOBSERVABLE)} dropped guards, actions or explanations were not run: the guard or"
        " explanation never fails where it is asked in the suite, or the suite never takes the"
        " edge; each is impossible or a missing test:"
    )
    for line in UNOBSERVABLE:
        print(f"  not run: {line}")
    for mutation in survivors:
        print(f"  survived: {mutation.describe()}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
