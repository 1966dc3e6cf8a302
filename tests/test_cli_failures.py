"""How `support-flows` commands fail (RULES.md U1, U2): each failure is one line
`error: [code, rule] message` on stderr with exit 1 (refused), 2 (malformed input or usage) or
3 (the environment), never a traceback; timeline steps named after an event take that event.

Run in-process with CliRunner; `python -m` where the entry point itself is what is tested."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
import pendulum
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

import support_flows as sf  # noqa: E402
import support_flows.cli.verify as verify_cli  # noqa: E402
import support_flows.diagrams  # noqa: E402
import support_flows.review  # noqa: E402
from support_flows.cli import main  # noqa: E402
from support_flows.store import Store  # noqa: E402
from support_flows.verify.model import Coverage, Report, Tally  # noqa: E402

pytest_plugins = ["store_helpers"]

ROOT = Path(__file__).resolve().parent.parent
AT = "2026-03-14T10:00Z"


def invoke(*args: str) -> Result:
    """`support-flows ARGS` in-process."""
    return CliRunner().invoke(main, list(args))


def assert_one_line(result: Result, status: int, start: str) -> None:
    """U1: exit `status`, no traceback, stderr exactly one line starting with `start`."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(start), lines[0]


ENVIRONMENT = "error: [environment_failed, U1] "
UNAVAILABLE = "error: [store_unavailable, S6] "


@pytest.mark.parametrize(
    ("args", "status", "start"),
    [
        (("rollover", "--db", "postgresql://postgres@127.0.0.1:5432/nosuchdb"), 3, UNAVAILABLE),
        (("outbox", "relay", "--db", "postgresql://postgres@127.0.0.1:5999/test"), 3, UNAVAILABLE),
        (("rollover", "--db", "sqlite:////dev/null/x.db"), 3, UNAVAILABLE),
        (("diagram", "plan", "-f", "svg", "-o", "/dev/null/x.svg"), 3, ENVIRONMENT),
        (("diagram", "plan", "-o", "/proc/x.mmd"), 3, ENVIRONMENT),
        (("review", "-o", "/proc/x"), 3, ENVIRONMENT),
        (("rollover", "--db", "mysql://root@127.0.0.1/x"), 2, "error: [invalid_value, S6] "),
        (("outbox", "relay", "--db", "sqlite://", "--outbox", "json:dumps"), 2, "error: [invalid"),
        (("outbox", "relay", "--db", "sqlite://", "--outbox", "os:system"), 2, "error: [invalid"),
        (("outbox", "relay", "--db", "sqlite://", "--outbox", "sys:exit"), 2, "error: [invalid"),
        (("outbox", "relay", "--db", "sqlite://", "--outbox", "no.such:Thing"), 2, "error: ["),
        (("--frobnicate",), 2, "error: [invalid_value, U1] No such option"),
        (("diagram", "plan", "--frobnicate"), 2, "error: [invalid_value, U1] No such option"),
        (("verify", "--depth", "0"), 2, "error: [invalid_value, U1] Invalid value for '--depth'"),
        ((), 2, "error: [invalid_value, U1] missing command: one of diagram, explain"),
        (("explain",), 2, "error: [invalid_value, U1] missing command: one of case"),
        (("nonsense",), 2, "error: [invalid_value, U1] No such command"),
        (("rollover", "--db", "sqlite://", "--until", "2026-03-01T00:00"), 2, "error: [naive"),
        (("explain", "plan", "--tier", "premium", "--roles", "ORG_MEMBER"), 1, "error: [billing"),
        (("timeline", f"cancel@{AT}"), 1, "error: [nothing_to_cancel, P13] step 1 (cancel@"),
    ],
)
def test_each_failure_is_one_line_with_its_exit_status(
    args: tuple[str, ...], status: int, start: str
) -> None:
    """U1, S6: databases that cannot be opened, files that cannot be written, bad outboxes,
    bad URLs and options, refusals: one line `error: [code, rule] ...`, the exit status of U1,
    no traceback."""
    assert_one_line(invoke(*args), status, start)


def test_an_outbox_class_or_factory_is_accepted(tmp_path: Path) -> None:
    """S3, U1: --outbox MODULE:Class (a factory, as the help says) is instantiated with no
    argument and delivers the queued email; a factory needing arguments is refused (exit 2)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.from_representative(
        sf.Organization("org-1"),
        units=1,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=sf.FrozenClock(pendulum.datetime(2026, 3, 14, tz="UTC")),
    )
    store.close()
    relay = ("outbox", "relay", "--db", url, "--outbox")
    assert_one_line(invoke(*relay, "json:dumps"), 2, "error: [invalid_value, U1] --outbox")
    sent = invoke(*relay, "support_flows.outbox:InMemoryOutbox")
    assert (sent.exit_code, sent.stderr) == (0, ""), sent.output
    assert sent.stdout == "relayed 1 email\n"


def test_a_missing_layout_engine_is_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """U1: SVG without the diagrams extra's layout engine exits 3 (a missing extra) in one
    line naming the extra."""
    monkeypatch.setattr(support_flows.diagrams, "layout_engine", lambda: None)
    result = invoke("diagram", "plan", "-f", "svg")
    assert_one_line(result, 3, ENVIRONMENT)
    assert "support-flows[diagrams]" in result.stderr


def test_an_unforeseen_exception_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """U1: an exception no rule foresaw is still one line (internal_error, exit 3), naming its
    type, never a traceback."""

    def broken(*_: object, **__: object) -> str:
        raise ZeroDivisionError("planted")

    monkeypatch.setattr(support_flows.diagrams, "render", broken)
    result = invoke("diagram", "case")
    assert_one_line(result, 3, "error: [internal_error, U1] ZeroDivisionError: planted")


class _Killed(multiprocessing.context.SpawnProcess):
    """A worker process SIGKILLed as soon as it starts."""

    def start(self) -> None:
        super().start()
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)


class _KilledOnStart:
    """A spawn context whose processes are SIGKILLed as soon as they start."""

    def __init__(self) -> None:
        self.real = multiprocessing.get_context("spawn")

    def Queue(self) -> Any:
        return self.real.Queue()

    def Process(self, **kwargs: Any) -> Any:
        return _Killed(**kwargs)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_killed_rollover_worker_is_one_line(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """U1, S5: a rollover whose worker processes are SIGKILLed exits 3 with one line, never a
    traceback (rerunning it finishes the work)."""
    killing = _KilledOnStart()
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: killing)
    result = invoke("rollover", "--db", db_url, "--workers", "2")
    assert_one_line(result, 3, "error: [store_unavailable, S6] ")


def test_python_dash_m_entry_points_fail_in_one_line() -> None:
    """U1: `python -m support_flows` and `python -m support_flows.store` print the same one
    line and exit status as the command."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
    }
    for module, args, status in (
        ("support_flows", ["rollover", "--db", "sqlite:////dev/null/x.db"], 3),
        ("support_flows.store", ["rollover", "--db", "mysql://root@127.0.0.1/x"], 2),
        ("support_flows.store", ["--frobnicate"], 2),
    ):
        done = subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )
        assert done.returncode == status, done.stderr
        assert "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert done.stderr.startswith("error: ["), done.stderr


# Explain (U1) --------------------------------------------------------------------------------


def test_explain_plan_without_options_names_the_missing_tier() -> None:
    """V1, U1: `explain plan` alone asks for a change without a tier: one line naming --tier
    and the tiers, exit 2 (not "unknown tier None")."""
    result = invoke("explain", "plan")
    assert_one_line(result, 2, "error: [invalid_value, V1] a change needs a tier (--tier: basic")
    assert "None" not in result.stderr


def test_explain_plan_tier_only_with_a_change() -> None:
    """V1: --tier with cancel or revoke_pending is malformed, not silently dropped."""
    result = invoke("explain", "plan", "--action", "cancel", "--tier", "premium")
    assert_one_line(result, 2, "error: [invalid_value, V1] cancel takes no tier")


def test_explain_case_empty_project_is_malformed() -> None:
    """V5: `--project ""` is refused as an empty identifier instead of silently asking about
    p-1."""
    result = invoke("explain", "case", "--project", "")
    assert_one_line(result, 2, "error: [invalid_value, V5]")
    assert "p-1" not in result.stdout


def test_revoke_pending_is_the_one_name_of_the_request() -> None:
    """V1: explain and timeline both name the request revoke_pending (as SupportPlan.check
    does); `revoke` is refused by both."""
    at = ("--at", AT, "--roles", "ORG_OWNER")
    assert invoke("explain", "plan", "--action", "revoke_pending", *at).exit_code == 1
    assert_one_line(
        invoke("explain", "plan", "--action", "revoke", *at), 2, "error: [invalid_value, U1]"
    )
    steps = (f"subscribe:premium@{AT}", "cancel@2026-03-20T00:00Z")
    revoked = invoke("timeline", *steps, "revoke_pending@2026-03-21T00:00Z")
    assert revoked.exit_code == 0, revoked.output
    assert "revoke: premium" in revoked.stdout
    assert_one_line(
        invoke("timeline", *steps, "revoke@2026-03-21T00:00Z"),
        2,
        "error: [invalid_value, V1] step 'revoke@2026-03-21T00:00Z': unknown action 'revoke'",
    )


# Timeline events (U2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "named", "event"),
    [
        (
            (f"subscribe:premium@{AT}", "upgrade:developer@2026-03-20T00:00Z"),
            "upgrade",
            "downgrade",
        ),
        ((f"downgrade:premium@{AT}",), "downgrade", "subscribe"),
        ((f"upgrade:developer@{AT}",), "upgrade", "subscribe"),
        (
            (f"subscribe:developer@{AT}", "reactivate:premium@2026-03-20T00:00Z"),
            "reactivate",
            "upgrade",
        ),
        (
            (f"subscribe:developer@{AT}", "subscribe:premium@2026-03-20T00:00Z"),
            "subscribe",
            "upgrade",
        ),
        ((f"subscribe:premium@{AT}", "downgrade:basic@2026-03-20T00:00Z"), "downgrade", "cancel"),
    ],
)
def test_a_named_event_that_the_request_is_not_is_malformed(
    steps: tuple[str, ...], named: str, event: str
) -> None:
    """U2: a step named after an event that its request would not take (an upgrade to a lower
    tier, a downgrade on basic) is malformed input naming the event it would be, and nothing
    is printed as if it had run."""
    result = invoke("timeline", *steps)
    assert_one_line(result, 2, "error: [invalid_value, U2] step ")
    assert f"is the {event} event, not {named}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("steps", "event"),
    [
        ((f"subscribe:premium@{AT}",), "subscribe"),
        ((f"subscribe:developer@{AT}", "upgrade:premium@2026-03-20T00:00Z"), "upgrade"),
        ((f"subscribe:premium@{AT}", "downgrade:developer@2026-03-20T00:00Z"), "downgrade"),
        ((f"subscribe:premium@{AT}", "downgrade@2026-03-20T00:00Z"), "downgrade"),
        ((f"subscribe:premium@{AT}", "change:developer@2026-03-20T00:00Z"), "downgrade"),
        (
            (
                f"subscribe:developer@{AT}",
                "cancel@2026-03-20T00:00Z",
                "reactivate:premium@2026-03-21T00:00Z",
            ),
            "reactivate",
        ),
    ],
)
def test_a_named_event_performs_that_event(steps: tuple[str, ...], event: str) -> None:
    """U2: a step named after the event its request takes performs exactly that event (the
    history entry the last step added names it); `change` takes whichever the plan routes."""
    result = invoke("timeline", "--json", *steps)
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout)["steps"][-1]
    assert [entry["event"] for entry in last["added"]] == [event]


# Verify's summary and the review pack (U1) -------------------------------------------------


def _report(machine: str, missing: tuple[str, ...] = ()) -> Report:
    coverage = Coverage(
        Tally(("a", "b"), ()),
        Tally(("go: a -> b",), missing),
        Tally(("r",), ()),
        Tally(("R1",), ()),
    )
    return Report(machine, 1, 3, coverage, 3, (), 0.0)


def test_review_exits_1_when_the_verification_falls_short(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """U1: `review` writes the pack and prints its path, but exits 1 with one line saying
    what the verifier found missing when the verification is not whole."""

    def build(directory: Any, **_: Any) -> support_flows.review.Pack:
        index = Path(directory) / "index.html"
        return support_flows.review.Pack(
            index, (index,), True, ("consulting: not covered: transition back: b -> a",)
        )

    monkeypatch.setattr(support_flows.review, "build", build)
    result = invoke("review", "-o", str(tmp_path))
    assert_one_line(result, 1, "error: [verification_failed, U1] the pack is written, but ")
    assert "consulting: not covered: transition back: b -> a" in result.stderr
    assert result.stdout == f"{tmp_path / 'index.html'}\n"


# Fuzzing (U1) ---------------------------------------------------------------------------------


def _commands() -> dict[tuple[str, ...], click.Command]:
    """Every command and group of `support-flows` by its path (the root is ())."""
    found: dict[tuple[str, ...], click.Command] = {}
    stack: list[tuple[tuple[str, ...], click.Command]] = [((), main)]
    while stack:
        path, command = stack.pop()
        found[path] = command
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    stack.append(((*path, name), sub))
    return found


COMMANDS = _commands()
NAMES = sorted(
    {
        *(name for path in COMMANDS for name in path),
        *(opt for c in COMMANDS.values() for p in c.params for opt in (*p.opts, *p.secondary_opts)),
    }
)
"""Every command name and option name of the real commands."""


HOSTILE = (
    "",
    " ",
    "-",
    "--",
    "-1",
    "0",
    "1",
    "13",
    "100001",
    "1e309",
    "nan",
    "inf",
    "9" * 400,
    "é",
    "\t\n",
    "x" * 300,
    "KING",
    "ORG_OWNER",
    "ORG_MEMBER,PROJECT_OWNER",
    "p-1",
    "UTC",
    "Mars/Base",
    "localtime",
    AT,
    "2026-03-01T00:00",
    "2026-02-30T00:00Z",
    "0001-01-01T00:00Z",
    "tomorrow",
    f"subscribe:premium@{AT}",
    f"upgrade:developer@{AT}",
    f"downgrade:premium@{AT}",
    f"revoke_pending@{AT}",
    f"revoke@{AT}",
    f"cancel@{AT}",
    "observe@2026-09-01T00:00Z",
    "observe@1960-01-01T00:00Z",
    "dance@2026-01-01T00:00Z",
    "sqlite://",
    "sqlite:////dev/null/x.db",
    "mysql://root@127.0.0.1/x",
    "postgresql://postgres@127.0.0.1:5999/x",
    "not a url",
    "json:dumps",
    "os:system",
    "sys:exit",
    "support_flows.outbox:InMemoryOutbox",
    "support_flows.outbox:Outbox",
    "/dev/null/x.svg",
    "/proc/x",
    "out.mmd",
    "--help",
)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow parts made fast, the commands' own argument handling untouched: the verifier
    answers small reports (complete but for consulting), the review pack only makes its
    directory, and the diagrams skip the layout engine."""
    monkeypatch.setattr(
        verify_cli,
        "run",
        lambda machine, **_: _report(machine, ("back: b -> a",) if machine == "consulting" else ()),
    )

    def build(directory: Any, **_: Any) -> support_flows.review.Pack:
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        return support_flows.review.Pack(out / "index.html", (), False)

    monkeypatch.setattr(support_flows.review, "build", build)
    real = support_flows.diagrams.render
    monkeypatch.setattr(
        support_flows.diagrams,
        "render",
        lambda chart, fmt: b"png" if fmt == "png" else real(chart, "mermaid"),
    )


def _value(param: click.Parameter) -> st.SearchStrategy[str]:
    """Half the time one of the parameter's own choices, when it has some; else hostile."""
    if isinstance(param.type, click.Choice):
        return st.sampled_from([str(c) for c in param.type.choices]) | st.sampled_from(HOSTILE)
    return st.sampled_from(HOSTILE)


def _piece(param: click.Parameter) -> st.SearchStrategy[list[str]]:
    """One parameter as it is written: a flag, an option with a value, or an argument."""
    if not isinstance(param, click.Option):
        return _value(param).map(lambda value: [value])
    names = st.sampled_from([*param.opts, *param.secondary_opts])
    if param.is_flag:
        return names.map(lambda name: [name])
    return st.tuples(names, _value(param)).map(list)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command's path, its required parameters and some others with values drawn from their
    choices and hostile values, in any order, and now and then a stray token."""
    path = draw(st.sampled_from(sorted(COMMANDS)))
    params = COMMANDS[path].params
    pieces = [draw(_piece(p)) for p in params if p.required]
    if params:
        pieces += draw(st.lists(st.sampled_from(params).flatmap(_piece), max_size=4))
    strays = draw(st.lists(st.sampled_from(NAMES) | st.sampled_from(HOSTILE), max_size=1))
    tokens = [token for piece in pieces for token in piece] + strays
    return [*path, *draw(st.permutations(tokens))]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=command_lines())
def test_fuzzed_command_lines_keep_u1(fast: None, args: list[str]) -> None:
    """U1: any command line drawn from the commands' real parameters and hostile values exits
    0, 1, 2 or 3, never with a traceback, and every failure is exactly one stderr line
    `error: [...`."""
    with tempfile.TemporaryDirectory() as place, contextlib.chdir(place):
        result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2, 3)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code:
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ["), result.stderr
