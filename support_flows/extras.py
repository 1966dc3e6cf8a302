"""A missing extra, named one way everywhere: which support-flows extra brings the package that
is not installed, and the pip command that installs it (RULES.md U1: a missing extra is the
environment, exit status 3 on the command line).

The extras are read from the installed package's metadata (pyproject.toml's
``[project.optional-dependencies]``), so no second list of them exists here.
"""

from __future__ import annotations

import importlib.util
import re

from support_flows.errors import SupportFlowsError

__all__ = ["DISTRIBUTION", "LayoutEngineMissing", "MissingExtra", "extra_of", "needs", "require"]

DISTRIBUTION = "support-flows"

_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_of(package: str) -> str | None:
    """The smallest extra of support-flows that requires `package` (a distribution or its
    top-level module name: ``store`` rather than ``examples``, which includes it), or None when
    no extra names it or the metadata cannot be read."""
    from importlib import metadata  # read only when an extra is missing: it imports slowly

    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return None
    sizes: dict[str, int] = {}
    having: set[str] = set()
    wanted = _normal(package.partition(".")[0])
    for requirement in requirements:
        name, extra = _NAME.match(requirement), _EXTRA.search(requirement)
        if name and extra:
            sizes[extra.group(1)] = sizes.get(extra.group(1), 0) + 1
            if _normal(name.group()) == wanted:
                having.add(extra.group(1))
    return min(having, key=lambda extra: (sizes[extra], extra)) if having else None


def needs(feature: str, package: str, extra: str | None = None) -> str:
    """The one sentence that says `feature` needs an extra: which one, the package missing, and
    the pip command."""
    extra = extra or extra_of(package)
    if extra is None:
        return (
            f"{feature} needs the package {package!r}, which is not installed "
            f"(install the {DISTRIBUTION} extra that has it)"
        )
    return (
        f"{feature} needs the {DISTRIBUTION} extra {extra!r} ({package!r} is not installed): "
        f"pip install '{DISTRIBUTION}[{extra}]'"
    )


class MissingExtra(ModuleNotFoundError):
    """A part of support_flows was used without the extra that brings its package: an
    ImportError (``except ImportError`` keeps working) carrying `.feature`, `.package` (the
    module not installed), `.extra` (None when unknown), `.code` and `.rule` as the command line
    prints them, and the one-line `.message` with the pip command."""

    code = "environment_failed"
    rule = "U1"

    def __init__(self, feature: str, package: str, extra: str | None = None) -> None:
        self.feature = feature
        self.package = package
        self.extra = extra or extra_of(package)
        self.message = needs(feature, package, self.extra)
        super().__init__(self.message, name=package)

    def to_dict(self) -> dict[str, object]:
        """The error as JSON-safe data, as the library's coded errors give it."""
        return {
            "code": self.code,
            "rule": self.rule,
            "message": self.message,
            "extra": self.extra,
            "package": self.package,
        }


class LayoutEngineMissing(SupportFlowsError, RuntimeError):
    """SVG or PNG was asked for, but the ``diagrams`` extra's layout engine (an executable, not
    a module) is not installed; its message is `needs`'s sentence."""


def require(feature: str, *packages: str) -> None:
    """Raise `MissingExtra` for the first of `packages` that is not installed, without importing
    any of them."""
    for package in packages:
        try:
            found = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise MissingExtra(feature, package)
