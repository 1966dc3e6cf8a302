"""Hypothesis strategies for the values a host configures: billing zones, instants that favour
the calendar's edges, organizations and members (RULES.md T, V5)."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import zoneinfo
from collections.abc import Sequence

import pendulum
from hypothesis import strategies as st

from support_flows.localtime import instant, start_of_local_day
from support_flows.values import Member, Organization, Project, Role

__all__ = [
    "ZONES",
    "acting",
    "billing_timezones",
    "instants",
    "members",
    "organizations",
]

ZONES = (
    "UTC",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "America/Asuncion",
    "America/Havana",
    "America/St_Johns",
    "Europe/Berlin",
    "Australia/Lord_Howe",
)
"""Billing zones where calendars misbehave: far from UTC, DST at midnight, half-hour shifts."""

FIRST_YEAR, LAST_YEAR = 2023, 2030
ORG_ROLES = tuple(r for r in Role if r.is_org_role)
PROJECT_ROLES = tuple(r for r in Role if not r.is_org_role)
NUDGES = tuple(
    pendulum.duration(**{unit: n})
    for unit, n in (
        ("microseconds", 0),
        ("microseconds", -1),
        ("microseconds", 1),
        ("hours", -1),
        ("hours", 1),
    )
)


def billing_timezones(zones: Sequence[str] = ZONES) -> st.SearchStrategy[str]:
    """A billing timezone among `zones` (default: zones where calendars misbehave)."""
    return st.sampled_from(tuple(zones))


@functools.lru_cache(maxsize=64)
def _transitions(zone: str, first: int, last: int) -> tuple[pendulum.DateTime, ...]:
    """The instants, to the second, at which `zone` changes its UTC offset in these years."""
    tz = zoneinfo.ZoneInfo(zone)
    day = dt.timedelta(days=1)
    found = []
    moment = dt.datetime(first, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(last + 1, 1, 1, tzinfo=dt.UTC)
    while moment < end:
        low, high = moment, moment + day
        if low.astimezone(tz).utcoffset() != high.astimezone(tz).utcoffset():
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            found.append(instant(high.replace(microsecond=0)))
        moment += day
    return tuple(found)


def instants(
    zones: Sequence[str] = ZONES, *, first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR
) -> st.SearchStrategy[pendulum.DateTime]:
    """Aware instants (UTC) that favour the calendar's edges in `zones`: local month starts
    (T3, T4), leap days, DST changes, each give or take a microsecond or an hour; and any
    instant of those years."""
    zone = st.sampled_from(tuple(zones))
    nudge = st.sampled_from(NUDGES)
    years = st.integers(first_year, last_year)
    month_starts = st.builds(
        lambda z, y, m, n: instant(start_of_local_day(dt.date(y, m, 1), z) + n),
        zone,
        years,
        st.integers(1, 12),
        nudge,
    )
    leap = [y for y in range(first_year, last_year + 1) if calendar.isleap(y)]
    leap_days = st.builds(
        lambda z, y, s: instant(start_of_local_day(dt.date(y, 2, 29), z).add(seconds=s)),
        zone,
        st.sampled_from(leap or [2028]),
        st.integers(0, 86_399),
    )
    changes = [t for z in zones for t in _transitions(z, first_year, last_year)]
    anything = st.datetimes(
        min_value=dt.datetime(first_year, 1, 1),  # noqa: DTZ001  (hypothesis adds the zone)
        max_value=dt.datetime(last_year, 12, 31),  # noqa: DTZ001
        timezones=st.just(dt.UTC),
    ).map(instant)
    edges = [month_starts, leap_days]
    if changes:
        edges.append(st.builds(lambda t, n: instant(t + n), st.sampled_from(changes), nudge))
    return st.one_of(*edges, anything)


def organizations(
    zones: Sequence[str] = ZONES,
    *,
    max_projects: int = 3,
    cross_org_billing: st.SearchStrategy[bool] | None = None,
) -> st.SearchStrategy[Organization]:
    """Organizations "org-1" with 0 to `max_projects` projects ("p-1", "p-2", ...), a billing
    zone among `zones`, in cross-org billing or not."""
    return st.builds(
        lambda n, zone, cross: Organization(
            "org-1",
            projects=tuple(Project(f"p-{i}") for i in range(1, n + 1)),
            billing_timezone=zone,
            cross_org_billing=cross,
        ),
        st.integers(0, max_projects),
        billing_timezones(zones),
        cross_org_billing if cross_org_billing is not None else st.booleans(),
    )


def members(
    project_ids: Sequence[str] = ("p-1", "p-2"), *, user_id: str = "u-1"
) -> st.SearchStrategy[Member]:
    """Members with any set of organization roles and project roles in `project_ids` or in a
    project of another organization (so some are not members at all)."""
    where = st.sampled_from((*project_ids, "p-elsewhere"))
    roles = st.sets(st.sampled_from(PROJECT_ROLES), min_size=1, max_size=2)
    return st.builds(
        lambda org_roles, project_roles: Member(
            user_id,
            org_roles=org_roles,
            project_roles=project_roles,
            email=f"{user_id}@example.com",
        ),
        st.sets(st.sampled_from(ORG_ROLES), max_size=3),
        st.dictionaries(where, roles, max_size=2),
    )


def acting(project_ids: Sequence[str]) -> st.SearchStrategy[Member]:
    """Mostly an owner or a billing admin (requests that move things), sometimes anyone."""
    owner = Member("u-owner", org_roles={Role.ORG_OWNER}, email="owner@example.com")
    admin = Member("u-admin", org_roles={Role.ORG_BILLING_ADMIN}, email="admin@example.com")
    return st.one_of(st.sampled_from((owner, admin, owner)), members(project_ids))
