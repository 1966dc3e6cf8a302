"""Names a package re-exports from its modules, imported the first time one is read (PEP 562),
so that importing the package costs only what a caller uses.

A package states its table module by module, as its ``TYPE_CHECKING`` imports read (what type
checkers and readers see; a test keeps the two equal), ``"NAME as ALIAS"`` for a renamed one:

    __getattr__, __dir__ = lazy_exports(__name__, {"support_flows.clock": ("Clock",)})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, table: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` that imports a re-exported name from its module when first read
    (and keeps it on the package), and the matching ``__dir__``; any other name is an
    AttributeError, so ``from package import submodule`` still imports the submodule."""
    where = {}
    for module, names in table.items():
        for entry in names:
            original, _, alias = entry.partition(" as ")
            where[alias or original] = (module, original)

    def __getattr__(name: str) -> object:
        found = where.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, original = found
        value = getattr(importlib.import_module(module), original)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *where})

    return __getattr__, __dir__
