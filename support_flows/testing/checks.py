"""What the ready stateful tests share: an answer's reason codes, and one assertion that names
every broken invariant with its rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from support_flows.verify.common import Verdict

__all__ = ["codes_of", "confirm_all"]


def confirm_all(verdicts: Sequence[Verdict]) -> None:
    """Fail naming each invariant that did not hold, with its rule."""
    broken = [v for v in verdicts if not v.ok]
    assert not broken, "; ".join(f"{v.rule} ({v.invariant}): {v.message}" for v in broken)


def codes_of(decision: Any) -> tuple[tuple[str, str], ...]:
    """(reason code, rule id) of each reason a decision or an error gives."""
    return tuple((r.code.value, r.rule) for r in decision.reasons)
