"""A call that never returns is a finding, not a run that hangs (T7: whatever has come due, a
read answers). While `verify.run` explores, a CPU-time watchdog interrupts a public call the
verifier makes (`common.attempt`) once that one call has run `LIMIT` seconds of CPU: its outcome
is that crash, and the exploration stops there (every later call may hang alike), its report
holding the finding with the sequence that led to the call."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["LIMIT", "Stalled", "entered", "left", "stalled", "watching"]

LIMIT = 5
"""CPU seconds one call may run (the slowest the explorers make take milliseconds)."""


class Stalled(BaseException):  # not an Exception: the library's own handlers must not catch it
    """Raised inside a call that has run past `LIMIT` seconds of CPU."""


class _State:
    __slots__ = ("calls", "inside", "limit", "seen", "stalled", "ticks")

    def __init__(self) -> None:
        self.calls = self.inside = self.seen = self.ticks = 0
        self.limit = LIMIT
        self.stalled = False


_STATE = _State()


def entered() -> None:
    """A call begins (`common.attempt`)."""
    _STATE.calls += 1
    _STATE.inside += 1


def left() -> None:
    _STATE.inside -= 1


def stalled() -> bool:
    """Whether a call of this run has been interrupted."""
    return _STATE.stalled


def _tick(signum: int, frame: FrameType | None) -> None:
    """Once a second of CPU: the call running now, if it has run `limit` of them, is stopped."""
    state = _STATE
    if not state.inside:
        return
    if state.seen != state.calls:
        state.seen, state.ticks = state.calls, 0
    state.ticks += 1
    if state.ticks >= state.limit:
        state.stalled = True
        raise Stalled(f"the call ran {state.ticks} s of CPU without returning")


@contextmanager
def watching(limit: int | None = None) -> Iterator[None]:
    """The watchdog on for the block, stopping a call after `limit` seconds of CPU (`LIMIT`
    when None); only on the main thread, where signals are handled."""
    _STATE.stalled, _STATE.limit, _STATE.ticks = False, limit or LIMIT, 0
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGPROF, _tick)
    signal.setitimer(signal.ITIMER_PROF, 1.0, 1.0)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, previous)
