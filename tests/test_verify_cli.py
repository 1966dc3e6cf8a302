"""`support-flows verify`: a table per machine (or JSON), progress on stderr on long runs with
--progress or on a terminal, exit 1 on any violation or part not covered, and a default run of
all three machines within a minute."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

import support_flows.cli.verify as verify_cli
from support_flows.cli import main
from support_flows.cli.verify import verify
from support_flows.machines.consulting_book import OrderBook
from support_flows.verify.model import Coverage, Report, Tally

"""F5/F6: a session ends by the expiry, so once the expiry applies it has started; the last
booked session can never be cancelled after the validity ended."""


def test_table_per_machine() -> None:
    """The table names each machine and its rows: sequences, states, transitions, reasons,
    rules, invariants, violations, then what was not reached (depth 2 leaves some of the case
    chart uncovered, so U1's exit 1)."""
    result = CliRunner().invoke(verify, ["--machine", "case", "--depth", "2"])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("case (depth 2, ")
    for row in (
        "sequences explored",
        "states reached",
        "transitions covered",
        "reasons produced",
        "rules exercised",
        "invariants checked",
        "violations",
        "states not reached: ",
    ):
        assert row in result.stdout


def test_json_lists_one_report_per_machine() -> None:
    """--json prints each machine's Report.to_dict() on stdout, the U1 line apart on stderr."""
    args = ["--machine", "case", "--machine", "consulting", "--depth", "2", "--json"]
    result = CliRunner().invoke(verify, args)
    data = json.loads(result.stdout)
    assert [d["machine"] for d in data] == ["case", "consulting"]
    assert all(d["violations"] == [] for d in data)
    assert result.stderr.startswith("error: [verification_failed, U1] case: not covered: ")


def test_progress_goes_to_stderr_with_progress_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress lines go to stderr with --progress, never into the table or the JSON; off a
    terminal without --progress there are none (CI logs stay quiet)."""
    monkeypatch.setattr(verify_cli, "QUIET_SECONDS", 0.0)
    args = ["--machine", "case", "--depth", "2", "--json"]
    shown = CliRunner().invoke(verify, [*args, "--progress"])
    assert "verify case: depth 2/2 done" in shown.stderr
    json.loads(shown.stdout)
    quiet = CliRunner().invoke(verify, args)
    assert "verify case" not in quiet.stderr
    assert len(quiet.stderr.splitlines()) == 1
    json.loads(quiet.stdout)


def _tally(*done: str, missing: tuple[str, ...] = ()) -> Tally:
    return Tally(done, missing)


def _report(machine: str, *, missing: tuple[str, ...] = ()) -> Report:
    """A small report of our own: everything covered but the transitions in `missing`."""
    coverage = Coverage(
        _tally("a", "b"), _tally("go: a -> b", missing=missing), _tally("r"), _tally("R1")
    )
    return Report(machine, 1, 3, coverage, 3, (), 0.0)


@pytest.mark.parametrize("missing", [(), ("back: b -> a",)])
def test_exit_1_when_any_part_is_not_covered(
    monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    """U1: with no violation, verify still exits 1 when a transition (or any state, reason,
    rule) is not covered, with one line naming it; 0 when everything is covered."""
    monkeypatch.setattr(verify_cli, "run", lambda machine, **_: _report(machine, missing=missing))
    result = CliRunner().invoke(verify, ["--machine", "plan"])
    if missing:
        assert result.exit_code == 1
        assert result.stderr == (
            "error: [verification_failed, U1] plan: not covered: transition back: b -> a\n"
        )
    else:
        assert (result.exit_code, result.stderr) == (0, "")


def test_exit_1_on_a_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    """F3: with a planted second email, verify prints the violation and exits 1."""
    once = OrderBook.send_confirmation

    def twice(self: OrderBook, facts: Any) -> None:
        once(self, facts)
        once(self, facts)

    monkeypatch.setattr(OrderBook, "send_confirmation", twice)
    result = CliRunner().invoke(verify, ["--machine", "consulting", "--depth", "1"])
    assert result.exit_code == 1
    assert "VIOLATION F3 (at most one email per purchase)" in result.stdout


def test_bad_options_are_usage_errors() -> None:
    """An unknown machine or a depth outside 1-12 is a usage error (exit 2)."""
    for args in (["--machine", "billing"], ["--depth", "0"], ["--depth", "13"]):
        assert CliRunner().invoke(verify, args).exit_code == 2


def test_registered_on_the_support_flows_command() -> None:
    """support-flows verify is the same command."""
    result = CliRunner().invoke(main, ["verify", "--help"])
    assert result.exit_code == 0
    assert "--depth" in result.output


def test_default_run_of_all_machines_is_clean_and_complete() -> None:
    """The default run: no violation, every state, transition, reason and rule (F3's
    buyer_email_required included; F5/F6: no edge that no sequence can take)."""
    result = CliRunner().invoke(verify, ["--json"])
    assert result.exit_code == 0, result.output
    reports = {d["machine"]: d for d in json.loads(result.stdout)}
    assert set(reports) == {"plan", "case", "consulting"}
    for machine, data in reports.items():
        assert data["violations"] == []
        for tally in ("states", "transitions", "reasons", "rules"):
            assert data[tally]["missing"] == [], (machine, tally)
