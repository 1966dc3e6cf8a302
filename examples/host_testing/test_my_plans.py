"""A host application's checks of its own support configuration, with `support_flows.testing`.

The host bills in its own zones, sells Flex Consulting in 4-hour units valid 12 months, and keeps
plans and orders as JSON text (here a dict standing in for its database). Each stateful test
drives the real objects at random, saves and reloads them after every step through the host's
own persistence, and checks every answer against the rules.

Run it with pytest: ``python -m pytest examples/host_testing/test_my_plans.py``.
"""

from __future__ import annotations

import json

from hypothesis import settings

import support_flows as sf
from support_flows.testing import CaseRules, ConsultingRules, PlanRules

DATABASE: dict[str, str] = {}
"""The host's storage: one JSON document per plan or order."""

QUICK = settings(max_examples=20, stateful_step_count=15, deadline=None)


class MyPlans(PlanRules):
    """Our plans, billed in our zones, saved as JSON after every step."""

    zones = ("Europe/Berlin", "America/New_York", "Australia/Sydney")
    cross_org_billing = (False,)

    def persist(self, plan: sf.SupportPlan) -> sf.SupportPlan:
        DATABASE[f"plan:{plan.org.org_id}"] = json.dumps(plan.snapshot())
        stored = json.loads(DATABASE[f"plan:{plan.org.org_id}"])
        return sf.SupportPlan.restore(stored, self.org, clock=self.clock)


class MyOrders(ConsultingRules):
    """Our catalog: 4-hour units, valid 12 months; orders saved as JSON after every step."""

    zones = ("Europe/Berlin",)
    hours_per_unit = (4,)
    validity_months = (12,)

    def persist(self, order: sf.ConsultingOrder) -> sf.ConsultingOrder:
        DATABASE[f"order:{order.order_id}"] = json.dumps(order.snapshot())
        stored = json.loads(DATABASE[f"order:{order.order_id}"])
        return sf.ConsultingOrder.restore(stored, self.org, clock=self.clock, outbox=self.outbox)


class MyCases(CaseRules):
    """We only sell paid plans, so cases are asked about on those states."""

    plan_states = ("trial", "developer", "premium")


TestMyPlans = MyPlans.TestCase
TestMyPlans.settings = QUICK
TestMyOrders = MyOrders.TestCase
TestMyOrders.settings = QUICK
TestMyCases = MyCases.TestCase
TestMyCases.settings = QUICK
