"""Restore as a verified edge (RULES.md V2): at every explored plan and order, its snapshot (with
and without its history) is mutated, the reference (`verify.reference.judge`) decides whether
each mutant is a record the library could have written, and restore must accept exactly those:
a writable record restores to an object that writes it back; any other is refused
`invalid_snapshot` (V2), and with nothing else. Mutants the reference cannot settle are counted,
not checked. The mutants are drawn by a `random.Random` seeded with `SEED` and the record, so a
run is reproducible; the seed is shown with each counterexample.
"""

from __future__ import annotations

import random
import weakref
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from support_flows.errors import InvalidInput, Reason
from support_flows.machines.consulting import ConsultingOrder
from support_flows.machines.plan import SupportPlan
from support_flows.outbox import InMemoryOutbox
from support_flows.snapshots.consulting import OrderAction, OrderChannel
from support_flows.values import PlanState, Tier
from support_flows.values.consulting import OrderState, SessionStatus
from support_flows.values.events import PlanEvent
from support_flows.verify.common import HostClock, Outcome, Verdict, attempt, iso
from support_flows.verify.consulting_roots import OrderNode
from support_flows.verify.explore import Tracker
from support_flows.verify.model import Step
from support_flows.verify.plan_roots import PlanNode
from support_flows.verify.policy import catalog
from support_flows.verify.reference.judge import (
    Judgement,
    anonymous,
    as_version_3,
    judge_order,
    judge_plan,
)
from support_flows.verify.reference.replay import ClockEvents
from support_flows.verify.restore_mutants import Mutant, mutants

__all__ = [
    "ACTIONS",
    "EVENTS",
    "MUTANTS",
    "NAMES",
    "REPLAY_ORDER_HISTORIES",
    "SEED",
    "VOCABULARIES",
    "order_restores",
    "plan_restores",
    "tally",
]

SEED = 18
MUTANTS = 5
"""Mutants drawn per explored record, with and without its history each."""
REPLAY_ORDER_HISTORIES = True
"""Whether the reference settles an order's mutants by replaying their history (with it, this
check found a restore crashing on a history whose closing entry names no session)."""

NAMES = ClockEvents(PlanEvent.REVOKE, PlanEvent.END_TRIAL, PlanEvent.APPLY_PENDING)
EVENTS = frozenset(PlanEvent.members)
ACTIONS = frozenset(a.value for a in OrderAction)
VOCABULARIES = (
    frozenset(s.value for s in PlanState),
    frozenset(t.value for t in Tier),
    frozenset(s.value for s in OrderState),
    EVENTS,
    ACTIONS,
    frozenset(c.value for c in OrderChannel),
    frozenset(s.value for s in SessionStatus),
)

_TALLIES: weakref.WeakKeyDictionary[Tracker, Counter[str]] = weakref.WeakKeyDictionary()
_SEEN: weakref.WeakKeyDictionary[Tracker, dict[Any, set[str]]] = weakref.WeakKeyDictionary()


def tally(tracker: Tracker) -> Counter[str]:
    """How many mutants a run's restores were checked on ("writable", "unwritable") and how many
    the reference could not settle ("unknown")."""
    return _TALLIES.setdefault(tracker, Counter())


def _seen(
    tracker: Tracker, where: Any, records: list[dict[str, Any]]
) -> tuple[set[str], list[str]]:
    """Every record the exploration wrote from one root (its organization and zone), as the
    reference compares them; and `records` so."""
    known = _SEEN.setdefault(tracker, {}).setdefault(where, set())
    texts = [anonymous(r) for r in records]
    known.update(texts)
    return known, texts


def _variants(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [snapshot, {**snapshot, "history": None}]


def plan_restores(tracker: Tracker, node: PlanNode) -> None:
    """Check restore on mutants of the plan at `node`."""
    tz, org = node.root.zone, node.org
    records = _variants(node.snapshot)
    seen, texts = _seen(tracker, node.root, records)

    def judge(mutant: Mutant) -> Judgement:
        return judge_plan(
            mutant.record,
            org_id=org.org_id,
            tz=tz,
            names=NAMES,
            events=EVENTS,
            seen=seen,
        )

    def restore(data: Any) -> Any:
        return SupportPlan.restore(data, org, clock=HostClock(node.now), catalog=catalog())

    for record, text in zip(records, texts, strict=True):
        _check(tracker, node, record, text, judge, restore)


def order_restores(tracker: Tracker, node: OrderNode) -> None:
    """Check restore on mutants of the order at `node` (once it is opened)."""
    if node.snapshot is None:
        return
    tz, org = node.root.zone, node.org
    records = _variants(node.snapshot)
    seen, texts = _seen(tracker, node.root, records)

    def restore(data: Any) -> Any:
        clock = HostClock(node.now)
        return ConsultingOrder.restore(
            data, org, clock=clock, outbox=InMemoryOutbox(), catalog=catalog()
        )

    for record, text in zip(records, texts, strict=True):
        judge = partial(_order_judge, org_id=org.org_id, tz=tz, seen=seen, origin=record)
        _check(tracker, node, record, text, judge, restore)


def _order_judge(mutant: Mutant, **known: Any) -> Judgement:
    return judge_order(mutant.record, actions=ACTIONS, replay=REPLAY_ORDER_HISTORIES, **known)


def _check(
    tracker: Tracker,
    node: PlanNode | OrderNode,
    record: dict[str, Any],
    text: str,
    judge: Callable[[Mutant], Judgement],
    restore: Callable[[Any], Any],
) -> None:
    seed = f"{SEED}:{text}"
    tracker.exercised(("V2",))
    alone = record["history"] is None  # with a history, the replay settles the sharp ones
    for mutant in mutants(record, random.Random(seed), MUTANTS, VOCABULARIES, sharp=alone):
        judged = judge(mutant)
        tally(tracker)[judged.verdict] += 1
        if judged.verdict == "unknown":
            continue
        outcome = attempt(partial(restore, mutant.record))
        verdict = _verdict(judged, mutant, outcome)
        history = "with" if record["history"] is not None else "without"
        note = f"{history} history; mutants seeded {SEED} and the record"
        done = Step(
            iso(node.now),
            "restore",
            {"mutation": mutant.change},
            note=note,
            outcome=outcome.describe(),
        )
        tracker.expect(verdict, node.where(done))


def _verdict(judged: Judgement, mutant: Mutant, outcome: Outcome) -> Verdict:
    if judged.verdict == "writable":
        name = "restore accepts every record the library could have written"
        if outcome.crash is not None or outcome.error is not None:
            return Verdict("V2", name, False, f"{mutant.change}: refused, {outcome.describe()}")
        history = mutant.record["history"] is not None
        again = attempt(lambda: outcome.result.snapshot(history=history))
        written = again.result if isinstance(again.result, dict) else {}
        # A record another point wrote may hold as due what has come due by this clock (T7):
        # its object then records more, and only its acceptance is checked.
        moved = written.get("recorded_at") != mutant.record["recorded_at"]
        expected = as_version_3(mutant.record)  # a version-2 record is written back as 3 (K4)
        ok = again.crash is None and (written == expected or (moved and bool(written)))
        message = "" if ok else f"{mutant.change}: the restored object writes another record"
        return Verdict("V2", name, ok, message)
    name = "restore refuses every record the library could not have written"
    if outcome.crash is None and outcome.error is None:
        message = f"{mutant.change}: accepted; {judged.why}"
        return Verdict(judged.rule, name, False, message)
    error = outcome.error
    alone = isinstance(error, InvalidInput) and [(r.code, r.rule) for r in error.reasons] == [
        (Reason.INVALID_SNAPSHOT, "V2")
    ]
    message = "" if alone else f"{mutant.change}: {outcome.describe()}, not invalid_snapshot (V2)"
    return Verdict("V2", "a refused record is refused invalid_snapshot (V2) alone", alone, message)
