"""What the consulting explorer tries from a point, with the actors other than the owner in turn."""

from __future__ import annotations

import pendulum

from support_flows.localtime import instant
from support_flows.verify.common import ACTORS, Actor, iso
from support_flows.verify.consulting_roots import MICROSECOND, OrderNode, moves
from support_flows.verify.model import Step

__all__ = ["BILLING", "MEMBERS", "NOT_BILLING", "STRANGERS", "WITHOUT_EMAIL", "OrderActions"]

BILLING = ("owner", "billing-admin")
NOT_BILLING = tuple(n for n in ACTORS if n not in BILLING)
WITHOUT_EMAIL = {
    a.name: a
    for a in (
        Actor("billing-admin-no-email", ("ORG_BILLING_ADMIN",)),
        Actor("org-reader-no-email", ("ORG_READ_ONLY",)),
    )
}
"""Console buyers with no e-mail address (F3), one with a billing role and one without (F1)."""
MEMBERS = ("billing-admin", "billing-reader", "org-reader", "project-creator", "project-member")
STRANGERS = ("outsider", "nobody")


class OrderActions:
    """The steps to try from each point; the actors who are not the owner take turns."""

    def __init__(self) -> None:
        self.args = {n: a.as_arg() for n, a in (*ACTORS.items(), *WITHOUT_EMAIL.items())}
        self.turn = 0

    def _rotate(self, names: tuple[str, ...]) -> str:
        return names[self.turn % len(names)]

    def __call__(self, node: OrderNode) -> list[tuple[Step, pendulum.DateTime]]:
        """Opening the order (console as billing roles, another actor and buyers without an
        e-mail address, representative with and without a reference); then confirm, bookings,
        cancels and deliveries of every session (and an unknown one) as the owner, the host, a
        member and a stranger, and apply_due at each instant worth moving the clock to."""
        self.turn += 1
        now, ref, at = node.now, node.ref, iso(node.now)
        if node.snapshot is None:
            found = [
                Step(at, "start_checkout", {"actor": self.args[who]})
                for who in (*BILLING, self._rotate(NOT_BILLING), *WITHOUT_EMAIL)
            ]
            found += [Step(at, "from_representative", {"sales_reference": r}) for r in ("SO-1", "")]
            return [(s, now) for s in found]
        found = [Step(at, "confirm"), *self._schedules(node)]
        sessions = [s.session_id for s in ref.sessions] + ["s-9"]
        booked = [s.session_id for s in ref.sessions if s.status == "scheduled"][:1]
        for name in ("cancel_session", "deliver"):
            for session in sessions:
                args = {"session_id": session, "actor": self.args["owner"]}
                found.append(Step(at, name, args))
            for session in booked:
                for who in (self._rotate(MEMBERS), self._rotate(STRANGERS)):
                    found.append(Step(at, name, {"session_id": session, "actor": self.args[who]}))
                found.append(Step(at, name, {"session_id": session, "actor": None}))
        actions = [(s, now) for s in found]
        for moved, note in moves(ref, now):
            actions.append((Step(iso(moved), "apply_due", {}, note=note), moved))
        return actions

    def _schedules(self, node: OrderNode) -> list[Step]:
        ref, now, at = node.ref, node.now, iso(node.now)
        per, spare = ref.hours_per_unit, max(ref.available, 1)
        soon = now.add(days=1)
        tries: list[tuple[pendulum.DateTime, int, str, str]] = [
            (soon, per, "owner", "one unit tomorrow"),
            (soon, per * (spare + 1), "owner", "more units than are available"),
            (now, per, "owner", "starting now, not after it"),
            (soon, per, self._rotate(MEMBERS), "one unit tomorrow"),
            (soon, per, self._rotate(STRANGERS), "one unit tomorrow"),
        ]
        if spare > 1:
            tries.append((soon, per * spare, "owner", "every available unit tomorrow"))
        if per > 1:
            tries.append((soon, per + 1, "owner", "hours that are not whole units"))
        if ref.expires_at is not None and not ref.validity_ended:
            last = instant(ref.expires_at).subtract(hours=per)
            tries.append((last, per, "owner", "ending at the expiry"))
            tries.append((last + MICROSECOND, per, "owner", "ending just after the expiry"))
        return [
            Step(at, "schedule", {"start": iso(s), "hours": h, "actor": self.args[who]}, note)
            for s, h, who, note in tries
            if s >= now
        ]
