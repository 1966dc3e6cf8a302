"""Each worked timeline of the pack computed under the version in force and under the proposal
(K5), step by step, with the steps whose outcome differs marked."""

from __future__ import annotations

import attrs

from support_flows.review.order_example import order_example
from support_flows.review.plan_example import plan_example
from support_flows.review.policy_runs import only
from support_flows.review.scenarios import PLAN_STORIES
from support_flows.review.worked import Worked
from support_flows.values.policy import Policy

__all__ = ["Compared", "compare_worked"]

_STEP_COLUMNS = 3
"""A worked row opens with its number, instant and request: the same under both versions."""


@attrs.frozen
class Compared:
    """One worked timeline under both versions; `differs[i]` says whether step i differs."""

    before: Worked
    after: Worked
    differs: tuple[bool, ...]

    @property
    def changed(self) -> int:
        return sum(self.differs)


def _pair(before: Worked, after: Worked) -> Compared:
    differs = tuple(
        a[_STEP_COLUMNS:] != b[_STEP_COLUMNS:] for a, b in zip(before.rows, after.rows, strict=True)
    )
    return Compared(before, after, differs)


def compare_worked(current: Policy, proposed: Policy) -> tuple[Compared, ...]:
    """Every worked timeline of the pack, under `current` and under `proposed`, each alone in
    force over the whole story."""
    pairs = []
    for story in PLAN_STORIES:
        pairs.append(
            _pair(
                plan_example(story, only(current), f"{story.slug}-current"),
                plan_example(story, only(proposed), f"{story.slug}-proposed"),
            )
        )
    pairs.append(
        _pair(
            order_example(only(current), "consulting-order-current"),
            order_example(only(proposed), "consulting-order-proposed"),
        )
    )
    return tuple(pairs)
