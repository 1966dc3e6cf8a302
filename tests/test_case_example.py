"""The case example script runs and answers each request as the C rules predict."""

from __future__ import annotations

import json

from example_runner import run_example


def test_c6_open_support_case_example_maps_refusals_to_responses() -> None:
    """examples/open_support_case.py prints real refusals with every reason, and one new case."""
    stdout = run_example("open_support_case.py")
    responses = [json.loads(line) for line in stdout.splitlines()]
    outcomes = [
        (r["status"], [reason["code"] for reason in r["body"].get("reasons", [])])
        for r in responses
    ]
    assert outcomes == [
        (402, ["plan_excludes_cases"]),
        (403, ["org_owner_required"]),
        (404, ["project_not_found", "project_role_required"]),
        (409, ["org_has_no_projects", "plan_excludes_cases"]),
        (400, ["invalid_value"]),
        (201, []),
    ]
    for refusal in responses[:-1]:
        body = refusal["body"]
        primary = body["reasons"][0]
        assert (body["code"], body["rule"]) == (primary["code"], primary["rule"])
        assert all(reason["message"] in body["message"] for reason in body["reasons"])
    assert "'bob'" in responses[1]["body"]["message"]
    assert "'mobile'" in responses[2]["body"]["message"]
    assert "'S0'" in responses[4]["body"]["message"]
    assert responses[-1]["body"] == {
        "case_id": "case-0001",
        "org_id": "acme",
        "scope": "project",
        "project_id": "web",
        "requester": "carol",
        "opened_at": "2026-03-14T10:05:00+00:00",
        "title": "Slow queries",
        "severity": "S2",
    }
