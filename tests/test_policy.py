"""Policies as versioned data (RULES.md K1, K2): the policy's fields, their bounds and defaults,
the catalog's versions over time, and TOML both ways."""

from __future__ import annotations

import datetime as dt
import os
import pickle
import zoneinfo
from collections.abc import Callable
from pathlib import Path

import attrs
import pendulum
import pytest
from hypothesis import given

import support_flows as sf
from support_flows import InvalidInput, PlanState, Role
from support_flows.testing import catalogs, instants
from support_flows.values.plan import BASIC_CHANNELS, PAID_CHANNELS
from support_flows.values.policy import ATLAS_POLICY, FIELDS, Catalog, Policy, Timing

UTC = pendulum.UTC
JAN_2027 = pendulum.datetime(2027, 1, 1, tz="UTC")
JUL_2027 = pendulum.datetime(2027, 7, 1, tz="UTC")
MICROSECOND = dt.timedelta(microseconds=1)

# Written out from RULES.md K1, independently of policy.py.
ATLAS_TERMS = {
    "trial_days": 30,
    "retroactive_days": 90,
    "upgrade_billing": "next_month_start",
    "change_timing": "next_month_start",
    "billing_roles": frozenset({Role.ORG_OWNER, Role.ORG_BILLING_ADMIN}),
    "org_case_roles": frozenset({Role.ORG_OWNER}),
    "case_states": frozenset({PlanState.TRIAL, PlanState.DEVELOPER, PlanState.PREMIUM}),
    "hours_per_unit": 1,
    "validity_months": None,
}
K1_RULES = {
    "trial_days": {"T5", "P4"},
    "retroactive_days": {"P15"},
    "upgrade_billing": {"P5", "P8"},
    "change_timing": {"P9"},
    "billing_roles": {"P1", "F1"},
    "org_case_roles": {"C3"},
    "case_states": {"P17", "C2"},
    "hours_per_unit": {"F2"},
    "validity_months": {"F6"},
}


def refused(call: Callable[[], object], *named: str) -> InvalidInput:
    """The InvalidInput `call` raises, checked to be `invalid_value` naming each of `named`."""
    with pytest.raises(InvalidInput) as caught:
        call()
    error = caught.value
    assert error.code == "invalid_value", error
    for text in named:
        assert text in error.message, (text, error.message)
    return error


def policy_refused(**fields: object) -> InvalidInput:
    """The refusal of a policy "2027" with `fields`: it names the version and the one field."""
    (field,) = fields
    return refused(lambda: Policy(version="2027", **fields), "policy '2027'", field)


class NoCompare:
    """An instant stand-in that fails the test if anything compares or reads it."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the instant was read: {name}")

    def __lt__(self, other: object) -> bool:
        raise AssertionError("the instant was compared")

    __gt__ = __le__ = __ge__ = __lt__


# K1: the fields, their defaults and their bounds


def test_k1_every_default_is_atlas() -> None:
    """Policy() holds Atlas's value of every K1 field, version `atlas` from the beginning."""
    policy = Policy()
    assert {name: getattr(policy, name) for name in ATLAS_TERMS} == ATLAS_TERMS
    assert (policy.version, policy.effective_from) == ("atlas", None)
    assert policy == ATLAS_POLICY == sf.Policy()
    assert Catalog([Policy()]) == sf.ATLAS
    assert sf.ATLAS.ids == ("atlas",)


def test_k1_fields_are_k1s_in_order_with_the_rules_they_tune() -> None:
    """FIELDS lists K1's fields in RULES.md's order, each naming at least the rules K1 says it
    tunes, and every one is a keyword of Policy."""
    assert list(FIELDS) == list(K1_RULES)
    for name, rules in K1_RULES.items():
        assert rules <= set(FIELDS[name].rules), name
        assert FIELDS[name].means
    keywords = {a.name for a in attrs.fields(Policy) if a.init}
    assert set(FIELDS) | {"version", "effective_from"} == keywords


@pytest.mark.parametrize(
    ("field", "accepted", "refused_values"),
    [
        ("trial_days", (0, 365), (-1, 366)),
        ("retroactive_days", (0, 365), (-1, 366)),
        ("hours_per_unit", (1, 1000), (0, 1001)),
        ("validity_months", (None, 1, 120), (0, 121)),
    ],
)
def test_k1_numbers_are_held_at_their_edges_and_refused_past_them(
    field: str, accepted: tuple[int | None, ...], refused_values: tuple[int, ...]
) -> None:
    """Each number of K1 accepts both ends of its range and refuses one past each end."""
    for value in accepted:
        assert getattr(Policy(**{field: value}), field) == value
    for value in refused_values:
        policy_refused(**{field: value})


@pytest.mark.parametrize(
    "field", ["trial_days", "retroactive_days", "hours_per_unit", "validity_months"]
)
@pytest.mark.parametrize("value", [True, False, 14.0, "14", None])
def test_k1_a_number_is_a_plain_int(field: str, value: object) -> None:
    """A bool is never a number (V4), nor a float or text; None only means 'forever' for
    validity_months."""
    if field == "validity_months" and value is None:
        assert Policy(validity_months=None).validity_months is None
        return
    policy_refused(**{field: value})


@pytest.mark.parametrize("field", ["upgrade_billing", "change_timing"])
def test_k1_timings_are_named_and_held_as_timing(field: str) -> None:
    """Both timings take `next_month_start` or `immediately`, as names or Timing, held as
    Timing; anything else is refused naming the accepted ones."""
    assert getattr(Policy(**{field: "immediately"}), field) is Timing.IMMEDIATELY
    assert getattr(Policy(**{field: Timing.IMMEDIATELY}), field) is Timing.IMMEDIATELY
    for wrong in ("tomorrow", "IMMEDIATELY", "", None, 0):
        error = policy_refused(**{field: wrong})
        assert "next_month_start, immediately" in error.message


def test_k1_names_are_accepted_as_strings_and_held_as_enums() -> None:
    """Role and state names given as strings (any iterable) are held as frozensets of Role and
    PlanState."""
    policy = Policy(
        billing_roles=["ORG_OWNER"],
        org_case_roles=("ORG_OWNER", Role.ORG_READ_ONLY),
        case_states=iter(["trial", PlanState.PREMIUM]),
    )
    assert policy.billing_roles == frozenset({Role.ORG_OWNER})
    assert policy.org_case_roles == frozenset({Role.ORG_OWNER, Role.ORG_READ_ONLY})
    assert policy.case_states == frozenset({PlanState.TRIAL, PlanState.PREMIUM})
    for held in (*policy.billing_roles, *policy.org_case_roles):
        assert type(held) is Role
    assert all(type(state) is PlanState for state in policy.case_states)


@pytest.mark.parametrize("field", ["billing_roles", "org_case_roles"])
def test_k1_role_sets_are_non_empty_sets_of_organization_roles(field: str) -> None:
    """billing_roles and org_case_roles refuse an empty set, a project role, an unknown name
    (listing the organization roles) and a bare string."""
    policy_refused(**{field: ()})
    policy_refused(**{field: frozenset()})
    error = policy_refused(**{field: {Role.ORG_OWNER, Role.PROJECT_OWNER}})
    assert "PROJECT_OWNER" in error.message
    policy_refused(**{field: ["PROJECT_READ_ONLY"]})
    error = policy_refused(**{field: ["ORG_ADMIN"]})
    assert "'ORG_ADMIN'" in error.message
    assert "ORG_BILLING_ADMIN" in error.message
    policy_refused(**{field: "ORG_OWNER"})
    policy_refused(**{field: None})
    policy_refused(**{field: {"ORG_OWNER": True}})


def test_k1_case_states_are_a_subset_of_trial_developer_premium() -> None:
    """case_states refuses basic, cancelled and unknown names; any subset of trial, developer
    and premium is held."""
    for wrong in (["basic"], ["cancelled", "trial"], ["enterprise"], "trial", [3]):
        policy_refused(case_states=wrong)
    assert Policy(case_states=["developer"]).case_states == {PlanState.DEVELOPER}


def test_k1_empty_case_states_is_a_policy_with_no_private_cases() -> None:
    """An empty case_states is allowed (the empty set is a subset, K1): no state entitles to
    support cases, every state keeps chat and the developer resources (P17)."""
    policy = Policy(case_states=())
    assert policy.case_states == frozenset()
    assert {policy.entitlements(state) for state in PlanState} == {BASIC_CHANNELS}


def test_k1_entitlements_follow_case_states() -> None:
    """Under Atlas's policy, trial, developer and premium entitle to cases, basic and cancelled
    do not (P17); a policy's case_states moves that line."""
    paid = {PlanState.TRIAL, PlanState.DEVELOPER, PlanState.PREMIUM}
    for state in PlanState:
        expected = PAID_CHANNELS if state in paid else BASIC_CHANNELS
        assert ATLAS_POLICY.entitlements(state) == expected
    only_premium = Policy(case_states=["premium"])
    assert only_premium.entitlements(PlanState.TRIAL) == BASIC_CHANNELS
    assert only_premium.entitlements(PlanState.PREMIUM) == PAID_CHANNELS


def test_k1_effective_from_is_an_aware_instant_held_in_utc() -> None:
    """effective_from is an aware datetime in 1970-2999, held in UTC: a naive one, a date, text
    and one outside those years are refused naming the version and the field."""
    berlin = dt.datetime(2027, 1, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    held = Policy(version="2027", effective_from=berlin).effective_from
    assert held == JAN_2027
    assert held is not None
    assert held.tzinfo == UTC
    error = policy_refused(effective_from=dt.datetime(2027, 1, 1))
    assert "no timezone" in error.message
    policy_refused(effective_from=dt.date(2027, 1, 1))
    policy_refused(effective_from="2027-01-01T00:00:00Z")
    policy_refused(effective_from=dt.datetime(1969, 12, 31, tzinfo=dt.UTC))
    policy_refused(effective_from=dt.datetime(3000, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize("version", ["", " 2027", "2027\n", "x" * 201, 2027, None])
def test_k1_a_version_id_is_an_identifier(version: object) -> None:
    """A version id is a V5 identifier: empty, padded, unprintable, too long or not text is
    refused, naming it."""
    refused(lambda: Policy(version=version), "version")  # type: ignore[arg-type]


def test_k1_a_policy_is_frozen_and_evolve_checks_again() -> None:
    """A policy cannot be changed in place; attrs.evolve builds a new one through the same
    checks."""
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ATLAS_POLICY.trial_days = 14  # type: ignore[misc]
    assert attrs.evolve(ATLAS_POLICY, trial_days=14).trial_days == 14
    refused(lambda: attrs.evolve(ATLAS_POLICY, trial_days=-1), "policy 'atlas'", "trial_days")


def test_k1_terms_and_changes_from_name_only_what_differs() -> None:
    """terms() is plain data (names, sorted); changes_from names each differing field with its
    before and after values, and nothing else."""
    proposed = Policy(version="2027", trial_days=14, change_timing="immediately")
    assert proposed.changes_from(ATLAS_POLICY) == {
        "trial_days": (30, 14),
        "change_timing": ("next_month_start", "immediately"),
    }
    assert ATLAS_POLICY.terms()["billing_roles"] == ["ORG_BILLING_ADMIN", "ORG_OWNER"]
    assert ATLAS_POLICY.changes_from(Policy(version="other", effective_from=JAN_2027)) == {}


# K2: versions over time


def two_versions(first_from: pendulum.DateTime | None = None) -> Catalog:
    return Catalog(
        [
            Policy(effective_from=first_from),
            Policy(version="2027", effective_from=JAN_2027, trial_days=14),
        ]
    )


def test_k2_a_version_is_in_force_from_its_exact_instant() -> None:
    """at() exactly at a version's effective instant gives that version; a microsecond before,
    the one before it."""
    catalog = Catalog(
        [
            Policy(),
            Policy(version="2027", effective_from=JAN_2027),
            Policy(version="2027-07", effective_from=JUL_2027),
        ]
    )
    assert catalog.at(JAN_2027).version == "2027"
    assert catalog.at(JAN_2027 - MICROSECOND).version == "atlas"
    assert catalog.at(JUL_2027).version == "2027-07"
    assert catalog.at(JUL_2027 - MICROSECOND).version == "2027"
    berlin_midnight = pendulum.datetime(2027, 7, 1, tz="Europe/Berlin")
    assert catalog.at(berlin_midnight).version == "2027"


def test_k2_the_first_version_applies_from_the_beginning() -> None:
    """Before the second version's instant the first applies, even before the first's own
    effective instant."""
    catalog = two_versions(first_from=pendulum.datetime(2026, 1, 1, tz="UTC"))
    assert catalog.at(pendulum.datetime(1970, 1, 1, tz="UTC")).version == "atlas"
    assert catalog.at(JAN_2027 - MICROSECOND).version == "atlas"
    assert catalog.at(JAN_2027).version == "2027"


def test_k2_one_version_answers_without_looking_at_the_instant() -> None:
    """A catalog of one version (sf.ATLAS) gives it for any instant without comparing it."""
    assert sf.ATLAS.at(NoCompare()) is ATLAS_POLICY  # type: ignore[arg-type]
    assert Catalog([Policy(effective_from=JAN_2027)]).at(NoCompare()).version == "atlas"  # type: ignore[arg-type]


def test_k2_at_refuses_what_is_not_an_instant() -> None:
    """With several versions, a naive datetime is refused `naive_datetime` (T1) and anything
    else `invalid_value`, never a TypeError."""
    catalog = two_versions()
    with pytest.raises(InvalidInput) as caught:
        catalog.at(dt.datetime(2027, 1, 1))
    assert caught.value.code == "naive_datetime"
    refused(lambda: catalog.at(dt.date(2027, 1, 1)))  # type: ignore[arg-type]
    refused(lambda: catalog.at("2027-01-01T00:00:00Z"))  # type: ignore[arg-type]


@given(catalogs(max_versions=5), instants())
def test_k2_at_is_the_latest_version_at_or_before_the_instant(
    catalog: Catalog, moment: pendulum.DateTime
) -> None:
    """at(t) is the latest version whose effective instant is at or before t, the first when
    none is (a scan of the versions, as K2 states it)."""
    expected = catalog.versions[0]
    for policy in catalog.versions[1:]:
        assert policy.effective_from is not None
        if policy.effective_from <= moment:
            expected = policy
    assert catalog.at(moment) is expected
    for policy in catalog.versions[1:]:
        assert catalog.at(policy.effective_from) is policy  # type: ignore[arg-type]


def test_k2_a_catalog_pickles_to_an_equal_catalog() -> None:
    """A catalog and its policies survive pickling (a host's worker processes) equal, with
    the same hash and the same answers."""
    catalog = two_versions(first_from=pendulum.datetime(2026, 1, 1, tz="UTC"))
    copy = pickle.loads(pickle.dumps(catalog))
    assert copy == catalog
    assert hash(copy) == hash(catalog)
    assert copy.at(JAN_2027) == catalog["2027"]
    assert copy["atlas"] == catalog.versions[0]


def test_k2_versions_are_found_by_id() -> None:
    """catalog[id] is that version; an unknown id is `invalid_value` listing the ids held."""
    catalog = two_versions()
    assert catalog["2027"].trial_days == 14
    assert catalog["atlas"] is catalog.versions[0]
    assert catalog.ids == ("atlas", "2027")
    assert ("2027" in catalog, "2028" in catalog, 2027 in catalog) == (True, False, False)
    assert list(catalog) == list(catalog.versions)
    assert len(catalog) == 2
    error = refused(lambda: catalog["2028"], "'2028'", "atlas, 2027")
    assert error.rule == "K2"
    refused(lambda: catalog[2027], "2027", "atlas, 2027")  # type: ignore[index]


def test_k2_get_answers_a_version_or_none() -> None:
    """`Catalog.get` answers the version of an id, and None for an id it lacks or a non-str,
    where `[id]` refuses."""
    later = Policy(version="2027", effective_from=pendulum.datetime(2027, 1, 1, tz="UTC"))
    catalog = Catalog([Policy(), later])
    assert catalog.get("2027") is later
    assert catalog.get("atlas") == Policy()
    assert catalog.get("2028") is None
    assert catalog.get(2027) is None


def test_k2_duplicate_ids_are_refused_naming_the_id() -> None:
    """Two versions with one id are refused, naming it."""
    refused(lambda: Catalog([Policy(), Policy(effective_from=JAN_2027)]), "'atlas'", "twice")


def test_k2_effective_instants_strictly_increase() -> None:
    """A later version at an earlier or the same instant as the one before it, or without an
    instant, is refused naming the version and effective_from."""
    first = Policy(effective_from=JAN_2027)
    for moment in (JAN_2027, JAN_2027 - MICROSECOND):
        later = Policy(version="b", effective_from=moment)
        refused(lambda later=later: Catalog([first, later]), "'b'", "effective_from")
    no_instant = Policy(version="b")
    refused(lambda: Catalog([Policy(), no_instant]), "'b'", "effective_from")
    third = Policy(version="c", effective_from=JUL_2027 - MICROSECOND)
    second = Policy(version="b", effective_from=JUL_2027)
    refused(lambda: Catalog([Policy(), second, third]), "'c'", "effective_from")


@pytest.mark.parametrize(
    ("versions", "named"),
    [
        ([], "at least one version"),
        ((), "at least one version"),
        ([Policy(), "2027"], "version 2"),
        ([Policy(), None], "version 2"),
        (Policy(), "Policy"),
        (None, "None"),
        ("atlas", "'atlas'"),
    ],
)
def test_k2_a_catalog_is_one_or_more_policies(versions: object, named: str) -> None:
    """An empty catalog, an item that is not a Policy, or versions that are not a sequence are
    refused `invalid_value`, naming the position or the value."""
    error = refused(lambda: Catalog(versions), named)  # type: ignore[arg-type]
    assert error.rule == "K2"


# K2: TOML

DESIGN_EXAMPLE = """
[[version]]
id = "atlas"                      # first version: the defaults, changed by nothing here

[[version]]
id = "2027"
effective_from = 2027-01-01T00:00:00Z
trial_days = 14
change_timing = "immediately"
org_case_roles = ["ORG_OWNER", "ORG_READ_ONLY"]
"""


def test_k2_toml_reads_designs_example() -> None:
    """The policy file of DESIGN.md reads as Atlas's policy then version 2027 with its three
    changes."""
    catalog = Catalog.from_toml(DESIGN_EXAMPLE)
    assert catalog == Catalog(
        [
            Policy(),
            Policy(
                version="2027",
                effective_from=JAN_2027,
                trial_days=14,
                change_timing="immediately",
                org_case_roles=["ORG_OWNER", "ORG_READ_ONLY"],
            ),
        ]
    )


def test_k2_toml_versions_state_only_what_they_change() -> None:
    """Each [[version]] starts from the version before it (the first from the defaults), and
    its effective_from is its own."""
    text = DESIGN_EXAMPLE + (
        '\n[[version]]\nid = "2027-07"\neffective_from = 2027-07-01T00:00:00Z\nhours_per_unit = 4\n'
    )
    later = Catalog.from_toml(text)["2027-07"]
    assert (later.trial_days, later.change_timing, later.hours_per_unit) == (14, "immediately", 4)
    assert later.org_case_roles == {Role.ORG_OWNER, Role.ORG_READ_ONLY}
    assert later.effective_from == JUL_2027
    first = Catalog.from_toml('[[version]]\nid = "mine"\nretroactive_days = 0\n')["mine"]
    assert first == Policy(version="mine", retroactive_days=0)


def test_k2_toml_validity_none_is_written_and_read_as_the_string_none() -> None:
    """TOML has no null: `validity_months = "none"` sets 'valid forever' after a version that
    set a number, to_toml writes it that way, and omitting it keeps the version before's."""
    catalog = Catalog(
        [
            Policy(validity_months=12),
            Policy(version="b", effective_from=JAN_2027),
            Policy(version="c", effective_from=JUL_2027, validity_months=None),
        ]
    )
    text = catalog.to_toml()
    assert text.count("validity_months") == 2
    assert 'validity_months = "none"' in text
    assert Catalog.from_toml(text) == catalog
    assert Catalog.from_toml('[[version]]\nid = "a"\nvalidity_months = "none"\n') == Catalog(
        [Policy(version="a")]
    )
    for wrong in ('"None"', '"null"', '""', "0", "true"):
        refused(
            lambda wrong=wrong: Catalog.from_toml(
                f'[[version]]\nid = "a"\nvalidity_months = {wrong}\n'
            ),
            "policy 'a'",
            "validity_months",
        )


def test_k2_to_toml_writes_only_changes() -> None:
    """sf.ATLAS writes one version with its id and nothing else; a later version writes its
    instant and the fields it changes."""
    assert sf.ATLAS.to_toml() == '[[version]]\nid = "atlas"\n'
    text = two_versions().to_toml()
    assert text.splitlines()[4:] == [
        'id = "2027"',
        "effective_from = 2027-01-01T00:00:00+00:00",
        "trial_days = 14",
    ]


@given(catalogs(max_versions=4))
def test_k2_toml_round_trip(catalog: Catalog) -> None:
    """to_toml writes text that from_toml reads back as an equal catalog, for catalogs drawn
    from the whole K1 space (ids needing escapes, microsecond instants, empty sets, none)."""
    assert Catalog.from_toml(catalog.to_toml()) == catalog


class Fspath:
    """An os.PathLike that is not a pathlib.Path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __fspath__(self) -> str:
        return str(self.path)


def test_k2_toml_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Path, any os.PathLike, or a str with no newline, '=' or '[' is read as a file; any
    other str is the TOML text itself."""
    path = tmp_path / "policy.toml"
    path.write_text(DESIGN_EXAMPLE, encoding="utf-8")
    expected = Catalog.from_toml(DESIGN_EXAMPLE)
    assert Catalog.from_toml(path) == expected
    assert Catalog.from_toml(Fspath(path)) == expected
    assert Catalog.from_toml(str(path)) == expected
    monkeypatch.chdir(tmp_path)
    assert Catalog.from_toml("policy.toml") == expected
    assert isinstance(os.fspath(Fspath(path)), str)
    path.write_bytes(b"\xef\xbb\xbf" + DESIGN_EXAMPLE.encode())
    assert Catalog.from_toml(path) == expected


def test_k2_a_str_with_toml_marks_is_text_not_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A str holding '=', '[' or a newline is read as TOML even when a file of that name
    exists; a Path reads that file."""
    monkeypatch.chdir(tmp_path)
    name = "[[version]]"
    (tmp_path / name).write_text('[[version]]\nid = "from-file"\n', encoding="utf-8")
    refused(lambda: Catalog.from_toml(name), "version 1 has no id")
    assert Catalog.from_toml(Path(name)).ids == ("from-file",)


def latin1(path: Path) -> Path:
    path.write_bytes(b'[[version]]\nid = "\xe9"\n')
    return path


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda tmp: tmp / "missing.toml", "cannot read"),
        (lambda tmp: str(tmp / "missing.toml"), "cannot read"),
        (lambda tmp: tmp, "cannot read"),
        (lambda tmp: latin1(tmp / "latin1.toml"), "cannot read"),
        (lambda tmp: "no\x00such", "cannot read"),
        (lambda tmp: b"[[version]]", "from_toml takes"),
        (lambda tmp: None, "from_toml takes"),
    ],
)
def test_k2_toml_an_unreadable_file_is_invalid_value(
    tmp_path: Path, make: Callable[[Path], object], named: str
) -> None:
    """A missing file, a directory, a file that is not UTF-8, a path with NUL, or a source that
    is neither text nor a path is refused `invalid_value`, never an OSError."""
    source = make(tmp_path)
    refused(lambda: Catalog.from_toml(source), named)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[[version]\nid = 'a'\n", "not TOML"),
        ('[[version]]\nid = "a"\nid = "b"\n', "not TOML"),
        ("x = " + "[" * 5000, "nested too deeply"),
        ("", "at least one [[version]]"),
        ("\n", "at least one [[version]]"),
        ("version = []\n", "at least one [[version]]"),
        ("version = 3\n", "at least one [[version]]"),
        ("version = [1]\n", "version 1 is not a table"),
        ('[[version]]\nid = "a"\n[[other]]\nid = "b"\n', "'other'"),
        ('trial_days = 14\n[[version]]\nid = "a"\n', "'trial_days'"),
        ("[[version]]\ntrial_days = 14\n", "version 1 has no id"),
        ('[[version]]\nid = "a"\ntrial_day = 14\n', "policy 'a': unknown field 'trial_day'"),
        ('[[version]]\nid = "a"\nversion = "b"\n', "policy 'a': unknown field 'version'"),
        ('[[version]]\nid = "a"\n[version.extra]\nx = 1\n', "policy 'a': unknown field 'extra'"),
        ('[[version]]\nid = "a"\ntrial_days = 366\n', "policy 'a': trial_days"),
        ('[[version]]\nid = "a"\ntrial_days = "14"\n', "policy 'a': trial_days"),
        ('[[version]]\nid = "a"\ntrial_days = 14.0\n', "policy 'a': trial_days"),
        ('[[version]]\nid = "a"\nhours_per_unit = true\n', "policy 'a': hours_per_unit"),
        ('[[version]]\nid = "a"\nchange_timing = "later"\n', "policy 'a': change_timing"),
        ('[[version]]\nid = "a"\nbilling_roles = "ORG_OWNER"\n', "policy 'a': billing_roles"),
        ('[[version]]\nid = "a"\nbilling_roles = []\n', "policy 'a': billing_roles"),
        (
            '[[version]]\nid = "a"\norg_case_roles = ["PROJECT_OWNER"]\n',
            "policy 'a': org_case_roles",
        ),
        ('[[version]]\nid = "a"\ncase_states = ["basic"]\n', "policy 'a': case_states"),
        ('[[version]]\nid = "a"\ncase_states = [1]\n', "policy 'a': case_states"),
        ('[[version]]\nid = "a"\neffective_from = 2027-01-01\n', "policy 'a': effective_from"),
        ('[[version]]\nid = "a"\neffective_from = 00:00:00\n', "policy 'a': effective_from"),
        (
            '[[version]]\nid = "a"\neffective_from = 2027-01-01T00:00:00\n',
            "policy 'a': effective_from has no timezone",
        ),
        (
            '[[version]]\nid = "a"\neffective_from = "2027-01-01T00:00:00Z"\n',
            "policy 'a': effective_from",
        ),
        (
            '[[version]]\nid = "a"\neffective_from = 1969-12-31T23:59:59Z\n',
            "policy 'a': effective_from",
        ),
        ('[[version]]\nid = ""\n', "version"),
        ("[[version]]\nid = 7\n", "policy 7: version"),
        (
            '[[version]]\nid = "a"\n[[version]]\nid = "a"\neffective_from = 2027-01-01T00:00:00Z\n',
            "'a' appears twice",
        ),
        ('[[version]]\nid = "a"\n[[version]]\nid = "b"\n', "version 'b': effective_from"),
        (
            '[[version]]\nid = "a"\n[[version]]\nid = "b"\neffective_from = 2027-07-01T00:00:00Z\n'
            '[[version]]\nid = "c"\neffective_from = 2027-01-01T00:00:00Z\n',
            "version 'c': effective_from",
        ),
        (
            '[[version]]\nid = "a"\neffective_from = 2027-01-01T00:00:00Z\n'
            '[[version]]\nid = "b"\neffective_from = 2027-01-01T01:00:00+01:00\n',
            "version 'b': effective_from",
        ),
    ],
)
def test_k2_toml_refusals_name_the_version_and_the_field(text: str, named: str) -> None:
    """A malformed catalog text is refused whole with `invalid_value`, naming the version and
    the field (or the table, or what is not TOML), under rule K2 even where the value breaks a
    K1 bound, never a raw Python error."""
    assert refused(lambda: Catalog.from_toml(text), named).rule == "K2"
