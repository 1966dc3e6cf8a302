"""What the consulting explorer tries from a point: each request by every role set that the
rules tell apart, and the host clock behind the order's last entry (T8)."""

from __future__ import annotations

import pendulum

from support_flows.localtime import instant
from support_flows.verify.common import Actor, iso
from support_flows.verify.consulting_roots import MICROSECOND, OrderNode, moves
from support_flows.verify.model import Step

__all__ = ["BEHIND", "ROLE_SETS", "WITHOUT_EMAIL", "OrderActions"]

ORG_ROLES = (
    "ORG_OWNER",
    "ORG_BILLING_ADMIN",
    "ORG_BILLING_READ_ONLY",
    "ORG_READ_ONLY",
    "ORG_PROJECT_CREATOR",
    "ORG_MEMBER",
)


def _name(roles: tuple[str, ...]) -> str:
    return "+".join(r.removeprefix("ORG_").lower().replace("_", "-") for r in roles)


ROLE_SETS = (
    *(Actor(_name((r,)), (r,), email=f"{_name((r,))}@example.com") for r in ORG_ROLES),
    *(
        Actor(_name(pair), pair, email=f"{_name(pair)}@example.com")
        for pair in (
            ("ORG_OWNER", "ORG_BILLING_ADMIN"),
            ("ORG_BILLING_ADMIN", "ORG_BILLING_READ_ONLY"),
            ("ORG_BILLING_READ_ONLY", "ORG_READ_ONLY"),
        )
    ),
    Actor("project-member", project_roles=(("p-1", ("PROJECT_OWNER",)),), email="pm@example.com"),
    Actor("outsider", project_roles=(("p-elsewhere", ("PROJECT_OWNER",)),), email="o@example.com"),
    Actor("nobody", email="nobody@example.com"),
)
"""Every organization role alone, the pairs a billing check could confuse, a role in one of
the organization's projects only, in another organization's project only, and no role."""
WITHOUT_EMAIL = (
    Actor("billing-admin-no-email", ("ORG_BILLING_ADMIN",)),
    Actor("org-reader-no-email", ("ORG_READ_ONLY",)),
)
"""Console buyers with no e-mail address (F3), one with a billing role and one without (F1)."""
BEHIND = pendulum.duration(hours=1)
"""How far behind the order's last entry the skewed host clock reads (T8)."""


class OrderActions:
    """The steps to try from each point."""

    def __init__(self) -> None:
        self.args = {a.name: a.as_arg() for a in (*ROLE_SETS, *WITHOUT_EMAIL)}

    def __call__(self, node: OrderNode) -> list[tuple[Step, pendulum.DateTime]]:
        """Opening the order (console by every role set and by buyers without an e-mail
        address, representative with and without a reference); then confirm, bookings, and
        cancels and deliveries of every session (and an unknown one) as the owner, of the
        first booked one by every role set and by the host; apply_due at each instant worth
        moving the clock to; and the same requests with the clock behind the last entry."""
        now, ref, at = node.now, node.ref, iso(node.now)
        if node.snapshot is None:
            found = [
                Step(at, "start_checkout", {"actor": self.args[a.name]})
                for a in (*ROLE_SETS, *WITHOUT_EMAIL)
            ]
            found += [Step(at, "from_representative", {"sales_reference": r}) for r in ("SO-1", "")]
            return [(s, now) for s in found]
        found = [Step(at, "confirm"), *self._schedules(node, now, everyone=True)]
        sessions = [s.session_id for s in ref.sessions] + ["s-9"]
        for name in ("cancel_session", "deliver"):
            for session in sessions:
                found.append(Step(at, name, {"session_id": session, "actor": self.args["owner"]}))
            found += self._closing(node, name, at, everyone=True)
        actions = [(s, now) for s in found]
        for moved, note in moves(ref, now):
            actions.append((Step(iso(moved), "apply_due", {}, note=note), moved))
        return actions + self._behind(node)

    def _closing(self, node: OrderNode, name: str, at: str, *, everyone: bool) -> list[Step]:
        """Closing the first booked session, by every role set (or the owner) and the host."""
        booked = [s.session_id for s in node.ref.sessions if s.status == "scheduled"][:1]
        who = ROLE_SETS[1:] if everyone else ()
        return [
            Step(at, name, {"session_id": session, "actor": actor})
            for session in booked
            for actor in (*(self.args[a.name] for a in who), None)
        ]

    def _behind(self, node: OrderNode) -> list[tuple[Step, pendulum.DateTime]]:
        """T8: the host clock an hour behind the order's last entry, for each kind of request."""
        if not node.ref.history:
            return []
        back = instant(node.ref.history[-1][0] - BEHIND)
        at, note = iso(back), "the host clock an hour behind the order's last entry"
        found = [Step(at, "confirm", note=note), Step(at, "apply_due", {}, note=note)]
        found += [
            Step(s.at, s.call, s.args, note=f"{s.note}; {note}")
            for s in self._schedules(node, back, everyone=False)[:1]
        ]
        for name in ("cancel_session", "deliver"):
            booked = [s.session_id for s in node.ref.sessions if s.status == "scheduled"][:1]
            found += [
                Step(at, name, {"session_id": s, "actor": self.args["owner"]}, note=note)
                for s in booked
            ]
        return [(s, back) for s in found]

    def _schedules(self, node: OrderNode, now: pendulum.DateTime, *, everyone: bool) -> list[Step]:
        ref, at = node.ref, iso(now)
        per, spare = ref.hours_per_unit, max(ref.available, 1)
        soon = max(now, node.now).add(days=1)
        tries: list[tuple[pendulum.DateTime, int, str, str]] = [
            (soon, per, "owner", "one unit tomorrow"),
        ]
        if everyone:
            tries += [(soon, per, a.name, "one unit tomorrow") for a in ROLE_SETS[1:]]
            tries += [
                (soon, per * (spare + 1), "owner", "more units than are available"),
                (now, per, "owner", "starting now, not after it"),
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
