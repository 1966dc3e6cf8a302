"""A plan story run under a chosen catalog (K5): the steps of `support_flows.timeline`, on a plan
decided under that catalog, so a story can be computed under the version in force and under a
proposed one and read side by side."""

from __future__ import annotations

from support_flows.timeline import PlanTimeline, run_plan
from support_flows.values.policy import Catalog, Policy

__all__ = ["only", "run_under"]


def only(policy: Policy) -> Catalog:
    """A catalog holding `policy` alone, in force from the beginning: a story's instants then
    all fall under it, whatever its effective instant says."""
    return Catalog([policy])


def run_under(
    steps: tuple[str, ...], *, start: str, tz: str, catalog: Catalog, org_id: str = "org-1"
) -> PlanTimeline:
    """`steps` run in order on a new plan decided under `catalog` whose clock starts at `start`:
    `timeline.run_plan`'s run (an organization owner acts; a refused step is kept)."""
    return run_plan(steps, start=start, tz=tz, catalog=catalog, org_id=org_id)
