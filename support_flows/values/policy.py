"""Policies as versioned data (RULES.md K): `Policy`, every tunable value of the rules (K1), and
`Catalog`, a policy's versions over time (K2), read from and written to TOML."""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import itertools
import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pendulum

from support_flows.errors import InvalidInput, Reason, describe, invalid
from support_flows.inputs import is_identifier, items
from support_flows.localtime import FIRST_YEAR, LAST_YEAR, instant
from support_flows.values.core import BILLING_ROLES, ORG_ROLES, Channel, PlanState, Role
from support_flows.values.plan import BASIC_CHANNELS, PAID_CHANNELS

__all__ = ["ATLAS", "ATLAS_POLICY", "CASE_STATES", "FIELDS", "Catalog", "Policy", "Timing"]


class Timing(enum.StrEnum):
    """When an upgrade's billing starts (P5, P8), or a downgrade or cancel takes effect (P9)."""

    NEXT_MONTH_START = "next_month_start"
    IMMEDIATELY = "immediately"


CASE_STATES = frozenset({PlanState.TRIAL, PlanState.DEVELOPER, PlanState.PREMIUM})
"""P17, C2: the plan states whose organizations may open cases under Atlas's policy; a policy
chooses a subset of them."""


@attrs.frozen
class Field:
    """One tunable field of K1: what it means, the rules it tunes, and its bounds."""

    name: str
    rules: tuple[str, ...]
    means: str


FIELDS: Mapping[str, Field] = {
    f.name: f
    for f in (
        Field("trial_days", ("T5", "P4", "P6", "P7"), "days of the free developer trial (0: none)"),
        Field("retroactive_days", ("P15",), "days a reactivation may bill back (0: from now)"),
        Field("upgrade_billing", ("P5", "P8"), "when a higher tier's billing starts"),
        Field("change_timing", ("P9", "P20", "P21"), "when a downgrade or cancel takes effect"),
        Field("billing_roles", ("P1", "F1"), "organization roles that may change the plan"),
        Field("org_case_roles", ("C3",), "organization roles that open organization cases"),
        Field("case_states", ("P17", "C2"), "plan states whose organizations open cases"),
        Field("hours_per_unit", ("F2",), "hours a unit of a new order buys"),
        Field("validity_months", ("F6",), "months a new order's units stay valid (none: ever)"),
    )
}
"""K1's fields in the order RULES.md gives them, each with the rules it tunes (K5 names them)."""

_BOUNDS = {"trial_days": (0, 365), "retroactive_days": (0, 365), "hours_per_unit": (1, 1_000)}
_VALIDITY = (1, 120)


def _refuse(version: object, field: str, problem: str) -> InvalidInput:
    return invalid(Reason.INVALID_VALUE, "K1", f"policy {describe(version)}: {field} {problem}")


def _count(version: str, name: str, value: object) -> int:
    low, high = _BOUNDS[name]
    if type(value) is int and low <= value <= high:
        return value
    raise _refuse(
        version, name, f"must be a whole number from {low} to {high}, got {describe(value)}"
    )


def _timing(version: str, name: str, value: object) -> Timing:
    if type(value) is Timing:
        return value
    if type(value) is str and value in Timing._value2member_map_:
        return Timing(value)
    accepted = ", ".join(Timing)
    raise _refuse(version, name, f"must be one of {accepted}, got {describe(value)}")


_Name = TypeVar("_Name", Role, PlanState)


def _names(
    version: str, name: str, value: object, kind: type[_Name], accepted: frozenset[_Name]
) -> frozenset[_Name]:
    try:
        given = items(value, name, "a set of names")
    except InvalidInput:
        raise _refuse(version, name, f"must be a set of names, got {describe(value)}") from None
    found: set[_Name] = set()
    for item in given:
        if type(item) is kind:
            found.add(item)
        elif type(item) is str and item in kind._value2member_map_:
            found.add(kind(item))
        else:
            raise _refuse(
                version, name, f"names {describe(item)}, not one of {', '.join(sorted(accepted))}"
            )
    return frozenset(found)


def _roles(version: str, name: str, value: object) -> frozenset[Role]:
    roles = _names(version, name, value, Role, ORG_ROLES)
    if not roles:
        raise _refuse(
            version, name, f"must name at least one organization role, got {describe(value)}"
        )
    if wrong := sorted(roles - ORG_ROLES):
        raise _refuse(
            version,
            name,
            f"holds project roles {', '.join(wrong)}; only organization roles "
            f"({', '.join(sorted(ORG_ROLES))})",
        )
    return roles


def _case_states(version: str, value: object) -> frozenset[PlanState]:
    states = _names(version, "case_states", value, PlanState, CASE_STATES)
    if wrong := sorted(states - CASE_STATES):
        accepted = ", ".join(sorted(CASE_STATES))
        raise _refuse(version, "case_states", f"holds {', '.join(wrong)}; a subset of {accepted}")
    return states


def _validity(version: str, value: object) -> int | None:
    low, high = _VALIDITY
    if value is None or (type(value) is int and low <= value <= high):
        return value
    raise _refuse(
        version,
        "validity_months",
        f"must be none or a whole number from {low} to {high}, got {describe(value)}",
    )


def _effective(version: str, value: object) -> pendulum.DateTime | None:
    if value is None:
        return None
    try:
        return instant(value, "effective_from")
    except InvalidInput as error:
        naive = error.code == Reason.NAIVE_DATETIME
        raise _refuse(
            version,
            "effective_from",
            f"has no timezone: {describe(value)}"
            if naive
            else f"must be an aware datetime in the years {FIRST_YEAR}-{LAST_YEAR}, "
            f"got {describe(value)}",
        ) from None


@attrs.frozen(init=False)
class Policy:
    """Every tunable value of the rules (K1), Atlas's by default; `version` names it in a catalog
    and in the records it decides (K4), `effective_from` is when it comes into force (K2).

    Checked on construction: a value out of K1's range is refused with `invalid_value`, naming
    the version and the field. Timings and role and state sets may be given as names; they are
    held as `Timing` and as frozensets of `Role` and `PlanState`, the instant in UTC.
    """

    version: str
    effective_from: pendulum.DateTime | None
    trial_days: int
    retroactive_days: int
    upgrade_billing: Timing
    change_timing: Timing
    billing_roles: frozenset[Role]
    org_case_roles: frozenset[Role]
    case_states: frozenset[PlanState]
    hours_per_unit: int
    validity_months: int | None
    # Read on every request (the chart's policy choices): worked out once, not per read.
    has_trial: bool = attrs.field(init=False, eq=False, repr=False)
    """T5, P4: a trial of at least a day (0 days: developer is subscribed at once)."""
    changes_now: bool = attrs.field(init=False, eq=False, repr=False)
    """P9 under K1: a downgrade or cancel takes effect at the request instant."""
    bills_upgrade_now: bool = attrs.field(init=False, eq=False, repr=False)
    """P5, P8 under K1: a higher tier is billed from the request instant."""

    def __init__(
        self,
        *,
        version: str = "atlas",
        effective_from: dt.datetime | None = None,
        trial_days: int = 30,
        retroactive_days: int = 90,
        upgrade_billing: Timing | str = Timing.NEXT_MONTH_START,
        change_timing: Timing | str = Timing.NEXT_MONTH_START,
        billing_roles: Iterable[Role | str] = BILLING_ROLES,
        org_case_roles: Iterable[Role | str] = frozenset({Role.ORG_OWNER}),
        case_states: Iterable[PlanState | str] = CASE_STATES,
        hours_per_unit: int = 1,
        validity_months: int | None = None,
    ) -> None:
        if not is_identifier(version):
            raise _refuse(version, "version", "must be an identifier (V5)")
        self.__attrs_init__(
            version=version,
            effective_from=_effective(version, effective_from),
            trial_days=_count(version, "trial_days", trial_days),
            retroactive_days=_count(version, "retroactive_days", retroactive_days),
            upgrade_billing=_timing(version, "upgrade_billing", upgrade_billing),
            change_timing=_timing(version, "change_timing", change_timing),
            billing_roles=_roles(version, "billing_roles", billing_roles),
            org_case_roles=_roles(version, "org_case_roles", org_case_roles),
            case_states=_case_states(version, case_states),
            hours_per_unit=_count(version, "hours_per_unit", hours_per_unit),
            validity_months=_validity(version, validity_months),
        )
        object.__setattr__(self, "has_trial", self.trial_days > 0)
        object.__setattr__(self, "changes_now", self.change_timing is Timing.IMMEDIATELY)
        object.__setattr__(self, "bills_upgrade_now", self.upgrade_billing is Timing.IMMEDIATELY)

    def entitlements(self, state: PlanState) -> frozenset[Channel]:
        """P17 under K1: a state in `case_states` entitles to support cases as well as chat and
        the developer resources; any other state to those two only (under Atlas's: trial,
        developer and premium)."""
        return PAID_CHANNELS if state in self.case_states else BASIC_CHANNELS

    def words(self) -> dict[str, str]:
        """The policy's values as a chart's labels say them ("{trial_days}-day trial"): what an
        action's description is formatted with, so a diagram shows this policy's terms."""
        later = not self.bills_upgrade_now
        retro = self.retroactive_days
        return {
            "trial_days": str(self.trial_days),
            "retroactive_days": str(retro),
            "billed_from": "the 1st of next month" if later else "now",
            "billed_from_trial": (
                "the 1st of next month or the trial's end if sooner" if later else "now"
            ),
            "retroactive": (
                f"billed retroactively, at most {retro} days back" if retro else "billed from now"
            ),
        }

    def terms(self) -> dict[str, Any]:
        """K1's values, by field, as plain data (names for sets, sorted): what TOML writes, what
        a review compares."""
        found: dict[str, Any] = {}
        for name in FIELDS:
            value = getattr(self, name)
            if isinstance(value, frozenset):
                value = sorted(str(v) for v in value)
            elif isinstance(value, enum.Enum):
                value = value.value
            found[name] = value
        return found

    def changes_from(self, other: Policy) -> dict[str, tuple[Any, Any]]:
        """The K1 fields whose values differ from `other`'s: name -> (other's, this one's)."""
        mine, theirs = self.terms(), other.terms()
        return {name: (theirs[name], mine[name]) for name in FIELDS if mine[name] != theirs[name]}


def _catalog_error(problem: str) -> InvalidInput:
    return invalid(Reason.INVALID_VALUE, "K2", f"catalog: {problem}")


@attrs.frozen(init=False)
class Catalog:
    """A policy's versions over time (K2): ids unique, effective instants strictly increasing, the
    first applying from the beginning. `at(t)` is the version in force at `t`, a bisection; a
    catalog of one version answers without looking at `t`."""

    versions: tuple[Policy, ...]
    _starts: tuple[pendulum.DateTime, ...] = attrs.field(repr=False, eq=False)
    _ids: Mapping[str, Policy] = attrs.field(repr=False, eq=False)

    def __init__(self, versions: Iterable[Policy]) -> None:
        try:
            given = items(versions, "versions", "a sequence of Policy values")
        except InvalidInput as error:
            raise _catalog_error(error.message) from None
        if not given:
            raise _catalog_error(f"needs at least one version, got {describe(versions)}")
        ids: dict[str, Policy] = {}
        for position, policy in enumerate(given):
            if type(policy) is not Policy:
                raise _catalog_error(f"version {position + 1} is not a Policy: {describe(policy)}")
            if policy.version in ids:
                raise _catalog_error(f"version id {policy.version!r} appears twice")
            ids[policy.version] = policy
        starts = []
        for before, policy in itertools.pairwise(versions_in := tuple(ids.values())):
            if policy.effective_from is None:
                raise _catalog_error(
                    f"version {policy.version!r}: effective_from is required after the first"
                )
            if before.effective_from is not None and policy.effective_from <= before.effective_from:
                raise _catalog_error(
                    f"version {policy.version!r}: effective_from "
                    f"{policy.effective_from.isoformat()} is not after {before.version!r}'s "
                    f"{before.effective_from.isoformat()}"
                )
            starts.append(policy.effective_from)
        self.__attrs_init__(versions_in, tuple(starts), ids)

    def at(self, moment: dt.datetime) -> Policy:
        """The version in force at `moment`: the latest whose effective instant is at or before
        it (K2); before the second version's instant, the first."""
        if not self._starts:
            return self.versions[0]
        if type(moment) is not pendulum.DateTime or moment.tzinfo is None:
            moment = instant(moment, "instant")  # refused as T1 or V5 say, unless an instant
        return self.versions[bisect.bisect_right(self._starts, moment)]

    def __getitem__(self, version: str) -> Policy:
        found = self._ids.get(version) if type(version) is str else None
        if found is None:
            raise invalid(
                Reason.INVALID_VALUE,
                "K2",
                f"the catalog has no version {describe(version)}; it holds {', '.join(self._ids)}",
            )
        return found

    def get(self, version: object) -> Policy | None:
        """The version named `version`, or None when the catalog holds none of that id."""
        return self._ids.get(version) if type(version) is str else None

    def __contains__(self, version: object) -> bool:
        return type(version) is str and version in self._ids

    def __iter__(self) -> Iterator[Policy]:
        return iter(self.versions)

    def __len__(self) -> int:
        return len(self.versions)

    @property
    def ids(self) -> tuple[str, ...]:
        """The versions' ids, in order."""
        return tuple(self._ids)

    @classmethod
    def from_toml(cls, source: str | os.PathLike[str]) -> Catalog:
        """The catalog a TOML text or file states (K2): each `[[version]]` states only what it
        changes from the version before it, the first from Atlas's defaults. Anything malformed
        is refused whole with `invalid_value`, naming the version and the field.

        `source` is a file when it is a path object (any `os.PathLike`), or a non-empty str with
        no newline, `=` or `[` (catalog text always has a `[`); any other str is the text
        itself. TOML has no null: `validity_months = "none"` restores "valid forever" after a
        version that set a number."""
        text = _read(source)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise _catalog_error(f"not TOML: {error}") from None
        except RecursionError:
            raise _catalog_error("not TOML this library reads: nested too deeply") from None
        unknown = sorted(set(data) - {"version"})
        if unknown:
            raise _catalog_error(
                f"unknown table or key {unknown[0]!r}; a catalog holds [[version]] tables only"
            )
        tables = data.get("version")
        if type(tables) is not list or not tables:
            raise _catalog_error("needs at least one [[version]] table")
        versions: list[Policy] = []
        inherited: dict[str, Any] = {}
        for position, table in enumerate(tables):
            versions.append(_version(table, position, inherited))
            inherited = {name: getattr(versions[-1], name) for name in FIELDS}
        return cls(versions)

    def to_toml(self) -> str:
        """The TOML text `from_toml` reads back as an equal catalog: each version states what it
        changes from the one before it."""
        lines: list[str] = []
        before = Policy().terms()
        for policy in self.versions:
            lines += ["[[version]]", f"id = {_toml_value(policy.version)}"]
            if policy.effective_from is not None:
                lines.append(f"effective_from = {policy.effective_from.isoformat()}")
            terms = policy.terms()
            lines += [
                f"{name} = {_toml_value(value)}"
                for name, value in terms.items()
                if value != before[name] and value is not None
            ]
            if terms["validity_months"] is None and before["validity_months"] is not None:
                lines.append('validity_months = "none"')
            lines.append("")
            before = terms
        return "\n".join(lines)


def _read(source: object) -> str:
    if type(source) is str:
        if not source or any(mark in source for mark in "\n=["):
            return source
    elif not issubclass(type(source), os.PathLike):
        raise _catalog_error(f"from_toml takes TOML text or a path, got {describe(source)}")
    try:
        return Path(source).read_text(encoding="utf-8-sig")  # type: ignore[arg-type]  # drops an editor's BOM
    except (OSError, ValueError, TypeError) as error:  # missing, a directory, not UTF-8, NUL
        raise _catalog_error(f"cannot read {describe(source)}: {error}") from None


_KEYS = frozenset({"id", "effective_from", *FIELDS})


def _version(table: object, position: int, inherited: dict[str, Any]) -> Policy:
    if type(table) is not dict:
        raise _catalog_error(f"version {position + 1} is not a table")
    name = table.get("id", f"#{position + 1}")
    if unknown := sorted(set(table) - _KEYS):
        raise invalid(
            Reason.INVALID_VALUE,
            "K2",
            f"policy {describe(name)}: unknown field {unknown[0]!r}; "
            f"known: {', '.join(sorted(_KEYS))}",
        )
    if "id" not in table:
        raise invalid(Reason.INVALID_VALUE, "K2", f"version {position + 1} has no id")
    try:
        return _policy(name, {**inherited, **{k: v for k, v in table.items() if k != "id"}})
    except InvalidInput as error:
        raise invalid(Reason.INVALID_VALUE, "K2", error.reasons[0].message) from None


def _policy(name: Any, values: dict[str, Any]) -> Policy:
    if values.get("validity_months") == "none":
        values["validity_months"] = None
    effective = values.get("effective_from")
    if type(effective) in (dt.date, dt.time):
        raise _refuse(
            name,
            "effective_from",
            f"must be a date and time with an offset, got {describe(effective)}",
        )
    return Policy(version=name, **values)


def _toml_value(value: object) -> str:
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if type(value) is list:
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


ATLAS_POLICY = Policy()
"""Atlas's policy, version `atlas`: the rules as RULES.md writes them."""

ATLAS = Catalog([ATLAS_POLICY])
"""The default catalog: one version, `atlas`, the rules as RULES.md writes them (K)."""
