"""One organization's support plan through a year, with a clock the script controls.

Run it: `python examples/plan_lifecycle.py`. Each entry is one moment: what was asked (or what
the clock applied), the plan state, the pending change, and the billing timeline the library
computed, including what is already scheduled.
"""

from __future__ import annotations

import pendulum

import support_flows as sf

TZ = "America/New_York"
clock = sf.FrozenClock(pendulum.datetime(2026, 1, 20, 9, 30, tz=TZ))
org = sf.Organization("acme", projects=(sf.Project("web"),), billing_timezone=TZ)
owner = sf.Member("alice", org_roles={sf.Role.ORG_OWNER})
viewer = sf.Member("bob", org_roles={sf.Role.ORG_READ_ONLY})
plan = sf.SupportPlan(org, clock=clock)


def when(moment: pendulum.DateTime | None) -> str:
    return "-" if moment is None else moment.in_timezone(TZ).format("YYYY-MM-DD HH:mm zz")


def row(what: str) -> None:
    pending = plan.pending
    waiting = f"{pending.target.value} at {when(pending.effective_at)}" if pending else "none"
    print(f"{when(clock.now())}  {what}")
    print(f"    state {plan.state.value}, pending change: {waiting}")
    for period in plan.billing:
        flag = "  (retroactive)" if period.retroactive else ""
        ends = when(period.ends_at) if period.ends_at else "open"
        print(f"    bills {period.tier.value:<9} {when(period.starts_at)} -> {ends}{flag}")


def attempt(what: str, action: str, **kwargs: object) -> None:
    try:
        getattr(plan, action)(**kwargs)
    except sf.SupportFlowsError as error:
        what = f"{what}: refused ({error.code}, {error.rule})"
    row(what)


row("new organization")
attempt("bob asks for premium", "change", tier="premium", actor=viewer)
attempt("alice starts the developer trial", "change", tier="developer", actor=owner)
clock.advance(days=30)
row("trial ended by itself (P6)")
clock.set(pendulum.datetime(2026, 3, 10, 14, tz=TZ))
attempt("alice upgrades to premium", "change", tier="premium", actor=owner)
clock.set(pendulum.datetime(2026, 5, 18, 11, tz=TZ))
attempt("alice downgrades to developer", "change", tier="developer", actor=owner)
clock.advance(days=20)
row("downgrade took effect (P9)")
clock.set(pendulum.datetime(2026, 7, 2, 16, tz=TZ))
attempt("alice cancels", "cancel", actor=owner)
attempt("alice cancels again", "cancel", actor=owner)
clock.set(pendulum.datetime(2026, 8, 1, tz=TZ))
attempt("alice revokes too late", "revoke_pending", actor=owner)
clock.set(pendulum.datetime(2026, 10, 5, 10, tz=TZ))
attempt("alice asks for enterprise", "change", tier="enterprise", actor=owner)
attempt("alice reactivates developer", "change", tier="developer", actor=owner)
clock.set(pendulum.datetime(2027, 1, 19, tz=TZ))
row("a year later")
print()
print(f"history: {len(plan.history)} entries")
for entry in plan.history:
    by = entry.requested_by or "clock"
    move = f"{entry.source.value} -> {entry.target.value}"
    print(f"  {when(entry.at):<22} {entry.event:<14} {move:<24} by {by}")
