"""The outbox port: where confirmation emails go (RULES.md F3). I/O stays at the host's edge."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

__all__ = ["Email", "InMemoryOutbox", "Outbox"]


@attrs.frozen
class Email:
    """One email to send: recipient, subject and plain-text body."""

    to: str
    subject: str
    body: str


@runtime_checkable
class Outbox(Protocol):
    """Anything with `send(email)`; it either queues the email or raises."""

    def send(self, email: Email) -> None: ...


class InMemoryOutbox:
    """An outbox that keeps what it was given in `.sent`, for tests and examples."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        self.sent.append(email)

    def __repr__(self) -> str:
        return f"InMemoryOutbox(sent={len(self.sent)})"
