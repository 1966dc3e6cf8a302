"""How fast the command line starts and the package imports, beside their floors (issue 20).

Run it: `python benchmarks/bench_cli.py [--rounds N] [--against CHECKOUT]`.

Each row is a fresh interpreter (`subprocess`), timed wall-clock, the best of `rounds` runs; the
rows run in turns, one run of each per round, so a machine that slows down mid-run weighs on all
alike. The floors are measured in the same run:

- `support-flows --help` against a bare click group with as many commands printing its help;
- `import support_flows` against importing its runtime dependencies (python-statemachine,
  attrs, cattrs, pendulum, click); and, so that the lazy import hides nothing, importing the
  package and reading every public name (what a host that uses everything pays) against the
  same floor.

Ratios are printed as measured (interpreter start included, as a user waits for it) and net of
an empty interpreter's start. Every run's output is checked: the help lists every command, each
import prints what it was asked to. `--against CHECKOUT` times the same rows on another checkout
(say the main branch) in the same rounds, for before/after figures. No test depends on these
figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("diagram", "explain", "outbox", "review", "rollover", "timeline", "verify")

BARE_GROUP = f"""
import click

@click.group()
def main():
    "A bare click group."

for name in {COMMANDS!r}:
    main.command(name)(lambda: None).help = "A command with one line of help."
main(["--help"], prog_name="bare")
"""

HELP = """
from support_flows.cli import main
main(["--help"], prog_name="support-flows")
"""

DEPENDENCIES = "import statemachine, attrs, cattrs, pendulum, click; print('imported')"
IMPORT = "import support_flows; print('imported')"
IMPORT_ALL = (
    "import support_flows as sf\nprint(len([getattr(sf, name) for name in sf.__all__]), 'names')"
)
EMPTY = "print('imported')"


def _lists_commands(output: str) -> bool:
    return all(f"\n  {name} " in output for name in COMMANDS)


def _imported(output: str) -> bool:
    return output.strip() == "imported"


def _all_names(output: str) -> bool:
    return output.strip().endswith(" names") and int(output.split()[0]) > 40


class Row:
    """One command line to time, where to run it, and how to check what it printed."""

    def __init__(
        self, label: str, code: str, check: Callable[[str], bool], path: Path | None
    ) -> None:
        self.label, self.code, self.check, self.path = label, code, check, path
        self.best = float("inf")

    def run(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        if self.path is not None:
            env["PYTHONPATH"] = str(self.path)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", self.code],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.path or ROOT,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or not self.check(done.stdout):
            raise SystemExit(f"{self.label}: unexpected result\n{done.stdout}\n{done.stderr}")
        self.best = min(self.best, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--against", type=Path, default=None, help="Another checkout to time.")
    options = parser.parse_args()

    checkouts = [("this", ROOT)] + ([("against", options.against)] if options.against else [])
    floors = {
        "empty": Row("python -c pass", EMPTY, _imported, None),
        "bare": Row("bare click group --help", BARE_GROUP, _lists_commands, None),
        "deps": Row("import its dependencies", DEPENDENCIES, _imported, None),
    }
    rows: dict[tuple[str, str], Row] = {}
    for name, path in checkouts:
        rows[name, "help"] = Row(f"support-flows --help ({name})", HELP, _lists_commands, path)
        rows[name, "import"] = Row(f"import support_flows ({name})", IMPORT, _imported, path)
        rows[name, "all"] = Row(
            f"import + every public name ({name})", IMPORT_ALL, _all_names, path
        )
    everything = [*floors.values(), *rows.values()]
    for _ in range(options.rounds):
        for row in everything:
            row.run()

    empty = floors["empty"].best
    print(f"best of {options.rounds} runs, wall-clock ms; python -c pass: {empty * 1e3:.0f} ms")
    print(f"{'':44} {'ms':>7} {'floor ms':>9} {'ratio':>6} {'net ratio':>10} {'target':>7}")
    for (_, kind), row in rows.items():
        floor, target = (floors["bare"], 3.0) if kind == "help" else (floors["deps"], 1.2)
        ratio = row.best / floor.best
        margin = floor.best - empty
        net = f"{(row.best - empty) / margin:10.2f}" if margin > 0.005 else f"{'-':>10}"
        print(
            f"{row.label:44} {row.best * 1e3:7.0f} {floor.best * 1e3:9.0f} {ratio:6.2f}"
            f" {net} {'<=' + str(target):>7}"
        )
    print(f"floors: {floors['bare'].label}, {floors['deps'].label}")


if __name__ == "__main__":
    main()
