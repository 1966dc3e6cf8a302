"""No module of the package reads another object's private names (DESIGN.md, Layout).

The store, the verifier and the tools reach the objects through public seams (listeners, mementos),
never through `_book`, `_engine` or `__slots__`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import support_flows

PACKAGE = Path(support_flows.__file__).parent

# Enum and namedtuple internals, documented for use from outside.
ALLOWED = frozenset(
    {"_value_", "_value2member_map_", "_asdict", "_replace", "_fields", "_make", "_member_map_"}
)
REFLECTION = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in ALLOWED


def private_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, source) of each `x._name` where x is not self or cls, and each getattr-style call
    naming a private attribute in a string."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in REFLECTION
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_no_module_reads_another_objects_private_names() -> None:
    """Every module reaches other objects through their public names only: zero `obj._name`
    reads (self and cls aside), and no getattr/setattr of a private name."""
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {source}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, source in private_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offences == [], "private names read across objects:\n" + "\n".join(offences)


def test_the_scan_finds_a_private_read() -> None:
    """The scan names a read through another object and a getattr of a private name, and lets
    self, cls and enum internals through."""
    tree = ast.parse(
        "a = plan._book\nb = self._book\nc = cls._x\nd = getattr(o, '_engine')\ne = E._value_\n"
    )
    assert private_reads(tree) == [(1, "plan._book"), (4, "getattr(o, '_engine')")]
