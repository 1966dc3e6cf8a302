"""The review pack's verification cache (issue 20): a result is reused while its fingerprint
(the verifier's source, the policy, the depth, the versions) is unchanged, any change to one of
those inputs misses, and an entry that does not read back as written is recomputed, never
trusted. The page says when the result it shows was computed and for which fingerprint."""

from __future__ import annotations

import ast
import json
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import support_flows
import support_flows.review.verify_cache as verify_cache
from support_flows.cli import main
from support_flows.review import verification
from support_flows.review.verify_cache import (
    VerifyCache,
    default_directory,
    fingerprint,
    source_files,
)
from support_flows.values.policy import ATLAS_POLICY, Policy

PACKAGE = Path(support_flows.__file__).parent
MACHINES = ("plan", "case", "consulting")


class _Report:
    def __init__(self, machine: str) -> None:
        self.machine = machine

    def to_dict(self) -> dict[str, Any]:
        whole = {"missing": [], "total": 1}
        tallies = {key: whole for key in ("states", "transitions", "reasons", "rules")}
        return {
            "machine": self.machine,
            "violations": [],
            "seconds": 1.5,
            "sequences": 7,
            **tallies,
        }


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in verifier that records each machine it runs (the real one takes half a
    minute); the cache is keyed by source files, not by the module object in use."""
    calls: list[str] = []

    def run(machine: str, *, depth: int) -> _Report:
        calls.append(machine)
        return _Report(machine)

    module = types.ModuleType("support_flows.verify")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "support_flows.verify", module)
    monkeypatch.setattr(support_flows, "verify", module, raising=False)
    return calls


def test_a_second_verification_reuses_the_first(runs: list[str], tmp_path: Path) -> None:
    """The second verification with an unchanged fingerprint runs nothing and shows the same
    reports, saying when they were computed and for which fingerprint."""
    cache = VerifyCache(tmp_path)
    first, first_note = verification(5, cache=cache)
    assert runs == list(MACHINES)
    assert "stored for reuse" in first_note
    second, note = verification(5, cache=cache)
    assert runs == list(MACHINES)
    assert second == first
    key, _ = fingerprint(ATLAS_POLICY, 5)
    assert f"fingerprint {key[:16]}" in note
    assert "reused from the verification cache" in note
    assert "Computed 20" in note


def test_fresh_recomputes_and_no_cache_stores_nothing(runs: list[str], tmp_path: Path) -> None:
    """`fresh` runs the verifier even when a result is stored; without a cache nothing is read
    or written, and the note still names the fingerprint."""
    verification(5, cache=VerifyCache(tmp_path))
    verification(5, cache=VerifyCache(tmp_path, fresh=True))
    assert runs == list(MACHINES) * 2
    _, note = verification(5, cache=None)
    assert runs == list(MACHINES) * 3
    assert "no verification cache" in note
    assert "fingerprint " in note
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_a_failed_run_is_not_stored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A verification in which a machine's run raised is shown but never stored."""

    def run(machine: str, *, depth: int) -> _Report:
        raise RuntimeError("out of time")

    module = types.ModuleType("support_flows.verify")
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "support_flows.verify", module)
    monkeypatch.setattr(support_flows, "verify", module, raising=False)
    reports, note = verification(5, cache=VerifyCache(tmp_path))
    assert all("error" in report for report in reports)
    assert "not stored" in note
    assert list(tmp_path.glob("*.json")) == []


def _entry(tmp_path: Path) -> Path:
    (found,) = tmp_path.glob("*.json")
    return found


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text: text[: len(text) // 2],
        lambda text: "not json",
        lambda text: text.replace('"sequences": 7', '"sequences": 8'),
        lambda text: json.dumps({"body": json.loads(text)["body"]}),
        lambda text: "[]",
    ],
    ids=["truncated", "garbage", "edited", "no-checksum", "wrong-shape"],
)
def test_a_corrupt_entry_is_recomputed(runs: list[str], tmp_path: Path, spoil: Any) -> None:
    """An entry that does not read back exactly as written is ignored: the verifier runs again
    and its result replaces the entry."""
    cache = VerifyCache(tmp_path)
    reports, _ = verification(5, cache=cache)
    entry = _entry(tmp_path)
    entry.write_text(spoil(entry.read_text(encoding="utf-8")), encoding="utf-8")
    again, note = verification(5, cache=cache)
    assert runs == list(MACHINES) * 2
    assert again == reports
    assert "stored for reuse" in note
    verification(5, cache=cache)
    assert runs == list(MACHINES) * 2


def test_an_entry_moved_to_another_fingerprint_is_not_trusted(
    runs: list[str], tmp_path: Path
) -> None:
    """An entry stored for one fingerprint, renamed to another's file, is not reused."""
    cache = VerifyCache(tmp_path)
    verification(5, cache=cache)
    other, _ = fingerprint(ATLAS_POLICY, 6)
    _entry(tmp_path).rename(cache.path(other))
    verification(6, cache=cache)
    assert runs == list(MACHINES) * 2


def test_the_fingerprint_follows_every_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The fingerprint changes with any source file the verifier can run, the policy's terms
    or version, the depth, the library's or a dependency's version; a change to the page's own
    code (review/) does not."""
    copy = tmp_path / "support_flows"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    base, _ = fingerprint(ATLAS_POLICY, 5, copy)
    assert fingerprint(ATLAS_POLICY, 5, copy)[0] == base

    page = copy / "review" / "html.py"
    page.write_text(page.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    assert fingerprint(ATLAS_POLICY, 5, copy)[0] == base

    guard = copy / "guards" / "plan.py"
    original = guard.read_text(encoding="utf-8")
    guard.write_text(original + "\n# a comment\n", encoding="utf-8")
    assert fingerprint(ATLAS_POLICY, 5, copy)[0] != base
    guard.write_text(original, encoding="utf-8")
    assert fingerprint(ATLAS_POLICY, 5, copy)[0] == base

    assert fingerprint(Policy(trial_days=14), 5, copy)[0] != base
    assert fingerprint(Policy(version="other"), 5, copy)[0] != base
    assert fingerprint(ATLAS_POLICY, 6, copy)[0] != base
    for name in ("support-flows", "pendulum", "python-statemachine"):
        real = verify_cache._version
        monkeypatch.setattr(
            verify_cache,
            "_version",
            lambda asked, n=name, r=real: "9.9" if asked == n else r(asked),
        )
        assert fingerprint(ATLAS_POLICY, 5, copy)[0] != base, name
        monkeypatch.setattr(verify_cache, "_version", real)


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"), PACKAGE.joinpath(*parts)):
        if candidate.suffix == ".py" and candidate.is_file():
            return candidate
        if (candidate / "__init__.py").is_file():
            return candidate / "__init__.py"
    return None


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Call) and ast.unparse(node.func) == "lazy_exports":
            found |= set(ast.literal_eval(node.args[1]))
    return {name for name in found if name.startswith("support_flows")}


def test_the_fingerprint_covers_every_module_the_verifier_imports() -> None:
    """Every module the verifier imports, at any depth (inside functions and through lazy
    tables too), is among the files the fingerprint hashes."""
    todo = [p for p in (PACKAGE / "verify").rglob("*.py")]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported(path):
            found = _module_file(name)
            if found is not None:
                todo.append(found)
    hashed = set(source_files())
    assert len(seen) > 50
    assert sorted(str(p.relative_to(PACKAGE)) for p in seen - hashed) == []


def test_review_command_reuses_and_says_so_on_the_page(runs: list[str], tmp_path: Path) -> None:
    """`support-flows review` twice with the same code and policy runs the verifier once; the
    second page says the result was reused, when it was computed and for which fingerprint;
    --fresh runs it again."""
    args = ["review", "-o", str(tmp_path / "pack"), "--cache-dir", str(tmp_path / "cache")]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert runs == list(MACHINES)
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert runs == list(MACHINES)
    page = (tmp_path / "pack" / "index.html").read_text(encoding="utf-8")
    key, _ = fingerprint(ATLAS_POLICY, 5)
    assert "reused from the verification cache" in page
    assert f"fingerprint {key[:16]}" in page
    assert CliRunner().invoke(main, [*args, "--fresh"]).exit_code == 0
    assert runs == list(MACHINES) * 2
    both = CliRunner().invoke(main, [*args, "--no-cache"])
    assert both.exit_code == 2
    assert "--no-cache" in both.stderr


def test_the_default_directory_is_the_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without --cache-dir results go to $XDG_CACHE_HOME/support-flows/verify, else to
    ~/.cache/support-flows/verify."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert VerifyCache().directory == tmp_path / "xdg" / "support-flows" / "verify"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_directory() == tmp_path / "home" / ".cache" / "support-flows" / "verify"
