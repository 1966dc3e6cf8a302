"""The testing kit's policy and catalog strategies (RULES.md K1, K2): they draw only values the
constructors accept, and they reach the edges of K1's space."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from support_flows import InvalidInput, PlanState, Role, testing
from support_flows.inputs import is_identifier
from support_flows.values.policy import Catalog, Policy, Timing

EDGES = settings(max_examples=300, database=None, phases=[Phase.generate])
JAN_2027 = pendulum.datetime(2027, 1, 1, tz="UTC")


@given(testing.policies())
def test_k1_policies_draws_only_policies_the_constructor_accepts(policy: Policy) -> None:
    """Every drawn policy is built again, field by field, into an equal policy."""
    fields = {a.name: getattr(policy, a.name) for a in attrs.fields(Policy) if a.init}
    assert Policy(**fields) == policy
    assert is_identifier(policy.version)


@given(testing.catalogs(max_versions=5))
def test_k2_catalogs_draws_only_catalogs_the_constructor_accepts(catalog: Catalog) -> None:
    """Every drawn catalog has 1 to 5 versions with unique ids and strictly increasing
    instants, and is built again into an equal catalog."""
    assert 1 <= len(catalog) <= 5
    assert len(set(catalog.ids)) == len(catalog)
    starts = [policy.effective_from for policy in catalog.versions[1:]]
    assert all(start is not None for start in starts)
    assert starts == sorted(starts)  # type: ignore[type-var]
    assert len(set(starts)) == len(starts)
    first = catalog.versions[0].effective_from
    assert first is None or not starts or first < starts[0]  # type: ignore[operator]
    assert Catalog(list(catalog)) == catalog


@pytest.mark.parametrize(
    ("what", "found"),
    [
        ("no trial", lambda p: p.trial_days == 0),
        ("the longest trial", lambda p: p.trial_days == 365),
        ("no retroactive billing", lambda p: p.retroactive_days == 0),
        ("immediate changes", lambda p: p.change_timing is Timing.IMMEDIATELY),
        ("immediate upgrade billing", lambda p: p.upgrade_billing is Timing.IMMEDIATELY),
        ("validity none", lambda p: p.validity_months is None),
        ("the longest validity", lambda p: p.validity_months == 120),
        ("the most hours per unit", lambda p: p.hours_per_unit == 1000),
        ("no private cases", lambda p: p.case_states == frozenset()),
        ("cases on premium only", lambda p: p.case_states == {PlanState.PREMIUM}),
        (
            "Atlas's billing roles",
            lambda p: p.billing_roles == {Role.ORG_OWNER, Role.ORG_BILLING_ADMIN},
        ),
        ("anyone opens org cases", lambda p: Role.ORG_MEMBER in p.org_case_roles),
        ("no instant", lambda p: p.effective_from is None),
        ("an instant", lambda p: p.effective_from is not None),
    ],
)
def test_k1_policies_reach_the_edges(what: str, found: Callable[[Policy], bool]) -> None:
    """The strategy draws each edge of K1's space directly (0 days, `immediately`, validity
    none, the bounds)."""
    assert find(testing.policies(), found, settings=EDGES), what


@pytest.mark.parametrize(
    ("what", "found"),
    [
        ("one version", lambda c: len(c) == 1),
        ("four versions", lambda c: len(c) == 4),
        ("a first version without instant", lambda c: c.versions[0].effective_from is None),
        ("a first version with its instant", lambda c: c.versions[0].effective_from is not None),
        (
            "versions a microsecond apart",
            lambda c: any(
                b.effective_from - a.effective_from == dt.timedelta(microseconds=1)
                for a, b in zip(c.versions[1:], c.versions[2:], strict=False)
            ),
        ),
    ],
)
def test_k2_catalogs_reach_the_edges(what: str, found: Callable[[Catalog], bool]) -> None:
    """The strategy draws single-version catalogs, full ones, first versions with and without an
    instant, and versions a microsecond apart."""
    assert find(testing.catalogs(max_versions=4), found, settings=EDGES), what


@given(
    testing.policies(
        version="2027",
        effective_from=JAN_2027,
        trial_days=0,
        change_timing=st.just("immediately"),
    )
)
def test_k1_policies_takes_fixed_values_and_strategies(policy: Policy) -> None:
    """Fields given to policies() are fixed (a value) or drawn (a strategy); the rest vary."""
    assert (policy.version, policy.effective_from) == ("2027", JAN_2027)
    assert (policy.trial_days, policy.change_timing) == (0, Timing.IMMEDIATELY)


@pytest.mark.parametrize(
    "call",
    [
        lambda: testing.policies(trial=0),
        lambda: testing.catalogs(max_versions=0),
        lambda: testing.catalogs(max_versions=2, min_versions=3),
    ],
)
def test_k2_the_strategies_refuse_what_they_cannot_draw(call: Callable[[], Any]) -> None:
    """An unknown field or an impossible number of versions is `invalid_value` at once."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.code == "invalid_value"
