"""What a worked example of the review pack is: the plan story to run (`PlanStory`) and what the
page shows of it (`Worked`)."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from support_flows.review.picture import Picture

__all__ = ["PlanStory", "Worked", "cell_lines"]


@attrs.frozen
class Worked:
    """One worked example as the review page shows it."""

    slug: str
    title: str
    story: str
    rules: tuple[str, ...]
    command: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    picture: Picture
    zoom: Picture | None = None
    """A few days of the same run drawn closer, where the month-wide picture cannot show them."""
    zoom_caption: str = ""
    note: str = ""
    """What the picture means for the customer, in plain words, beside it."""


@attrs.frozen
class PlanStory:
    """A plan timeline to run: its zone, clock start, steps, and what it shows."""

    slug: str
    title: str
    story: str
    """The story in words; a policy's values are named as its labels name them
    ("{trial_days}"), filled in from the version in force at `start`."""
    rules: tuple[str, ...]
    tz: str
    start: str
    steps: tuple[str, ...]
    guides: tuple[tuple[str, str], ...] = ()
    zoom: tuple[str, ...] = ()
    """(start, end, caption): a few days to draw again closer, below the main picture."""

    @property
    def command(self) -> str:
        return f"support-flows timeline --tz {self.tz} --start {self.start} " + " ".join(self.steps)


def cell_lines(lines: Sequence[str]) -> str:
    """One table cell of several lines."""
    return "\n".join(lines)
