"""The packages by concern and the direction of their imports (DESIGN.md, Layout)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import support_flows as sf

PACKAGE = Path(sf.__file__).parent

# The modules a user names (`--outbox MODULE:NAME`, an optional command's extra) are loaded by
# the two loaders that read those names; nowhere else is a module name built at run time.
USER_NAMED_LOADERS = {"cli.py", "store/cli.py"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["support_flows", *parts])


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports (with `from X import name`, both X and X.name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _dotted(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package[: len(package) - node.level + 1]
                base = ".".join([*head, base] if base else head)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _offending(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{_name(path)}: {module}"
        for path in _modules()
        if _within(_dotted(path), tuple(f"support_flows.{f}" for f in folders))
        for module in sorted(set(_imports(path)))
        if _within(module, tuple(f"support_flows.{f}" for f in forbidden))
    ]


FORBIDDEN_TO_REFERENCES = (
    "support_flows.guards",
    "support_flows.machines",
    "support_flows.values",
)


@pytest.mark.parametrize("name", ["plan", "case", "consulting"])
def test_references_import_nothing_they_check(name: str) -> None:
    """A reference model imports nothing from guards, machines or values."""
    path = PACKAGE / "verify" / "reference" / f"{name}.py"
    found = [m for m in _imports(path) if _within(m, FORBIDDEN_TO_REFERENCES)]
    assert found == []


def test_references_import_only_each_other() -> None:
    """verify/reference/ imports nothing from support_flows outside itself: not the calendar of
    localtime (T3-T5, F6 are the reference's own), nor errors, rules or any other room."""
    found = [
        f"{_name(path)}: {module}"
        for path in sorted((PACKAGE / "verify" / "reference").glob("*.py"))
        for module in _imports(path)
        if _within(module, ("support_flows",))
        and not _within(module, ("support_flows.verify.reference",))
    ]
    assert found == []


def test_guards_import_no_machine() -> None:
    """The guards are pure checks: no module of guards/ imports support_flows.machines."""
    assert _offending(("guards",), ("machines",)) == []


CORE = ("errors", "clock", "localtime", "inputs", "values", "guards", "machines")
OUTER = ("store", "verify", "review", "diagrams")


def test_core_imports_no_outer_room() -> None:
    """The core imports nothing from the store, verifier, review pack or diagrams."""
    assert _offending(CORE, OUTER) == []


def _built_names(path: Path) -> Iterator[int]:
    """Lines where `importlib.import_module` gets a name built at run time."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.JoinedStr | ast.BinOp)
        ):
            yield node.lineno


def test_no_module_name_built_from_a_string() -> None:
    """No module imports another by a name built at run time, except the user-named loaders."""
    found = [
        f"{_name(path)}:{line}"
        for path in _modules()
        if _name(path) not in USER_NAMED_LOADERS
        for line in _built_names(path)
    ]
    assert found == []


def test_diagrams_read_charts_by_name() -> None:
    """diagrams/ imports the charts by name and nothing from the review pack, verifier or store."""
    assert _offending(("diagrams",), ("review", "verify", "store")) == []
    for path in (PACKAGE / "diagrams").glob("*.py"):
        assert "import_module" not in path.read_text(encoding="utf-8"), _name(path)


def test_modules_are_imported_by_name() -> None:
    """Outside the user-named loaders no module of support_flows calls importlib at all."""
    found = [
        _name(path)
        for path in _modules()
        if _name(path) not in USER_NAMED_LOADERS
        and "import_module" in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_review_pack_is_a_package() -> None:
    """review/ holds the page, pictures and scenarios; it imports no store."""
    assert {p.name for p in (PACKAGE / "review").glob("*.py")} >= {
        "__init__.py",
        "html.py",
        "picture.py",
        "scenarios.py",
    }
    assert _offending(("review",), ("store",)) == []


def test_values_sit_below_guards_and_machines() -> None:
    """values/ imports only errors, inputs, localtime, records and itself: no guard or machine."""
    allowed = ("errors", "inputs", "localtime", "records", "values")
    found = [
        f"{_name(path)}: {module}"
        for path in sorted((PACKAGE / "values").glob("*.py"))
        for module in _imports(path)
        if _within(module, ("support_flows",))
        and module != "support_flows"
        and not _within(module, tuple(f"support_flows.{a}" for a in allowed))
    ]
    assert found == []
