"""What a request, an event, a check and the month-start rollover cost, beside their baselines.

Run it: `python benchmarks/bench_runtime.py [--rounds N] [--orgs 1000,10000,100000]`.

Every figure is the median of `rounds` timed calls (microseconds) on this machine, in one run,
beside two baselines (see benchmarks/baselines.py): a bare python-statemachine chart of the same
definition built per request, and a hand-written dict table with the same rules (the practical
floor). Each row times its candidates in turns, one call of each per round, so a machine that
slows down or speeds up mid-run weighs on all of them alike. It also prints the memory one live
object holds, the cyclic garbage a request leaves, the cost of one action at 1k and 16k history
entries, and the rollover in organizations per second at each size with its peak memory, beside
the naive per-object path (a python-statemachine chart per object). No test depends on these
figures.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pendulum
from baselines import (
    Model,
    bare_chart,
    floor_apply_due_plan,
    floor_billing,
    floor_change_plan,
    floor_check_plan,
    floor_parse,
    floor_restore_plan,
    floor_schedule,
    floor_snapshot_plan,
)

import support_flows as sf
from support_flows import bulk
from support_flows.machines import consulting_chart, plan_chart

START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
ORG = sf.Organization("org-bench", projects=("p-1",), billing_timezone="Europe/Berlin")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
READER = sf.Member("u-reader", org_roles={sf.Role.ORG_READ_ONLY})
DEV = sf.Member("u-dev", project_roles={"p-1": {sf.Role.PROJECT_OWNER}})
OWNER_ROLES = frozenset({"ORG_OWNER"})
BILLING = frozenset({sf.Role.ORG_OWNER, sf.Role.ORG_BILLING_ADMIN})
ZONES = ("UTC", "Europe/Berlin", "Pacific/Auckland", "America/New_York", "Asia/Kolkata")

BarePlan = bare_chart(plan_chart.COMPILED)
BareOrder = bare_chart(consulting_chart.COMPILED)


def median_us(run: Callable[[], Any], rounds: int) -> float:
    return side_by_side(rounds, run)[0]


def side_by_side(rounds: int, *runs: Callable[[], Any]) -> tuple[float, ...]:
    """The median microseconds of each of `runs`, timed in turns (one call of each per round), so
    that a machine slowing down or speeding up during the run weighs on every one alike."""
    samples: list[list[int]] = [[] for _ in runs]
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for run, taken in zip(runs, samples, strict=True):
            began = clock()
            run()
            taken.append(clock() - began)
    return tuple(statistics.median(taken) / 1000 for taken in samples)


def premium_snapshot(history: bool = True) -> dict[str, Any]:
    clock = sf.FrozenClock(START)
    subject = sf.SupportPlan(ORG, clock=clock)
    subject.change("developer", actor=OWNER)
    clock.advance(days=40)
    subject.change("premium", actor=OWNER)
    return subject.snapshot(history=history)


def order_snapshot(history: bool = True) -> dict[str, Any]:
    clock = sf.FrozenClock(START)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=20, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox(), validity_months=12
    )
    order.confirm()
    order.schedule(start=START.add(days=2), hours=2, actor=OWNER)
    return order.snapshot(history=history)


def request_rows(rounds: int, history: bool) -> list[tuple[str, float, float, float]]:
    data = premium_snapshot(history)
    label = "" if history else ", no history"
    clock = sf.FrozenClock(START.add(days=45))
    now = clock.now()

    def plan_write() -> Any:
        p = sf.SupportPlan.restore(data, ORG, clock=clock)
        p.check("change", actor=OWNER, tier="developer")
        p.change("developer", actor=OWNER)
        return p.snapshot(history=history)

    def plan_read() -> Any:
        p = sf.SupportPlan.restore(data, ORG, clock=clock)
        _ = (p.state, p.pending, p.billing, p.entitlements)
        p.check("change", actor=OWNER, tier="developer")
        return p.snapshot(history=history)

    def bare_write() -> Any:
        chart = BarePlan(model=Model("premium"))
        chart.send("downgrade")
        return chart.model.state

    def bare_read() -> Any:
        return BarePlan(model=Model("premium")).model.state

    def floor_write() -> Any:
        p = floor_restore_plan(data)
        floor_check_plan(p, OWNER_ROLES, "developer")
        floor_change_plan(p, OWNER_ROLES, "developer", now, ORG.billing_timezone)
        return floor_snapshot_plan(p)

    def floor_read() -> Any:
        p = floor_restore_plan(data)
        floor_billing(p)
        floor_check_plan(p, OWNER_ROLES, "developer")
        return floor_snapshot_plan(p)

    odata = order_snapshot(history)
    oclock = sf.FrozenClock(START.add(days=1))
    outbox = sf.InMemoryOutbox()
    begins = START.add(days=5)

    def order_write() -> Any:
        o = sf.ConsultingOrder.restore(odata, ORG, clock=oclock, outbox=outbox)
        o.schedule(start=begins, hours=1, actor=OWNER)
        return o.snapshot(history=history)

    def order_read() -> Any:
        o = sf.ConsultingOrder.restore(odata, ORG, clock=oclock, outbox=outbox)
        _ = (o.state, o.units, o.sessions, o.expires_at)
        return o.snapshot(history=history)

    def bare_order_write() -> Any:
        chart = BareOrder(model=Model("scheduled"))
        chart.send("schedule")
        return chart.model.state

    def bare_order_read() -> Any:
        return BareOrder(model=Model("scheduled")).model.state

    def floor_order_write() -> Any:
        return floor_snapshot_plan(floor_schedule(floor_parse(odata), begins, 1, oclock.now()))

    def floor_order_read() -> Any:
        return floor_snapshot_plan(floor_parse(odata))

    return [
        _row(
            f"plan request, writing{label}",
            side_by_side(rounds, plan_write, bare_write, floor_write),
        ),
        _row(
            f"plan request, read-only{label}",
            side_by_side(rounds, plan_read, bare_read, floor_read),
        ),
        _row(
            f"order request, writing{label}",
            side_by_side(rounds, order_write, bare_order_write, floor_order_write),
        ),
        _row(
            f"order request, read-only{label}",
            side_by_side(rounds, order_read, bare_order_read, floor_order_read),
        ),
    ]


def _row(name: str, times: tuple[float, ...]) -> tuple[str, float, float, float]:
    ours, bare, floor = times
    return name, ours, bare, floor


def _without_bare(name: str, pair: tuple[float, ...]) -> tuple[str, float, float, float]:
    ours, floor = pair
    return name, ours, float("nan"), floor


def event_rows(rounds: int) -> list[tuple[str, float, float, float]]:
    clock = sf.FrozenClock(START.add(days=45))
    live = sf.SupportPlan.restore(premium_snapshot(), ORG, clock=clock)
    chart = BarePlan(model=Model("premium"))
    floor = floor_restore_plan(premium_snapshot())
    now = clock.now()
    flip = [False]

    def ours() -> Any:
        flip[0] = not flip[0]
        return live.change("developer" if flip[0] else "premium", actor=OWNER)

    def bare() -> Any:
        return chart.send("downgrade")

    def dict_floor() -> Any:
        return floor_change_plan(floor, OWNER_ROLES, "developer", now, ORG.billing_timezone)

    decision = {
        ("premium", "downgrade", True): (),
        ("premium", "downgrade", False): ("billing_role_required",),
    }
    routes = {("premium", "developer"): "downgrade"}
    case_decision = {("premium", True, True): ()}

    record = {"state": "premium"}

    def lookup(actor: sf.Member, tier: str) -> Any:
        state = record["state"]
        return decision[(state, routes[(state, tier)], bool(actor.org_roles & BILLING))]

    def case_lookup() -> Any:
        return case_decision[("premium", True, "p-1" in DEV.project_roles)]

    def ours_check_allowed() -> Any:
        return live.check("change", actor=OWNER, tier="developer")

    def ours_check_refused() -> Any:
        return live.check("change", actor=READER, tier="developer")

    def ours_check_case() -> Any:
        return sf.check_case(ORG, "premium", DEV, scope="project", project_id="p-1")

    return [
        _row("one event on a live plan", side_by_side(rounds, ours, bare, dict_floor)),
        _without_bare(
            "check(), allowed",
            side_by_side(rounds, ours_check_allowed, lambda: lookup(OWNER, "developer")),
        ),
        _without_bare(
            "check(), refused",
            side_by_side(rounds, ours_check_refused, lambda: lookup(READER, "developer")),
        ),
        _without_bare("check_case()", side_by_side(rounds, ours_check_case, case_lookup)),
    ]


def memory_per_object(count: int = 1000) -> tuple[float, float]:
    clock = sf.FrozenClock(START.add(days=45))
    pdata, odata = premium_snapshot(), order_snapshot()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    plans = [sf.SupportPlan.restore(pdata, ORG, clock=clock) for _ in range(count)]
    for p in plans:
        p.change("developer", actor=OWNER)
    per_plan = (tracemalloc.get_traced_memory()[0] - base) / count
    base = tracemalloc.get_traced_memory()[0]
    outbox = sf.InMemoryOutbox()
    orders = [
        sf.ConsultingOrder.restore(odata, ORG, clock=clock, outbox=outbox) for _ in range(count)
    ]
    per_order = (tracemalloc.get_traced_memory()[0] - base) / count
    tracemalloc.stop()
    del plans, orders
    return per_plan / 1024, per_order / 1024


def garbage_per_request(count: int = 500) -> float:
    data = premium_snapshot()
    clock = sf.FrozenClock(START.add(days=45))
    gc.collect()
    gc.disable()
    try:
        for _ in range(count):
            p = sf.SupportPlan.restore(data, ORG, clock=clock)
            p.check("change", actor=OWNER, tier="developer")
            p.change("developer", actor=OWNER)
            p.snapshot()
        found = gc.collect()
    finally:
        gc.enable()
    return found / count


def history_rows(rounds: int) -> list[tuple[int, float]]:
    rows = []
    for size in (1_000, 16_000):
        clock = sf.FrozenClock(START)
        p = sf.SupportPlan(ORG, clock=clock)
        p.change("premium", actor=OWNER)
        while len(p.history) < size:
            p.change("developer", actor=OWNER)
            p.change("premium", actor=OWNER)
        tiers = itertools.cycle(("developer", "premium"))

        def act(subject: sf.SupportPlan = p, tiers: Iterator[str] = tiers) -> Any:
            return subject.change(next(tiers), actor=OWNER)

        rows.append((size, median_us(act, rounds)))
    return rows


def rollover_records(count: int) -> Iterator[tuple[dict[str, Any], sf.Organization]]:
    """`count` premium plans with a downgrade pending, in several zones, history kept elsewhere."""
    templates = []
    for n, zone in enumerate(ZONES * 4):
        org = sf.Organization("org-template", billing_timezone=zone)
        clock = sf.FrozenClock(START.add(hours=7 * n))
        p = sf.SupportPlan(org, clock=clock)
        p.change("premium", actor=OWNER)
        clock.advance(days=40, minutes=n)
        p.change("developer", actor=OWNER)
        templates.append((p.snapshot(history=False), zone))
    for n in range(count):
        data, zone = templates[n % len(templates)]
        org_id = f"org-{n}"
        yield {**data, "org_id": org_id}, sf.Organization(org_id, billing_timezone=zone)


CHUNK = 10_000


def per_second(size: int, work: Callable[[list[Any]], int]) -> tuple[float, float]:
    """Organizations per second of `work` over `size` generated records, handed to it in lists
    of CHUNK as a database cursor would hand them over: the work alone, and with building the
    records counted too."""
    spent = built = 0.0
    done = 0
    records = rollover_records(size)
    while True:
        began = time.perf_counter()
        chunk = list(itertools.islice(records, CHUNK))
        built += time.perf_counter() - began
        if not chunk:
            break
        began = time.perf_counter()
        done += work(chunk)
        spent += time.perf_counter() - began
    assert done == size, f"{size - done} records refused"
    return done / spent, done / (spent + built)


def rollover_rows(sizes: list[int]) -> list[tuple[float, ...]]:
    until = START.add(days=120)
    clock = sf.FrozenClock(until)
    until_iso = until.isoformat()

    def ours(chunk: list[Any]) -> int:
        return sum(1 for r in bulk.apply_due(chunk, until=until) if not isinstance(r, Exception))

    def per_object(chunk: list[Any], engine: str = "table") -> int:
        for data, org in chunk:
            p = sf.SupportPlan.restore(data, org, clock=clock, engine=engine)
            p.apply_due()
            p.snapshot(history=False)
        return len(chunk)

    def bare(chunk: list[Any]) -> int:
        for data, _org in chunk:
            BarePlan(model=Model(data["state"])).send("apply_pending")
        return len(chunk)

    def floor(chunk: list[Any]) -> int:
        for data, _org in chunk:
            floor_apply_due_plan(data, until_iso)
        return len(chunk)

    # Warm up as a long-running job is warm: the codec generated, the calendar's caches filled.
    ours(list(rollover_records(1_000)))
    rows: list[tuple[float, ...]] = []
    for size in sizes:
        gc.collect()
        ours_alone, ours_with_input = per_second(size, ours)
        tracemalloc.start()
        for _ in bulk.apply_due(rollover_records(min(size, 20_000)), until=until):
            pass
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        sample = min(size, 2_000)
        table_engine = per_second(sample, per_object)[0]
        naive = per_second(sample, lambda chunk: per_object(chunk, "statechart"))[0]
        bare_chart_rate = per_second(sample, bare)[0]
        floor_rate = per_second(size, floor)[0]
        rates = (ours_alone, ours_with_input, table_engine, naive, bare_chart_rate, floor_rate)
        rows.append((size, *rates, peak))
    return rows


def import_ms() -> float:
    code = (
        "import time; t = time.perf_counter(); import support_flows; print(time.perf_counter() - t)"
    )
    runs = [
        float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(5)
    ]
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3000)
    parser.add_argument("--orgs", default="1000,10000,100000")
    options = parser.parse_args()
    rounds = options.rounds
    sizes = [int(n) for n in options.orgs.split(",")]
    print(f"median of {rounds} calls, microseconds; ratios against each baseline\n")
    table("", "ours", "bare chart", "ours/bare", "dict floor", "ours/floor")
    rows = request_rows(rounds, history=True) + request_rows(rounds, history=False)
    for name, ours, bare, floor in rows + event_rows(rounds):
        against_bare = ("-", "-") if bare != bare else (f"{bare:.1f}", f"{ours / bare:.2f}x")
        table(name, f"{ours:.1f}", *against_bare, f"{floor:.2f}", f"{ours / floor:.1f}x")
    per_plan, per_order = memory_per_object()
    print(f"\nmemory per live object: plan {per_plan:.1f} KiB, order {per_order:.1f} KiB")
    print(f"cyclic garbage per writing request: {garbage_per_request():.2f} objects")
    print(f"import support_flows: {import_ms():.0f} ms")
    print("\none plan change with a long history (the action's cost must not grow):")
    for size, cost in history_rows(min(rounds, 1000)):
        print(f"  {size:>6} entries: {cost:.1f} us")
    print("\nmonth-start rollover (premium plans, a downgrade due), organizations per second:")
    table(
        "orgs",
        "bulk",
        "with input",
        "per object",
        "naive",
        "bulk/naive",
        "bare chart",
        "dict floor",
        "peak MiB",
    )
    for orgs, ours, with_input, per_object, naive, bare, floor, peak in rollover_rows(sizes):
        table(
            str(int(orgs)),
            f"{ours:.0f}",
            f"{with_input:.0f}",
            f"{per_object:.0f}",
            f"{naive:.0f}",
            f"{ours / naive:.1f}x",
            f"{bare:.0f}",
            f"{floor:.0f}",
            f"{peak:.1f}",
        )
    print(
        "  records handed over in lists of 10,000 and timed without building them; 'with input'\n"
        "  counts building them too (a dict and an Organization each). per object: restore +\n"
        "  apply_due + snapshot on the table engine; naive: the same with a python-statemachine\n"
        "  chart per object (engine='statechart'), as the first release did. Warmed up first."
    )


def table(first: str, *cells: str) -> None:
    print(f"{first:<36}" + "".join(f"{cell:>12}" for cell in cells))


if __name__ == "__main__":
    main()
