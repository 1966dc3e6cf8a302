"""What importing the package and starting the command line load (issue 20): the public names
stay importable exactly as DESIGN.md lists them, while `import support_flows` and
`support-flows --help` load no machine, store, verifier or diagram until one is used. The
timings are printed by benchmarks/bench_cli.py; these tests pin which modules load."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import support_flows as sf

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(sf.__file__).parent
LAZY_PACKAGES = ("support_flows", "support_flows.verify", "support_flows.store")

HEAVY = (
    "sqlalchemy",
    "psycopg",
    "statemachine",
    "support_flows.machines",
    "support_flows.diagrams",
    "support_flows.verify.runs",
    "support_flows.store.store",
    "support_flows.review",
)


def _init(package: str) -> Path:
    return PACKAGE.joinpath(*package.split(".")[1:], "__init__.py")


def _type_checking_imports(tree: ast.Module) -> set[tuple[str, str, str]]:
    """(module, name, public name) of every import under ``if TYPE_CHECKING:``."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for child in node.body:
                assert isinstance(child, ast.ImportFrom)
                assert child.module
                found |= {(child.module, a.name, a.asname or a.name) for a in child.names}
    return found


def _lazy_table(tree: ast.Module) -> set[tuple[str, str, str]]:
    """(module, name, public name) of the table given to `lazy_exports`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "lazy_exports":
            table = ast.literal_eval(node.args[1])
            return {
                (module, *(lambda o, a: (o, a or o))(*entry.partition(" as ")[::2]))
                for module, entries in table.items()
                for entry in entries
            }
    raise AssertionError("no lazy_exports table")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "", "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_table_is_the_type_checking_imports_and_all(package: str) -> None:
    """A lazy package's table names exactly what its TYPE_CHECKING imports and __all__ name."""
    tree = ast.parse(_init(package).read_text(encoding="utf-8"))
    table = _lazy_table(tree)
    assert table == _type_checking_imports(tree)
    assert sorted(public for _, _, public in table) == sorted(
        importlib.import_module(package).__all__
    )


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_is_the_object_its_module_defines(package: str) -> None:
    """Each name of a lazy package's __all__ reads (and from-imports) as its module's object,
    and shows in dir()."""
    module = importlib.import_module(package)
    tree = ast.parse(_init(package).read_text(encoding="utf-8"))
    for source, name, public in _lazy_table(tree):
        assert getattr(module, public) is getattr(importlib.import_module(source), name)
        assert public in dir(module)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_optional_submodules_still_import_by_name() -> None:
    """`from support_flows import bulk, diagrams, verify, testing` works as DESIGN.md says."""
    from support_flows import bulk, diagrams, testing, verify

    assert callable(bulk.apply_due)
    assert callable(diagrams.render)
    assert callable(verify.run)
    assert callable(testing.plan_actions)


def _loaded_after(code: str) -> list[str]:
    result = _run(f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.splitlines()[-1]))


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_import_loads_no_machine_store_or_verifier() -> None:
    """`import support_flows` loads none of the machines, the store, the verifier, the diagrams
    or python-statemachine: each loads when a name that needs it is first read."""
    assert _heavy(_loaded_after("import support_flows")) == []
    touched = _loaded_after("import support_flows as sf\nsf.SupportPlan")
    assert "support_flows.machines.plan" in touched
    assert "sqlalchemy" not in touched


def test_help_loads_no_store_verifier_or_machines() -> None:
    """`support-flows --help` lists every command without loading SQLAlchemy, the machines, the
    verifier's explorers or the diagrams."""
    code = (
        "from support_flows.cli import main\n"
        "try:\n    main(['--help'], prog_name='support-flows')\n"
        "except SystemExit as done:\n    assert done.code == 0\n"
    )
    loaded = _loaded_after(code)
    assert _heavy(loaded) == []
    shown = _run(code).stdout
    for command in ("diagram", "explain", "outbox", "review", "rollover", "timeline", "verify"):
        assert f"\n  {command} " in shown


SENTENCE = (
    r"needs the support-flows extra '(?P<extra>\w+)' \('[\w-]+' is not installed\): "
    r"pip install 'support-flows\[(?P=extra)\]'$"
)


def test_import_store_without_sqlalchemy_names_the_store_extra() -> None:
    """U1: `import support_flows.store` without SQLAlchemy raises one MissingExtra (an
    ImportError) naming the `store` extra and its pip command."""
    result = _run(
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "try:\n    import support_flows.store\n"
        "except ImportError as error:\n"
        "    print(type(error).__name__, error.code, error.rule, error.extra, error.package)\n"
        "    print(error)\n"
    )
    assert result.returncode == 0, result.stderr
    kind, line = result.stdout.splitlines()
    assert kind == "MissingExtra environment_failed U1 store sqlalchemy"
    assert line.startswith("support_flows.store needs")
    assert re.search(SENTENCE, line), line


def test_rollover_without_the_store_extra_is_one_line() -> None:
    """U1: `support-flows rollover` without SQLAlchemy exits 3 with one line naming the
    `store` extra and its pip command, the same sentence as the import's."""
    result = _run(
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "from support_flows.cli import main\n"
        "main(['rollover', '--db', 'sqlite://'], prog_name='support-flows')\n"
    )
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: [environment_failed, U1] rollover needs"), line
    assert re.search(SENTENCE, line), line


def test_review_db_without_the_store_extra_is_one_line(tmp_path: Path) -> None:
    """U1: `review --propose ... --db URL` without SQLAlchemy is the same one line (exit 3)."""
    result = _run(
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "from support_flows.cli import main\n"
        f"main(['review', '-o', {str(tmp_path)!r}, '--no-verify', '--propose', 'atlas',"
        " '--db', 'sqlite://'], prog_name='support-flows')\n"
    )
    assert result.returncode == 3, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: [environment_failed, U1] support_flows.store needs"), line
    assert re.search(SENTENCE, line), line


def test_review_without_the_diagrams_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """U1: `review --no-verify` without the diagrams extra's layout engine exits 3 with one line
    naming the `diagrams` extra and its pip command, in the same sentence."""
    from click.testing import CliRunner

    import support_flows.diagrams
    from support_flows.cli import main

    monkeypatch.setattr(support_flows.diagrams, "layout_engine", lambda: None)
    result = CliRunner().invoke(main, ["review", "-o", str(tmp_path), "--no-verify"])
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: [environment_failed, U1] SVG output needs"), line
    match = re.search(SENTENCE, line)
    assert match, line
    assert match["extra"] == "diagrams", line


def test_an_extra_is_read_from_the_package_metadata() -> None:
    """The extra named is the smallest that brings the package (`store`, not `examples`), read
    from the installed metadata; a package no extra names says so without inventing one."""
    from support_flows.extras import MissingExtra, extra_of

    assert (extra_of("sqlalchemy"), extra_of("psycopg")) == ("store", "store")
    assert (extra_of("graphviz-pure"), extra_of("hypothesis")) == ("diagrams", "test")
    unknown = MissingExtra("a feature", "no_such_package")
    assert unknown.extra is None
    assert "pip install" not in unknown.message
    assert "'no_such_package'" in unknown.message
