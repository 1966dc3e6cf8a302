"""Thread stress tests (RULES.md V6): one object, many threads, calls as if run one at a time.

Each round starts 8 threads together (a `threading.Barrier`) on ONE object. One thread also moves
the shared `FrozenClock` while the others act and read. Refusals (`SupportFlowsError`) are
expected; any other exception in a thread fails the test. After each round the object must hold
every invariant, restore from its snapshot to an equal snapshot, and its history must be the
result of SOME serial order: replaying the accepted requests one by one, each at its recorded
instant, on a fresh object gives an equal snapshot.

`sys.setswitchinterval(1e-6)` widens the race windows (no sleeps). `HYPOTHESIS_PROFILE=ci` runs
more rounds.
"""

from __future__ import annotations

import collections
import contextlib
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pendulum

import support_flows as sf
from support_flows.localtime import add_wall_days, is_month_start

CI = os.environ.get("HYPOTHESIS_PROFILE", "dev") == "ci"
THREADS = 8
CALLS_PER_THREAD = 20
PLAN_ROUNDS = 600 if CI else 150
ORDER_ROUNDS = 600 if CI else 150
EXPIRY_ROUNDS = 800 if CI else 200
EXPIRY_SESSIONS = 24
JOIN_TIMEOUT = 60.0
SEED = 20240601

TIMEZONES = (
    "UTC",
    "Europe/Berlin",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
)

OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
MEMBER = sf.Member(
    "u-member",
    org_roles={sf.Role.ORG_MEMBER, sf.Role.ORG_BILLING_READ_ONLY},
    project_roles={"p-1": {sf.Role.PROJECT_OWNER}},
)
OUTSIDER = sf.Member("u-outsider")
ACTORS = {m.user_id: m for m in (OWNER, MEMBER, OUTSIDER)}
ORGS = {
    tz: sf.Organization("org-threads", projects=("p-1",), billing_timezone=tz) for tz in TIMEZONES
}

STATS: dict[str, int] = collections.Counter()


# -- shared machinery -------------------------------------------------------------------------


@contextlib.contextmanager
def tiny_switch_interval() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, restoring the old interval after."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


class Log:
    """What the threads of one round saw: failures, accepted results, observed reads."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.calls = 0
        self.refused = 0
        self.clock_moves = 0
        self.results: list[Any] = []
        self.clock_applied: list[Any] = []
        self.histories: list[tuple[Any, ...]] = []
        self.closed: list[sf.Session] = []
        self._lock = threading.Lock()

    def count(self, calls: int, refused: int, moves: int) -> None:
        with self._lock:
            self.calls += calls
            self.refused += refused
            self.clock_moves += moves


def run_round(workers: list[Callable[[threading.Barrier], None]], log: Log, label: str) -> None:
    """Start every worker together; any exception other than a refusal is logged as a failure."""
    barrier = threading.Barrier(len(workers))

    def guarded(work: Callable[[threading.Barrier], None], n: int) -> None:
        try:
            work(barrier)
        except BaseException:
            log.errors.append(f"{label}, thread {n}:\n{traceback.format_exc()}")
            barrier.abort()

    threads = [
        threading.Thread(target=guarded, args=(w, n), name=f"{label}-t{n}", daemon=True)
        for n, w in enumerate(workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"{label}: threads still running (deadlock?): {stuck}"


def time_ordered(entries: tuple[Any, ...]) -> str | None:
    for n in range(1, len(entries)):
        if entries[n].at < entries[n - 1].at:
            return f"history entry {n} {entries[n]!r} comes before entry {n - 1} {entries[n - 1]!r}"
    return None


def differ(got: dict[str, Any], serial: dict[str, Any]) -> str:
    """Where a snapshot and its serial replay's first differ (for the failure message)."""
    for key in got:
        if got[key] == serial[key]:
            continue
        if isinstance(got[key], list) and isinstance(serial[key], list):
            for n, (a, b) in enumerate(zip(got[key], serial[key], strict=False)):
                if a != b:
                    return f"{key}[{n}] is {a!r}; the serial replay has {b!r}"
        return f"{key} is {got[key]!r}; the serial replay has {serial[key]!r}"
    return "no difference"


def start_instant(rng: random.Random) -> pendulum.DateTime:
    base = pendulum.datetime(2024, 1, 1, tz="UTC")
    return base.add(days=rng.randint(0, 6 * 365), seconds=rng.randint(0, 86_399))


# -- support plan -----------------------------------------------------------------------------

PLAN_ACTIONS = ("change", "cancel", "revoke_pending")


def period_problems(
    periods: tuple[sf.BillingPeriod, ...], allowed: set[pendulum.DateTime] | None, tz: str
) -> list[str]:
    """P20: ordered, non-overlapping, positive-length periods, only the last one open; with
    `allowed`, every boundary a month start in `tz` unless it is one of the allowed instants."""
    problems = []
    for n, p in enumerate(periods):
        if p.ends_at is not None and p.ends_at <= p.starts_at:
            problems.append(f"period {n} {p!r} is empty or ends before it starts")
        if p.ends_at is None and n != len(periods) - 1:
            problems.append(f"period {n} {p!r} is open but not the last one")
        if n:
            before = periods[n - 1]
            if before.ends_at is None or before.ends_at > p.starts_at:
                problems.append(f"period {n} {p!r} overlaps period {n - 1} {before!r}")
        if allowed is None:
            continue
        for boundary in (p.starts_at, p.ends_at):
            if (
                boundary is not None
                and boundary not in allowed
                and not is_month_start(boundary, tz)
            ):
                problems.append(f"period {n} {p!r}: boundary {boundary} is no month start")
    return problems


def allowed_boundaries(
    history: tuple[sf.HistoryEntry, ...], periods: tuple[sf.BillingPeriod, ...], tz: str
) -> set[pendulum.DateTime]:
    """P20's exceptions: a trial's end (P6, P8's moved-up premium start) and a retroactive start
    (P15, P21; also where the period it cuts ends)."""
    trial_ends = {
        add_wall_days(e.at, 30, tz)
        for e in history
        if e.event == "subscribe" and e.target is sf.PlanState.TRIAL
    }
    return trial_ends | {p.starts_at for p in periods if p.retroactive}


def move_plan_clock(
    plan: sf.SupportPlan, clock: sf.FrozenClock, tz: str, rng: random.Random
) -> None:
    roll = rng.random()
    if roll < 0.4:
        clock.advance(hours=rng.randint(1, 72))
    elif roll < 0.65:
        clock.advance(days=rng.randint(1, 20))
    elif roll < 0.85:
        clock.set(sf.next_month_start(clock.now(), tz))
    else:
        trial = plan.trial
        if trial is not None and trial.ends_at > clock.now():
            clock.set(trial.ends_at)
        else:
            clock.advance(minutes=rng.randint(1, 600))


def plan_worker(
    plan: sf.SupportPlan,
    clock: sf.FrozenClock,
    mover: bool,
    rng: random.Random,
    log: Log,
) -> Callable[[threading.Barrier], None]:
    tz = plan.org.billing_timezone

    def work(barrier: threading.Barrier) -> None:
        calls = refused = moves = 0
        barrier.wait()
        for _ in range(CALLS_PER_THREAD):
            if mover and rng.random() < 0.5:
                move_plan_clock(plan, clock, tz, rng)
                moves += 1
                continue
            actor = OWNER if rng.random() < 0.75 else MEMBER
            roll = rng.random()
            calls += 1
            if roll < 0.55:
                entry = plan_action(plan, actor, rng)
                if entry is None:
                    refused += 1
                else:
                    log.results.append(entry)
            elif roll < 0.65:
                action = rng.choice(PLAN_ACTIONS)
                tier = rng.choice(("developer", "premium", "basic", "enterprise"))
                decision = plan.check(action, actor, tier if action == "change" else None)
                if actor is MEMBER:
                    assert decision.code == "billing_role_required", decision
            elif roll < 0.85:
                read_plan(plan, rng, log)
            elif roll < 0.93:
                snap = plan.snapshot()
                if rng.random() < 0.3:
                    restored = sf.SupportPlan.restore(
                        snap, plan.org, clock=sf.FrozenClock(pendulum.datetime(1971, 1, 1))
                    )
                    assert restored.snapshot() == snap, "a snapshot does not restore equal"
            else:
                applied = plan.apply_due()
                assert all(e.requested_by is None for e in applied), applied
                log.clock_applied.extend(applied)
        log.count(calls, refused, moves)

    return work


def plan_action(
    plan: sf.SupportPlan, actor: sf.Member, rng: random.Random
) -> sf.HistoryEntry | None:
    """One plan action: its history entry, or None when refused (the member always is, P1)."""
    roll = rng.random()
    try:
        if roll < 0.6:
            tier = rng.choice(("developer", "premium", "basic", "premium", "enterprise"))
            entry = plan.change(tier, actor)
        elif roll < 0.8:
            entry = plan.cancel(actor)
        else:
            entry = plan.revoke_pending(actor)
    except sf.SupportFlowsError as refusal:
        code = refusal.primary.code
    else:
        assert actor is OWNER, f"{actor.user_id} without a billing role got {entry!r}"
        assert entry.requested_by == actor.user_id, entry
        return entry
    assert actor is OWNER or code == "billing_role_required", f"{actor.user_id}: {code}"
    return None


def read_plan(plan: sf.SupportPlan, rng: random.Random, log: Log) -> None:
    what = rng.randrange(6)
    if what == 0:
        assert isinstance(plan.state, sf.PlanState)
    elif what == 1:
        problems = period_problems(plan.billing, None, plan.org.billing_timezone)
        assert not problems, problems
    elif what == 2:
        history = plan.history
        problem = time_ordered(history)
        assert problem is None, problem
        log.histories.append(history)
    elif what == 3:
        pending = plan.pending
        assert pending is None or pending.effective_at > pending.requested_at, pending
    elif what == 4:
        trial = plan.trial
        assert trial is None or trial.ends_at > trial.started_at, trial
    else:
        assert sf.Channel.CHAT in plan.entitlements


def replay_plan(
    org: sf.Organization,
    start: pendulum.DateTime,
    history: tuple[sf.HistoryEntry, ...],
    final_now: pendulum.DateTime,
) -> sf.SupportPlan:
    """A fresh plan given the accepted requests of `history`, one by one at their instants."""
    clock = sf.FrozenClock(start)
    replay = sf.SupportPlan(org, clock=clock)
    for n, entry in enumerate(history):
        if entry.requested_by is None:
            continue
        clock.set(entry.at)
        actor = ACTORS[entry.requested_by]
        try:
            if entry.event == "cancel":
                replay.cancel(actor)
            elif entry.event == "revoke" and entry.tier is None:
                replay.revoke_pending(actor)
            else:
                assert entry.event in ("subscribe", "upgrade", "downgrade", "reactivate", "revoke")
                assert entry.tier is not None
                replay.change(entry.tier, actor)
        except sf.SupportFlowsError as refusal:
            raise AssertionError(
                f"replaying history entry {n} {entry!r} serially was refused: {refusal}"
            ) from None
    clock.set(final_now)
    return replay


def check_plan_round(
    plan: sf.SupportPlan, clock: sf.FrozenClock, start: pendulum.DateTime, log: Log, label: str
) -> None:
    tz = plan.org.billing_timezone
    final_now = clock.now()
    snap = plan.snapshot()
    history = plan.history
    billing = plan.billing

    problem = time_ordered(history)
    assert problem is None, f"{label}: {problem}"
    problems = period_problems(billing, allowed_boundaries(history, billing, tz), tz)
    assert not problems, f"{label}: billing {billing!r}: {problems}"

    requests = [e for e in history if e.requested_by is not None]
    assert collections.Counter(requests) == collections.Counter(log.results), (
        f"{label}: the accepted calls' entries and the history's requests differ"
    )
    assert all(e.requested_by == OWNER.user_id for e in requests), label
    applied = collections.Counter(e for e in history if e.requested_by is None)
    returned = collections.Counter(log.clock_applied)
    assert not returned - applied, f"{label}: apply_due returned {returned - applied} twice"
    for seen in log.histories:
        assert history[: len(seen)] == seen, f"{label}: a history read is not a prefix"

    restored = sf.SupportPlan.restore(snap, plan.org, clock=sf.FrozenClock(final_now))
    assert restored.snapshot() == snap, f"{label}: the snapshot does not restore equal"

    serial = replay_plan(plan.org, start, history, final_now).snapshot()
    assert serial == snap, f"{label}: no serial order gives this history: {differ(snap, serial)}"


def test_one_plan_behaves_as_if_calls_ran_one_after_another() -> None:
    """V6: 8 threads acting, reading and moving the clock on one SupportPlan leave a plan that
    keeps P20's invariants, restores from its snapshot, and equals a serial replay."""
    started = time.perf_counter()
    totals = Log()
    with tiny_switch_interval():
        for n in range(PLAN_ROUNDS):
            rng = random.Random(f"{SEED}-plan-{n}")
            tz = TIMEZONES[n % len(TIMEZONES)]
            org = ORGS[tz]
            start = start_instant(rng)
            clock = sf.FrozenClock(start)
            plan = sf.SupportPlan(org, clock=clock)
            log = Log()
            label = f"plan round {n} (seed {SEED}, {tz}, from {start})"
            workers = [
                plan_worker(plan, clock, t == 0, random.Random(f"{SEED}-plan-{n}-{t}"), log)
                for t in range(THREADS)
            ]
            run_round(workers, log, label)
            assert not log.errors, "\n".join(log.errors)
            check_plan_round(plan, clock, start, log, label)
            totals.count(log.calls, log.refused, log.clock_moves)
            STATS["plan_accepted"] += len(log.results)
    STATS["plan_rounds"] += PLAN_ROUNDS
    STATS["plan_calls"] += totals.calls
    STATS["plan_refused"] += totals.refused
    STATS["plan_clock_moves"] += totals.clock_moves
    STATS["plan_ms"] += int((time.perf_counter() - started) * 1000)


# -- consulting order -------------------------------------------------------------------------


def move_order_clock(order: sf.ConsultingOrder, clock: sf.FrozenClock, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.5:
        clock.advance(hours=rng.randint(1, 30))
    elif roll < 0.7:
        clock.advance(days=rng.randint(1, 4))
    elif roll < 0.8:
        expires = order.expires_at
        if expires is not None and expires > clock.now():
            clock.set(expires)
    else:
        upcoming = [s.start for s in order.sessions if s.is_booked and s.start > clock.now()]
        if upcoming:
            clock.set(rng.choice(upcoming))


def order_worker(
    order: sf.ConsultingOrder,
    org: sf.Organization,
    clock: sf.FrozenClock,
    mover: bool,
    rng: random.Random,
    log: Log,
) -> Callable[[threading.Barrier], None]:
    created = clock.now()

    def work(barrier: threading.Barrier) -> None:
        calls = refused = moves = 0
        barrier.wait()
        order.confirm()  # every thread races the confirmation first (F3: one email)
        calls += 1
        for _ in range(CALLS_PER_THREAD - 1):
            if mover and rng.random() < 0.5:
                move_order_clock(order, clock, rng)
                moves += 1
                continue
            roll = rng.random()
            calls += 1
            if roll < 0.6:
                refused += not order_action(order, clock, roll, rng, log)
            elif roll < 0.85:
                read_order(order, rng, log)
            elif roll < 0.9:
                order.confirm()
            elif roll < 0.95:
                snap = order.snapshot()
                if rng.random() < 0.3:
                    outbox = sf.InMemoryOutbox()
                    restored = sf.ConsultingOrder.restore(
                        snap, org, clock=sf.FrozenClock(created), outbox=outbox
                    )
                    assert not outbox.sent, "a restore sent an email"
                    assert restored.snapshot() == snap, "a snapshot does not restore equal"
            else:
                log.clock_applied.extend(order.apply_due())
        log.count(calls, refused, moves)

    return work


def order_action(
    order: sf.ConsultingOrder, clock: sf.FrozenClock, roll: float, rng: random.Random, log: Log
) -> bool:
    """Schedule (roll < 0.3), cancel or deliver a session; False when refused."""
    try:
        if roll < 0.3:
            actor = rng.choice((OWNER, MEMBER, OWNER, MEMBER, OUTSIDER))
            per_unit = order.hours_per_unit
            hours = per_unit * rng.randint(1, 3) + (1 if rng.random() < 0.05 else 0)
            start = clock.now().add(hours=rng.randint(1, 96), minutes=rng.randint(0, 59))
            session = order.schedule(start=start, hours=hours, actor=actor)
        else:
            closer = rng.choice((OWNER, MEMBER, None, OUTSIDER))
            session_id = f"s-{rng.randint(1, 12)}"
            if roll < 0.42:
                closed = order.cancel_session(session_id, actor=closer)
            else:
                closed = order.deliver(session_id, actor=closer)
    except sf.SupportFlowsError:
        return False
    if roll < 0.3:
        assert actor is not OUTSIDER, f"an outsider booked {session!r}"
        assert session.booked_by == actor.user_id, session
        log.results.append(session)
    else:
        assert closer is not OUTSIDER, f"an outsider closed {closed!r}"
        expected = sf.SessionStatus.CANCELLED if roll < 0.42 else sf.SessionStatus.DELIVERED
        assert closed.status is expected, closed
        log.closed.append(closed)
    return True


def read_order(order: sf.ConsultingOrder, rng: random.Random, log: Log) -> None:
    what = rng.randrange(5)
    if what == 0:
        units = order.units
        assert units.holds, f"F7 broken: {units!r}"
    elif what == 1:
        sessions = order.sessions
        ids = [s.session_id for s in sessions]
        assert ids == [f"s-{n}" for n in range(1, len(ids) + 1)], ids
    elif what == 2:
        history = order.history
        problem = time_ordered(history)
        assert problem is None, problem
        log.histories.append(history)
    elif what == 3:
        assert isinstance(order.state, sf.OrderState)
    else:
        expires, purchased = order.expires_at, order.purchased_at
        assert expires is None or (purchased is not None and expires > purchased)


def replay_order(
    org: sf.Organization,
    created: pendulum.DateTime,
    terms: dict[str, Any],
    history: tuple[Any, ...],
    sessions: dict[str, sf.Session],
    final_now: pendulum.DateTime,
) -> tuple[sf.ConsultingOrder, sf.InMemoryOutbox]:
    """A fresh console order given the requests of `history`, one by one at their instants."""
    clock = sf.FrozenClock(created)
    outbox = sf.InMemoryOutbox()
    replay = sf.ConsultingOrder.start_checkout(
        org, actor=OWNER, clock=clock, outbox=outbox, **terms
    )
    for n, event in enumerate(history[1:], start=1):
        clock.set(event.at)
        action = event.action.value
        actor = None if event.actor is None else ACTORS[event.actor]
        try:
            if action == "purchase":
                replay.confirm()
            elif action == "schedule":
                booked = sessions[event.session_id]
                assert actor is not None
                got = replay.schedule(start=booked.start, hours=booked.hours, actor=actor)
                assert got.session_id == event.session_id, (got, event)
            elif action == "cancel_session":
                replay.cancel_session(event.session_id, actor=actor)
            elif action == "deliver":
                replay.deliver(event.session_id, actor=actor)
            else:
                assert action == "expire", f"unexpected history entry {n}: {event!r}"
        except sf.SupportFlowsError as refusal:
            raise AssertionError(
                f"replaying history entry {n} {event!r} serially was refused: {refusal}"
            ) from None
    clock.set(final_now)
    return replay, outbox


def check_order_round(
    order: sf.ConsultingOrder,
    org: sf.Organization,
    clock: sf.FrozenClock,
    outbox: sf.InMemoryOutbox,
    created: pendulum.DateTime,
    terms: dict[str, Any],
    log: Log,
    label: str,
) -> None:
    final_now = clock.now()
    snap = order.snapshot()
    history = order.history
    sessions = order.sessions
    units = order.units

    assert len(outbox.sent) == 1, f"{label}: {len(outbox.sent)} confirmation emails"
    assert outbox.sent[0].to == OWNER.email, label
    problem = time_ordered(history)
    assert problem is None, f"{label}: {problem}"
    actions = [e.action.value for e in history]
    assert actions[0] == "checkout", f"{label}: {actions}"
    assert actions.count("purchase") == 1, f"{label}: {actions}"

    ids = [s.session_id for s in sessions]
    assert ids == [f"s-{n}" for n in range(1, len(ids) + 1)], f"{label}: session ids {ids}"
    booked_ids = [s.session_id for s in log.results]
    assert sorted(booked_ids) == sorted(ids), f"{label}: booked {booked_ids}, order has {ids}"
    by_id = {s.session_id: s for s in sessions}
    for got in log.results:
        final = by_id[got.session_id]
        assert (got.start, got.hours, got.units, got.booked_at, got.booked_by) == (
            final.start,
            final.hours,
            final.units,
            final.booked_at,
            final.booked_by,
        ), f"{label}: {got!r} is not what the order holds: {final!r}"
    closed_ids = [s.session_id for s in log.closed]
    assert len(closed_ids) == len(set(closed_ids)), f"{label}: closed twice: {closed_ids}"
    assert {s.session_id for s in log.closed} == {
        s.session_id for s in sessions if not s.is_booked
    }, f"{label}: the closed sessions differ"
    for got in log.closed:
        assert got == by_id[got.session_id], f"{label}: {got!r} differs from the order's"

    assert units.holds, f"{label}: F7 broken: {units!r}"
    booked = sum(s.units for s in sessions if s.is_booked)
    consumed = sum(s.units for s in sessions if s.status is sf.SessionStatus.DELIVERED)
    assert (units.scheduled, units.consumed) == (booked, consumed), f"{label}: {units!r}"
    assert units.purchased == terms["units"], label

    schedules = [e for e in history if e.action.value == "schedule"]
    assert sorted(e.session_id for e in schedules) == sorted(ids), f"{label}: {schedules}"
    for e in schedules:
        s = by_id[e.session_id]
        assert (e.at, e.units, e.actor) == (s.booked_at, s.units, s.booked_by), (label, e, s)
    closings = [e for e in history if e.action.value in ("cancel_session", "deliver")]
    assert sorted(e.session_id for e in closings) == sorted(closed_ids), f"{label}: {closings}"
    for e in closings:
        s = by_id[e.session_id]
        assert (e.at, e.actor, e.action.value) == (
            s.closed_at,
            s.closed_by,
            "deliver" if s.status is sf.SessionStatus.DELIVERED else "cancel_session",
        ), (label, e, s)
    expiries = collections.Counter(e for e in history if e.action.value == "expire")
    assert all(n == 1 for n in expiries.values()), f"{label}: expired twice"
    assert not collections.Counter(log.clock_applied) - expiries, f"{label}: apply_due"
    for seen in log.histories:
        assert history[: len(seen)] == seen, f"{label}: a history read is not a prefix"

    restore_outbox = sf.InMemoryOutbox()
    restored = sf.ConsultingOrder.restore(
        snap, org, clock=sf.FrozenClock(final_now), outbox=restore_outbox
    )
    assert restored.snapshot() == snap, f"{label}: the snapshot does not restore equal"
    assert not restore_outbox.sent, f"{label}: restoring sent an email"

    replay, replay_outbox = replay_order(org, created, terms, history, by_id, final_now)
    serial = replay.snapshot()
    assert serial == snap, f"{label}: no serial order gives this history: {differ(snap, serial)}"
    assert replay_outbox.sent == outbox.sent, f"{label}: the serial replay's email differs"


def test_one_order_behaves_as_if_calls_ran_one_after_another() -> None:
    """V6: 8 threads racing confirm, schedule, cancel, deliver and reads on one ConsultingOrder
    while the clock moves send one email, book unique gapless sessions, keep F7, and leave a
    history a serial replay reproduces."""
    started = time.perf_counter()
    totals = Log()
    with tiny_switch_interval():
        for n in range(ORDER_ROUNDS):
            rng = random.Random(f"{SEED}-order-{n}")
            tz = TIMEZONES[n % len(TIMEZONES)]
            org = ORGS[tz]
            created = start_instant(rng)
            clock = sf.FrozenClock(created)
            outbox = sf.InMemoryOutbox()
            terms: dict[str, Any] = {
                "units": rng.randint(4, 14),
                "hours_per_unit": rng.choice((1, 2)),
                "validity_months": rng.choice((1, 1, 1, None)),
                "order_id": f"co-{n}",
            }
            order = sf.ConsultingOrder.start_checkout(
                org, actor=OWNER, clock=clock, outbox=outbox, **terms
            )
            log = Log()
            label = f"order round {n} (seed {SEED}, {tz}, from {created}, {terms})"
            workers = [
                order_worker(order, org, clock, t == 0, random.Random(f"{SEED}-order-{n}-{t}"), log)
                for t in range(THREADS)
            ]
            run_round(workers, log, label)
            assert not log.errors, "\n".join(log.errors)
            check_order_round(order, org, clock, outbox, created, terms, log, label)
            totals.count(log.calls, log.refused, log.clock_moves)
            STATS["order_booked"] += len(log.results)
            STATS["order_closed"] += len(log.closed)
    STATS["order_rounds"] += ORDER_ROUNDS
    STATS["order_calls"] += totals.calls
    STATS["order_refused"] += totals.refused
    STATS["order_clock_moves"] += totals.clock_moves
    STATS["order_ms"] += int((time.perf_counter() - started) * 1000)


def expiry_worker(
    order: sf.ConsultingOrder,
    clock: sf.FrozenClock,
    mover: bool,
    rng: random.Random,
    log: Log,
) -> Callable[[threading.Barrier], None]:
    """Deliver booked sessions; the mover instead crosses the expiry at once, then reads."""
    step = rng.choice((1, 2))

    def work(barrier: threading.Barrier) -> None:
        calls = refused = moves = 0
        barrier.wait()
        if mover:
            clock.advance(microseconds=step)  # onto the expiry, or just past it
            moves += 1
        for _ in range(CALLS_PER_THREAD - moves):
            calls += 1
            if mover:
                read_order(order, rng, log)
                continue
            session_id = f"s-{rng.randint(1, EXPIRY_SESSIONS)}"
            try:
                closed = order.deliver(session_id, actor=rng.choice((OWNER, MEMBER, None)))
            except sf.SupportFlowsError:
                refused += 1
            else:
                assert closed.status is sf.SessionStatus.DELIVERED, closed
                log.closed.append(closed)
        log.count(calls, refused, moves)

    return work


def test_expiry_reached_by_another_thread_takes_effect_before_a_delivery() -> None:
    """V6 with T7 and F6: when another thread moves the clock onto an order's expiry while
    sessions are being delivered, each delivery is seen at one instant, as in a serial order
    (the expiry first if the delivery is at or after it), so the history stays in time order."""
    started = time.perf_counter()
    totals = Log()
    with tiny_switch_interval():
        for n in range(EXPIRY_ROUNDS):
            rng = random.Random(f"{SEED}-expiry-{n}")
            tz = TIMEZONES[n % len(TIMEZONES)]
            org = ORGS[tz]
            created = start_instant(rng)
            clock = sf.FrozenClock(created)
            outbox = sf.InMemoryOutbox()
            terms: dict[str, Any] = {
                "units": EXPIRY_SESSIONS,
                "hours_per_unit": 1,
                "validity_months": 1,
                "order_id": f"co-expiry-{n}",
            }
            order = sf.ConsultingOrder.start_checkout(
                org, actor=OWNER, clock=clock, outbox=outbox, **terms
            )
            order.confirm()
            expires = order.expires_at
            assert expires is not None
            log = Log()
            for k in range(EXPIRY_SESSIONS):
                start = expires.subtract(hours=2, minutes=k)
                log.results.append(order.schedule(start=start, hours=1, actor=OWNER))
            clock.set(expires.subtract(microseconds=1))
            label = f"expiry round {n} (seed {SEED}, {tz}, from {created}, {terms})"
            workers = [
                expiry_worker(order, clock, t == 0, random.Random(f"{SEED}-expiry-{n}-{t}"), log)
                for t in range(THREADS)
            ]
            run_round(workers, log, label)
            assert not log.errors, "\n".join(log.errors)
            check_order_round(order, org, clock, outbox, created, terms, log, label)
            totals.count(log.calls, log.refused, log.clock_moves)
            STATS["expiry_delivered"] += len(log.closed)
    STATS["expiry_rounds"] += EXPIRY_ROUNDS
    STATS["expiry_calls"] += totals.calls
    STATS["expiry_refused"] += totals.refused
    STATS["expiry_ms"] += int((time.perf_counter() - started) * 1000)


def teardown_module() -> None:
    """Print what ran (visible with `pytest -s`)."""
    if STATS:
        print("\nthread stress:", dict(STATS))
