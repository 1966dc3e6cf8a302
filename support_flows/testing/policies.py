"""Hypothesis strategies for policies and catalogs (RULES.md K1, K2): values drawn from the whole
space K1 allows, favouring its edges (no trial, no retroactive billing, immediate changes, the
largest numbers, validity forever), and catalogs whose versions change on calendar edges."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

import pendulum
from hypothesis import strategies as st

from support_flows.errors import Reason, invalid
from support_flows.inputs import is_identifier
from support_flows.testing.strategies import FIRST_YEAR, LAST_YEAR, ZONES, instants
from support_flows.values.core import BILLING_ROLES, ORG_ROLES, Role
from support_flows.values.policy import CASE_STATES, FIELDS, Catalog, Policy, Timing

__all__ = ["catalogs", "policies", "version_ids"]

_T = TypeVar("_T")

_ORG_ROLES = tuple(sorted(ORG_ROLES))
_CASE_STATES = tuple(sorted(CASE_STATES))
_GAPS = (
    dt.timedelta(microseconds=1),
    dt.timedelta(seconds=1),
    dt.timedelta(days=1),
    dt.timedelta(days=31),
)


def _count(low: int, high: int, *usual: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from((low, high, *usual)), st.integers(low, high))


_FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "trial_days": _count(0, 365, 1, 14, 30),
    "retroactive_days": _count(0, 365, 1, 90),
    "upgrade_billing": st.sampled_from(tuple(Timing)),
    "change_timing": st.sampled_from(tuple(Timing)),
    # Atlas's own sets drawn as often as any other: a policy that tunes one field keeps the rest.
    "billing_roles": st.just(BILLING_ROLES)
    | st.frozensets(st.sampled_from(_ORG_ROLES), min_size=1),
    "org_case_roles": st.just(frozenset({Role.ORG_OWNER}))
    | st.frozensets(st.sampled_from(_ORG_ROLES), min_size=1),
    "case_states": st.sampled_from(
        (CASE_STATES, frozenset(), *(frozenset({state}) for state in _CASE_STATES))
    )
    | st.frozensets(st.sampled_from(_CASE_STATES)),
    "hours_per_unit": _count(1, 1_000),
    "validity_months": st.none() | _count(1, 120, 12),
}


def version_ids() -> st.SearchStrategy[str]:
    """Version ids (V5 identifiers): short usual ones, and any printable text, quotes and
    backslashes included (what TOML must escape)."""
    usual = st.sampled_from(("atlas", "2027", "2027-trial-14", 'say "hi"', "back\\slash"))
    anything = st.text(
        st.characters(codec="utf-8", exclude_categories=["C"]), min_size=1, max_size=24
    ).filter(is_identifier)
    return st.one_of(usual, anything)


_VERSIONS = version_ids()
_EFFECTIVE: st.SearchStrategy[pendulum.DateTime | None] = st.none() | instants()


def _strategy(value: _T | st.SearchStrategy[_T]) -> st.SearchStrategy[_T]:
    return value if isinstance(value, st.SearchStrategy) else st.just(value)


def policies(
    *,
    version: str | st.SearchStrategy[str] = _VERSIONS,
    effective_from: dt.datetime | st.SearchStrategy[pendulum.DateTime | None] | None = _EFFECTIVE,
    **fields: object,
) -> st.SearchStrategy[Policy]:
    """Policies from the whole space K1 allows, each field favouring its edges (0 trial days,
    `immediately`, validity none, the bounds). `version` (default: any V5 id) and
    `effective_from` (default: none, or an instant near a calendar edge) and any K1 field given
    by name are fixed values or strategies."""
    if unknown := sorted(set(fields) - set(FIELDS)):
        raise invalid(
            Reason.INVALID_VALUE,
            "K1",
            f"policies() has no field {unknown[0]!r}; K1's fields: {', '.join(FIELDS)}",
        )
    drawn = {
        name: _strategy(fields[name]) if name in fields else strategy
        for name, strategy in _FIELD_STRATEGIES.items()
    }
    drawn["version"] = _strategy(version)
    drawn["effective_from"] = _strategy(effective_from)
    return st.builds(Policy, **drawn)


@st.composite
def _catalogs(
    draw: st.DrawFn,
    min_versions: int,
    max_versions: int,
    zones: Sequence[str],
    first_year: int,
    last_year: int,
) -> Catalog:
    count = draw(st.integers(min_versions, max_versions))
    ids = draw(st.lists(version_ids(), min_size=count, max_size=count, unique=True))
    start: pendulum.DateTime = draw(instants(zones, first_year=first_year, last_year=last_year))
    starts = [start]
    for _ in range(count - 1):
        gap = draw(
            st.one_of(
                st.sampled_from(_GAPS),
                st.timedeltas(dt.timedelta(microseconds=1), dt.timedelta(days=400)),
            )
        )
        starts.append(starts[-1] + gap)
    first_from = draw(st.sampled_from((None, starts[0])))
    versions = [draw(policies(version=ids[0], effective_from=first_from))]
    versions += [
        draw(policies(version=version, effective_from=moment))
        for version, moment in zip(ids[1:], starts[1:], strict=True)
    ]
    return Catalog(versions)


def catalogs(
    max_versions: int = 4,
    *,
    min_versions: int = 1,
    zones: Sequence[str] = ZONES,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
) -> st.SearchStrategy[Catalog]:
    """Catalogs of `min_versions` to `max_versions` policies (K2): ids unique, effective
    instants strictly increasing from an instant near a calendar edge in `zones` (the next a
    microsecond to 400 days later), the first version with or without its own instant."""
    if not 1 <= min_versions <= max_versions:
        raise invalid(
            Reason.INVALID_VALUE,
            "K2",
            f"catalogs() needs 1 <= min_versions <= max_versions, "
            f"got {min_versions} and {max_versions}",
        )
    return _catalogs(min_versions, max_versions, tuple(zones), first_year, last_year)
