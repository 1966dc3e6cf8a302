"""The rules catalog: every rule of the product specification, shipped with the package.

Each `Rule` restates one rule of the specification (RULES.md) with its id, section, sources and
the reason codes it can produce, so that refusals, the review pack and ``support-flows explain``
can name a rule and show what it says without the specification file at hand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from support_flows.errors import Reason, invalid

__all__ = ["RULES", "SECTIONS", "Rule", "Source", "rule", "rules_for"]


class Source(enum.StrEnum):
    """Where a rule comes from (`meaning` says what each is)."""

    SEED = "SEED"
    DOCS = "DOCS"
    INDUSTRY = "INDUSTRY"
    DECISION = "DECISION"

    @property
    def meaning(self) -> str:
        """What the source is, in a sentence a reader of the catalog needs."""
        return _SOURCE_MEANINGS[self]


_SOURCE_MEANINGS = {
    Source.SEED: 'The Atlas "Support" docs page this product models (the seed of the rules).',
    Source.DOCS: "Newer Atlas docs pages.",
    Source.INDUSTRY: "How billing engines (Kill Bill, Stripe, Chargebee, Lago) behave.",
    Source.DECISION: (
        "Our own product decision where no source speaks; it changes only with a note on the "
        "issue explaining why."
    ),
}


@attrs.frozen
class Rule:
    """One rule of the specification, restated in the package's own words."""

    id: str
    section: str
    title: str
    statement: str
    sources: tuple[Source, ...]
    source_note: str
    reasons: tuple[Reason, ...]


SECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "T": "Time",
        "P": "Support plan lifecycle",
        "C": "Support requests and cases",
        "F": "Flex Consulting orders",
        "V": "Values and definitions",
        "S": "Storage",
        "U": "The command line",
        "K": "Policies as versioned data",
    }
)

_SEED, _DOCS, _INDUSTRY, _DECISION = Source.SEED, Source.DOCS, Source.INDUSTRY, Source.DECISION
_R = Reason


def _rule(
    rule_id: str,
    title: str,
    *,
    sources: tuple[Source, ...],
    note: str = "",
    reasons: tuple[Reason, ...] = (),
    statement: str,
) -> Rule:
    return Rule(
        id=rule_id,
        section=rule_id[0],
        title=title,
        statement=statement,
        sources=sources,
        source_note=note,
        reasons=reasons,
    )


_CATALOG = (
    # T: time
    _rule(
        "T1",
        "Instants are timezone-aware",
        sources=(_DECISION,),
        reasons=(_R.NAIVE_DATETIME,),
        statement=(
            "Every instant is timezone-aware. A naive datetime (one without a time zone) is "
            "refused with reason `naive_datetime`."
        ),
    ),
    _rule(
        "T2",
        "Billing timezone per organization",
        sources=(_INDUSTRY,),
        note="Lago, Kill Bill",
        reasons=(_R.UNKNOWN_TIMEZONE,),
        statement=(
            "Every organization has a billing timezone, given as an IANA zone name; it defaults "
            "to `UTC`. A name that is not a known zone is refused with reason `unknown_timezone`."
        ),
    ),
    _rule(
        "T3",
        "First day of the next month",
        sources=(_SEED, _DECISION),
        statement=(
            "E(t), the first day of the next month of an instant `t`, is the earliest instant "
            "after `t` whose local date, in the billing timezone, is the 1st of the month that "
            "follows `t`'s local month. If local midnight does not exist on that 1st (a DST gap), "
            "E(t) is the first instant of that day that does exist; if midnight occurs twice, "
            "E(t) is the earlier occurrence. 'After `t`' matters only where clocks go back across "
            "midnight of the 1st: in America/St_Johns on 2009-11-01, for a `t` read late in the "
            "repeated hour of Oct 31, the first pass of Nov 1 00:00 is already in the past, so "
            "E(t) is the second pass."
        ),
    ),
    _rule(
        "T4",
        "Midnight of the 1st starts its month",
        sources=(_DECISION,),
        statement=(
            "A request made at exactly local 00:00:00 on the 1st of a month belongs to that "
            "month: its first day of the next month (T3) is one month later."
        ),
    ),
    _rule(
        "T5",
        "Thirty-day trial",
        sources=(_DOCS, _DECISION),
        note='"30 day free trial"',
        statement=(
            "A trial lasts 30 calendar days counted in the billing timezone: it ends at the same "
            "local wall time 30 days after it started. If that wall time does not exist on the "
            "end day (a DST gap), it is moved forward by the length of the gap; if it occurs "
            "twice, the earlier instant is taken."
        ),
    ),
    _rule(
        "T6",
        "Time comes from the injected clock",
        sources=(_DECISION,),
        statement=(
            "Every rule takes the current instant from the injected clock; nothing reads the "
            "system time directly."
        ),
    ),
    _rule(
        "T7",
        "Objects are observed as of now",
        sources=(_DECISION,),
        statement=(
            "An object is always observed as of its clock's now: everything that has come due by "
            "then (a trial end, a pending change, an expiry) has already taken effect, at the "
            "instant recorded for it, before any read or action answers. `apply_due()` does this "
            "explicitly, for batch jobs that persist the result, and returns what it applied. No "
            "result depends on when, or how often, anything was observed."
        ),
    ),
    _rule(
        "T8",
        "Clock readings never go back",
        sources=(_DECISION,),
        statement=(
            "Clock readings are monotonic per object: a reading earlier than the object's last "
            "recorded instant (the instant of its latest history entry, booking or purchase), "
            "as happens with clock skew between hosts, counts as that instant, so history is "
            "never reordered."
        ),
    ),
    # P: support plan lifecycle
    _rule(
        "P1",
        "Plan actions need a billing role",
        sources=(_DOCS, _DECISION),
        note="billing settings need Owner or Billing Admin",
        reasons=(_R.BILLING_ROLE_REQUIRED,),
        statement=(
            "Subscribing, changing, cancelling and revoking a plan require the Organization Owner "
            "or Organization Billing Admin role in that organization; anyone else is refused with "
            "reason `billing_role_required`."
        ),
    ),
    _rule(
        "P2",
        "Enterprise goes through sales",
        sources=(_DOCS,),
        reasons=(_R.CONTACT_SALES,),
        statement=(
            "The `enterprise` tier cannot be chosen self-serve; choosing it is refused with "
            "reason `contact_sales`."
        ),
    ),
    _rule(
        "P3",
        "Cross-org billing limits self-serve",
        sources=(_DOCS,),
        reasons=(_R.CROSS_ORG_BILLING,),
        statement=(
            "An organization in cross-org billing cannot subscribe to, reactivate or upgrade a "
            "plan self-serve: reason `cross_org_billing`. It can still downgrade, cancel and "
            "revoke."
        ),
    ),
    _rule(
        "P4",
        "One Developer trial per organization",
        sources=(_DOCS,),
        statement=(
            "From `basic`, choosing `developer` starts the trial now; it ends per T5. `basic` "
            "means that no trial or paid plan was ever active, because every trial or paid plan "
            "ends in `cancelled`; so an organization gets one trial. Premium has no trial."
        ),
    ),
    _rule(
        "P5",
        "Basic to Premium",
        sources=(_SEED, _DECISION),
        statement=(
            "From `basic`, choosing `premium` puts premium in force now; its billing starts at "
            "E(now), the first day of the next month (T3)."
        ),
    ),
    _rule(
        "P6",
        "Trial converts to Developer",
        sources=(_DOCS,),
        note='"automatically enrolled"',
        statement=(
            "When the trial ends (the clock reaches its end, applied by `apply_due`), `trial` "
            "becomes `developer`, and developer billing starts at the trial's end instant."
        ),
    ),
    _rule(
        "P7",
        "Cancel during the trial",
        sources=(_SEED,),
        statement=(
            "Cancelling during the trial makes the plan `cancelled` now and stops billing now; "
            "nothing is charged for the trial. A cancel at exactly the trial's end is no longer "
            "in the trial: P6 has already happened, so P9 applies."
        ),
    ),
    _rule(
        "P8",
        "Upgrade now, bill from the 1st",
        sources=(_SEED, _DECISION),
        note="SEED: billing. DECISION: entitlement now; a trial never grows free time",
        statement=(
            "An upgrade (to a higher tier, in the order basic < developer < premium) puts the "
            "higher plan in force now; billing at the new tier starts at E(now). Upgrading from "
            "`trial` ends the trial now, and premium billing starts at the earlier of E(now) and "
            "the trial's scheduled end. An upgrade clears any pending change."
        ),
    ),
    _rule(
        "P9",
        "Downgrade and cancel wait for the 1st",
        sources=(_SEED, _DOCS),
        note='"billing continues until the cancellation"',
        statement=(
            "A downgrade (premium to developer) and a cancel (from developer or premium; choosing "
            "`basic` is a cancel) change nothing now: the change is pending and takes effect at "
            "E(now), for the plan and for billing alike. A cancel takes the organization to "
            "`cancelled`: the pending change's target is `cancelled`."
        ),
    ),
    _rule(
        "P10",
        "At most one pending change",
        sources=(_INDUSTRY,),
        note="all four engines",
        statement=(
            "At most one change is pending. A newer downgrade or cancel replaces it, and the "
            "effective instant is recomputed from the newer request. History keeps every request."
        ),
    ),
    _rule(
        "P11",
        "Choosing the plan in force",
        sources=(_INDUSTRY, _DECISION),
        reasons=(_R.ALREADY_ON_PLAN,),
        statement=(
            "Choosing the plan currently in force while a change is pending revokes the pending "
            "change; with nothing pending it is refused with reason `already_on_plan`. Choosing "
            "`developer` during the trial is refused the same way, since the trial converts by "
            "itself (P6)."
        ),
    ),
    _rule(
        "P12",
        "Revoke only before the change takes effect",
        sources=(_INDUSTRY,),
        note="Kill Bill, Stripe",
        reasons=(_R.CHANGE_ALREADY_EFFECTIVE, _R.NO_PENDING_CHANGE),
        statement=(
            "A pending change can be revoked while now is before its effective instant. At or "
            "after that instant the change has taken effect (T7), and revoking is refused with "
            "reason `change_already_effective` as long as no request came after it; otherwise, "
            "with nothing pending, revoking is refused with reason `no_pending_change`."
        ),
    ),
    _rule(
        "P13",
        "Nothing to cancel",
        sources=(_DECISION,),
        reasons=(_R.NOTHING_TO_CANCEL,),
        statement=(
            "Cancelling on `basic` or `cancelled` is refused with reason `nothing_to_cancel`. "
            "Cancelling while a cancel is already pending is idempotent: nothing changes and the "
            "effective instant stays the same."
        ),
    ),
    _rule(
        "P14",
        "Due changes apply at their recorded instant",
        sources=(_DECISION,),
        statement=(
            "`apply_due` applies, in time order, everything whose instant has come (a trial end, "
            "a pending change), each at its recorded instant, not at the time of the call. "
            "Calling it again changes nothing, and a late call gives the same result as a "
            "punctual one."
        ),
    ),
    _rule(
        "P15",
        "Reactivation bills retroactively",
        sources=(_DOCS,),
        note="retroactive billing, up to 90 days",
        statement=(
            "From `cancelled`, choosing `developer` or `premium` reactivates paid support now, "
            "never with a new trial. Billing at the new tier is charged retroactively from the "
            "instant the last non-Basic plan (a trial included) ended, but from no earlier than "
            "90 calendar days (in the billing timezone) before now, and continues without a gap; "
            "that period is flagged retroactive even when it starts now. Exception: when the last "
            "plan was `developer` (a trial counts as developer) and the new plan is `premium`, "
            "nothing is charged retroactively and premium billing starts at E(now)."
        ),
    ),
    _rule(
        "P16",
        "Guards are checked at request time",
        sources=(_INDUSTRY,),
        statement=(
            "Guards are evaluated when a request is made; a pending change takes effect even if "
            "its requester has since lost their role."
        ),
    ),
    _rule(
        "P17",
        "Entitlements follow the plan state",
        sources=(_SEED, _DOCS),
        statement=(
            "A plan's entitlements follow its state: `basic` and `cancelled` have chat and "
            "Developer Resources; `trial`, `developer` and `premium` also have private support "
            "cases. A pending downgrade or cancel removes nothing before its effective instant."
        ),
    ),
    # RULES.md gives P20 (a subsection, not a table row) no source column: the period model is
    # what billing engines do, the two invariants are ours.
    _rule(
        "P20",
        "The billing timeline",
        sources=(_INDUSTRY, _DECISION),
        note=(
            "no source column; periods as billing engines keep them, "
            "the invariants are our decision"
        ),
        statement=(
            "The plan exposes its billing timeline: ordered, non-overlapping periods (tier, start, "
            "end or open, retroactive flag), including the changes already scheduled (during a "
            "trial, the developer period that starts at the trial's end; a pending change's new "
            "period or end). Only `developer` and `premium` are billed; the trial is free. Every "
            "listed period has a positive length: a period that would end where it starts is not "
            "listed. First invariant (checked by the verifier): every boundary of a billing "
            "period is the first instant of a month in the billing timezone, except a trial's "
            "end (P6), a retroactive start (P15), a catch-up start (P21), and the start of "
            "premium billing that P8 moves up to a trial's end. Second invariant (P21): every "
            "stretch in which `premium` is in force overlaps, or is followed without a gap by, a "
            "premium billing period."
        ),
    ),
    _rule(
        "P21",
        "No paid tier is held for free",
        sources=(_DECISION,),
        note="closes the subscribe-then-downgrade loophole",
        statement=(
            "When a downgrade or cancel takes effect before the tier it ends was ever billed "
            "(that tier's billing would start at or after the effective instant, as after P5, P8 "
            "or P15's premium exception), the tier is billed instead from the instant it came "
            "into force up to the effective instant, flagged retroactive, and any period billed "
            "for that stretch ends where this catch-up starts. The timeline shows this as soon as "
            "the change is pending; a revoked change leaves nothing behind (the tier is billed "
            "from its original start again). The change itself still takes effect at E(now) "
            "(P9). Example: basic to premium on Mar 14, downgrade on Mar 20: premium is billed "
            "Mar 14 to Apr 1 (retroactive), developer from Apr 1."
        ),
    ),
    # C: support requests and cases
    _rule(
        "C1",
        "Channels are open to members",
        sources=(_SEED, _DECISION),
        note='a UI shows the "open a case" entry only where it can succeed',
        reasons=(
            _R.NOT_ORG_MEMBER,
            _R.PROJECT_ROLE_REQUIRED,
            _R.ORG_HAS_NO_PROJECTS,
            _R.PLAN_EXCLUDES_CASES,
        ),
        statement=(
            "`chat` and `developer_resources` are open to any member of the organization (anyone "
            "holding an organization role or a role in one of its projects); anyone else is "
            "refused with reason `not_org_member`. Asked about `support_case`, `check_channel` "
            "answers whether the requester can open a case at some scope right now: it allows "
            "exactly when `check_case` allows the organization scope or at least one of the "
            "organization's projects. When it refuses, it lists, in C6 order, the reasons that "
            "hold at every scope: `not_org_member` alone for a non-member; otherwise whichever of "
            "these hold: `project_role_required` (the requester is neither Organization Owner nor "
            "holds a role in any of the organization's projects), `org_has_no_projects`, "
            "`plan_excludes_cases`."
        ),
    ),
    _rule(
        "C2",
        "Cases need a plan that includes them",
        sources=(_SEED,),
        reasons=(_R.PLAN_EXCLUDES_CASES,),
        statement=(
            "A support case needs a plan state that includes cases (P17: `trial`, `developer` or "
            "`premium`); otherwise it is refused with reason `plan_excludes_cases`."
        ),
    ),
    _rule(
        "C3",
        "Organization cases need the Owner",
        sources=(_SEED,),
        note=(
            "the newer docs' roles table also lists Organization Read Only; "
            "we follow the seed's note"
        ),
        reasons=(_R.ORG_OWNER_REQUIRED,),
        statement=(
            "An organization-level case needs the Organization Owner role; anyone else is "
            "refused with reason `org_owner_required`."
        ),
    ),
    _rule(
        "C4",
        "No projects, no cases",
        sources=(_SEED,),
        reasons=(_R.ORG_HAS_NO_PROJECTS,),
        statement=(
            "An organization with no projects cannot open a case at any level: reason "
            "`org_has_no_projects`."
        ),
    ),
    _rule(
        "C5",
        "Project cases",
        sources=(_SEED, _DOCS),
        note="SEED: navigation. DOCS: roles table",
        reasons=(_R.PROJECT_NOT_FOUND, _R.PROJECT_ROLE_REQUIRED),
        statement=(
            "A project-level case needs a project that belongs to the organization (otherwise "
            "reason `project_not_found`) and a requester who holds any role in that project or "
            "the Organization Owner role (otherwise reason `project_role_required`)."
        ),
    ),
    _rule(
        "C6",
        "Every failing case check, in order",
        sources=(_DECISION,),
        reasons=(
            _R.PROJECT_NOT_FOUND,
            _R.ORG_OWNER_REQUIRED,
            _R.PROJECT_ROLE_REQUIRED,
            _R.ORG_HAS_NO_PROJECTS,
            _R.PLAN_EXCLUDES_CASES,
        ),
        statement=(
            "A case refusal lists every failing check, in this fixed order: target "
            "(`project_not_found`), then role (`org_owner_required` or `project_role_required`), "
            "then projects (`org_has_no_projects`), then plan (`plan_excludes_cases`). The first "
            "one listed is the primary reason. `not_org_member` is not among them: it is for "
            "channels (C1)."
        ),
    ),
    _rule(
        "C7",
        "What an opened case records",
        sources=(_DECISION,),
        statement=(
            "An opened case records its organization, scope, project (if any), requester, "
            "opening instant (from the clock), title and severity (`S1` to `S4`, default `S3`). "
            "A case is created along the seed's navigation: choose the organization, then either "
            "open the organization's Support page or choose a project and open Project Support, "
            "then submit the case."
        ),
    ),
    # F: Flex Consulting orders
    _rule(
        "F0",
        "Sessions need a member and an active order",
        sources=(_DECISION,),
        reasons=(_R.NOT_ORG_MEMBER, _R.ORDER_NOT_ACTIVE),
        statement=(
            "Scheduling, cancelling and delivering sessions need a member of the organization "
            "(otherwise reason `not_org_member`); doing so before the order is purchased is "
            "refused with reason `order_not_active`."
        ),
    ),
    _rule(
        "F1",
        "Buying units",
        sources=(_SEED, _DOCS),
        note="checkout steps",
        reasons=(_R.BILLING_ROLE_REQUIRED, _R.SALES_REFERENCE_REQUIRED),
        statement=(
            "Units are bought either in the console, where the requester needs the Organization "
            "Owner or Organization Billing Admin role (otherwise reason `billing_role_required`), "
            "or from a representative, which needs a non-empty sales reference (otherwise reason "
            "`sales_reference_required`). A console order starts in `checkout` and becomes "
            "`purchased` when confirmed; a representative order starts `purchased`."
        ),
    ),
    _rule(
        "F2",
        "Whole units, at least one",
        sources=(_DECISION,),
        reasons=(_R.INVALID_QUANTITY,),
        statement=(
            "An order holds a whole number of units, at least 1 (otherwise reason "
            "`invalid_quantity`). `hours_per_unit` is catalog data and defaults to 1."
        ),
    ),
    _rule(
        "F3",
        "One confirmation email per purchase",
        sources=(_SEED, _DECISION),
        reasons=(_R.BUYER_EMAIL_REQUIRED,),
        statement=(
            "On purchase exactly one confirmation email is queued to the buyer, with instructions "
            "to schedule hours, after the purchase itself is complete (a confirm made from inside "
            "the email's delivery sees a purchased order). Confirming an order that is past "
            "`checkout`, in any state, changes nothing and sends nothing, so replays are safe. A "
            "console buyer without an e-mail address is refused with reason "
            "`buyer_email_required`, listed with the checkout's other failing checks after "
            "`billing_role_required`: it is a fact about the buyer, not malformed input."
        ),
    ),
    _rule(
        "F4",
        "Units are used through sessions",
        sources=(_SEED,),
        reasons=(_R.INVALID_QUANTITY, _R.INSUFFICIENT_UNITS, _R.SESSION_IN_PAST),
        statement=(
            "Units are used only through scheduled sessions. A session books whole units: its "
            "hours must be a multiple of `hours_per_unit` (otherwise reason `invalid_quantity`), "
            "it books at most the available units (otherwise reason `insufficient_units`), and "
            "it must start after now (otherwise reason `session_in_past`)."
        ),
    ),
    _rule(
        "F5",
        "Cancelling and delivering sessions",
        sources=(_DECISION,),
        reasons=(_R.SESSION_ALREADY_STARTED, _R.SESSION_NOT_STARTED, _R.UNKNOWN_SESSION),
        statement=(
            "A session can be cancelled before it starts, and its units return to available; "
            "after its start, cancelling is refused with reason `session_already_started`. A "
            "session is delivered at or after its start, consuming its units; before its start, "
            "delivering is refused with reason `session_not_started`. An unknown session is "
            "refused with reason `unknown_session`."
        ),
    ),
    _rule(
        "F6",
        "Order validity and expiry",
        sources=(_DECISION,),
        note="no Atlas source",
        reasons=(_R.SESSION_AFTER_EXPIRY, _R.INVALID_QUANTITY),
        statement=(
            "An order may carry a validity in months (for example 12; by default none; outside "
            "the bounds of V4 it is refused with reason `invalid_quantity`). Expiry falls that "
            "many months after the purchase instant, at its local wall time in the billing "
            "timezone, on the same day of the month clamped to the month's end (a purchase on "
            "Feb 29 with 12 months expires on Feb 28). The purchase instant is when the order "
            "becomes `purchased`. A session must end by the expiry (otherwise reason "
            "`session_after_expiry`). At expiry the available units expire; booked sessions stay "
            "deliverable, and the order stays `scheduled` until they are delivered."
        ),
    ),
    _rule(
        "F7",
        "Unit balance",
        sources=(_DECISION,),
        reasons=(_R.ORDER_NOT_ACTIVE,),
        statement=(
            "At every step, available + scheduled + consumed + expired units equal the purchased "
            "units, and none of them is negative. Acting on a final order (`consumed` or "
            "`expired`) is refused with reason `order_not_active`."
        ),
    ),
    # V: values and definitions
    _rule(
        "V1",
        "Unknown names are malformed",
        sources=(_DECISION,),
        reasons=(_R.INVALID_VALUE,),
        statement=(
            "An unknown name (tier, state, scope, channel, severity, action or role) is malformed "
            "input, refused with reason `invalid_value`; the message names the value and the "
            "accepted ones."
        ),
    ),
    _rule(
        "V2",
        "Only our own snapshots are restored",
        sources=(_DECISION,),
        reasons=(_R.INVALID_SNAPSHOT,),
        statement=(
            "A snapshot that this library did not write is refused as a whole with reason "
            "`invalid_snapshot`. That covers an unknown state; a missing, extra or mistyped "
            "field (no field is ever defaulted on restore); and any record that breaks a rule: "
            "billing periods out of order, overlapping or empty, or breaking P20's invariants; a "
            "pending change that P9/P10 could not have made in that state; a history out of time "
            "order or naming unknown events; a trial or last plan that does not fit the state; a "
            "snapshot written for another organization or another billing timezone; session "
            "units that are not positive or do not match the hours; a unit balance that breaks "
            "F7. Derived facts must be derivable: with its history, a record's billing periods, "
            "balances, flags and recorded instants are exactly what that history produces; "
            "without it, every period, flag and instant must be one that some sequence of "
            "accepted requests could have produced from the rest of the record (no closed "
            "billing period inside a trial; `recorded_at` present and not after anything the "
            "record still holds as due; an order's validity ended only at or after its expiry; "
            "a session cancelled only after it was booked). Restore accepts exactly what the "
            "library could have written. The message names the first inconsistency found."
        ),
    ),
    _rule(
        "V3",
        "Events without a transition",
        sources=(_DECISION,),
        reasons=(_R.EVENT_NOT_ALLOWED,),
        statement=(
            "An event for which the current state has no transition (for example submitting a "
            "case before choosing where to open it) is refused with reason `event_not_allowed`."
        ),
    ),
    _rule(
        "V4",
        "Bounds on numbers and instants",
        sources=(_DECISION,),
        reasons=(_R.INVALID_QUANTITY, _R.INVALID_VALUE),
        statement=(
            "Numbers and instants outside what the product holds are malformed input. Refused "
            "with reason `invalid_quantity`: units outside 1-100,000 per order, `hours_per_unit` "
            "outside 1-1,000, `validity_months` outside 1-120, session hours outside 1-10,000; a "
            "bool never counts as a number. Refused with reason `invalid_value`: an instant, "
            "given or computed, outside the years 1970-2999. Nothing past these bounds may reach "
            "date arithmetic."
        ),
    ),
    _rule(
        "V5",
        "Identifiers, e-mails and zone names",
        sources=(_DECISION,),
        reasons=(_R.INVALID_VALUE, _R.UNKNOWN_TIMEZONE),
        statement=(
            "Identifiers (organization, user, project, case, order and session ids, and sales "
            "references) are non-empty strings of printable characters, with no leading or "
            "trailing whitespace, of at most 200 characters; an e-mail address contains one `@` "
            "with text on both sides. A billing timezone is a canonical IANA zone name: not "
            "`localtime`, `posixrules` or `Factory`, nor a `posix/` or `right/` name. A name that "
            "differs from a canonical one only in case is refused with reason `unknown_timezone`, "
            "the message giving the canonical spelling. Wrong object types (an `Organization` "
            "where a `Member` is expected, `None`, a number) are refused with reason "
            "`invalid_value`."
        ),
    ),
    _rule(
        "V6",
        "Objects serialise their calls",
        sources=(_DECISION,),
        statement=(
            "Each object serialises its own public calls: used from several threads at once, it "
            "behaves as if the calls ran one after another in some order, with no lost booking, "
            "no second email and no duplicated history."
        ),
    ),
    _rule(
        "V7",
        "No re-entrant calls",
        sources=(_DECISION,),
        reasons=(_R.REENTRANT_CALL,),
        statement=(
            "A call into an object from inside one of its own calls (from a clock, an outbox or "
            "any callback the object is running, on the same thread) is refused with reason "
            "`reentrant_call` and changes nothing; the outer call completes as if the inner one "
            "had not been made."
        ),
    ),
    # S: storage
    _rule(
        "S1",
        "Revisions guard every write",
        sources=(_INDUSTRY,),
        note="optimistic concurrency",
        reasons=(_R.STALE_REVISION,),
        statement=(
            "Every stored plan and order has a revision. A write based on an older revision is "
            "refused with reason `stale_revision` and changes nothing; the caller reloads and "
            "retries. No accepted change is ever lost to a concurrent writer."
        ),
    ),
    _rule(
        "S2",
        "Idempotency keys",
        sources=(_INDUSTRY,),
        note="Stripe",
        reasons=(_R.IDEMPOTENCY_KEY_REUSED,),
        statement=(
            "A command may carry an idempotency key. Replaying a key with the same request "
            "returns the first result and changes nothing; the same key with a different request "
            "is refused with reason `idempotency_key_reused`. Keys are kept for at least 24 hours."
        ),
    ),
    _rule(
        "S3",
        "Emails go through a transactional outbox",
        sources=(_INDUSTRY,),
        note="transactional outbox",
        statement=(
            "Emails (F3) are written to the store's outbox in the same transaction as the change "
            "that causes them; a relay delivers each at least once, with a stable message id for "
            "de-duplication. One purchase never queues two emails, across copies and processes."
        ),
    ),
    _rule(
        "S4",
        "Append-only audit log",
        sources=(_INDUSTRY,),
        statement=(
            "The audit log is append-only: it records every request (accepted or refused, "
            "including a refusal raised by the host's own function inside a store command) and "
            "every applied change, each with its instant, actor and idempotency key. The database "
            "itself refuses UPDATE, DELETE and TRUNCATE of the log. A request's parameters are "
            "kept at a bounded size (each value shortened to at most 1 KiB, with its full length "
            "recorded), so no request grows the log by more than a few KiB."
        ),
    ),
    _rule(
        "S5",
        "Month-start job applies each change once",
        sources=(_DECISION,),
        reasons=(_R.NOT_FOUND,),
        statement=(
            "The month-start job applies each due change exactly once, at its recorded instant, "
            "whatever the number of workers and however often it is interrupted and rerun. "
            "Loading a plan or order that is not stored is refused with reason `not_found`."
        ),
    ),
    _rule(
        "S6",
        "Store URLs and unavailable databases",
        sources=(_DECISION,),
        reasons=(_R.INVALID_VALUE, _R.STORE_UNAVAILABLE),
        statement=(
            "A store URL names its backend (`sqlite:///path`, `sqlite://` in memory, "
            "`postgresql://...`); anything else is refused with reason `invalid_value`. A "
            "database that cannot be reached, opened, created or written is reported with reason "
            "`store_unavailable`, naming the URL without its password; no driver exception "
            "reaches the caller. Values a database cannot hold (NaN, infinities, text with NUL) "
            "are refused as malformed input before any statement runs, and audited as refused."
        ),
    ),
    # U: the command line
    _rule(
        "U1",
        "Exit codes and one-line errors",
        sources=(_INDUSTRY, _DECISION),
        note="sysexits-style conventions",
        statement=(
            "Every `support-flows` command exits 0 when it did its job (or the request it "
            "explains is allowed), 1 when a request is refused or a verification finds a "
            "violation or an uncovered part, 2 on malformed input or usage (unknown option, bad "
            "value, bad URL), 3 when its environment fails (database unavailable, file not "
            "writable, missing extra). A failure prints one line, `error: [code, rule] message`, "
            "on standard error, and never a traceback."
        ),
    ),
    _rule(
        "U2",
        "Commands perform the event they name",
        sources=(_DECISION,),
        reasons=(_R.INVALID_VALUE,),
        statement=(
            "A command that names an event (`timeline upgrade:premium@...`) performs that event "
            "or is refused: when the request would take another event (an upgrade to a lower "
            "tier), it is malformed input, refused with reason `invalid_value`, naming the event "
            "it would be."
        ),
    ),
    # K: policies as versioned data
    _rule(
        "K1",
        "A policy holds every tunable value",
        sources=(_INDUSTRY, _DECISION),
        note="Kill Bill catalog, Stripe prices",
        reasons=(_R.INVALID_VALUE,),
        statement=(
            "A policy holds the rules' tunable values, Atlas's by default: trial_days (T5, P4; "
            "30; 0-365; 0 means no trial: choosing developer from basic subscribes like P5), "
            "retroactive_days (P15; 90; 0-365; 0 bills a reactivation from now), "
            "upgrade_billing (P5, P8; next_month_start or immediately: billing of the higher "
            "tier starts at the request), change_timing (P9; next_month_start or immediately: a "
            "downgrade or cancel takes effect at the request, with P21's catch-up), "
            "billing_roles (P1, F1; Organization Owner and Organization Billing Admin), "
            "org_case_roles (C3; Organization Owner), case_states (P17, C2; trial, developer, "
            "premium; a subset of them), hours_per_unit (F2; 1; 1-1,000; a new order's default) "
            "and validity_months (F6; none; none or 1-120; a new order's default). Under "
            "immediately, P20's first invariant also allows the request instants of those "
            "changes as boundaries. A value outside these is refused with reason "
            "`invalid_value`, naming the version and the field."
        ),
    ),
    _rule(
        "K2",
        "A catalog holds a policy's versions",
        sources=(_INDUSTRY, _DECISION),
        note="Kill Bill catalog versions",
        reasons=(_R.INVALID_VALUE,),
        statement=(
            "A catalog is one or more versions, each a policy with an id and an effective "
            "instant; ids are unique and instants strictly increase; the first version applies "
            "from the beginning. The policy in force at t is the latest version whose effective "
            "instant is at or before t. In TOML each [[version]] states only what it changes "
            "from the one before it. A malformed policy or catalog is refused whole with reason "
            "`invalid_value`, naming the version and the field."
        ),
    ),
    _rule(
        "K3",
        "Terms are fixed by the request that makes them",
        sources=(_INDUSTRY, _DECISION),
        note="grandfathering",
        statement=(
            "Each request is decided with the policy in force at its instant, and what it "
            "schedules keeps that policy's terms: a trial's end, a pending change's effective "
            "instant, a billing start, a retroactive start, an order's hours per unit and "
            "validity. A new version changes nothing already scheduled."
        ),
    ),
    _rule(
        "K4",
        "Records name their terms",
        sources=(_DECISION,),
        reasons=(_R.INVALID_SNAPSHOT,),
        statement=(
            "Every history entry, trial, pending change and order records the id of the version "
            "that decided it. A snapshot naming a version the catalog lacks, or holding facts "
            "that version's terms do not give, is refused `invalid_snapshot`; a store opened "
            "with its catalog refuses such records the same way."
        ),
    ),
    _rule(
        "K5",
        "Reviewing a change",
        sources=(_DECISION,),
        note="what product review is for",
        statement=(
            "The review pack can be built for any catalog, and for a proposed version beside "
            "the current one: every changed field with the rules it tunes, every chart edge "
            "whose label, guards or existence changes, each worked timeline under both versions "
            "side by side, and, given a store, how many stored plans and orders the proposed "
            "version would treat differently at their next request, by rule, changing none of "
            "them."
        ),
    ),
    _rule(
        "K6",
        "Any policy is verified",
        sources=(_DECISION,),
        statement=(
            "The verifier checks any given policy, its reference model reading the same fields "
            "from the policy's data; a property-based test checks policies drawn from the whole "
            "space K1 allows."
        ),
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _CATALOG})


def rule(rule_id: str) -> Rule:
    """The rule with this id; an unknown id is `invalid_value` (V1)."""
    found = RULES.get(rule_id) if isinstance(rule_id, str) else None
    if found is None:
        raise invalid(
            Reason.INVALID_VALUE,
            "V1",
            f"unknown rule id {rule_id!r}; accepted: {', '.join(RULES)}",
        )
    return found


def rules_for(reason: Reason | str) -> tuple[Rule, ...]:
    """The rules that can produce `reason`, in document order; an unknown code is V1."""
    try:
        code = Reason(reason)
    except ValueError:
        accepted = ", ".join(r.value for r in Reason)
        raise invalid(
            Reason.INVALID_VALUE, "V1", f"unknown reason {reason!r}; accepted: {accepted}"
        ) from None
    return tuple(r for r in _CATALOG if code in r.reasons)
