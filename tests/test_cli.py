"""The installed `support-flows` command, run in a subprocess as a user would run it."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from png_check import SIGNATURE

from support_flows import cli
from support_flows.diagrams import render
from support_flows.rules import rule

BIN = Path(sys.executable).parent
EXECUTABLE = BIN / ("support-flows.exe" if sys.platform == "win32" else "support-flows")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`support-flows ARGS` as installed next to this interpreter."""
    assert EXECUTABLE.exists(), f"{EXECUTABLE} is missing: pip install the project first"
    return subprocess.run(
        [str(EXECUTABLE), *args], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def assert_malformed(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2, a short message naming `words`, no traceback."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in done.stderr


def test_help_lists_the_commands() -> None:
    """`support-flows --help` lists diagram, review, explain and timeline."""
    done = run("--help")
    assert done.returncode == 0
    for command in ("diagram", "review", "explain", "timeline"):
        assert command in done.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    """`python -m support_flows` is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "support_flows", "diagram", "case"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout == render("case", "mermaid")


def test_diagram_text_goes_to_stdout() -> None:
    """`diagram plan` prints the plan's Mermaid; `--format dot` its DOT."""
    assert run("diagram", "plan").stdout == render("plan", "mermaid")
    assert run("diagram", "consulting", "--format", "dot").stdout.startswith('digraph "consulting"')


def test_diagram_png_to_a_file(tmp_path: Path) -> None:
    """`diagram case --format png -o FILE` writes a PNG."""
    target = tmp_path / "case.png"
    done = run("diagram", "case", "--format", "png", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(SIGNATURE)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("diagram", "billing"), ("Invalid value", "billing")),
        (("diagram", "plan", "--format", "jpeg"), ("Invalid value", "jpeg")),
        (("review",), ("Missing option", "-o")),
        (("explain", "case", "--projects", "-3"), ("Invalid value", "--projects")),
        (
            ("explain", "plan", "--tier", "premium", "--roles", "KING"),
            ("error: [invalid_value, V1]", "KING"),
        ),
        (
            ("explain", "plan", "--tier", "premium", "--at", "2026-03-01T10:00"),
            ("error: [naive_datetime, T1]",),
        ),
        (("explain", "plan", "--state", "trial", "--pending", "cancel"), ("error: [",)),
        (("timeline", "dance@2026-01-01T00:00Z"), ("error: [invalid_value, V1]", "dance")),
        (("timeline", "subscribe@2026-01-01T00:00Z"), ("needs a tier",)),
        (
            ("timeline", "--tz", "Mars/Base", "subscribe:premium@2026-01-01T00:00Z"),
            ("error: [unknown_timezone, T2]", "Mars/Base"),
        ),
        (
            ("timeline", "cancel@2026-02-01T00:00Z", "observe@2026-01-01T00:00Z"),
            ("error: [invalid_value, T6]", "never goes back"),
        ),
        (("explain", "consulting", "--hours", "0"), ("error: [invalid_quantity",)),
        (("nonsense",), ("No such command",)),
    ],
)
def test_malformed_arguments_exit_2_with_a_message(
    args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """Malformed arguments: a clear one-line message on stderr, exit 2, no traceback."""
    assert_malformed(run(*args), *words)


def test_review_writes_the_pack_with_progress_on_stderr(tmp_path: Path) -> None:
    """`review -o DIR` writes the page and the charts, one progress line per step on stderr,
    and prints the page's path."""
    done = run("review", "-o", str(tmp_path / "pack"), "--no-verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "pack" / "index.html")
    lines = done.stderr.splitlines()
    assert lines[0].startswith("[1/")
    assert lines[-1].startswith(f"[{len(lines)}/{len(lines)}]")
    for name in ("index.html", "plan.svg", "plan.mmd", "case.svg", "consulting.mmd"):
        assert (tmp_path / "pack" / name).is_file()


def test_explain_case_lists_every_reason_with_its_rule_and_exits_1() -> None:
    """The issue's example: a member of an organization without projects, on basic, asking for
    an organization-level case: refused with C3, C4 and C2, each with the rule's statement."""
    done = run(
        "explain", "case", "--plan", "basic", "--roles", "ORG_MEMBER", "--projects", "0",
        "--scope", "organization",
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.startswith("refused: open a support case at organization scope")
    for code, rule_id in (
        ("org_owner_required", "C3"),
        ("org_has_no_projects", "C4"),
        ("plan_excludes_cases", "C2"),
    ):
        assert f"- {code} (rule {rule_id}: {rule(rule_id).title})" in done.stdout
    assert "only an Organization Owner" in done.stdout
    flat = " ".join(done.stdout.split())
    assert " ".join(rule("C4").statement.split()) in flat


def test_explain_plan_refused_then_allowed() -> None:
    """A plain member cannot downgrade premium (P1, exit 1); the owner can (exit 0)."""
    asked = ("explain", "plan", "--state", "premium", "--action", "change", "--tier", "developer")
    refused = run(*asked, "--roles", "ORG_MEMBER", "--at", "2026-03-14T10:00Z")
    assert refused.returncode == 1
    assert "- billing_role_required (rule P1" in refused.stdout
    allowed = run(*asked, "--roles", "ORG_OWNER", "--at", "2026-03-14T10:00Z")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert allowed.stdout.startswith("allowed: change to developer on a premium plan")


def test_explain_plan_revoke_with_a_pending_cancel_as_json() -> None:
    """`--json` answers with the decision's dict, each reason carrying its rule's statement."""
    done = run(
        "explain", "plan", "--state", "basic", "--action", "revoke_pending", "--roles",
        "ORG_OWNER", "--at", "2026-03-14T10:00Z", "--json",
    )  # fmt: skip
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["allowed"] is False
    assert data["reasons"][0]["code"] == "no_pending_change"
    assert data["reasons"][0]["rule_statement"] == rule("P12").statement


def test_explain_consulting_scheduling() -> None:
    """Scheduling more hours than units: insufficient_units (F4), exit 1; within them, exit 0;
    on an order still in checkout: order_not_active (F0)."""
    at = ("--at", "2026-03-14T10:00Z", "--roles", "ORG_MEMBER")
    too_many = run("explain", "consulting", "--action", "schedule", "--hours", "12", *at)
    assert too_many.returncode == 1
    assert "- insufficient_units (rule F4" in too_many.stdout
    assert run("explain", "consulting", "--action", "schedule", "--hours", "2", *at).returncode == 0
    checkout = run("explain", "consulting", "--state", "checkout", *at)
    assert checkout.returncode == 1
    assert "- order_not_active (rule F0" in checkout.stdout


def test_explain_consulting_deliver_before_the_session_starts() -> None:
    """Delivering a booked session before its start: session_not_started (F5)."""
    done = run(
        "explain", "consulting", "--action", "deliver", "--state", "scheduled",
        "--session-start", "2026-03-15T10:00Z", "--at", "2026-03-14T10:00Z",
    )  # fmt: skip
    assert done.returncode == 1
    assert "- session_not_started (rule F5" in done.stdout


def test_timeline_prints_each_step_of_the_issues_example() -> None:
    """The issue's Auckland example: premium billed from Auckland's Aug 1, the downgrade pending
    until then, premium billed retroactively for July (P21)."""
    done = run(
        "timeline", "--tz", "Pacific/Auckland", "--start", "2026-06-30T13:30Z",
        "subscribe:premium@2026-07-02T00:00Z", "downgrade@2026-07-10T00:00Z",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "billing: premium 2026-08-01 00:00 NZST -> open" in done.stdout
    assert "pending: developer from 2026-08-01 00:00 NZST" in done.stdout
    assert "premium 2026-07-02 12:00 NZST -> 2026-08-01 00:00 NZST (retroactive)" in done.stdout


def test_timeline_json_and_refused_step_exits_1() -> None:
    """`--json` gives one entry per step; a refused step (nothing to cancel) exits 1."""
    done = run("timeline", "--json", "cancel@2026-01-01T00:00Z", "observe@2026-02-01T00:00Z")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [s["outcome"] for s in data["steps"]] == ["refused", "observed"]
    assert data["steps"][0]["error"]["code"] == "nothing_to_cancel"


def test_optional_commands_register_when_their_modules_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Commands of other modules are added when the module imports and skipped when it does not
    exist."""

    @click.command("verify")
    def verify() -> None:
        """Fake verifier command."""

    present = types.ModuleType("fake_verify_cli")
    present.verify = verify  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_verify_cli", present)
    group = click.Group("g")
    added = cli.register_optional(
        group, (("fake_verify_cli", "verify"), ("support_flows.no_such_module", "rollover"))
    )
    assert added == ["verify"]
    assert group.commands["verify"] is verify

    broken = types.ModuleType("fake_broken")
    broken.__path__ = []
    monkeypatch.setitem(sys.modules, "fake_broken", broken)
    monkeypatch.setitem(sys.modules, "fake_broken.cli", None)
    assert cli.register_optional(click.Group("h"), (("fake_broken.cli", "outbox"),)) == []


def _importing(missing: str) -> object:
    def import_module(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {missing!r}", name=missing)

    return import_module


def test_optional_command_missing_its_extra_says_so_when_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """U1: a module that needs a package its extra brings (not installed) gives a stand-in
    command that exits 3 (the environment) with one line naming the package, the extra and its
    pip command; a missing module of our own is raised, never hidden."""
    monkeypatch.setattr(importlib, "import_module", _importing("sqlalchemy"))
    group = click.Group("i")
    cli.register_optional(group, (("support_flows.store.cli", "rollover"),))
    result = CliRunner().invoke(group, ["rollover", "--db", "sqlite://"])
    assert result.exit_code == 3
    assert result.stderr.startswith("error: [environment_failed, U1] rollover needs the")
    assert "'sqlalchemy'" in result.stderr
    assert "pip install 'support-flows[store]'" in result.stderr
    assert len(result.stderr.splitlines()) == 1

    monkeypatch.setattr(importlib, "import_module", _importing("support_flows.store.gone"))
    with pytest.raises(ModuleNotFoundError, match=r"support_flows\.store\.gone"):
        cli.register_optional(click.Group("j"), (("support_flows.store.cli", "rollover"),))


def test_main_loads_optional_commands_only_when_listed_or_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the `support-flows` group an optional command is imported when listed or run: an
    absent module adds nothing, and the other commands never import it."""
    imported: list[str] = []

    @click.command("verify")
    def verify() -> None:
        """Fake verifier command."""

    def import_module(name: str) -> types.ModuleType:
        imported.append(name)
        if name != "fake_verify_cli":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        module = types.ModuleType(name)
        module.verify = verify  # type: ignore[attr-defined]
        return module

    monkeypatch.setattr(importlib, "import_module", import_module)
    group = cli.Main("g")
    group.add_command(click.Command("diagram"))
    cli.register_optional(group, (("fake_verify_cli", "verify"), ("fake_absent", "rollover")))
    ctx = click.Context(group)
    assert group.get_command(ctx, "diagram") is not None
    assert imported == []
    assert group.list_commands(ctx) == ["diagram", "verify"]
    assert group.get_command(ctx, "verify") is verify
    assert group.get_command(ctx, "rollover") is None
    assert sorted(imported) == ["fake_absent", "fake_verify_cli"]
