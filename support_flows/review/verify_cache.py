"""The review pack's verification, reused while nothing it depends on has changed (issue 20).

A result is stored under a fingerprint of everything the verifier's answer depends on: the
source of the package's modules it can run (every module outside the rooms that sit beside or
above it: `review`, `cli`, `store`, `diagrams`, `testing`; a test keeps the verifier's import
closure inside that set), the policy verified (its K1 terms), the depth, the library's version,
Python's and the runtime dependencies' versions. Any change to one of them is another
fingerprint, so a stale result is never found; an entry that does not read back exactly as
written (truncated, edited, another fingerprint's) is ignored and recomputed, never trusted.

The default directory is the user's cache (``$XDG_CACHE_HOME/support-flows/verify``, else
``~/.cache/support-flows/verify``); ``support-flows review --cache-dir DIR`` names another and
``--fresh`` recomputes (and stores) whatever is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs
import pendulum

from support_flows.values.policy import Policy

__all__ = [
    "DEPENDENCIES",
    "OUTSIDE_THE_VERIFIER",
    "Cached",
    "VerifyCache",
    "default_directory",
    "fingerprint",
    "source_files",
    "stamp",
]

PACKAGE = Path(__file__).resolve().parent.parent

OUTSIDE_THE_VERIFIER = ("review", "cli", "store", "diagrams", "testing")
"""The package's rooms the verifier never imports (DESIGN.md's direction of imports): their
source is left out of the fingerprint, so a change to the page or the store keeps the result."""

DEPENDENCIES = ("python-statemachine", "attrs", "cattrs", "pendulum", "tzdata")
"""The installed packages whose versions are part of the fingerprint (a release of any may
change an answer)."""

FORMAT = 1


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/support-flows/verify``, else ``~/.cache/support-flows/verify`` (the
    system's temporary directory when there is no home to find)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            base = tempfile.gettempdir()
    return Path(base) / "support-flows" / "verify"


def source_files(package: Path = PACKAGE) -> list[Path]:
    """The package's modules the verifier can run, in a stable order."""
    return sorted(
        path
        for path in package.rglob("*.py")
        if path.relative_to(package).parts[0] not in OUTSIDE_THE_VERIFIER
    )


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _policy(policy: Policy) -> dict[str, Any]:
    effective = policy.effective_from
    return {
        "version": policy.version,
        "effective_from": None if effective is None else effective.isoformat(),
        **policy.terms(),
    }


def fingerprint(policy: Policy, depth: int, package: Path = PACKAGE) -> tuple[str, dict[str, Any]]:
    """The fingerprint of a verification of `policy` to `depth` by this code, and the inputs it
    was computed from (what the page shows beside it)."""
    files = hashlib.sha256()
    found = source_files(package)
    for path in found:
        files.update(path.relative_to(package).as_posix().encode())
        files.update(b"\0")
        files.update(hashlib.sha256(path.read_bytes()).digest())
    inputs = {
        "format": FORMAT,
        "library": _version("support-flows"),
        "python": sys.version.split()[0],
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "sources": files.hexdigest(),
        "source_files": len(found),
        "policy": _policy(policy),
        "depth": depth,
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), inputs


@attrs.frozen
class Cached:
    """A verification as stored: its reports, when it was computed and for which fingerprint."""

    key: str
    computed_at: str
    reports: tuple[Mapping[str, Any], ...]
    inputs: Mapping[str, Any]


def _checksum(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _entry(path: Path, key: str) -> Cached | None:
    """The entry at `path` if it reads back exactly as `store` wrote it for `key`, else None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        body, checksum = data["body"], data["checksum"]
        if checksum != _checksum(body) or body["key"] != key:
            return None
        reports = body["reports"]
        if not isinstance(reports, list) or not all(isinstance(r, dict) for r in reports):
            return None
        if not reports or not isinstance(body["inputs"], dict):
            return None
        pendulum.parse(body["computed_at"])
        return Cached(key, str(body["computed_at"]), tuple(reports), body["inputs"])
    except (OSError, ValueError, TypeError, KeyError, pendulum.parsing.exceptions.ParserError):
        return None


@attrs.frozen
class VerifyCache:
    """Verification results stored by fingerprint in `directory`; `fresh` never reads one (it
    still stores what it computes)."""

    directory: Path = attrs.field(factory=default_directory, converter=Path)
    fresh: bool = False

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def load(self, key: str) -> Cached | None:
        """The stored verification for `key`, or None (none, unreadable, or `fresh`)."""
        return None if self.fresh else _entry(self.path(key), key)

    def store(
        self,
        key: str,
        reports: Sequence[Mapping[str, Any]],
        inputs: Mapping[str, Any],
        computed_at: pendulum.DateTime,
    ) -> Cached | None:
        """Store a verification under `key` (atomically: a reader sees the old entry or the new
        one); None when the directory cannot be written, which only costs the next run time."""
        body = {
            "key": key,
            "computed_at": computed_at.in_timezone("UTC").isoformat(),
            "reports": list(reports),
            "inputs": dict(inputs),
        }
        try:
            text = json.dumps({"body": body, "checksum": _checksum(body)}, sort_keys=True)
        except (TypeError, ValueError):  # a report that is not plain data is not stored
            return None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.directory, suffix=".tmp", delete=False
            ) as handle:
                handle.write(text)
            try:
                os.replace(handle.name, self.path(key))
            finally:
                Path(handle.name).unlink(missing_ok=True)
        except OSError:
            return None
        return _entry(self.path(key), key)


def stamp(result: Cached, how: str) -> str:
    """The sentence the page shows: when the result was computed, by which library, for which
    code and policy, and `how` it got here."""
    inputs = result.inputs
    policy = inputs.get("policy", {})
    return (
        f"Computed {result.computed_at} by support-flows {inputs.get('library', '?')} for code "
        f"fingerprint {result.key[:16]} ({inputs.get('source_files', '?')} source files, "
        f"policy {policy.get('version', '?') if isinstance(policy, Mapping) else '?'}, "
        f"depth {inputs.get('depth', '?')}); {how}."
    )
