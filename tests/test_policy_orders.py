"""Flex Consulting orders under a catalog, rule by rule (RULES.md K1, K3, K4 with F1, F2, F6)."""

from __future__ import annotations

import copy
from typing import Any

import pendulum
import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import support_flows as sf
from support_flows import testing
from support_flows.machines.consulting import FROM_POLICY

ORG = sf.Organization("org-1", projects=(sf.Project("p-1"),))
PARIS = sf.Organization("org-1", projects=(sf.Project("p-1"),), billing_timezone="Europe/Paris")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
BILLING_READER = sf.Member(
    "u-bill-ro", org_roles={sf.Role.ORG_BILLING_READ_ONLY}, email="bill-ro@example.com"
)
START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
BOUNDARY = pendulum.datetime(2027, 1, 1, tz="UTC")
JUST_BEFORE = BOUNDARY.subtract(microseconds=1)
LATER = sf.Policy(
    version="2027",
    effective_from=BOUNDARY,
    hours_per_unit=2,
    validity_months=12,
    billing_roles={sf.Role.ORG_BILLING_ADMIN},
)
CATALOG = sf.Catalog([sf.Policy(), LATER])

LEGACY: dict[str, Any] = {
    "kind": "consulting_order",
    "version": 2,
    "order_id": "co-legacy",
    "org_id": "org-1",
    "billing_timezone": "Europe/Paris",
    "state": "purchased",
    "channel": "console",
    "buyer_email": "owner@example.com",
    "requested_by": "u-owner",
    "sales_reference": None,
    "hours_per_unit": 1,
    "validity_months": 12,
    "created_at": "2027-02-01T09:00:00+00:00",
    "purchased_at": "2027-02-01T10:00:00+00:00",
    "expires_at": "2028-02-01T10:00:00+00:00",
    "validity_ended": False,
    "recorded_at": "2027-02-05T10:00:00+00:00",
    "units": {"purchased": 4, "available": 2, "scheduled": 0, "consumed": 2, "expired": 0},
    "sessions": [
        {
            "session_id": "s-1",
            "start": "2027-02-04T10:00:00+00:00",
            "hours": 2,
            "units": 2,
            "status": "delivered",
            "booked_at": "2027-02-01T10:00:00+00:00",
            "booked_by": "u-owner",
            "closed_at": "2027-02-05T10:00:00+00:00",
            "closed_by": "u-owner",
        }
    ],
    "history": [
        {
            "at": "2027-02-01T09:00:00+00:00",
            "action": "checkout",
            "units": 4,
            "session_id": None,
            "actor": "u-owner",
        },
        {
            "at": "2027-02-01T10:00:00+00:00",
            "action": "purchase",
            "units": 4,
            "session_id": None,
            "actor": "u-owner",
        },
        {
            "at": "2027-02-01T10:00:00+00:00",
            "action": "schedule",
            "units": 2,
            "session_id": "s-1",
            "actor": "u-owner",
        },
        {
            "at": "2027-02-05T10:00:00+00:00",
            "action": "deliver",
            "units": 2,
            "session_id": "s-1",
            "actor": "u-owner",
        },
    ],
}
"""A snapshot the library wrote before policies (version 2), byte for byte as it wrote it."""


def represented(
    at: pendulum.DateTime = START, catalog: sf.Catalog = sf.ATLAS, **terms: Any
) -> tuple[sf.ConsultingOrder, sf.FrozenClock]:
    """An order bought from a representative at `at`, and its clock."""
    clock = sf.FrozenClock(at)
    order = sf.ConsultingOrder.from_representative(
        ORG,
        units=3,
        sales_reference="SO-1",
        email="buyer@example.com",
        clock=clock,
        outbox=sf.InMemoryOutbox(),
        catalog=catalog,
        **terms,
    )
    return order, clock


def one(**fields: Any) -> sf.Catalog:
    """A catalog of one version with these K1 values."""
    return sf.Catalog([sf.Policy(version="own", **fields)])


def refusal(call: Any) -> sf.SupportFlowsError:
    with pytest.raises(sf.SupportFlowsError) as caught:
        call()
    return caught.value


# -- K1: each field changes what its rule says ------------------------------------------------


def test_k1_atlas_is_the_default_catalog_of_an_order() -> None:
    """Without a catalog an order is decided by Atlas's policy: 1 hour per unit, no validity."""
    order, _ = represented()
    assert (order.policy, order.hours_per_unit, order.validity_months) == ("atlas", 1, None)
    assert order.expires_at is None
    assert order.catalog is sf.ATLAS


@pytest.mark.parametrize("hours", [1, 1000])
def test_k1_f2_hours_per_unit_default_is_the_policys_at_its_edges(hours: int) -> None:
    """F2: an order opened without hours per unit takes the policy's, 1 or 1,000; a session
    books whole units of it."""
    order, clock = represented(catalog=one(hours_per_unit=hours))
    assert order.hours_per_unit == hours
    session = order.schedule(start=clock.now().add(days=1), hours=hours, actor=OWNER)
    assert session.units == 1
    if hours > 1:
        error = refusal(
            lambda: order.schedule(start=clock.now().add(days=2), hours=hours - 1, actor=OWNER)
        )
        assert error.code == "invalid_quantity"
        assert f"multiple of {hours}" in error.message


@pytest.mark.parametrize(("months", "expires"), [(None, None), (120, "2036-03-14T10:00:00+00:00")])
def test_k1_f6_validity_default_is_the_policys_none_and_120(
    months: int | None, expires: str | None
) -> None:
    """F6: an order opened without a validity takes the policy's: none never expires, 120
    months expire ten years after the purchase."""
    order, _ = represented(catalog=one(validity_months=months))
    assert order.validity_months == months
    got = order.expires_at
    assert (None if got is None else got.isoformat()) == expires


def test_k1_given_terms_win_over_the_policys() -> None:
    """Hours per unit and validity a caller gives are the order's, whatever the policy says; an
    explicit None is no validity."""
    catalog = one(hours_per_unit=1000, validity_months=120)
    order, _ = represented(catalog=catalog, hours_per_unit=2, validity_months=None)
    assert (order.hours_per_unit, order.validity_months, order.expires_at) == (2, None, None)
    order, _ = represented(catalog=catalog, validity_months=1)
    assert (order.hours_per_unit, order.validity_months) == (1000, 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hours_per_unit", 1001),
        ("hours_per_unit", 0),
        ("validity_months", 121),
        ("validity_months", 0),
    ],
)
def test_k1_v4_given_terms_are_still_checked(field: str, value: int) -> None:
    """V4: a given value outside what the product holds is refused before any policy is read."""
    error = refusal(lambda: represented(catalog=one(hours_per_unit=5), **{field: value}))
    assert (error.code, type(error)) == ("invalid_quantity", sf.InvalidInput)


def test_k1_f1_billing_roles_are_the_policys() -> None:
    """F1: with billing_roles {ORG_BILLING_READ_ONLY} only, an Organization Owner cannot buy in
    the console and a Billing Read Only member can; the refusal names the policy's role."""
    catalog = one(billing_roles={sf.Role.ORG_BILLING_READ_ONLY})
    clock, outbox = sf.FrozenClock(START), sf.InMemoryOutbox()
    error = refusal(
        lambda: sf.ConsultingOrder.start_checkout(
            ORG, units=1, actor=OWNER, clock=clock, outbox=outbox, catalog=catalog
        )
    )
    assert (error.code, error.rule) == ("billing_role_required", "F1")
    assert "needs ORG_BILLING_READ_ONLY" in error.message
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=1, actor=BILLING_READER, clock=clock, outbox=outbox, catalog=catalog
    )
    order.confirm()
    assert (order.state, order.policy, len(outbox.sent)) == ("purchased", "own", 1)


def test_k1_f1_atlas_billing_roles_refuse_billing_read_only() -> None:
    """F1 under Atlas's policy: Organization Billing Read Only is not a billing role."""
    error = refusal(
        lambda: sf.ConsultingOrder.start_checkout(
            ORG,
            units=1,
            actor=BILLING_READER,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
        )
    )
    assert error.code == "billing_role_required"
    assert "needs ORG_OWNER or ORG_BILLING_ADMIN" in error.message


def test_k1_catalog_must_be_a_catalog() -> None:
    """V5: a policy, a list or None where a catalog is expected is malformed input."""
    for wrong in (sf.Policy(), [sf.Policy()], None):
        error = refusal(lambda wrong=wrong: represented(catalog=wrong))
        assert error.code == "invalid_value"


# -- K3: terms are fixed by the request that makes them ---------------------------------------


def test_k3_order_opened_exactly_at_a_versions_instant_takes_its_terms() -> None:
    """An order bought at the new version's effective instant is decided by it: its hours per
    unit and validity."""
    order, _ = represented(at=BOUNDARY, catalog=CATALOG)
    assert (order.policy, order.hours_per_unit, order.validity_months) == ("2027", 2, 12)
    assert order.expires_at == pendulum.datetime(2028, 1, 1, tz="UTC")


def test_k3_order_opened_a_microsecond_before_keeps_the_old_terms() -> None:
    """An order bought a microsecond before the new version takes effect keeps Atlas's terms,
    also when it is used long after."""
    order, clock = represented(at=JUST_BEFORE, catalog=CATALOG)
    assert (order.policy, order.hours_per_unit, order.expires_at) == ("atlas", 1, None)
    clock.advance(days=400)
    session = order.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER)
    assert session.units == 1
    assert (order.hours_per_unit, order.expires_at, order.policy) == (1, None, "atlas")


def test_k3_console_order_confirmed_after_a_new_version_keeps_its_opening_terms() -> None:
    """A checkout opened before the boundary and confirmed after it keeps the terms it was
    opened under: the purchase's validity is the opening version's (none)."""
    clock, outbox = sf.FrozenClock(JUST_BEFORE), sf.InMemoryOutbox()
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=2, actor=OWNER, clock=clock, outbox=outbox, catalog=CATALOG
    )
    clock.set(BOUNDARY.add(days=3))
    order.confirm()
    assert (order.state, order.policy, order.hours_per_unit) == ("purchased", "atlas", 1)
    assert order.expires_at is None


def test_k3_f1_billing_roles_of_the_version_in_force_decide_a_checkout() -> None:
    """F1 reads the version in force at the request: an Organization Owner may buy a
    microsecond before the boundary, not at it (2027's billing roles are Billing Admin's)."""

    def checkout(at: pendulum.DateTime) -> sf.ConsultingOrder:
        return sf.ConsultingOrder.start_checkout(
            ORG,
            units=1,
            actor=OWNER,
            clock=sf.FrozenClock(at),
            outbox=sf.InMemoryOutbox(),
            catalog=CATALOG,
        )

    assert checkout(JUST_BEFORE).policy == "atlas"
    error = refusal(lambda: checkout(BOUNDARY))
    assert "needs ORG_BILLING_ADMIN" in error.message


def test_k3_restored_order_keeps_its_terms_under_a_later_version() -> None:
    """A restore under the catalog reads the order's terms from its record, never from the
    version in force at the restore."""
    order, _ = represented(at=JUST_BEFORE, catalog=CATALOG)
    data = order.snapshot()
    for history in (True, False):
        clock = sf.FrozenClock(BOUNDARY.add(months=2))
        kept = order.snapshot(history=history)
        again = sf.ConsultingOrder.restore(
            kept, ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
        )
        assert (again.policy, again.hours_per_unit, again.expires_at) == ("atlas", 1, None)
        assert again.schedule(start=clock.now().add(days=1), hours=1, actor=OWNER).units == 1
    assert data["policy"] == "atlas"


# -- K4: records name their terms -------------------------------------------------------------


def test_k4_snapshot_names_the_deciding_version() -> None:
    """A snapshot is version 3 and carries the id of the version that decided the order."""
    order, _ = represented(at=BOUNDARY.add(days=1), catalog=CATALOG)
    data = order.snapshot()
    assert (data["version"], data["policy"]) == (3, "2027")
    assert order.snapshot(history=False)["policy"] == "2027"


@pytest.mark.parametrize("history", [True, False])
def test_k4_restore_refuses_a_version_the_catalog_lacks(history: bool) -> None:
    """An order decided by a version the catalog does not hold is refused invalid_snapshot,
    naming the version."""
    order, clock = represented(at=BOUNDARY, catalog=CATALOG)
    data = order.snapshot(history=history)
    error = refusal(
        lambda: sf.ConsultingOrder.restore(data, ORG, clock=clock, outbox=sf.InMemoryOutbox())
    )
    assert (error.code, error.rule) == ("invalid_snapshot", "V2")
    assert "'2027'" in error.message
    assert "K4" in error.message


def test_k4_restore_refuses_a_version_not_in_force_at_the_opening() -> None:
    """A record naming a version that took effect after the order was opened is not one the
    library could have written."""
    order, clock = represented(at=JUST_BEFORE, catalog=CATALOG)
    data = order.snapshot(history=False) | {"policy": "2027"}
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
        )
    )
    assert error.code == "invalid_snapshot"
    assert "takes effect" in error.message


@pytest.mark.parametrize("policy", [5, None, True, "", "ATLAS"])
def test_k4_restore_refuses_a_policy_that_is_not_a_version_id(policy: object) -> None:
    """A policy field that is not a version id the catalog holds is invalid_snapshot."""
    order, clock = represented()
    data = order.snapshot() | {"policy": policy}
    error = refusal(
        lambda: sf.ConsultingOrder.restore(data, ORG, clock=clock, outbox=sf.InMemoryOutbox())
    )
    assert error.code == "invalid_snapshot"


def test_k4_a_version_3_snapshot_needs_its_policy() -> None:
    """A version-3 snapshot without its policy field is refused (no field is defaulted)."""
    order, clock = represented()
    data = order.snapshot()
    del data["policy"]
    error = refusal(
        lambda: sf.ConsultingOrder.restore(data, ORG, clock=clock, outbox=sf.InMemoryOutbox())
    )
    assert error.code == "invalid_snapshot"
    assert "policy" in error.message


def test_k4_every_history_entry_names_the_version_that_decided_it() -> None:
    """A checkout opened a microsecond before the boundary is recorded under atlas; its
    confirmation and a session booked after the boundary, each under the version in force at
    its instant (2027)."""
    clock = sf.FrozenClock(JUST_BEFORE)
    order = sf.ConsultingOrder.start_checkout(
        ORG, units=2, actor=OWNER, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
    )
    clock.set(BOUNDARY)
    order.confirm()
    admin = sf.Member("u-admin", org_roles={sf.Role.ORG_BILLING_ADMIN}, email="a@example.com")
    order.schedule(start=BOUNDARY.add(days=2), hours=1, actor=admin)
    history = order.snapshot()["history"]
    assert [(e["action"], e["policy"]) for e in history] == [
        ("checkout", "atlas"),
        ("purchase", "2027"),
        ("schedule", "2027"),
    ]
    again = sf.ConsultingOrder.restore(
        order.snapshot(), ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
    )
    assert again.snapshot() == order.snapshot()


def test_k4_the_expiry_names_the_version_that_set_the_validity() -> None:
    """The expiry the clock applies after a new version took effect is recorded under the
    version that opened the order and gave it its validity (K3), not the one in force then."""
    early = sf.Policy(version="early", validity_months=1)
    catalog = sf.Catalog([early, sf.Policy(version="late", effective_from=BOUNDARY)])
    order, clock = represented(at=JUST_BEFORE, catalog=catalog)
    clock.set(BOUNDARY.add(months=2))
    assert order.state == "expired"
    history = order.snapshot()["history"]
    assert [(e["action"], e["policy"]) for e in history] == [
        ("purchase", "early"),
        ("expire", "early"),
    ]
    again = sf.ConsultingOrder.restore(
        order.snapshot(), ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=catalog
    )
    assert again.snapshot() == order.snapshot()


@pytest.mark.parametrize(("entry", "version"), [(0, "2027"), (1, "2028"), (1, "")])
def test_k4_restore_refuses_a_history_entry_naming_another_version(
    entry: int, version: str
) -> None:
    """An entry naming a version the catalog lacks, or an opening entry naming another version
    than the order's, is refused invalid_snapshot naming the entry (K4)."""
    order, clock = represented(at=JUST_BEFORE, catalog=CATALOG)
    order.schedule(start=JUST_BEFORE.add(days=1), hours=1, actor=OWNER)
    data = order.snapshot()
    data["history"][entry]["policy"] = version
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
        )
    )
    assert error.code == "invalid_snapshot"
    assert f"history entry {entry}" in error.message
    assert "K4" in error.message


def test_k4_version_3_entries_without_versions_read_as_the_orders() -> None:
    """A version-3 snapshot whose history entries all omit their version (the first release
    of policies wrote them so) restores with the order's version in each; one that omits some
    and names others is refused."""
    order, clock = represented(at=BOUNDARY, catalog=CATALOG)
    order.schedule(start=BOUNDARY.add(days=1), hours=2, actor=OWNER)
    written = order.snapshot()
    bare = copy.deepcopy(written)
    for event in bare["history"]:
        del event["policy"]
    again = sf.ConsultingOrder.restore(
        bare, ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
    )
    assert again.snapshot() == written
    del written["history"][1]["policy"]
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            written, ORG, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
        )
    )
    assert error.code == "invalid_snapshot"


def test_k4_version_2_snapshot_reads_as_decided_under_atlas() -> None:
    """What the library wrote before policies restores as the same order decided by Atlas's
    policy, and is written back as version 3 with nothing else changed."""
    clock = sf.FrozenClock(pendulum.datetime(2027, 3, 1, tz="UTC"))
    data = copy.deepcopy(LEGACY)
    order = sf.ConsultingOrder.restore(data, PARIS, clock=clock, outbox=sf.InMemoryOutbox())
    assert data == LEGACY
    written = order.snapshot()
    history = [{**event, "policy": "atlas"} for event in LEGACY["history"]]
    assert written == {**LEGACY, "version": 3, "policy": "atlas", "history": history}
    assert (order.policy, order.hours_per_unit, order.validity_months) == ("atlas", 1, 12)
    assert order.schedule(start=clock.now().add(days=1), hours=2, actor=OWNER).units == 2


def test_k4_version_2_snapshot_without_history_reads_as_atlas_too() -> None:
    """A version-2 snapshot a store kept without its history is read the same way."""
    clock = sf.FrozenClock(pendulum.datetime(2027, 3, 1, tz="UTC"))
    data = {**LEGACY, "history": None}
    order = sf.ConsultingOrder.restore(data, PARIS, clock=clock, outbox=sf.InMemoryOutbox())
    assert order.snapshot(history=False) == {**data, "version": 3, "policy": "atlas"}


def test_k4_version_2_snapshot_keeps_atlas_under_a_later_version_in_force() -> None:
    """A version-2 order opened after a later version's instant is still Atlas's: that library
    knew no other policy, and the order keeps the terms it was bought under (K3)."""
    clock = sf.FrozenClock(pendulum.datetime(2027, 3, 1, tz="UTC"))
    order = sf.ConsultingOrder.restore(
        LEGACY, PARIS, clock=clock, outbox=sf.InMemoryOutbox(), catalog=CATALOG
    )
    assert (order.policy, order.hours_per_unit, order.validity_months) == ("atlas", 1, 12)


def test_k4_version_2_snapshot_needs_atlas_in_the_catalog() -> None:
    """Under a catalog without an `atlas` version, a version-2 snapshot is refused like any
    record naming a version the catalog lacks."""
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            LEGACY,
            PARIS,
            clock=sf.FrozenClock(START),
            outbox=sf.InMemoryOutbox(),
            catalog=one(),
        )
    )
    assert error.code == "invalid_snapshot"
    assert "'atlas'" in error.message


@pytest.mark.parametrize("version", [1, 4, 2.0, "2", True, None])
def test_k4_only_versions_2_and_3_are_read(version: object) -> None:
    """Any version but 2 and 3 is refused invalid_snapshot, a float or text 2 included."""
    data = {**LEGACY, "version": version}
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, PARIS, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    )
    assert error.code == "invalid_snapshot"


def test_k4_version_2_snapshot_naming_a_policy_is_refused() -> None:
    """Version 2 had no policy field: a version-2 snapshot carrying one is not one the library
    wrote, and is refused, naming what is not as version 3 has it (its entries name no policy)
    or its version."""
    data = {**LEGACY, "policy": "atlas"}
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, PARIS, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    )
    assert error.code == "invalid_snapshot"
    assert "missing policy @ $.history" in error.message
    data["history"] = [{**event, "policy": "atlas"} for event in LEGACY["history"]]
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, PARIS, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    )
    assert "version 2" in error.message


def test_k4_version_2_snapshot_is_still_checked_whole() -> None:
    """The reading adds the policy and nothing else: a version-2 record breaking a rule is
    refused as before (here a balance that does not add up, F7)."""
    data = copy.deepcopy(LEGACY)
    data["units"]["available"] = 3
    error = refusal(
        lambda: sf.ConsultingOrder.restore(
            data, PARIS, clock=sf.FrozenClock(START), outbox=sf.InMemoryOutbox()
        )
    )
    assert error.code == "invalid_snapshot"


# -- the testing kit under a catalog ----------------------------------------------------------

QUICK = settings(max_examples=15, stateful_step_count=12, deadline=None, derandomize=True)


class _OrdersUnderAPolicy(testing.ConsultingRules):
    catalog = one(
        billing_roles={sf.Role.ORG_BILLING_READ_ONLY}, hours_per_unit=3, validity_months=120
    )
    hours_per_unit = (FROM_POLICY, 1)
    validity_months = (FROM_POLICY, None)


def test_k1_consulting_rules_run_under_a_catalog() -> None:
    """The kit's ConsultingRules opens, decides and restores its orders under its catalog: the
    policy's billing roles, hours per unit and validity, judged by the rules."""
    run_state_machine_as_test(_OrdersUnderAPolicy, settings=QUICK)
