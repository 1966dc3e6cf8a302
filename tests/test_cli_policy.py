"""`--policy FILE` on `support-flows timeline` and `support-flows explain` (RULES.md K, U1): the
requests are decided under the file's catalog, each by the version in force at its instant, and
the output names the version that decided it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import support_flows as sf
from support_flows.cli import main

ATLAS_THEN_2027 = """\
[[version]]
id = "atlas"

[[version]]
id = "2027"
effective_from = 2027-01-01T00:00:00Z
trial_days = 14
change_timing = "immediately"
billing_roles = ["ORG_BILLING_READ_ONLY"]
"""


def invoke(*args: str) -> Result:
    """`support-flows ARGS`, in process."""
    return CliRunner().invoke(main, list(args))


def policy_file(tmp_path: Path, text: str) -> str:
    """A policy file holding `text`, by path."""
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def one_version(tmp_path: Path, **terms: object) -> str:
    """A policy file of one version, "house", with `terms` changed from Atlas's."""
    return policy_file(tmp_path, sf.Catalog([sf.Policy(version="house", **terms)]).to_toml())


# -- timeline ----------------------------------------------------------------------------------


def test_k1_timeline_under_a_14_day_trial_ends_the_trial_14_days_later(tmp_path: Path) -> None:
    """T5 under K1: a developer subscription under a 14-day policy is a trial ending 14 days
    later, converted then; every step and entry names the version."""
    done = invoke(
        "timeline", "--policy", one_version(tmp_path, trial_days=14),
        "subscribe:developer@2026-03-14T10:00Z", "observe@2026-03-28T10:00Z",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.startswith("billing timezone UTC; clock starts 2026-03-14 10:00 UTC; policy house")
    assert (
        "1. subscribe:developer@2026-03-14T10:00Z  (2026-03-14 10:00 UTC)  accepted under house"
        in out
    )
    assert "trial ends: 2026-03-28 10:00 UTC (14-day trial under house)" in out
    assert "(applied by the clock, as house scheduled it)" in out
    assert "billing: developer 2026-03-28 10:00 UTC -> open" in out


def test_k3_timeline_across_a_version_boundary_names_each_steps_version(tmp_path: Path) -> None:
    """K3: a trial granted under atlas keeps its 30 days after 2027 comes into force; a step at
    the version's instant and after it is decided by 2027 (an immediate cancel); the JSON names
    each step's version and the catalog's versions."""
    steps = (
        "subscribe:developer@2026-12-20T00:00Z",
        "observe@2027-01-01T00:00Z",
        "observe@2027-01-19T00:00Z",
        "cancel@2027-01-25T00:00Z",
    )
    policy = policy_file(tmp_path, ATLAS_THEN_2027)
    roles = ("--roles", "ORG_OWNER,ORG_BILLING_READ_ONLY")
    text = invoke("timeline", "--policy", policy, *roles, *steps)
    assert text.exit_code == 0, text.output
    out = text.stdout
    assert "policies atlas, 2027 from 2027-01-01 00:00 UTC" in out.splitlines()[0]
    for number, outcome in enumerate(
        (
            "accepted under atlas",
            "observed under 2027",
            "observed under 2027",
            "accepted under 2027",
        ),
        start=1,
    ):
        assert f"{number}. {steps[number - 1]}" in out
        assert f"  {outcome}\n" in out
    assert out.count("trial ends: 2027-01-19 00:00 UTC (30-day trial under atlas)") == 2
    assert "trial -> developer (applied by the clock, as atlas scheduled it)" in out
    assert "cancel: developer -> cancelled (requested by u-1 under 2027)" in out

    data = json.loads(invoke("timeline", "--json", "--policy", policy, *roles, *steps).stdout)
    assert data["policies"] == [
        {"id": "atlas", "effective_from": None},
        {"id": "2027", "effective_from": "2027-01-01T00:00:00+00:00"},
    ]
    assert [s["policy"] for s in data["steps"]] == ["atlas", "2027", "2027", "2027"]
    assert data["steps"][0]["trial"]["policy"] == "atlas"
    assert [s["state"] for s in data["steps"]] == ["trial", "trial", "developer", "cancelled"]


def test_k1_timeline_immediate_downgrade_is_in_force_at_the_request(tmp_path: Path) -> None:
    """P9 under change_timing immediately: the downgrade takes effect at the request, nothing
    pending, premium caught up from its start to the downgrade (P21)."""
    done = invoke(
        "timeline", "--policy", one_version(tmp_path, change_timing="immediately"),
        "subscribe:premium@2026-03-14T10:00Z", "downgrade@2026-03-20T10:00Z",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    after = done.stdout.split("\n2. ")[1]
    assert "downgrade: premium -> developer (requested by u-1 under house)" in after
    assert "state: developer" in after
    assert "pending: none" in after
    assert "premium 2026-03-14 10:00 UTC -> 2026-03-20 10:00 UTC (retroactive)" in after


def test_k1_an_atlas_policy_file_answers_as_without_one(tmp_path: Path) -> None:
    """K: a file stating Atlas's policy (sf.ATLAS written as TOML) gives the output the default
    gives, for a timeline and for an explanation."""
    atlas = policy_file(tmp_path, sf.ATLAS.to_toml())
    steps = ("subscribe:premium@2026-07-02T00:00Z", "downgrade@2026-07-10T00:00Z")
    assert invoke("timeline", "--policy", atlas, *steps).stdout == invoke("timeline", *steps).stdout
    asked = (
        "explain",
        "plan",
        "--state",
        "premium",
        "--tier",
        "developer",
        "--at",
        "2026-03-14T10:00Z",
    )
    assert invoke(*asked, "--policy", atlas).stdout == invoke(*asked).stdout
    assert "decided under policy atlas\n" in invoke(*asked).stdout


# -- explain -----------------------------------------------------------------------------------


def test_k1_explain_plan_change_under_billing_roles_read_only(tmp_path: Path) -> None:
    """P1 under K1: with billing_roles {ORG_BILLING_READ_ONLY} the owner is refused (exit 1),
    the reason's rule shown with the policy's value beside Atlas's; the read-only member is
    allowed (exit 0)."""
    policy = one_version(tmp_path, billing_roles={sf.Role.ORG_BILLING_READ_ONLY})
    asked = (
        "explain", "plan", "--state", "premium", "--tier", "developer",
        "--at", "2026-03-14T10:00Z", "--policy", policy,
    )  # fmt: skip
    refused = invoke(*asked, "--roles", "ORG_OWNER")
    assert refused.exit_code == 1, refused.output
    assert "decided under policy house (unlike Atlas's: billing_roles ORG_BILLING_READ_ONLY)" in (
        refused.stdout
    )
    assert "- billing_role_required (rule P1" in refused.stdout
    assert (
        "K1:   under house, billing_roles is ORG_BILLING_READ_ONLY "
        "(Atlas's: ORG_BILLING_ADMIN, ORG_OWNER)" in refused.stdout
    )
    assert refused.stderr.startswith("error: [billing_role_required, P1]")
    allowed = invoke(*asked, "--roles", "ORG_BILLING_READ_ONLY", "--json")
    assert allowed.exit_code == 0, allowed.output
    data = json.loads(allowed.stdout)
    assert (data["allowed"], data["policy"]) == (True, "house")
    assert data["tuned"] == {
        "billing_roles": {
            "atlas": ["ORG_BILLING_ADMIN", "ORG_OWNER"],
            "policy": ["ORG_BILLING_READ_ONLY"],
        }
    }


def test_k1_explain_immediate_downgrade_is_allowed_and_has_nothing_pending(tmp_path: Path) -> None:
    """P9 under change_timing immediately: a downgrade from premium is allowed; a situation
    with a downgrade pending cannot exist under that policy: malformed input naming the
    field (exit 2)."""
    policy = one_version(tmp_path, change_timing="immediately")
    asked = (
        "explain", "plan", "--state", "premium", "--tier", "developer", "--roles", "ORG_OWNER",
        "--at", "2026-03-20T10:00Z", "--policy", policy,
    )  # fmt: skip
    allowed = invoke(*asked)
    assert allowed.exit_code == 0, allowed.output
    assert "decided under policy house (unlike Atlas's: change_timing immediately)" in (
        allowed.stdout
    )
    pending = invoke(*asked, "--pending", "downgrade")
    assert pending.exit_code == 2, pending.output
    assert pending.stderr.startswith(
        "error: [invalid_value, K1] a pending downgrade cannot exist at 2026-03-20T10:00:00+00:00 "
        "under policy house: its change_timing is immediately"
    )


def test_k3_explain_plan_decides_under_the_version_in_force_at(tmp_path: Path) -> None:
    """K3: the same question before 2027 and exactly at its instant is decided by atlas, then
    by 2027 (whose billing roles exclude the owner); a trial set up under 2027 is its 14 days."""
    policy = policy_file(tmp_path, ATLAS_THEN_2027)
    asked = ("explain", "plan", "--state", "trial", "--action", "cancel", "--policy", policy)
    before = invoke(*asked, "--roles", "ORG_OWNER", "--at", "2026-12-31T23:59:59Z")
    assert before.exit_code == 0, before.output
    assert "(30-day trial under atlas, ends 2027-01-29T23:59:59+00:00)" in before.stdout
    assert "decided under policy atlas\n" in before.stdout
    at = invoke(*asked, "--roles", "ORG_OWNER", "--at", "2027-01-01T00:00:00Z")
    assert at.exit_code == 1, at.output
    assert "decided under policy 2027 (unlike Atlas's:" in at.stdout
    assert "- billing_role_required (rule P1" in at.stdout
    later = invoke(*asked, "--roles", "ORG_BILLING_READ_ONLY", "--at", "2027-02-01T00:00Z")
    assert later.exit_code == 0, later.output
    assert "(14-day trial under 2027, ends 2027-02-14T00:00:00+00:00)" in later.stdout


def test_k1_explain_plan_a_state_the_policy_cannot_reach_is_malformed(tmp_path: Path) -> None:
    """K1: with trial_days 0 no plan is ever in trial: asking about one is malformed input
    naming the field (exit 2); developer is then reached without a trial."""
    policy = one_version(tmp_path, trial_days=0)
    asked = (
        "explain",
        "plan",
        "--action",
        "cancel",
        "--at",
        "2026-03-14T10:00Z",
        "--policy",
        policy,
    )
    trial = invoke(*asked, "--state", "trial", "--roles", "ORG_OWNER")
    assert trial.exit_code == 2, trial.output
    assert trial.stderr.startswith(
        "error: [invalid_value, K1] no plan is in trial at 2026-03-14T10:00:00+00:00 under "
        "policy house (its trial_days is 0)"
    )
    developer = invoke(*asked, "--state", "developer", "--roles", "ORG_OWNER")
    assert developer.exit_code == 0, developer.output


@pytest.mark.parametrize("trial_days", [1, 365])
def test_k1_explain_plan_sets_up_trials_and_developer_at_the_edges(
    tmp_path: Path, trial_days: int
) -> None:
    """T5 under K1 at its edges: a one-day and a year-long trial still give a plan in trial and
    one in developer to ask about."""
    policy = one_version(tmp_path, trial_days=trial_days)
    for state in ("trial", "developer", "cancelled"):
        done = invoke(
            "explain", "plan", "--state", state, "--tier", "premium", "--roles", "ORG_OWNER",
            "--at", "2026-03-14T10:00Z", "--policy", policy,
        )  # fmt: skip
        assert done.exit_code == 0, (state, done.output)
        assert f"given plan {state}" in done.stdout


def test_p3_explain_plan_in_cross_org_billing_sets_up_paid_plans() -> None:
    """P3: a plan in cross-org billing can be asked about in any state (the set-up subscribes
    outside cross-org billing): cancelling developer is allowed, upgrading it is refused."""
    asked = (
        "explain",
        "plan",
        "--state",
        "developer",
        "--cross-org-billing",
        "--roles",
        "ORG_OWNER",
    )
    assert invoke(*asked, "--action", "cancel").exit_code == 0
    upgrade = invoke(*asked, "--tier", "premium")
    assert upgrade.exit_code == 1
    assert "- cross_org_billing (rule P3" in upgrade.stdout


def test_k1_explain_case_under_org_case_roles_and_case_states(tmp_path: Path) -> None:
    """C2, C3 under K1: org_case_roles with ORG_READ_ONLY lets a read-only member open an
    organization case on premium; case_states {premium} refuses it on developer, the policy's
    value shown."""
    policy = one_version(
        tmp_path, org_case_roles={"ORG_OWNER", "ORG_READ_ONLY"}, case_states={"premium"}
    )
    asked = (
        "explain",
        "case",
        "--scope",
        "organization",
        "--roles",
        "ORG_READ_ONLY",
        "--policy",
        policy,
    )
    assert invoke(*asked, "--plan", "premium").exit_code == 0
    refused = invoke(*asked, "--plan", "developer")
    assert refused.exit_code == 1
    assert [line for line in refused.stdout.splitlines() if line.startswith("- ")] == [
        "- plan_excludes_cases (rule C2: Cases need a plan that includes them)"
    ]
    assert "K1:   under house, case_states is premium" in refused.stdout
    assert invoke(*asked[:-2], "--plan", "premium").exit_code == 1  # Atlas: the owner alone


def test_k3_explain_case_at_an_instant_takes_its_version(tmp_path: Path) -> None:
    """K3: `explain case --at` asks under the version in force then."""
    policy = policy_file(
        tmp_path,
        ATLAS_THEN_2027 + 'org_case_roles = ["ORG_OWNER", "ORG_READ_ONLY"]\n',
    )
    asked = (
        "explain",
        "case",
        "--plan",
        "premium",
        "--scope",
        "organization",
        "--roles",
        "ORG_READ_ONLY",
        "--policy",
        policy,
    )
    assert invoke(*asked, "--at", "2026-12-31T23:59:59Z").exit_code == 1
    done = invoke(*asked, "--at", "2027-01-01T00:00Z")
    assert done.exit_code == 0, done.output
    assert "decided under policy 2027" in done.stdout


def test_k1_explain_consulting_takes_the_policys_order_terms(tmp_path: Path) -> None:
    """F2, F6 under K1: the order set up takes the policy's hours per unit and validity, and a
    session is one unit's hours by default; buying needs the policy's billing roles (F1)."""
    policy = one_version(
        tmp_path,
        hours_per_unit=3,
        validity_months=6,
        billing_roles={"ORG_BILLING_READ_ONLY"},
    )
    at = ("--at", "2026-03-14T10:00Z", "--policy", policy)
    done = invoke("explain", "consulting", "--roles", "ORG_MEMBER", *at)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("allowed: schedule 3 h on a purchased order")
    assert (
        "order co-1 (10 units of 3 h, validity 6 months, terms of house): purchased" in done.stdout
    )
    expired = invoke("explain", "consulting", "--state", "expired", *at)
    assert "validity 6 months, terms of house): expired" in expired.stdout
    buy = invoke("explain", "consulting", "--action", "buy", "--roles", "ORG_OWNER", *at)
    assert buy.exit_code == 1
    assert "- billing_role_required (rule F1" in buy.stdout
    buy = invoke(
        "explain", "consulting", "--action", "buy", "--roles", "ORG_BILLING_READ_ONLY", *at
    )
    assert buy.exit_code == 0, buy.output


# -- a bad file --------------------------------------------------------------------------------

COMMANDS = {
    "timeline": ("timeline", "observe@2026-03-14T10:00Z"),
    "explain-case": ("explain", "case"),
    "explain-plan": ("explain", "plan", "--tier", "developer", "--at", "2026-03-14T10:00Z"),
    "explain-consulting": ("explain", "consulting", "--at", "2026-03-14T10:00Z"),
}

BAD_FILES = {
    "missing": (None, "error: [invalid_value, K2] --policy: catalog: cannot read"),
    "not-toml": ("[[version]\nid = 'x'", "error: [invalid_value, K2] --policy: catalog: not TOML"),
    "unknown-field": (
        "[[version]]\nid = 'atlas'\ntrial_weeks = 2\n",
        "error: [invalid_value, K2] --policy: policy 'atlas': unknown field 'trial_weeks'",
    ),
    "duplicate-id": (
        "[[version]]\nid = 'atlas'\n[[version]]\nid = 'atlas'\n"
        "effective_from = 2027-01-01T00:00:00Z\n",
        "error: [invalid_value, K2] --policy: catalog: version id 'atlas' appears twice",
    ),
    "unordered": (
        "[[version]]\nid = 'a'\n[[version]]\nid = 'b'\neffective_from = 2027-01-01T00:00:00Z\n"
        "[[version]]\nid = 'c'\neffective_from = 2026-01-01T00:00:00Z\n",
        "error: [invalid_value, K2] --policy: catalog: version 'c': effective_from",
    ),
    "out-of-range": (
        "[[version]]\nid = 'atlas'\ntrial_days = 400\n",
        "error: [invalid_value, K2] --policy: policy 'atlas': trial_days must be",
    ),
}


@pytest.mark.parametrize("bad", BAD_FILES, ids=list(BAD_FILES))
@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
def test_k2_u1_a_bad_policy_file_is_one_line_and_exit_2(
    tmp_path: Path, command: str, bad: str
) -> None:
    """K2, U1: a policy file that is missing, not TOML, or states a malformed catalog is
    malformed input: one line `error: [invalid_value, K...] --policy: ...` naming the version
    and field, exit 2, nothing on stdout."""
    text, start = BAD_FILES[bad]
    path = tmp_path / "policy.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    done = invoke(*COMMANDS[command], "--policy", str(path))
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(start), lines[0]
