"""Diagrams under a policy (K1, K2): a chart drawn with a policy's terms and edges, a live
object under its catalog's version in force at its clock's now, Atlas's drawing unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

import support_flows as sf
from support_flows import diagrams

JAN_2027 = pendulum.datetime(2027, 1, 1, tz="UTC")
PROPOSAL = sf.Policy(
    version="p2027", effective_from=JAN_2027, trial_days=14, change_timing="immediately"
)
CATALOG = sf.Catalog([sf.Policy(), PROPOSAL])
OWNER = sf.Member("u-1", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")


def _edge(mermaid: str, source: str, target: str) -> list[str]:
    return [
        line for line in mermaid.splitlines() if line.strip().startswith(f"{source} --> {target} :")
    ]


def test_k1_diagram_labels_show_the_policys_trial_length() -> None:
    """Drawn under a 14-day policy, the subscribe edge says the 14-day trial starts now."""
    drawn = diagrams.render("plan", "mermaid", policy=PROPOSAL)
    assert isinstance(drawn, str)
    assert "the 14-day trial starts now" in " ".join(_edge(drawn, "basic", "trial"))
    assert "30-day" not in drawn


def test_k1_diagram_immediate_downgrade_is_in_force_now() -> None:
    """Under immediate changes the downgrade is an edge premium -> developer, in force now,
    and no pending downgrade stays inside premium."""
    drawn = diagrams.render("plan", "mermaid", policy=PROPOSAL)
    assert isinstance(drawn, str)
    downgrade = " ".join(_edge(drawn, "premium", "developer"))
    assert "Downgrade" in downgrade
    assert "in force now" in downgrade
    assert "pending until the 1st of next month" not in drawn


def test_k1_no_trial_policy_does_not_draw_the_trial_state() -> None:
    """Under trial_days 0 no edge reaches or leaves the trial: it is not drawn, and basic (the
    initial state) still is, subscribing developer at once."""
    drawn = diagrams.render("plan", "dot", policy=sf.Policy(trial_days=0))
    assert isinstance(drawn, str)
    assert '"trial"' not in drawn
    assert '"basic__start" -> "basic"' in drawn
    assert '"basic" -> "developer"' in drawn


@pytest.mark.parametrize("chart", ["plan", "case", "consulting"])
@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_k1_atlas_policy_draws_exactly_the_default_diagram(chart: str, fmt: str) -> None:
    """Atlas's policy given explicitly draws the same bytes as no policy at all."""
    assert diagrams.render(chart, fmt, policy=sf.Policy()) == diagrams.render(chart, fmt)


def test_k2_live_plan_is_drawn_under_the_version_in_force_at_its_clock() -> None:
    """A live plan's diagram uses its catalog's version in force now: 30-day trial before the
    proposal's effective instant, 14-day from it on."""
    org = sf.Organization("org-1")
    before = sf.SupportPlan(org, clock=sf.FrozenClock(JAN_2027.subtract(days=1)), catalog=CATALOG)
    after = sf.SupportPlan(org, clock=sf.FrozenClock(JAN_2027), catalog=CATALOG)
    assert "the 30-day trial starts now" in str(diagrams.render(before, "mermaid"))
    assert "the 14-day trial starts now" in str(diagrams.render(after, "mermaid"))
    assert "the 30-day trial" in str(diagrams.render(after, "mermaid", policy=sf.Policy()))


def test_k3_live_plan_in_a_trial_keeps_its_state_drawn_under_a_no_trial_version() -> None:
    """A trial started under a 30-day version is still drawn (highlighted, waiting for its
    end) once a no-trial version is in force: the diagram never hides the current state."""
    catalog = sf.Catalog(
        [sf.Policy(), sf.Policy(version="none", effective_from=JAN_2027, trial_days=0)]
    )
    clock = sf.FrozenClock(pendulum.datetime(2026, 12, 20, tz="UTC"))
    plan = sf.SupportPlan(sf.Organization("org-1"), clock=clock, catalog=catalog)
    plan.change("developer", actor=OWNER)
    clock.set(pendulum.datetime(2027, 1, 2, tz="UTC"))
    drawn = diagrams.render(plan, "mermaid")
    assert isinstance(drawn, str)
    assert 'state "Trial" as trial' in drawn
    assert "class trial current" in drawn
    assert "WAITING: the trial ends" in drawn


def test_v1_render_refuses_a_policy_that_is_not_a_policy() -> None:
    """A policy argument that is not a Policy is refused as invalid_value, naming what it got."""
    with pytest.raises(sf.InvalidInput) as caught:
        diagrams.render("plan", "mermaid", policy={"trial_days": 14})  # type: ignore[arg-type]
    assert caught.value.code == "invalid_value"
    assert "Policy" in caught.value.message


def test_k2_diagram_command_draws_under_a_policy_file(tmp_path: Path) -> None:
    """`support-flows diagram plan --policy FILE` draws the file's version in force now; a bad
    file is one line `error: [invalid_value, K2] ...`, exit 2."""
    policy = tmp_path / "short.toml"
    policy.write_text('[[version]]\nid = "short"\ntrial_days = 7\n', encoding="utf-8")
    command = [sys.executable, "-m", "support_flows", "diagram", "plan", "--policy"]
    done = subprocess.run([*command, str(policy)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "the 7-day trial starts now" in done.stdout
    policy.write_text('[[version]]\nid = "short"\ntrial_days = -1\n', encoding="utf-8")
    done = subprocess.run([*command, str(policy)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("error: [invalid_value, K2] ")
    assert len(done.stderr.strip().splitlines()) == 1
