"""Hypothesis strategies and ready stateful tests for host applications (RULES.md P, C, F).

Subclass `PlanRules`, `CaseRules` or `ConsultingRules` to run the verifier's checks against your
own configuration (billing zones, hours per unit, validity) and your own persistence round trip::

    from support_flows.testing import PlanRules

    class MyPlans(PlanRules):
        zones = ("Europe/Berlin", "America/New_York")
        def persist(self, plan):                 # save and reload it the way your app does
            return my_store.reload(my_store.save(plan))

    TestMyPlans = MyPlans.TestCase

Each machine drives the real object with random requests and clock moves (to month starts, due
instants, session starts, expiries), compares every answer with the verifier's reference of
RULES.md, and checks the invariants after every step. Needs the ``test`` extra (hypothesis).
"""

from __future__ import annotations

from support_flows.extras import MissingExtra

try:
    import hypothesis.stateful  # noqa: F401  (checked here, before the modules that use it)
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise MissingExtra("support_flows.testing", "hypothesis") from None

from support_flows.testing.actions import Action, case_steps, order_actions, plan_actions
from support_flows.testing.case import CaseRules
from support_flows.testing.consulting import ConsultingRules
from support_flows.testing.plan import PlanRules
from support_flows.testing.policies import catalogs, policies, version_ids
from support_flows.testing.strategies import (
    ZONES,
    billing_timezones,
    instants,
    members,
    organizations,
)

__all__ = [
    "ZONES",
    "Action",
    "CaseRules",
    "ConsultingRules",
    "PlanRules",
    "billing_timezones",
    "case_steps",
    "catalogs",
    "instants",
    "members",
    "order_actions",
    "organizations",
    "plan_actions",
    "policies",
    "version_ids",
]
