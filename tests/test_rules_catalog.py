"""The rules catalog (support_flows.rules): every rule of RULES.md, its sources and its reasons."""

from __future__ import annotations

import attrs
import pytest

from support_flows.errors import InvalidInput, Reason
from support_flows.rules import RULES, SECTIONS, Rule, Source, rule, rules_for

# Written out from RULES.md, in document order, independently of the catalog.
EXPECTED_IDS = [
    *(f"T{n}" for n in range(1, 9)),
    *(f"P{n}" for n in range(1, 18)),
    "P20",
    "P21",
    *(f"C{n}" for n in range(1, 8)),
    *(f"F{n}" for n in range(8)),
    *(f"V{n}" for n in range(1, 8)),
    *(f"S{n}" for n in range(1, 7)),
    "U1",
    "U2",
    *(f"K{n}" for n in range(1, 7)),
]

# Every refusal each rule describes; rules not listed here produce none.
EXPECTED_REASONS = {
    "T1": ("naive_datetime",),
    "T2": ("unknown_timezone",),
    "P1": ("billing_role_required",),
    "P2": ("contact_sales",),
    "P3": ("cross_org_billing",),
    "P11": ("already_on_plan",),
    "P12": ("change_already_effective", "no_pending_change"),
    "P13": ("nothing_to_cancel",),
    "C1": ("not_org_member", "project_role_required", "org_has_no_projects", "plan_excludes_cases"),
    "C2": ("plan_excludes_cases",),
    "C3": ("org_owner_required",),
    "C4": ("org_has_no_projects",),
    "C5": ("project_not_found", "project_role_required"),
    "C6": (
        "project_not_found",
        "org_owner_required",
        "project_role_required",
        "org_has_no_projects",
        "plan_excludes_cases",
    ),
    "F0": ("not_org_member", "order_not_active"),
    "F1": ("billing_role_required", "sales_reference_required"),
    "F2": ("invalid_quantity",),
    "F3": ("buyer_email_required",),
    "F4": ("invalid_quantity", "insufficient_units", "session_in_past"),
    "F5": ("session_already_started", "session_not_started", "unknown_session"),
    "F6": ("session_after_expiry", "invalid_quantity"),
    "F7": ("order_not_active",),
    "V1": ("invalid_value",),
    "V2": ("invalid_snapshot",),
    "V3": ("event_not_allowed",),
    "V4": ("invalid_quantity", "invalid_value"),
    "V5": ("invalid_value", "unknown_timezone"),
    "V7": ("reentrant_call",),
    "K1": ("invalid_value",),
    "K2": ("invalid_value",),
    "K4": ("invalid_snapshot",),
    "S1": ("stale_revision",),
    "S2": ("idempotency_key_reused",),
    "S5": ("not_found",),
    "S6": ("invalid_value", "store_unavailable"),
    "U2": ("invalid_value",),
}

LOCAL_PATH_MARKERS = ("/work", "/home", "/tmp", "/shared", "/usr", "~/", "\\", ".md", ".py")


def test_catalog_holds_every_rule_id_in_document_order() -> None:
    """RULES lists exactly the rule ids of RULES.md, in document order."""
    assert list(RULES) == EXPECTED_IDS


def test_keys_sections_and_ids_agree() -> None:
    """Each entry is keyed by its own id and sits in the section its id's letter names."""
    assert list(SECTIONS) == ["T", "P", "C", "F", "V", "S", "U", "K"]
    for rule_id, entry in RULES.items():
        assert isinstance(entry, Rule)
        assert entry.id == rule_id
        assert entry.section == rule_id[0]
        assert entry.section in SECTIONS


def test_every_reason_is_produced_by_some_rule() -> None:
    """No reason code is orphaned: each Reason member is produced by at least one rule."""
    produced = {reason for entry in RULES.values() for reason in entry.reasons}
    assert produced == set(Reason)
    for reason in Reason:
        assert rules_for(reason)


def test_reasons_per_rule_follow_the_specification() -> None:
    """Each rule produces exactly the refusals RULES.md describes for it, in the order given."""
    actual = {rule_id: entry.reasons for rule_id, entry in RULES.items() if entry.reasons}
    assert actual == {
        rule_id: tuple(map(Reason, codes)) for rule_id, codes in EXPECTED_REASONS.items()
    }


@pytest.mark.parametrize(
    "rule_id", ["T3", "T5", "T8", "P6", "P14", "P20", "C7", "V6", "S3", "S4", "U1"]
)
def test_rules_without_refusals_produce_no_reason(rule_id: str) -> None:
    """Rules that describe behaviour but no refusal carry no reason code."""
    assert rule(rule_id).reasons == ()


def test_every_rule_has_title_statement_and_sources() -> None:
    """Every rule has a short title, a non-empty statement and at least one distinct source."""
    for entry in RULES.values():
        assert entry.title.strip(), entry.id
        assert len(entry.title) <= 60, entry.id
        assert entry.statement.strip(), entry.id
        assert entry.sources, entry.id
        assert all(isinstance(s, Source) for s in entry.sources), entry.id
        assert len(set(entry.sources)) == len(entry.sources), entry.id


def test_texts_mention_no_local_paths() -> None:
    """Titles, statements and source notes never refer to files on the author's machine."""
    for entry in RULES.values():
        for text in (entry.title, entry.statement, entry.source_note):
            for marker in LOCAL_PATH_MARKERS:
                assert marker not in text, (entry.id, marker)


def test_statement_names_every_reason_it_produces() -> None:
    """A reviewer reading a statement sees each reason code the rule can produce."""
    for entry in RULES.values():
        for reason in entry.reasons:
            assert f"`{reason.value}`" in entry.statement, (entry.id, reason)


def test_sources_follow_the_source_column() -> None:
    """Sources keep the RULES.md order and the parenthetical remark goes to source_note."""
    assert [s.value for s in Source] == ["SEED", "DOCS", "INDUSTRY", "DECISION"]
    assert rule("P1").sources == (Source.DOCS, Source.DECISION)
    assert rule("P1").source_note == "billing settings need Owner or Billing Admin"
    assert rule("P9").sources == (Source.SEED, Source.DOCS)
    assert rule("T2").sources == (Source.INDUSTRY,)
    assert rule("T2").source_note == "Lago, Kill Bill"
    assert rule("P2").source_note == ""
    assert rule("P20").sources == (Source.INDUSTRY, Source.DECISION)
    assert "decision" in rule("P20").source_note


def test_unknown_rule_id_is_invalid_value() -> None:
    """rule() refuses an unknown id with invalid_value (V1), naming it and the accepted ids."""
    with pytest.raises(InvalidInput) as caught:
        rule("P99")
    assert caught.value.code == "invalid_value"
    assert caught.value.rule == "V1"
    assert "P99" in caught.value.message
    assert "P21" in caught.value.message
    assert "S5" in caught.value.message


def test_rule_returns_the_catalog_entry() -> None:
    """rule() returns the catalog's own entry for a known id."""
    assert rule("P9") is RULES["P9"]
    assert rule("P9").title == "Downgrade and cancel wait for the 1st"


def test_rules_for_contact_sales_is_p2() -> None:
    """rules_for() accepts a Reason or its code and returns the producing rules in order."""
    assert rules_for("contact_sales") == (rule("P2"),)
    assert rules_for(Reason.CONTACT_SALES) == (rule("P2"),)
    assert [r.id for r in rules_for("plan_excludes_cases")] == ["C1", "C2", "C6"]


def test_rules_for_unknown_code_is_invalid_value() -> None:
    """rules_for() refuses a code that is not a reason with invalid_value (V1)."""
    with pytest.raises(InvalidInput) as caught:
        rules_for("no_such_reason")
    assert caught.value.code == "invalid_value"
    assert "no_such_reason" in caught.value.message


def test_catalog_is_read_only() -> None:
    """Neither the catalog, the sections nor a rule can be changed at run time."""
    with pytest.raises(TypeError):
        RULES["P99"] = rule("P1")  # type: ignore[index]
    with pytest.raises(TypeError):
        del RULES["P1"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        SECTIONS["X"] = "Extra"  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rule("P1").title = "changed"  # type: ignore[misc]
