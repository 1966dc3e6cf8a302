"""What a review of a change compares (K5): the catalog in force, the version in force now, and
the proposed version, read from a TOML file or named by its id in the catalog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pendulum

from support_flows.errors import InvalidInput, Reason, invalid
from support_flows.values.policy import FIELDS, Catalog, Policy

__all__ = ["Proposal", "catalog_from", "proposal_of", "same_terms"]


@attrs.frozen
class Proposal:
    """The version in force at `now` in `catalog`, and `proposed` beside it."""

    catalog: Catalog
    current: Policy
    proposed: Policy
    now: pendulum.DateTime

    @property
    def changes(self) -> dict[str, tuple[object, object]]:
        """K1 field -> (value in force, proposed value), for the fields that differ."""
        return self.proposed.changes_from(self.current)


def catalog_from(path: str | Path) -> Catalog:
    """The catalog a TOML file states (K2); anything unreadable or malformed (a value out of
    K1's range included) is refused whole as K2 says: `invalid_value`, naming the file, the
    version and the field."""
    try:
        return Catalog.from_toml(Path(path))
    except InvalidInput as error:
        raise invalid(Reason.INVALID_VALUE, "K2", f"{path}: {error.message}") from None


def _looks_like_file(text: str) -> bool:
    return Path(text).exists() or text.endswith(".toml") or any(c in text for c in "/\\")


def proposal_of(catalog: Catalog, propose: str, now: dt.datetime) -> Proposal:
    """The proposal `propose` names beside `catalog`'s version in force at `now`: a TOML file
    whose last version is the proposal, or the id of one of `catalog`'s versions."""
    moment = pendulum.instance(now)
    current = catalog.at(moment)
    if _looks_like_file(propose):
        proposed = catalog_from(propose).versions[-1]
    elif propose in catalog:
        proposed = catalog[propose]
    else:
        raise invalid(
            Reason.INVALID_VALUE,
            "K2",
            f"--propose {propose!r} is neither a policy file nor a version of the catalog "
            f"(it holds {', '.join(catalog.ids)})",
        )
    return Proposal(catalog, current, proposed, moment)


def same_terms(a: Policy, b: Policy) -> bool:
    """Whether two versions hold the same K1 values (whatever their ids and instants)."""
    return all(getattr(a, name) == getattr(b, name) for name in FIELDS)
