"""The review pack's worked examples: the five plan stories, and every example computed by
running the library with a `FrozenClock`.

The plan timelines are written in the step language of ``support-flows timeline`` (so a reviewer
can rerun and vary each one) and run by `plan_example`; the Flex Consulting order is driven call
by call by `order_example`. Each becomes a `Worked`: a story, the rules it shows, a table, and a
picture on one time axis.
"""

from __future__ import annotations

from support_flows.review.order_example import order_example
from support_flows.review.plan_example import plan_example
from support_flows.review.worked import PlanStory, Worked

__all__ = [
    "PLAN_STORIES",
    "PlanStory",
    "Worked",
    "order_example",
    "plan_example",
    "worked_examples",
]


PLAN_STORIES = (
    PlanStory(
        "trial-converts",
        "A trial that converts",
        "A Berlin organization starts the free developer trial. It lasts {trial_days} calendar "
        "days in the billing timezone, so it ends at the same local wall time across the change "
        "to summer time; then the plan is developer and billing starts at the trial's end.",
        ("P4", "T5", "P6", "P20"),
        "Europe/Berlin",
        "2026-03-14T08:00Z",
        ("subscribe:developer@2026-03-14T09:00Z", "observe@2026-05-20T10:00Z"),
    ),
    PlanStory(
        "trial-cancelled",
        "A trial cancelled",
        "Cancelling during the trial takes effect at once and nothing is ever billed for the "
        "trial. The organization keeps Basic entitlements and cannot start a second trial.",
        ("P7", "P4", "P17"),
        "UTC",
        "2026-03-02T08:00Z",
        (
            "subscribe:developer@2026-03-02T09:00Z",
            "cancel@2026-03-12T15:00Z",
            "observe@2026-04-20T09:00Z",
        ),
    ),
    PlanStory(
        "upgrade-then-downgrade",
        "An upgrade then a downgrade in one month",
        "Premium is in force from the subscription, billed from the 1st of next month. A "
        "downgrade a week later is pending until that 1st, so premium would never be billed: "
        "the catch-up bills premium retroactively from the subscription to the downgrade's "
        "effective instant, then developer from there.",
        ("P5", "P9", "P21", "P20"),
        "UTC",
        "2026-03-14T08:00Z",
        (
            "subscribe:premium@2026-03-14T10:00Z",
            "downgrade@2026-03-20T10:00Z",
            "observe@2026-05-10T10:00Z",
        ),
    ),
    PlanStory(
        "cancel-far-from-utc",
        "A cancel in a billing zone far from UTC",
        "An Auckland organization cancels premium at 13:30 UTC on June 30, which is already "
        "1:30 on July 1 in Auckland. The 1st of next month is read in the billing timezone: "
        "the cancel takes effect at midnight on August 1 in Auckland (12:00 UTC on July 31), "
        "not on UTC's July 1.",
        ("T3", "P9", "T2"),
        "Pacific/Auckland",
        "2026-05-01T00:00Z",
        (
            "subscribe:premium@2026-05-10T00:00Z",
            "cancel@2026-06-30T13:30Z",
            "observe@2026-08-10T00:00Z",
        ),
        (("2026-07-01T00:00Z", "Jul 1 00:00 UTC"),),
        (
            "2026-06-30T06:00Z",
            "2026-07-01T06:00Z",
            "The day of the cancel, drawn closer and ticked every six hours of Auckland time: "
            "the cancel (2) comes after Auckland's midnight of July 1 and before UTC's (the "
            "dashed line), so in the billing timezone it is already July and the 1st of next "
            "month is August 1.",
        ),
    ),
    PlanStory(
        "reactivation",
        "A reactivation with retroactive billing",
        "A developer plan is cancelled at the end of February. Reactivating in April brings "
        "paid support back at once, never with a new trial, and bills developer retroactively "
        "from the instant the last plan ended, without a gap.",
        ("P9", "P15", "P20"),
        "UTC",
        "2026-01-05T08:00Z",
        (
            "subscribe:developer@2026-01-05T09:00Z",
            "cancel@2026-02-10T09:00Z",
            "reactivate:developer@2026-04-20T09:00Z",
            "observe@2026-05-15T09:00Z",
        ),
    ),
)


def worked_examples() -> tuple[Worked, ...]:
    """Every worked example of the review pack, computed now."""
    return (*(plan_example(s) for s in PLAN_STORIES), order_example())
