"""The packages by concern and the direction of their imports (DESIGN.md, Layout)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import support_flows as sf

PACKAGE = Path(sf.__file__).parent

# The modules a user names (`--outbox MODULE:NAME`, an optional command's extra) are loaded by
# the two loaders that read those names, and a package's re-exports by `lazy.py` from the table
# it states; nowhere else is a module name built at run time.
USER_NAMED_LOADERS = {"cli/group.py", "store/cli.py", "lazy.py"}


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
    """values/ imports only errors, inputs, localtime, the codec and itself: no guard or machine."""
    allowed = ("codec", "errors", "inputs", "localtime", "values")
    found = [
        f"{_name(path)}: {module}"
        for path in sorted((PACKAGE / "values").glob("*.py"))
        for module in _imports(path)
        if _within(module, ("support_flows",))
        and module != "support_flows"
        and not _within(module, tuple(f"support_flows.{a}" for a in allowed))
    ]
    assert found == []


def test_snapshots_sit_below_the_machines() -> None:
    """snapshots/ (the records and their V2 checks) imports no machine and no outer room: the
    objects restore through it, and replay their histories themselves."""
    outer = ("machines", "bulk", "diagrams", "review", "verify", "store", "cli", "testing")
    assert _offending(("snapshots",), outer) == []


def test_domain_tables_live_in_values() -> None:
    """P17's entitlements, the tiers' rank and the tier in force are values, not guards: no
    module of guards/ imports another module of guards/ to reach a table."""
    found = [
        f"{_name(path)}: {module}"
        for path in sorted((PACKAGE / "guards").glob("*.py"))
        if path.name not in ("common.py", "registry.py", "__init__.py")
        for module in _imports(path)
        if _within(module, ("support_flows.guards.plan", "support_flows.guards.consulting"))
        and not _within(module, (_dotted(path),))
    ]
    assert found == []


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports explicitly, at any depth of its code (a
    lazy import inside a function counts)."""
    modules = {_dotted(path): path for path in _modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for module in _imports(path):
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module and module != name and module != "support_flows":
                targets.add(module)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    """No two modules of the package import each other, directly or around a circle, not even
    through an import inside a function (a package's __init__ re-exporting aside)."""
    graph = _graph()
    for path in _modules():
        if path.name == "__init__.py":
            graph[_dotted(path)] = set()  # it only re-exports what its package's modules define
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The cycle check itself: a circle of three modules is reported, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_command_line_sits_above_what_it_runs() -> None:
    """verify/, review/, diagrams/ and testing/ import nothing from cli/: the command line
    imports them (`cli/verify.py` is the verifier's command), so no room imports it back."""
    assert _offending(("verify", "review", "diagrams", "testing"), ("cli",)) == []
