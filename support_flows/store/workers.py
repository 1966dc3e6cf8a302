"""The month-start job shared among worker processes on PostgreSQL (S5): each runs the batches
of `batches.run`, reports its counts or its coded error to the parent, and one that dies without
reporting is `store_unavailable` (what it committed stays; a rerun finishes the work)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import queue as queues
import time
from collections.abc import Iterator
from typing import Any

import pendulum

from support_flows.errors import Reason, SupportFlowsError, Violation, describe, error_for
from support_flows.store.batches import Counts, Progress, run
from support_flows.store.database import Database
from support_flows.store.records import RolloverReport
from support_flows.values.policy import Catalog

__all__ = ["in_processes"]


def in_processes(
    url: str,
    until: pendulum.DateTime,
    workers: int,
    batch_size: int,
    progress: Progress | None,
    catalog: Catalog,
) -> RolloverReport:
    """`workers` processes; a worker's coded error is raised here, and a worker that stops
    without reporting (killed) is `store_unavailable`: what it committed stays, rerun to finish."""
    context = multiprocessing.get_context("spawn")
    messages: Any = context.Queue()
    started = time.perf_counter()
    processes = [
        context.Process(
            target=_worker,
            args=(url, until.isoformat(), batch_size, catalog, messages),
            daemon=True,
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            process.start()
    except OSError as error:  # no processes left to start (limits, memory)
        for process in processes:
            if process.is_alive():
                process.kill()
        raise error_for(
            [
                Violation(
                    Reason.STORE_UNAVAILABLE,
                    "S6",
                    f"rollover workers could not start ({describe(str(error), 200)}); rerun with "
                    "fewer workers",
                )
            ]
        ) from None
    totals = Counts()
    finished = 0
    failed: list[tuple[Violation, ...]] = []
    for message in _messages(messages, processes, workers):
        if message[0] == "progress":
            if progress is not None:
                progress(message[1])
            continue
        if message[0] == "error":
            failed.append(message[1])
            continue
        finished += 1
        done: dict[str, Any] = message[1]
        totals.plans += done["plans"]
        totals.orders += done["orders"]
        totals.applied += done["applied"]
        totals.invalid.extend(done["invalid"])
    for process in processes:
        process.join()
    if failed:
        raise error_for(failed[0])
    if finished != workers:
        codes = [p.exitcode for p in processes]
        raise error_for(
            [
                Violation(
                    Reason.STORE_UNAVAILABLE,
                    "S6",
                    f"rollover workers stopped without finishing (exit codes {codes}; a negative "
                    "code is the signal that killed one): what they saved stays saved, so rerun "
                    "the rollover to finish",
                )
            ]
        )
    return RolloverReport(
        until,
        totals.plans,
        totals.orders,
        totals.applied,
        tuple(dict.fromkeys(totals.invalid)),
        workers,
        time.perf_counter() - started,
    )


def _messages(messages: Any, processes: list[Any], workers: int) -> Iterator[tuple[str, Any]]:
    """Messages from the workers until each has reported (done or failed) or died."""
    reported = 0
    while reported < workers:
        try:
            message = messages.get(timeout=0.5)
        except queues.Empty:
            if not any(p.is_alive() for p in processes):
                try:
                    message = messages.get(timeout=0.5)
                except queues.Empty:
                    return
            else:
                continue
        if message[0] in ("done", "error"):
            reported += 1
        yield message


def _worker(url: str, until: str, batch_size: int, catalog: Catalog, messages: Any) -> None:
    """One worker process: reports its counts, or its error's reasons (never a traceback)."""
    try:
        db = Database(url)
        try:
            report = run(
                db,
                until=dt.datetime.fromisoformat(until),
                batch_size=batch_size,
                progress=lambda n: messages.put(("progress", n)),
                catalog=catalog,
            )
        finally:
            db.dispose()
    except SupportFlowsError as error:
        messages.put(("error", error.reasons))
        return
    except Exception as error:  # a worker's own failure still reaches the parent coded
        reason = Violation(
            Reason.STORE_UNAVAILABLE,
            "S6",
            f"a rollover worker failed ({type(error).__name__}: {describe(str(error), 200)}); "
            "rerun the rollover to finish",
        )
        messages.put(("error", (reason,)))
        return
    messages.put(
        (
            "done",
            {
                "plans": report.plans,
                "orders": report.orders,
                "applied": report.applied,
                "invalid": list(report.invalid),
            },
        )
    )
