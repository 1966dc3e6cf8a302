"""One call at a time per object (RULES.md V6), and none from inside its own calls (V7).

Each object built on `support_flows.machines.base_object.ObjectBase` (`SupportPlan`,
`ConsultingOrder`, `CaseFlow`) holds a `CallLock` and enters it once per public call, reads
included (a read applies what has come due, T7). Calls from other threads
wait their turn. A call from inside one of the object's own calls on the same thread (a clock, an
outbox, an id factory or a plan state calling back into the object) is refused with
`reentrant_call` before it reads or changes anything, so the outer call goes on as if it had
not been made.
"""

from __future__ import annotations

import threading
from types import TracebackType

from support_flows.errors import Reason, Violation, error_for

__all__ = ["CallLock"]


class CallLock:
    """The lock of one object's public calls, refusing re-entry from the thread holding it."""

    __slots__ = ("_lock", "_owner", "_what")

    def __init__(self, what: str) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._what = what

    def __enter__(self) -> None:
        me = threading.get_ident()
        # Only this thread ever sets or clears its own id here, so reading it unlocked is safe.
        if self._owner == me:
            raise error_for(
                (
                    Violation(
                        Reason.REENTRANT_CALL,
                        "V7",
                        f"a call into {self._what} from inside one of its own calls (its clock, "
                        "its outbox or another callback it runs) is refused; nothing changed, "
                        "and the call in progress goes on without it",
                    ),
                )
            )
        self._lock.acquire()
        self._owner = me

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._owner = None
        self._lock.release()
