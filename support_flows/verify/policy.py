"""The policy a run verifies (RULES.md K6): the library's objects are built under a catalog of
that one version, and the references read the same K1 values from its plain data
(`Policy.terms()` and its version id), never from the `Policy` itself."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from support_flows.values.core import Role
from support_flows.values.policy import ATLAS, ATLAS_POLICY, Catalog, Policy
from support_flows.verify.common import ACTORS, Actor
from support_flows.verify.reference.terms import terms_of, using

__all__ = ["billing_role", "catalog", "payer", "policy", "under"]

_CURRENT: contextvars.ContextVar[tuple[Policy, Catalog]] = contextvars.ContextVar(
    "policy", default=(ATLAS_POLICY, ATLAS)
)


def policy() -> Policy:
    """The policy of the run in progress (Atlas's outside one)."""
    return _CURRENT.get()[0]


def catalog() -> Catalog:
    """The catalog the library's objects are built with: the run's policy as its one version."""
    return _CURRENT.get()[1]


def billing_role(roles: tuple[str, ...]) -> bool:
    """Whether organization roles named `roles` include one of the policy's billing roles."""
    return any(Role(r) in policy().billing_roles for r in roles)


def payer() -> Actor:
    """Who buys or changes the plan where a probe needs one accepted (P1, F1): the owner, or
    under a policy whose billing roles leave the owner out, one holding the first of them."""
    owner = ACTORS["owner"]
    if billing_role(owner.org_roles):
        return owner
    role = min(r.value for r in policy().billing_roles)
    return Actor("payer", (role,), email="payer@example.com")


@contextlib.contextmanager
def under(chosen: Policy) -> Iterator[Policy]:
    """Build the library's objects under `chosen`, and let the references model its terms."""
    found = ATLAS if chosen == ATLAS_POLICY else Catalog([chosen])
    token = _CURRENT.set((chosen, found))
    try:
        with using(terms_of(chosen.version, chosen.terms())):
            yield chosen
    finally:
        _CURRENT.reset(token)
