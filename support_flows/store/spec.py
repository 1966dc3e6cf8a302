"""What a command is (`Spec`), and the host's own code run inside its transaction (`host`): a
refusal as it is, any other exception carried out of the transaction unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from support_flows.errors import SupportFlowsError
from support_flows.values import Organization

__all__ = ["HostFailure", "Spec", "host"]

T = TypeVar("T")


class Spec(NamedTuple):
    """A command: on what (a plan, an order), of which organization, under which key."""

    kind: str
    org: Organization
    subject_id: str | None
    key: str | None
    request: object
    clock: object


class HostFailure(Exception):
    """Carries an exception the host's own code raised (not a refusal) out of the transaction,
    which rolls back, so that it reaches the caller unchanged (never taken for a driver's)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


def host(fn: Callable[[Any], T], obj: Any) -> T:
    """`fn(obj)`: a refusal as it is, any other exception carried out (see `HostFailure`)."""
    try:
        return fn(obj)
    except SupportFlowsError:
        raise
    except Exception as error:
        raise HostFailure(error) from None
