"""Reason codes, decisions and errors (DESIGN.md's error contract) and the values (V1, T2)."""

import json
import pickle

import attrs
import pytest

import support_flows as sf
from support_flows import (
    Channel,
    Decision,
    InvalidInput,
    Member,
    Organization,
    PlanState,
    Project,
    Reason,
    Refused,
    Role,
    Scope,
    Severity,
    SupportFlowsError,
    Tier,
    Violation,
)
from support_flows.errors import error_for
from support_flows.values import parse

# Written out from RULES.md, "Refusal reasons (stable codes)", independently of errors.py.
RULES_REASONS = [
    "naive_datetime",
    "unknown_timezone",
    "invalid_value",
    "invalid_snapshot",
    "billing_role_required",
    "contact_sales",
    "cross_org_billing",
    "already_on_plan",
    "nothing_to_cancel",
    "no_pending_change",
    "change_already_effective",
    "event_not_allowed",
    "not_org_member",
    "plan_excludes_cases",
    "org_owner_required",
    "org_has_no_projects",
    "project_not_found",
    "project_role_required",
    "sales_reference_required",
    "invalid_quantity",
    "insufficient_units",
    "session_in_past",
    "session_after_expiry",
    "session_not_started",
    "session_already_started",
    "unknown_session",
    "order_not_active",
    "buyer_email_required",
    "reentrant_call",
    "stale_revision",
    "idempotency_key_reused",
    "not_found",
    "store_unavailable",
]

# Malformed input per DESIGN.md ("naive datetime, unknown timezone, units < 1") and RULES V1/V2.
MALFORMED = {
    "naive_datetime",
    "unknown_timezone",
    "invalid_value",
    "invalid_snapshot",
    "invalid_quantity",
}

# Written out from DESIGN.md's public contract.
ROLES = [
    "ORG_OWNER",
    "ORG_PROJECT_CREATOR",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_READ_ONLY",
    "ORG_MEMBER",
    "PROJECT_OWNER",
    "PROJECT_CLUSTER_MANAGER",
    "PROJECT_DATA_ACCESS_ADMIN",
    "PROJECT_DATA_ACCESS_READ_WRITE",
    "PROJECT_DATA_ACCESS_READ_ONLY",
    "PROJECT_READ_ONLY",
]
ORG_ROLES = [r for r in ROLES if r.startswith("ORG_")]
PROJECT_ROLES = [r for r in ROLES if r.startswith("PROJECT_")]

ENUMS = [
    pytest.param(Role, ROLES, id="Role"),
    pytest.param(Tier, ["basic", "developer", "premium", "enterprise"], id="Tier"),
    pytest.param(
        PlanState, ["basic", "trial", "developer", "premium", "cancelled"], id="PlanState"
    ),
    pytest.param(Scope, ["organization", "project"], id="Scope"),
    pytest.param(Channel, ["chat", "developer_resources", "support_case"], id="Channel"),
    pytest.param(Severity, ["S1", "S2", "S3", "S4"], id="Severity"),
]


def violation(code: str = "org_owner_required", rule: str = "C3", message: str = "m") -> Violation:
    return Violation(code, rule, message)


# Reason


def test_reason_codes_are_exactly_those_of_rules_md():
    """Reason's values are exactly RULES.md's stable refusal codes, no more, no fewer."""
    assert len(RULES_REASONS) == len(set(RULES_REASONS))
    assert sorted(r.value for r in Reason) == sorted(RULES_REASONS)


@pytest.mark.parametrize("code", RULES_REASONS)
def test_reason_is_a_lowercase_str_equal_to_its_code(code):
    """Each Reason is a str enum equal to its lowercase code, named by the uppercase code."""
    reason = Reason(code)
    assert reason == code
    assert isinstance(reason, str)
    assert reason.name == code.upper()
    assert code == code.lower()


# Violation


def test_violation_equals_its_code_and_carries_rule_and_message():
    """A Violation is a str equal to its code and carries .code, .rule and .message."""
    v = Violation(Reason.ORG_OWNER_REQUIRED, "C3", "only an Organization Owner can do this")
    assert v == "org_owner_required"
    assert v == Reason.ORG_OWNER_REQUIRED
    assert isinstance(v, str)
    assert v.code is Reason.ORG_OWNER_REQUIRED
    assert v.rule == "C3"
    assert v.message == "only an Organization Owner can do this"


def test_violation_accepts_the_code_as_a_string():
    """A Violation built from a code string normalises it to the Reason member."""
    assert violation("plan_excludes_cases", "C2").code is Reason.PLAN_EXCLUDES_CASES


def test_violation_refuses_a_code_not_in_rules_md():
    """A Violation cannot carry a code that is not a RULES.md reason."""
    with pytest.raises(ValueError, match="not_a_reason"):
        Violation("not_a_reason", "C3", "m")


def test_violation_is_immutable():
    """A Violation's code, rule and message cannot be reassigned."""
    v = violation()
    with pytest.raises(AttributeError):
        v.rule = "P1"  # type: ignore[misc]
    assert v.rule == "C3"


def test_violation_to_dict_and_pickle():
    """A Violation serialises to {code, rule, message} and survives pickling with its data."""
    v = violation("project_not_found", "C5", "no project p-9")
    assert v.to_dict() == {"code": "project_not_found", "rule": "C5", "message": "no project p-9"}
    copy = pickle.loads(pickle.dumps(v))
    assert (copy, copy.code, copy.rule, copy.message) == (v, v.code, v.rule, v.message)


# Decision


def test_decision_allowed_is_truthy_with_no_reasons():
    """An allowed Decision is truthy, has no reasons and no code."""
    decision = Decision()
    assert decision
    assert decision.allowed is True
    assert decision.reasons == ()
    assert decision.code is None
    assert decision.to_dict() == {"allowed": True, "reasons": []}


def test_decision_refused_is_falsy_and_keeps_every_reason_in_order():
    """A refused Decision is falsy and keeps every reason in order; the first is the primary."""
    first = violation("project_role_required", "C5", "no role in p-1")
    second = violation("plan_excludes_cases", "C2", "basic has no cases")
    decision = Decision([first, second])
    assert not decision
    assert decision.allowed is False
    assert decision.reasons == (first, second)
    assert decision.code == "project_role_required"
    assert Reason.PLAN_EXCLUDES_CASES in decision.reasons
    assert decision.to_dict() == {
        "allowed": False,
        "reasons": [
            {"code": "project_role_required", "rule": "C5", "message": "no role in p-1"},
            {"code": "plan_excludes_cases", "rule": "C2", "message": "basic has no cases"},
        ],
    }
    json.dumps(decision.to_dict())


def test_decision_accepts_any_iterable_of_violations():
    """A Decision built from a generator stores a tuple."""
    decision = Decision(v for v in [violation()])
    assert decision.reasons == (violation(),)


def test_decision_equality_and_immutability():
    """Decisions with the same reasons are equal and hash alike; a Decision cannot be changed."""
    assert Decision([violation()]) == Decision([violation()])
    assert hash(Decision([violation()])) == hash(Decision([violation()]))
    assert Decision() != Decision([violation()])
    with pytest.raises(AttributeError):
        Decision().reasons = (violation(),)  # type: ignore[misc]


def test_decision_raise_if_refused():
    """raise_if_refused does nothing when allowed, raises Refused or InvalidInput otherwise."""
    Decision().raise_if_refused()
    with pytest.raises(Refused) as refused:
        Decision([violation()]).raise_if_refused()
    assert refused.value.code == "org_owner_required"
    with pytest.raises(InvalidInput):
        Decision([violation("invalid_value", "V1")]).raise_if_refused()


# SupportFlowsError, Refused, InvalidInput


def test_error_carries_code_rule_message_and_reasons():
    """A refusal carries .reasons in order, .code/.rule of the primary one and a human .message."""
    first = violation("project_not_found", "C5", "project p-9 is not in org-1")
    second = violation("plan_excludes_cases", "C2", "the basic plan has no support cases")
    error = Refused([first, second])
    assert error.reasons == (first, second)
    assert error.code == "project_not_found"
    assert type(error.code) is str
    assert error.rule == "C5"
    assert "project p-9 is not in org-1" in error.message
    assert error.code in str(error)


def test_error_to_dict_has_exactly_the_designed_shape():
    """to_dict() is {code, rule, message, reasons: [{code, rule, message}, ...]}, JSON-ready."""
    first = violation("project_not_found", "C5", "project p-9 is not in org-1")
    second = violation("plan_excludes_cases", "C2", "the basic plan has no support cases")
    error = Refused([first, second])
    assert error.to_dict() == {
        "code": "project_not_found",
        "rule": "C5",
        "message": error.message,
        "reasons": [
            {"code": "project_not_found", "rule": "C5", "message": "project p-9 is not in org-1"},
            {
                "code": "plan_excludes_cases",
                "rule": "C2",
                "message": "the basic plan has no support cases",
            },
        ],
    }
    assert json.loads(json.dumps(error.to_dict())) == error.to_dict()


def test_error_accepts_a_single_violation():
    """An error built from one Violation has that one reason."""
    error = InvalidInput(violation("naive_datetime", "T1", "no timezone"))
    assert error.reasons == (violation("naive_datetime", "T1", "no timezone"),)
    assert error.to_dict()["message"] == "no timezone"


def test_error_needs_a_reason():
    """An error with no reason at all cannot be built."""
    with pytest.raises(ValueError, match="at least one reason"):
        Refused([])


def test_error_hierarchy():
    """Refused and InvalidInput are SupportFlowsErrors; only InvalidInput is a ValueError."""
    assert issubclass(Refused, SupportFlowsError)
    assert issubclass(InvalidInput, SupportFlowsError)
    assert issubclass(InvalidInput, ValueError)
    assert not issubclass(Refused, ValueError)
    assert issubclass(SupportFlowsError, Exception)


@pytest.mark.parametrize("code", sorted(MALFORMED))
def test_error_for_picks_invalid_input_for_malformed_input(code):
    """error_for gives InvalidInput (a ValueError) when the primary reason is malformed input."""
    error = error_for([violation(code, "V1"), violation("org_owner_required", "C3")])
    assert type(error) is InvalidInput
    assert isinstance(error, ValueError)
    assert error.code == code


@pytest.mark.parametrize("code", sorted(set(RULES_REASONS) - MALFORMED - {"store_unavailable"}))
def test_error_for_picks_refused_for_business_reasons(code):
    """error_for gives Refused when the primary reason is a business refusal."""
    error = error_for([violation(code, "X1"), violation("invalid_value", "V1")])
    assert type(error) is Refused
    assert error.code == code


def test_error_for_picks_unavailable_for_a_store_that_cannot_be_reached():
    """S6: store_unavailable is an Unavailable error (neither a refusal nor malformed input)."""
    error = error_for([violation("store_unavailable", "S6")])
    assert type(error) is sf.Unavailable
    assert isinstance(error, sf.SupportFlowsError)
    assert not isinstance(error, sf.Refused | ValueError)
    assert sf.http_status(error) == 503


# V1: names


@pytest.mark.parametrize(("kind", "values"), ENUMS)
def test_v1_enum_values_are_exactly_the_documented_names(kind, values):
    """V1: each enum's values are exactly the names DESIGN.md and RULES.md list."""
    assert [m.value for m in kind] == values


@pytest.mark.parametrize(("kind", "values"), ENUMS)
def test_v1_every_enum_accepts_its_strings(kind, values):
    """V1: parse accepts each name as a string and gives the member, which equals the string."""
    for value in values:
        member = parse(kind, value)
        assert isinstance(member, kind)
        assert member == value
        assert parse(kind, member) is member


@pytest.mark.parametrize(("kind", "values"), ENUMS)
@pytest.mark.parametrize("bad", ["nope", "", None, 3])
def test_v1_unknown_name_is_invalid_value_naming_value_and_accepted(kind, values, bad):
    """V1: an unknown name is refused with invalid_value, naming it and every accepted name."""
    with pytest.raises(InvalidInput) as caught:
        parse(kind, bad)
    assert caught.value.code == Reason.INVALID_VALUE
    assert caught.value.rule == "V1"
    assert repr(bad) in caught.value.message
    for value in values:
        assert value in caught.value.message


def test_v1_roles_are_uppercase_and_the_rest_lowercase():
    """V1: roles are their uppercase names; tiers, states, scopes, channels are lowercase."""
    assert Role.ORG_OWNER == "ORG_OWNER"
    assert all(r.value == r.name == r.value.upper() for r in Role)
    for kind in (Tier, PlanState, Scope, Channel):
        assert all(m.value == m.value.lower() for m in kind)
    assert Tier.PREMIUM == "premium"
    assert Severity.S3 == "S3"


# Member


@pytest.mark.parametrize(
    "given",
    [
        pytest.param({"ORG_OWNER", "ORG_BILLING_ADMIN"}, id="set-of-str"),
        pytest.param([Role.ORG_OWNER, "ORG_BILLING_ADMIN"], id="list-mixed"),
        pytest.param(("ORG_BILLING_ADMIN", Role.ORG_OWNER, "ORG_OWNER"), id="tuple-with-dup"),
        pytest.param(frozenset({Role.ORG_OWNER, Role.ORG_BILLING_ADMIN}), id="frozenset"),
        pytest.param((r for r in ["ORG_OWNER", "ORG_BILLING_ADMIN"]), id="generator"),
        pytest.param({"ORG_OWNER": 1, "ORG_BILLING_ADMIN": 2}.keys(), id="dict-keys"),
    ],
)
def test_member_org_roles_normalise_any_iterable(given):
    """Member takes org roles as any iterable of strings or Roles and keeps a frozenset of Roles."""
    member = Member("u-1", org_roles=given)
    assert member.org_roles == frozenset({Role.ORG_OWNER, Role.ORG_BILLING_ADMIN})
    assert type(member.org_roles) is frozenset
    assert all(type(r) is Role for r in member.org_roles)


def test_member_single_role_string_is_one_role():
    """A single role string is one role, not a set of characters."""
    assert Member("u-1", org_roles="ORG_OWNER").org_roles == {Role.ORG_OWNER}


def test_member_defaults_to_no_roles():
    """A Member without roles holds none."""
    member = Member("u-1")
    assert member.org_roles == frozenset()
    assert dict(member.project_roles) == {}
    assert member.email is None


def test_member_project_roles_normalise():
    """Project roles keyed by project id become frozensets of Roles; empty entries are dropped."""
    member = Member(
        "u-1",
        project_roles={"p-1": ["PROJECT_OWNER", Role.PROJECT_READ_ONLY], "p-2": set()},
    )
    assert dict(member.project_roles) == {
        "p-1": frozenset({Role.PROJECT_OWNER, Role.PROJECT_READ_ONLY})
    }
    assert all(type(r) is Role for r in member.project_roles["p-1"])
    assert member.roles_in_project("p-1") == {Role.PROJECT_OWNER, Role.PROJECT_READ_ONLY}
    assert member.roles_in_project("p-2") == frozenset()


def test_member_equality_ignores_how_roles_were_given():
    """Members built from role strings or Roles are equal."""
    assert Member("u-1", org_roles=["ORG_OWNER"], project_roles={"p": "PROJECT_OWNER"}) == Member(
        "u-1", org_roles={Role.ORG_OWNER}, project_roles={"p": {Role.PROJECT_OWNER}}
    )


@pytest.mark.parametrize("role", PROJECT_ROLES)
def test_v1_member_refuses_a_project_role_as_org_role(role):
    """V1: a project role given as an organization role is refused with invalid_value naming it."""
    with pytest.raises(InvalidInput) as caught:
        Member("u-1", org_roles={"ORG_OWNER", role})
    assert caught.value.code == "invalid_value"
    assert role in caught.value.message


@pytest.mark.parametrize("role", ORG_ROLES)
def test_v1_member_refuses_an_org_role_as_project_role(role):
    """V1: an organization role given as a project role is refused with invalid_value naming it."""
    with pytest.raises(InvalidInput) as caught:
        Member("u-1", project_roles={"p-1": {"PROJECT_OWNER", role}})
    assert caught.value.code == "invalid_value"
    assert role in caught.value.message


def test_v1_member_refuses_an_unknown_role():
    """V1: an unknown role name is refused with invalid_value naming it and the accepted roles."""
    with pytest.raises(InvalidInput) as caught:
        Member("u-1", org_roles={"ORG_GOD"})
    assert caught.value.code == "invalid_value"
    assert "'ORG_GOD'" in caught.value.message
    assert "ORG_OWNER" in caught.value.message


def test_v1_member_refuses_project_roles_that_are_not_a_mapping():
    """V1: project roles must map project ids to roles."""
    with pytest.raises(InvalidInput) as caught:
        Member("u-1", project_roles=["PROJECT_OWNER"])  # type: ignore[arg-type]
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize("user_id", ["", None, 7])
def test_v1_member_needs_a_user_id(user_id):
    """V1: a Member's user id is a non-empty string."""
    with pytest.raises(InvalidInput) as caught:
        Member(user_id)
    assert caught.value.code == "invalid_value"


def test_member_is_frozen():
    """A Member's fields cannot be reassigned."""
    member = Member("u-1", org_roles={"ORG_OWNER"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        member.org_roles = frozenset()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        member.user_id = "u-2"  # type: ignore[misc]


def test_member_project_roles_cannot_be_changed_in_place():
    """A frozen Member's project roles cannot be changed through the mapping it exposes."""
    member = Member("u-1", project_roles={"p-1": {"PROJECT_READ_ONLY"}})
    with pytest.raises(TypeError):
        member.project_roles["p-1"] = frozenset({Role.ORG_OWNER})  # type: ignore[index]
    assert member.roles_in_project("p-1") == {Role.PROJECT_READ_ONLY}


# Organization and Project


def test_v1_cross_org_billing_must_be_a_boolean():
    """V1: cross_org_billing="false" is malformed input, never silently truthy."""
    with pytest.raises(InvalidInput) as caught:
        Organization("org-1", cross_org_billing="false")  # type: ignore[arg-type]
    assert caught.value.code == "invalid_value"
    assert "'false'" in caught.value.message


def test_organization_defaults():
    """An Organization defaults to no projects, UTC billing (T2) and no cross-org billing."""
    org = Organization("org-1")
    assert org.projects == ()
    assert org.billing_timezone == "UTC"
    assert org.cross_org_billing is False


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(["p-1", "p-2"], id="list-of-str"),
        pytest.param((Project("p-1"), "p-2"), id="mixed"),
        pytest.param((p for p in ["p-1", "p-2"]), id="generator"),
    ],
)
def test_organization_normalises_projects(given):
    """Projects given as ids or Projects, in any iterable, become a tuple of Projects."""
    org = Organization("org-1", projects=given)
    assert org.projects == (Project("p-1"), Project("p-2"))
    assert type(org.projects) is tuple
    assert org.project_ids == {"p-1", "p-2"}
    assert org.has_project("p-1")
    assert not org.has_project("p-3")


@pytest.mark.parametrize("given", ["p-1", Project("p-1")], ids=["str", "Project"])
def test_organization_single_project_is_one_project(given):
    """A single project id or Project is one project, not a sequence of characters."""
    assert Organization("org-1", projects=given).projects == (Project("p-1"),)


def test_t2_organization_keeps_a_known_billing_timezone():
    """T2: an IANA billing timezone is kept as given."""
    assert Organization("org-1", billing_timezone="Pacific/Auckland").billing_timezone == (
        "Pacific/Auckland"
    )


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe/Berln", ""])
def test_t2_organization_refuses_an_unknown_timezone(name):
    """T2: an Organization with an unknown billing timezone is refused with unknown_timezone."""
    with pytest.raises(InvalidInput) as caught:
        Organization("org-1", billing_timezone=name)
    assert caught.value.code == "unknown_timezone"
    assert caught.value.rule == "T2"


def test_t2_evolving_an_organization_checks_the_timezone_again():
    """T2: attrs.evolve to an unknown timezone is refused too."""
    with pytest.raises(InvalidInput, match="unknown_timezone"):
        attrs.evolve(Organization("org-1"), billing_timezone="Nowhere/Land")


@pytest.mark.parametrize("org_id", ["", None])
def test_v1_organization_and_project_need_ids(org_id):
    """V1: organization and project ids are non-empty strings."""
    with pytest.raises(InvalidInput, match="invalid_value"):
        Organization(org_id)
    with pytest.raises(InvalidInput, match="invalid_value"):
        Project(org_id)


def test_organization_and_project_are_frozen():
    """Organization and Project fields cannot be reassigned."""
    org = Organization("org-1", projects=["p-1"])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        org.billing_timezone = "Mars/Olympus_Mons"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        org.projects = ()  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        org.projects[0].project_id = "p-2"  # type: ignore[misc]
    assert org == Organization("org-1", projects=[Project("p-1")])
    assert hash(org) == hash(Organization("org-1", projects=["p-1"]))
