"""The store, rule by rule (RULES.md S1-S5), each test on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("store_helpers")  # before it is imported, as a plugin too

from store_helpers import ORG, OWNER, READER, START, count, table_rows  # noqa: E402

import support_flows as sf  # noqa: E402
from support_flows.store import QueuedEmail, Store  # noqa: E402

pytest_plugins = ["store_helpers"]


def clock() -> sf.FrozenClock:
    return sf.FrozenClock(START)


def stored_plan(store: Store, at: pendulum.DateTime = START) -> sf.FrozenClock:
    """A Basic plan for ORG, saved; the clock it reads."""
    c = sf.FrozenClock(at)
    store.save(sf.SupportPlan(ORG, clock=c))
    return c


# -- S1: revisions ---------------------------------------------------------------------------


def test_s1_saving_increments_the_revision(store: Store) -> None:
    """A new plan is stored at revision 1; each save of a loaded copy adds one."""
    c = stored_plan(store)
    plan = store.plan(ORG.org_id, ORG, clock=c)
    assert isinstance(plan, sf.SupportPlan)
    assert store.revision(plan) == 1
    plan.change("premium", actor=OWNER)
    assert store.save(plan) == 2
    assert store.revision(plan) == 2
    plan.change("developer", actor=OWNER)
    assert store.save(plan) == 3
    assert store.plan(ORG.org_id, ORG, clock=c).pending is not None


def test_s4_the_store_loads_plain_objects_and_records_through_a_listener(store: Store) -> None:
    """A loaded plan is a SupportPlan itself, not a subclass: the store records its requests
    through the one listener it adds (S4), and a host may add its own beside it."""
    c = stored_plan(store)
    plan = store.plan(ORG.org_id, ORG, clock=c)
    assert type(plan) is sf.SupportPlan
    assert len(plan.listeners) == 1
    plan.change("premium", actor=OWNER)
    store.save(plan)
    requests = [e.request for e in store.audit(ORG.org_id) if e.outcome == "accepted"]
    assert requests == ["change"]


def test_s1_a_save_based_on_an_older_revision_is_refused_and_changes_nothing(store: Store) -> None:
    """Two copies loaded at one revision: the second save is stale_revision, nothing written."""
    c = stored_plan(store)
    first = store.plan(ORG.org_id, ORG, clock=c)
    second = store.plan(ORG.org_id, ORG, clock=c)
    first.change("premium", actor=OWNER)
    store.save(first)
    before = table_rows(store)
    second.change("developer", actor=OWNER)
    with pytest.raises(sf.Refused) as refused:
        store.save(second)
    assert (refused.value.code, refused.value.rule) == ("stale_revision", "S1")
    assert sf.http_status(refused.value) == 409
    assert table_rows(store) == before
    assert store.plan(ORG.org_id, ORG, clock=c).state == "premium"


def test_s1_an_object_never_loaded_is_inserted_once(store: Store) -> None:
    """Saving a plan the store never held inserts it; saving another for the same organization
    is stale_revision (it would overwrite what is stored)."""
    c = clock()
    plan = sf.SupportPlan(ORG, clock=c)
    plan.change("premium", actor=OWNER)
    assert store.save(plan) == 1
    with pytest.raises(sf.Refused, match="already stored"):
        store.save(sf.SupportPlan(ORG, clock=c))
    assert store.plan(ORG.org_id, ORG, clock=c).state == "premium"


def test_s1_update_loses_no_change_to_a_concurrent_save(store: Store) -> None:
    """`update` reloads and retries after a lost race: both changes are kept."""
    c = stored_plan(store)
    store.update(ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=c)
    stale = store.plan(ORG.org_id, ORG, clock=c)
    store.update(ORG.org_id, lambda p: p.change("developer", actor=OWNER), org=ORG, clock=c)
    stale.cancel(actor=OWNER)
    with pytest.raises(sf.Refused, match="stale_revision"):
        store.save(stale)
    outcome = store.update(ORG.org_id, lambda p: p.cancel(actor=OWNER), org=ORG, clock=c)
    assert outcome.revision == 4
    plan = store.plan(ORG.org_id, ORG, clock=c)
    assert plan.pending is not None
    assert plan.pending.target == "cancelled"
    events = [e.event for e in store.audit(ORG.org_id) if e.outcome == "accepted"]
    assert events == ["subscribe", "downgrade", "cancel"]


def test_s1_update_gives_up_after_its_retries(store: Store, monkeypatch: Any) -> None:
    """A command that loses its race every time (a rival writes the row just before its own
    write) surfaces stale_revision after `retries` + 1 attempts, and leaves nothing behind."""
    from support_flows.store.schema import plans

    c = stored_plan(store)
    bounded = Store(store.url, retries=2)
    real = bounded._put
    attempts = []

    def lose_the_race(conn: sa.Connection, *args: Any) -> int:
        attempts.append(args)
        conn.execute(plans.update().values(revision=plans.c.revision + 1))  # the rival
        return real(conn, *args)

    monkeypatch.setattr(bounded, "_put", lose_the_race)
    with pytest.raises(sf.Refused) as refused:
        bounded.update(ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=c)
    bounded.close()
    assert refused.value.code == "stale_revision"
    assert len(attempts) == 3
    assert store.revision(store.plan(ORG.org_id, ORG, clock=c)) == 1
    assert store.audit(ORG.org_id) == ()


# -- S5: not found ---------------------------------------------------------------------------


def test_s5_loading_what_is_not_stored_is_not_found(store: Store) -> None:
    """A plan or order that is not stored, or an order of another organization: not_found."""
    c = clock()
    for load in (
        lambda: store.plan(ORG.org_id, ORG, clock=c),
        lambda: store.order("co-missing", ORG, clock=c),
        lambda: store.update(ORG.org_id, lambda p: None, org=ORG, clock=c),
        lambda: store.update_order("co-missing", lambda o: None, org=ORG, clock=c),
    ):
        with pytest.raises(sf.Refused) as refused:
            load()
        assert (refused.value.code, refused.value.rule) == ("not_found", "S5")
        assert sf.http_status(refused.value) == 404
    order_id = store.start_checkout(ORG, units=2, actor=OWNER, clock=c).result["order_id"]
    other = sf.Organization("org-2")
    with pytest.raises(sf.Refused, match="not_found"):
        store.order(order_id, other, clock=c)


def test_update_can_create_the_plan(store: Store) -> None:
    """`create=True` starts from a Basic plan when none is stored; a refusal stores none."""
    c = clock()
    with pytest.raises(sf.Refused, match="billing_role_required"):
        store.update(
            ORG.org_id, lambda p: p.change("premium", actor=READER), org=ORG, clock=c, create=True
        )
    with pytest.raises(sf.Refused, match="not_found"):
        store.plan(ORG.org_id, ORG, clock=c)
    outcome = store.update(
        ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=c, create=True
    )
    assert outcome.revision == 1
    assert outcome.result["event"] == "subscribe"


def test_store_arguments_are_checked(store: Store) -> None:
    """Wrong organizations, ids, keys and objects are coded errors, not crashes."""
    c = clock()
    with pytest.raises(sf.InvalidInput, match="does not name"):
        store.plan("org-2", ORG, clock=c)
    with pytest.raises(sf.InvalidInput, match="org_id"):
        store.plan(" ", ORG, clock=c)
    with pytest.raises(sf.InvalidInput, match="idempotency key"):
        store.update(ORG.org_id, lambda p: None, org=ORG, clock=c, idempotency_key="")
    with pytest.raises(sf.InvalidInput, match="SupportPlan or ConsultingOrder"):
        store.save("plan")  # type: ignore[arg-type]
    with pytest.raises(sf.InvalidInput, match="URL"):
        Store("mysql://nowhere/db")


# -- S4: the audit log -----------------------------------------------------------------------


def test_s4_every_request_and_applied_change_is_in_the_audit_log(store: Store) -> None:
    """Accepted and refused requests with their actor and key, and the changes the clock
    applied at their recorded instants, oldest first."""
    c = stored_plan(store)
    store.update(ORG.org_id, lambda p: p.change("developer", actor=OWNER), org=ORG, clock=c)
    with pytest.raises(sf.Refused):
        store.update(
            ORG.org_id,
            lambda p: p.change("premium", actor=READER),
            org=ORG,
            clock=c,
            idempotency_key="k-refused",
        )
    c.advance(days=45)  # the trial ended 30 days after it began (P6)
    store.update(ORG.org_id, lambda p: p.cancel(actor=OWNER), org=ORG, clock=c)
    lines = [
        (e.outcome, e.request, e.event, e.actor, e.reason, e.idempotency_key)
        for e in store.audit(ORG.org_id)
    ]
    assert lines == [
        ("accepted", "change", "subscribe", "u-owner", None, None),
        ("refused", "change", None, "u-reader", "billing_role_required", "k-refused"),
        ("applied", None, "end_trial", None, None, None),
        ("accepted", "cancel", "cancel", "u-owner", None, None),
    ]
    entries = store.audit(ORG.org_id)
    assert entries[2].at == START.in_timezone(ORG.billing_timezone).add(days=30)  # T5
    assert entries[3].at == START.add(days=45)
    assert entries[1].detail["error"]["code"] == "billing_role_required"
    assert entries[0].to_dict()["at"] == START.isoformat()


def test_s4_a_change_coming_due_between_two_calls_of_one_command_is_audited_between_them(
    store: Store,
) -> None:
    """S4, T7: when the clock moves inside a command so that a pending change comes due before
    its next call, the audit log holds the first call, the applied change at its own instant,
    then the next call: in the order they happened, each once."""
    c = stored_plan(store)

    def two_calls(p: sf.SupportPlan) -> None:
        p.change("premium", actor=OWNER)
        p.change("developer", actor=OWNER)
        c.advance(days=40)
        p.cancel(actor=OWNER)

    store.update(ORG.org_id, two_calls, org=ORG, clock=c)
    entries = store.audit(ORG.org_id)
    lines = [(e.outcome, e.request, e.event) for e in entries]
    assert lines == [
        ("accepted", "change", "subscribe"),
        ("accepted", "change", "downgrade"),
        ("applied", None, "apply_pending"),
        ("accepted", "cancel", "cancel"),
    ]
    assert entries[2].at == pendulum.datetime(2026, 4, 1, tz=ORG.billing_timezone)
    assert entries[3].at == START.add(days=40)


_STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=40),
        st.sampled_from(["change", "cancel", "revoke_pending"]),
        st.sampled_from(["basic", "developer", "premium"]),
    ),
    min_size=1,
    max_size=6,
)
_EXAMPLES = iter(range(10**9))


@settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(steps=_STEPS)
def test_s4_the_calls_of_one_command_and_what_came_due_between_them_are_audited_in_order(
    store: Store, steps: list[tuple[int, str, str]]
) -> None:
    """S4, T7: a command making several requests (some refused, the clock moving between them)
    leaves one audit line per request and per applied change, each request's line naming the
    call that made it, in the order a plan driven the same way outside any store took them."""
    org = sf.Organization(f"org-s4-{next(_EXAMPLES)}", billing_timezone="Pacific/Auckland")
    c = sf.FrozenClock(START)
    store.save(sf.SupportPlan(org, clock=c))
    twin_clock = sf.FrozenClock(START)
    twin = sf.SupportPlan(org, clock=twin_clock)
    expected: list[tuple[str, str | None, str | None]] = []

    def call(plan: sf.SupportPlan, request: str, tier: str) -> Any:
        if request == "change":
            return plan.change(tier, actor=OWNER)
        return getattr(plan, request)(actor=OWNER)

    known = 0
    for days, request, tier in steps:  # the reference: the twin, and what it recorded
        twin_clock.advance(days=days)
        history = twin.history  # what came due is applied now
        expected += [("applied", None, e.event) for e in history[known:]]
        known = len(history)
        try:
            entry = call(twin, request, tier)
        except sf.Refused:
            expected.append(("refused", request, None))
            continue
        known += 1
        expected.append(("accepted", request, entry.event))
    assert len(twin.history) == known

    def command(plan: sf.SupportPlan) -> None:
        for days, request, tier in steps:
            c.advance(days=days)
            assert isinstance(plan.history, tuple)  # what came due is applied now, as above
            with contextlib.suppress(sf.Refused):
                call(plan, request, tier)

    store.update(org, command, clock=c)
    lines = [(e.outcome, e.request, e.event) for e in store.audit(org.org_id)]
    assert lines == expected


def test_s4_the_audit_log_is_append_only(store: Store) -> None:
    """S4: the database itself refuses to change or delete an audit line, or to TRUNCATE the
    log (PostgreSQL; SQLite has no TRUNCATE)."""
    c = stored_plan(store)
    store.update(ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=c)
    engine = sa.create_engine(store.url)
    statements = ["UPDATE sf_audit SET actor = 'someone'", "DELETE FROM sf_audit"]
    if store.url.startswith("postgresql"):
        statements += ["TRUNCATE sf_audit", "TRUNCATE sf_audit CASCADE"]
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()
    assert [e.actor for e in store.audit(ORG.org_id)] == ["u-owner"]


def test_s4_a_loaded_plan_restores_in_constant_time_whatever_its_history(store: Store) -> None:
    """The stored snapshot leaves the history out (it is in the audit log): after 300 requests
    the stored snapshot is as small as after one, and the loaded plan behaves the same."""
    c = stored_plan(store)
    store.update(ORG.org_id, lambda p: p.change("premium", actor=OWNER), org=ORG, clock=c)
    small = len(str(store.plan(ORG.org_id, ORG, clock=c).snapshot()))
    for n in range(150):
        tier = "developer" if n % 2 == 0 else "premium"
        store.update(ORG.org_id, lambda p, t=tier: p.change(t, actor=OWNER), org=ORG, clock=c)
    plan = store.plan(ORG.org_id, ORG, clock=c)
    assert len(str(plan.snapshot())) <= small + 200  # the pending change, no history
    assert plan.history == ()
    assert count(store.url, "SELECT count(*) FROM sf_audit") == 151
    with pytest.raises(sf.InvalidInput, match="audit log"):
        plan.snapshot(history=True)


# -- S3: the outbox --------------------------------------------------------------------------


def test_s3_a_purchase_queues_its_email_in_the_same_transaction(store: Store) -> None:
    """Confirming queues one email in the outbox table; an order refused a save queues none."""
    c = clock()
    order_id = store.start_checkout(ORG, units=3, actor=OWNER, clock=c).result["order_id"]
    assert count(store.url, "SELECT count(*) FROM sf_outbox") == 0
    order = store.order(order_id, ORG, clock=c)
    assert isinstance(order, sf.ConsultingOrder)
    order.confirm()
    assert count(store.url, "SELECT count(*) FROM sf_outbox") == 0  # not before the save
    store.save(order)
    assert count(store.url, "SELECT count(*) FROM sf_outbox") == 1
    rep = store.from_representative(
        ORG, units=2, sales_reference="SO-1", email="buyer@example.com", clock=c
    )
    assert rep.result["state"] == "purchased"
    assert count(store.url, "SELECT count(*) FROM sf_outbox") == 2


def test_s3_a_restored_old_copy_confirmed_after_the_original_queues_no_second_email(
    store: Store,
) -> None:
    """Two copies of a checkout order (loaded, and restored from an old snapshot): the second
    confirm is refused at save (stale) or does nothing (F3); the outbox holds one email."""
    c = clock()
    order_id = store.start_checkout(ORG, units=3, actor=OWNER, clock=c).result["order_id"]
    original = store.order(order_id, ORG, clock=c)
    copy = store.order(order_id, ORG, clock=c)
    old = sf.ConsultingOrder.restore(original.snapshot(), ORG, clock=c, outbox=sf.InMemoryOutbox())
    original.confirm()
    store.save(original)
    copy.confirm()
    with pytest.raises(sf.Refused, match="stale_revision"):
        store.save(copy)
    old.confirm()
    with pytest.raises(sf.Refused, match="stale_revision"):
        store.save(old)
    store.update_order(order_id, lambda o: o.confirm(), org=ORG, clock=c)  # replayed confirm
    delivered = sf.InMemoryOutbox()
    assert store.relay(delivered) == 1
    assert store.relay(delivered) == 0
    assert len(delivered.sent) == 1
    assert "order " + order_id in delivered.sent[0].subject.lower()


def test_s3_the_outbox_holds_one_email_per_purchase_whatever_writes_it(store: Store) -> None:
    """The unique (order, kind) constraint: queuing the purchase email again queues nothing."""
    from support_flows.store import mail
    from support_flows.store.compiled import Tx
    from support_flows.store.database import Database

    c = clock()
    store.from_representative(
        ORG, units=2, sales_reference="SO-1", email="b@example.com", clock=c, order_id="co-1"
    )
    db = Database(store.url)
    with db.write() as conn:
        again = mail.queue(
            Tx.of(conn),
            ORG.org_id,
            "co-1",
            [(mail.PURCHASE, sf.Email("b@example.com", "again", "again"))],
            c,
        )
    db.dispose()
    assert again == []
    assert count(store.url, "SELECT count(*) FROM sf_outbox") == 1


class Crash(BaseException):
    """The relay's process dies after the email left and before it was marked sent."""


class CrashingOutbox:
    def __init__(self) -> None:
        self.sent: list[QueuedEmail] = []

    def send(self, email: QueuedEmail) -> None:
        self.sent.append(email)
        raise Crash


def test_s3_a_crash_between_send_and_mark_resends_that_email_with_the_same_id(
    store: Store,
) -> None:
    """At least once: the email sent before the crash goes again, under the same message id,
    and only that one."""
    c = clock()
    for n in (1, 2):
        store.from_representative(
            ORG, units=1, sales_reference=f"SO-{n}", email="b@example.com", clock=c
        )
    crashing = CrashingOutbox()
    with pytest.raises(Crash):
        store.relay(crashing)
    delivered = sf.InMemoryOutbox()
    assert store.relay(delivered) == 2
    ids = [e.message_id for e in delivered.sent]  # type: ignore[attr-defined]
    assert ids[0] == crashing.sent[0].message_id
    assert len(set(ids)) == 2
    assert store.relay(delivered) == 0


def test_s3_an_email_the_outbox_refuses_stays_queued_and_the_rest_go(store: Store) -> None:
    """A failing send is counted with its error and retried on the next run."""
    c = clock()
    for n in (1, 2):
        store.from_representative(
            ORG, units=1, sales_reference=f"SO-{n}", email=f"b{n}@example.com", clock=c
        )

    class Picky:
        def __init__(self) -> None:
            self.sent: list[sf.Email] = []

        def send(self, email: sf.Email) -> None:
            if email.to == "b1@example.com":
                raise ConnectionError("mail server down")
            self.sent.append(email)

    assert store.relay(Picky()) == 1
    assert count(store.url, "SELECT count(*) FROM sf_outbox WHERE sent_at IS NULL") == 1
    assert count(store.url, "SELECT max(attempts) FROM sf_outbox") == 1
    assert store.relay(sf.InMemoryOutbox()) == 1


def test_s3_an_order_loaded_with_an_outbox_delivers_after_the_commit(store: Store) -> None:
    """`store.order(..., outbox=)`: the save queues the email and delivers it at once."""
    c = clock()
    order_id = store.start_checkout(ORG, units=3, actor=OWNER, clock=c).result["order_id"]
    delivered = sf.InMemoryOutbox()
    order = store.order(order_id, ORG, clock=c, outbox=delivered)
    order.confirm()
    assert delivered.sent == []
    store.save(order)
    assert len(delivered.sent) == 1
    assert store.relay(sf.InMemoryOutbox()) == 0


def test_s2_a_keys_row_is_dated_by_the_stores_own_clock(store: Store) -> None:
    """S2: a key's row is dated by the store's system clock when the command is written (not
    by the command's clock, which may be anywhere), in microseconds since 1970 UTC; a store
    clock of another kind is read as an instant first."""
    from support_flows.store.backend import Backend
    from support_flows.store.database import Database
    from support_flows.store.records import micros
    from support_flows.store.schema import idempotency

    c = stored_plan(store)  # 2026-03-14, far from today
    before = micros(pendulum.now("UTC"))
    store.update(ORG, lambda p: p.change("premium", actor=OWNER), clock=c, idempotency_key="k")
    after = micros(pendulum.now("UTC"))
    engine = sa.create_engine(store.url)
    with engine.connect() as conn:
        (created,) = conn.execute(sa.select(idempotency.c.created_at)).one()
    engine.dispose()
    assert before <= created <= after
    db = Database(store.url)
    frozen = Backend(db, sf.FrozenClock(START.add(microseconds=7)))
    assert frozen.stamp() == micros(START) + 7
    db.dispose()


def test_s2_keys_are_kept_at_least_24_hours(store: Store) -> None:
    """Pruning never forgets a key younger than 24 hours, even when asked to."""
    c = stored_plan(store)
    store.update(
        ORG.org_id,
        lambda p: p.change("premium", actor=OWNER),
        org=ORG,
        clock=c,
        idempotency_key="k",
    )
    now = pendulum.now("UTC")
    assert store.prune_keys(now=now, keep=pendulum.duration(minutes=1)) == 0
    assert store.prune_keys(now=now.add(hours=23)) == 0
    assert store.prune_keys(now=now.add(hours=25)) == 1
