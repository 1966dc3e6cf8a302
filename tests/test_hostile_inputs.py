"""Hostile input at every public entry point (RULES.md V4, V5, T1, T8).

Every public function and constructor validates its inputs first: one hostile argument at a time
(the others valid) is either accepted or refused with a `SupportFlowsError`, never a raw Python
error, and a step that fails for any reason leaves the object it acted on as it was (its
`snapshot()`, a flow's state and case, a clock's reading, the emails sent).

What a refusal must say (see `attempt` and `_names`): its message names the value, meaning it
contains `describe(value)`, or the value's `repr` when that is at most 300 characters (an id
quoted whole), or a printable string of 4+ characters bare (roles are listed bare), or for an
aware datetime the same instant in UTC ISO form (instants are kept in UTC). A value put inside a
container (a role in a set, a project in a list) may be named by the container's or the
element's spelling; a Project by its id; an `advance` that would go back by where it would land.
Two exceptions: a field replaced inside a snapshot needs only `invalid_snapshot` (V2 names the
*first* inconsistency, which a well-typed replacement may cause elsewhere), and a valid clock
reading that a business rule then refuses (`Refused`) need not be named.
No message may exceed 10,000 characters (a 1 MB value is shortened by `describe`).

The pools hold the specimens of `hostile_objects.py` too (values whose own `__eq__`, `__hash__`,
`__iter__`, `__len__`, `__repr__`, `tzinfo` or `__class__` raise), so they reach every argument,
every snapshot field and every clock reading; the helpers here ask only a value's type.

Valid aware instants (zoneinfo or fixed-offset tzinfo, 1970 to Nov 2999, after the clock's now
where the call needs that) must be accepted where an instant is expected; nothing in the pool is
a clock or an outbox, so those arguments must always be refused.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import datetime as dt
import decimal
import fractions
import functools
import itertools
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pendulum
import pytest
from hostile_objects import SPECIMENS, plain_datetime
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import support_flows as sf
from support_flows.errors import describe

START = pendulum.datetime(2026, 3, 14, 10, tz="UTC")
PROJECT = sf.Project("p-1")
ORG = sf.Organization("org-1", projects=(PROJECT,))
OWNER = sf.Member(
    "u-owner",
    org_roles={sf.Role.ORG_OWNER},
    project_roles={"p-1": {sf.Role.PROJECT_OWNER}},
    email="owner@example.com",
)
UTC = dt.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
PLUS_14 = dt.timezone(dt.timedelta(hours=14))
MINUS_14 = dt.timezone(dt.timedelta(hours=-14))

CALLS: collections.Counter[str] = collections.Counter()
"""How many hostile calls each entry point received in this run."""
STARTED: set[str] = set()
CURRENT = [""]
"""The entry point whose property test is running."""

# -- the hostile values --------------------------------------------------------------------------


class Hostile:
    """A drawn value with a short label, so a failing example prints readably (1 MB strings)."""

    __slots__ = ("label", "value")

    def __init__(self, value: object, label: str | None = None) -> None:
        self.value = value
        self.label = label if label is not None else _safe_describe(value)

    def __repr__(self) -> str:
        return self.label


def _safe_describe(value: object) -> str:
    try:
        return describe(value)
    except Exception:  # describe must not raise; the test that calls it then fails readably
        return f"<{type(value).__name__} object>"


class ReprFails:
    """An object whose repr raises."""

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class OffsetOutOfRange(dt.tzinfo):
    """A tzinfo whose offset is not a valid one (more than 24 hours)."""

    def utcoffset(self, moment: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=25)

    def dst(self, moment: dt.datetime | None) -> None:
        return None

    def __repr__(self) -> str:
        return "OffsetOutOfRange()"


class OffsetNotATimedelta(dt.tzinfo):
    """A tzinfo whose offset is not a timedelta at all."""

    def utcoffset(self, moment: dt.datetime | None) -> Any:
        return 3600

    def dst(self, moment: dt.datetime | None) -> None:
        return None

    def __repr__(self) -> str:
        return "OffsetNotATimedelta()"


MEGABYTE = 2**20
VALID_FUTURE_INSTANTS = [
    dt.datetime(2026, 4, 1, 9, 30, tzinfo=PARIS),
    dt.datetime(2026, 6, 15, 0, 0, tzinfo=PLUS_14),
    dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS),
    dt.datetime(2027, 1, 1, tzinfo=MINUS_14),
    dt.datetime(2028, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
    pendulum.datetime(2030, 3, 31, 2, 30, tz="Europe/Paris"),
    pendulum.datetime(2998, 11, 30, tz="Pacific/Kiritimati"),
]
"""Aware instants after START and inside 1970-2999: accepted wherever an instant is expected."""

INSTANTS = [
    *VALID_FUTURE_INSTANTS,
    dt.datetime(2026, 3, 20, 12),  # naive
    pendulum.naive(2026, 3, 20, 12),
    dt.date(2026, 3, 20),
    dt.time(12, tzinfo=UTC),
    dt.datetime(1, 1, 1, tzinfo=UTC),
    dt.datetime.min.replace(tzinfo=PLUS_14),
    dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
    dt.datetime(1970, 1, 1, 5, tzinfo=PLUS_14),  # 1969 in UTC
    dt.datetime(1970, 1, 2, tzinfo=UTC),  # valid, but in the past
    dt.datetime(2999, 12, 31, 23, tzinfo=MINUS_14),  # 3000 in UTC
    dt.datetime(3000, 1, 1, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    dt.datetime.max.replace(tzinfo=MINUS_14),
    pendulum.datetime(9999, 1, 1, tz="UTC"),
    dt.datetime(2026, 3, 20, tzinfo=OffsetOutOfRange()),
    dt.datetime(2026, 3, 20, tzinfo=OffsetNotATimedelta()),
    "2026-03-20T00:00:00+00:00",
    1_773_964_800,
]

TIMEZONE_NAMES = [
    *("UTC", "Europe/Paris", "localtime", "posixrules", "right/UTC", "posix/Europe/Paris"),
    *("Factory", "europe/paris", "Europe/paris", "EUROPE/PARIS", "utc", " UTC", "UTC\n"),
    *("Europe/Paris\x00", "Europe/Nowhere", "../../../etc/passwd", "/usr/share/zoneinfo/UTC"),
    "+01:00",
]

NUMBERS = [
    *(None, True, False, 0, -1, 1, 10**5000, -(10**30), 10**19, 2**63, -(2**63) - 1),
    *(100_001, 120, 121, 10_000, 10_001, 0.0, -0.0, 1.5, 1e300, 5e-324),
    *(float("nan"), float("inf"), float("-inf"), decimal.Decimal("NaN")),
    *(fractions.Fraction(1, 3), complex(1, 1)),
]

TEXTS = [
    *("", " ", "x" * MEGABYTE, " " * MEGABYTE, "a" * (MEGABYTE - 1) + "\x00", "a" * 201),
    *("\x00", "org\x00", "a\nb", "\x1b[31mred", " org-1", "org-1 ", "\tp-1", "p-1\n"),
    *("\u200b", "\u202eabc", "\ud800", "\u00a0p-1", b"org-1", bytearray(b"p-1")),
]

SABOTAGED = [make() for _, make in SPECIMENS]
"""Values whose own methods raise (hostile_objects.py), each also in the pool of its kind."""
NUMBERS += [v for v in SABOTAGED if issubclass(type(v), int | float)]
TEXTS += [v for v in SABOTAGED if issubclass(type(v), str)]
INSTANTS += [v for v in SABOTAGED if issubclass(type(v), dt.datetime)]

OBJECTS = [
    *(ORG, OWNER, PROJECT, [], ["p-1"], {}, {"a": 1}, {"p-1"}, frozenset({"ORG_OWNER"})),
    *((1, 2), object(), ReprFails(), sf.Tier.PREMIUM, sf.Role.ORG_OWNER, sf.Severity.S1),
    sf.Scope.PROJECT,
    *SABOTAGED,
]

_padded_ids = st.builds(
    lambda pad, word, side: pad + word if side else word + pad,
    st.sampled_from([" ", "\t", "\n", "\r", "\u3000", "\x0b"]),
    st.text(alphabet="abcp-19", min_size=1, max_size=12),
    st.booleans(),
)
_control_text = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Co"]), min_size=1
)
_timezone_names = st.timezone_keys().flatmap(
    lambda key: st.sampled_from(
        [key, key.lower(), key.upper(), key.swapcase(), f"posix/{key}", f"right/{key}", f" {key}"]
    )
)
_fixed_offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)
_aware_datetimes = st.datetimes(timezones=st.timezones() | _fixed_offsets)

GENERATED = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=40),
    _control_text,
    _padded_ids,
    _timezone_names,
    st.datetimes(),  # naive, any year
    _aware_datetimes,
    st.datetimes(min_value=dt.datetime(2026, 3, 15), max_value=dt.datetime(2998, 11, 30)).flatmap(
        lambda naive: (st.timezones() | _fixed_offsets).map(lambda tz: naive.replace(tzinfo=tz))
    ),
    st.lists(st.sampled_from([None, 1, "", "p-1", "ORG_OWNER", 1.5]), max_size=3),
)


def _pool(values: list[object]) -> st.SearchStrategy[Hostile]:
    # Values are wrapped in `Hostile` before they reach a strategy: hypothesis reprs its
    # strategies, and repr(10**5000) raises.
    return st.sampled_from([Hostile(v) for v in values])


HOSTILE = st.one_of(
    _pool(NUMBERS),
    _pool(TEXTS),
    _pool(OBJECTS),
    _pool(INSTANTS),
    _pool(TIMEZONE_NAMES),
    GENERATED.map(Hostile),
)
"""Any hostile value; an argument of a known kind draws from its own kind's pool half the time."""

_KINDS = {
    "number": ("units", "hours", "hours_per_unit", "validity_months", "amount"),
    "instant": ("at", "moment", "start"),
    "timezone": ("tz", "billing_timezone"),
    "text": (
        *("org_id", "user_id", "project_id", "email", "order_id", "session_id", "case_id"),
        *("sales_reference", "title", "submit(title)", "choose_project(project_id)"),
    ),
}
_KIND_POOLS = {"number": NUMBERS, "instant": INSTANTS, "timezone": TIMEZONE_NAMES, "text": TEXTS}
SLOT_STRATEGIES = {
    arg: st.one_of(_pool(_KIND_POOLS[kind]), HOSTILE)
    for kind, args in _KINDS.items()
    for arg in args
}

# -- what an acceptable refusal looks like ------------------------------------------------------

CANONICAL_ZONES = {
    name.casefold(): name
    for name in zoneinfo.available_timezones()
    if name not in {"localtime", "posixrules", "Factory"}
    and not name.startswith(("posix/", "right/"))
}


def _names(value: object, depth: int = 0) -> set[str]:
    """The spellings of `value` a message may use (see the module docstring); for a small
    container, its elements' too."""
    found = {_safe_describe(value)}
    kind = type(value)  # only the type is asked: a specimen's own methods raise
    if kind is str and len(value) >= 4 and value.isprintable():  # type: ignore[arg-type, attr-defined]
        found.add(str(value))  # a role or tier named bare, as in "ORG_OWNER cannot be held..."
    if kind is sf.Project:
        found |= _names(value.project_id, depth + 1)  # type: ignore[attr-defined]  # "repeated: ['p-1']"
    if depth < 2 and kind in (list, tuple, set, frozenset, dict, bytearray):
        items = list(value.items()) if isinstance(value, dict) else list(value)
        for item in items[:10]:
            for part in item if isinstance(value, dict) else (item,):
                found |= _names(part, depth + 1)
    try:
        text = repr(value)
    except Exception:
        text = ""
    if type(text) is str and 0 < len(text) <= 300:
        found.add(text)
    utc = _utc(value)
    if utc is not None:
        found.add(utc.isoformat())
    return found


def _utc(value: object) -> dt.datetime | None:
    """`value` in UTC if it is an aware datetime (a subclass read through datetime's own
    fields), else None."""
    if not issubclass(type(value), dt.datetime):
        return None
    try:
        plain = plain_datetime(value)  # type: ignore[arg-type]
        if plain.utcoffset() is None:
            return None
        return plain.astimezone(UTC)
    except Exception:  # an offset out of range, or a tzinfo whose own methods raise
        return None


def valid_instant(value: object, after: dt.datetime | None = None) -> bool:
    """An aware instant the product holds (V4), not so late that arithmetic on it may leave
    2999, and after `after` when given."""
    utc = _utc(value)
    if utc is None or not dt.datetime(1970, 1, 1, tzinfo=UTC) <= utc:
        return False
    if utc > dt.datetime(2999, 11, 30, tzinfo=UTC):
        return False
    return after is None or utc > after


def attempt(
    arg: str,
    value: object,
    call: Callable[[], object],
    *,
    observe: Callable[[], object] = lambda: None,
    also: tuple[object, ...] = (),
    fields: tuple[str, ...] = (),
    must_succeed: bool = False,
    must_fail: bool = False,
    only_refused: bool = False,
) -> sf.SupportFlowsError | None:
    """Run `call` with hostile `value` in `arg`: it is accepted, or refused with a coded error
    naming the value (or one of `also`, the containers holding it, or `fields`), and `observe()`
    reads the same after a refusal as before. Any other exception fails the test.

    `must_succeed`: a valid value; `only_refused`: a valid value that a business rule may still
    refuse (`Refused`), never as malformed input; `must_fail`: a value that is never valid."""
    CALLS[CURRENT[0]] += 1
    # Nothing in the hostile pool is a clock or an outbox (a datetime has a `now`, but reading
    # it reads the system time: T6).
    must_fail = must_fail or arg in ("clock", "outbox")
    before = observe()
    error: sf.SupportFlowsError | None = None
    try:
        call()
    except sf.SupportFlowsError as caught:
        error = caught
    if error is None:
        event(f"{arg}: accepted")
        assert not must_fail, f"{arg}={_safe_describe(value)} was accepted"
        return None
    event(f"{arg}: {error.code}")
    assert not must_succeed, f"{arg}={value!r} is valid but was refused: {error}"
    if only_refused:  # a business rule refused a valid value: it need not be named
        assert not isinstance(error, sf.InvalidInput), f"{arg}={value!r} refused as malformed"
        assert observe() == before, f"{arg}: a refused call changed the object it acted on"
        return error
    message = error.message
    assert len(message) < 10_000, f"{arg}: a {len(message)}-character message"
    names = set().union(*(_names(v) for v in (value, *also)))
    # V2 names the first inconsistency found, which a well-typed replacement of one field may
    # cause elsewhere: a refused snapshot field needs only invalid_snapshot.
    assert any(name in message for name in names) or (
        fields and error.code == "invalid_snapshot"
    ), f"{arg}: the message does not name {_safe_describe(value)}: {message[:300]}"
    assert observe() == before, f"{arg}: a refused call changed the object it acted on"
    return error


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except Exception:  # unhashable, or a datetime whose tzinfo misbehaves
        return False
    return True


def _wrap(data: st.DataObject, value: object, shapes: list[str]) -> tuple[object, tuple[object]]:
    """`value` itself, or inside one of `shapes` of container; returns (argument, containers)."""
    usable = [s for s in shapes if not s.startswith("hash") or _hashable(value)]
    shape = data.draw(st.sampled_from(["bare", *usable]), label="shape")
    made: object
    if shape == "bare":
        return value, ()
    if shape == "list":
        made = [value]
    elif shape == "tuple_after_valid":
        made = (PROJECT, value)
    elif shape == "hash_set":
        made = {value}
    elif shape == "hash_key":
        made = {value: {"PROJECT_OWNER"}}
    elif shape == "value_of_p1":
        made = {"p-1": value}
    else:
        assert shape == "role_list_of_p1", shape
        made = {"p-1": [value]}
    return made, (made,)


# -- valid objects to act on ---------------------------------------------------------------------


class ReadingClock:
    """A clock that reads whatever it is told to, forwards, backwards or hostile (T8)."""

    def __init__(self, reading: object) -> None:
        self.reading = reading

    def now(self) -> Any:
        return self.reading


def premium_plan(clock: Any = None) -> sf.SupportPlan:
    """A premium plan (bought at START) with a cancel pending since START + 1 hour."""
    clock = clock if clock is not None else sf.FrozenClock(START)
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    _move(clock, START.add(hours=1))
    plan.cancel(actor=OWNER)
    return plan


def _move(clock: Any, at: pendulum.DateTime) -> None:
    if isinstance(clock, sf.FrozenClock):
        clock.set(at)
    else:
        clock.reading = at


class Booked:
    """A purchased order with two booked sessions: `first` has started, `second` has not."""

    def __init__(self, clock: Any = None) -> None:
        self.clock = clock if clock is not None else sf.FrozenClock(START)
        self.outbox = sf.InMemoryOutbox()
        self.order = sf.ConsultingOrder.start_checkout(
            ORG, units=10, actor=OWNER, clock=self.clock, outbox=self.outbox
        )
        self.order.confirm()
        self.first = self.order.schedule(start=START.add(days=1), hours=1, actor=OWNER)
        self.second = self.order.schedule(start=START.add(days=3), hours=2, actor=OWNER)
        _move(self.clock, START.add(days=1, hours=1))

    def observe(self) -> tuple[dict[str, Any], int]:
        return (self.order.snapshot(), len(self.outbox.sent))


PLAN_SNAPSHOT = premium_plan().snapshot()
ORDER_SNAPSHOT = Booked().order.snapshot()


def _leaves(data: object, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path inside a JSON-like snapshot, containers included."""
    if path:
        yield path
    if isinstance(data, dict):
        for key, item in data.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(data, list):
        for n, item in enumerate(data):
            yield from _leaves(item, (*path, n))


PLAN_PATHS = list(_leaves(PLAN_SNAPSHOT))
ORDER_PATHS = list(_leaves(ORDER_SNAPSHOT))


def _replaced(
    data: st.DataObject, snapshot: dict[str, Any], paths: list[tuple[Any, ...]], value: object
) -> tuple[object, tuple[str, ...]]:
    """The snapshot as a whole replaced by `value`, or one field of it; and the names of the
    fields on the way to it (V2 names the first inconsistency: the field, or the record holding
    it, such as "history entry 1")."""
    path = data.draw(st.sampled_from([(), *paths]), label="snapshot path")
    if not path:
        return value, ()
    made = copy.deepcopy(snapshot)
    holder = made
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return made, tuple(p for p in path if isinstance(p, str))


# -- the entry points ----------------------------------------------------------------------------

Run = Callable[[str, object, st.DataObject], None]
ENTRY_POINTS: dict[str, tuple[tuple[str, ...], Run]] = {}


def entry(name: str, *args: str) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        ENTRY_POINTS[name] = (args, run)
        return run

    return register


def _timezone_expectation(arg: str, value: object, error: sf.SupportFlowsError | None) -> None:
    """V5: a zone name differing only in case is refused naming the canonical spelling; the
    excluded names are unknown_timezone."""
    if type(value) is not str:
        return
    canonical = CANONICAL_ZONES.get(value.casefold())
    if canonical is not None and canonical != value:
        assert error is not None, f"{arg}={value!r} (not canonical) was accepted"
        assert error.code == "unknown_timezone"
        assert repr(canonical) in error.message
    if value in {"localtime", "posixrules", "Factory"} or value.startswith(("posix/", "right/")):
        assert error is not None, f"{arg}={value!r} was accepted"
        assert error.code == "unknown_timezone"


@entry("Organization", "org_id", "projects", "billing_timezone", "cross_org_billing")
def _organization(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "org_id": "org-1",
        "projects": (PROJECT,),
        "billing_timezone": "UTC",
        "cross_org_billing": False,
    }
    also: tuple[object, ...] = ()
    if arg == "projects":
        kwargs[arg], also = _wrap(data, value, ["list", "tuple_after_valid"])
    else:
        kwargs[arg] = value
    error = attempt(arg, value, lambda: sf.Organization(**kwargs), also=also)
    if arg == "billing_timezone":
        _timezone_expectation(arg, value, error)


@entry("Project", "project_id")
def _project(arg: str, value: object, data: st.DataObject) -> None:
    attempt(arg, value, lambda: sf.Project(value))  # type: ignore[arg-type]


@entry("Member", "user_id", "org_roles", "project_roles", "email")
def _member(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "user_id": "u-1",
        "org_roles": {"ORG_OWNER"},
        "project_roles": {"p-1": {"PROJECT_OWNER"}},
        "email": "u@example.com",
    }
    also: tuple[object, ...] = ()
    if arg == "org_roles":
        kwargs[arg], also = _wrap(data, value, ["list", "hash_set"])
    elif arg == "project_roles":
        kwargs[arg], also = _wrap(data, value, ["hash_key", "value_of_p1", "role_list_of_p1"])
    else:
        kwargs[arg] = value
    attempt(arg, value, lambda: sf.Member(**kwargs), also=also)


@entry("FrozenClock", "at")
def _frozen_clock(arg: str, value: object, data: st.DataObject) -> None:
    attempt(arg, value, lambda: sf.FrozenClock(value), must_succeed=valid_instant(value))  # type: ignore[arg-type]


@entry("FrozenClock.set", "at")
def _clock_set(arg: str, value: object, data: st.DataObject) -> None:
    clock = sf.FrozenClock(START)
    attempt(
        arg,
        value,
        lambda: clock.set(value),  # type: ignore[arg-type]
        observe=clock.now,
        must_succeed=valid_instant(value, after=START),
    )


@entry("FrozenClock.advance", "unit", "amount")
def _clock_advance(arg: str, value: object, data: st.DataObject) -> None:
    clock = sf.FrozenClock(START)
    if arg == "unit":
        # Python itself refuses a keyword that is not a str, before the call.
        assume(type(value) is str)
        unit = value
        amount: object = 1
    else:
        unit = data.draw(
            st.sampled_from(["years", "months", "weeks", "days", "hours", "seconds"]), label="unit"
        )
        amount = value
    also: tuple[object, ...] = ({unit: amount},)
    with contextlib.suppress(Exception):  # going back is refused naming where it lands (T6)
        also += (START + pendulum.duration(**{unit: amount}),)  # type: ignore[arg-type]
    attempt(
        arg,
        value,
        lambda: clock.advance(**{unit: amount}),
        observe=clock.now,
        also=also,  # type: ignore[arg-type]
    )


@entry("next_month_start", "moment", "tz")
def _next_month_start(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {"moment": START, "tz": "Europe/Paris", arg: value}
    error = attempt(
        arg,
        value,
        lambda: sf.next_month_start(kwargs["moment"], tz=kwargs["tz"]),
        must_succeed=arg == "moment" and valid_instant(value),
    )
    if arg == "tz":
        _timezone_expectation(arg, value, error)


@entry("SupportPlan", "org", "clock", "engine")
def _support_plan(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {"org": ORG, "clock": sf.FrozenClock(START), "engine": "table"}
    kwargs[arg] = value
    attempt(arg, value, lambda: sf.SupportPlan(kwargs.pop("org"), **kwargs))


@entry("SupportPlan.change", "tier", "actor")
def _plan_change(arg: str, value: object, data: st.DataObject) -> None:
    plan = premium_plan()
    kwargs: dict[str, Any] = {"tier": "developer", "actor": OWNER, arg: value}
    attempt(arg, value, lambda: plan.change(**kwargs), observe=plan.snapshot)


@entry("SupportPlan.cancel", "actor")
def _plan_cancel(arg: str, value: object, data: st.DataObject) -> None:
    plan = premium_plan()
    attempt(arg, value, lambda: plan.cancel(actor=value), observe=plan.snapshot)  # type: ignore[arg-type]


@entry("SupportPlan.revoke_pending", "actor")
def _plan_revoke(arg: str, value: object, data: st.DataObject) -> None:
    plan = premium_plan()
    attempt(arg, value, lambda: plan.revoke_pending(actor=value), observe=plan.snapshot)  # type: ignore[arg-type]


@entry("SupportPlan.check", "action", "actor", "tier")
def _plan_check(arg: str, value: object, data: st.DataObject) -> None:
    plan = premium_plan()
    kwargs: dict[str, Any] = {"action": "change", "actor": OWNER, "tier": "developer", arg: value}
    attempt(arg, value, lambda: plan.check(kwargs.pop("action"), **kwargs), observe=plan.snapshot)


@entry("SupportPlan.restore", "data", "org", "clock")
def _plan_restore(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {"data": PLAN_SNAPSHOT, "org": ORG, "clock": sf.FrozenClock(START)}
    fields: tuple[str, ...] = ()
    if arg == "data":
        kwargs["data"], fields = _replaced(data, PLAN_SNAPSHOT, PLAN_PATHS, value)
    else:
        kwargs[arg] = value
    attempt(
        arg,
        value,
        lambda: sf.SupportPlan.restore(kwargs.pop("data"), kwargs.pop("org"), **kwargs),
        fields=fields,
    )


@entry("check_channel", "org", "plan_state", "member", "channel")
def _check_channel(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "org": ORG,
        "plan_state": "premium",
        "member": OWNER,
        "channel": "support_case",
        arg: value,
    }
    attempt(
        arg,
        value,
        lambda: sf.check_channel(
            kwargs["org"], kwargs["plan_state"], kwargs["member"], kwargs["channel"]
        ),
    )


@entry("check_case", "org", "plan_state", "member", "scope", "project_id")
def _check_case(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "org": ORG,
        "plan_state": "premium",
        "member": OWNER,
        "scope": "project",
        "project_id": "p-1",
        arg: value,
    }
    attempt(
        arg,
        value,
        lambda: sf.check_case(
            kwargs.pop("org"), kwargs.pop("plan_state"), kwargs.pop("member"), **kwargs
        ),
    )


CASE_ARGS = ("org", "plan_state", "member", "scope", "project_id", "title", "severity", "clock")


@entry("open_case", *CASE_ARGS, "case_id", "case_id factory result")
def _open_case(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "org": ORG,
        "plan_state": "premium",
        "member": OWNER,
        "scope": "project",
        "project_id": "p-1",
        "title": "Slow queries",
        "severity": "S2",
        "clock": sf.FrozenClock(START),
        "case_id": "case-1",
    }
    if arg == "case_id factory result":
        kwargs["case_id"] = lambda: value
    else:
        kwargs[arg] = value
    attempt(
        arg,
        value,
        lambda: sf.open_case(
            kwargs.pop("org"), kwargs.pop("plan_state"), kwargs.pop("member"), **kwargs
        ),
    )


@entry("CaseFlow", "org", "plan_state", "member", "clock", "case_id", "engine")
def _case_flow(arg: str, value: object, data: st.DataObject) -> None:
    kwargs: dict[str, Any] = {
        "org": ORG,
        "plan_state": "premium",
        "member": OWNER,
        "clock": sf.FrozenClock(START),
        "case_id": "case-1",
        "engine": "table",
        arg: value,
    }
    attempt(
        arg,
        value,
        lambda: sf.CaseFlow(
            kwargs.pop("org"), kwargs.pop("plan_state"), kwargs.pop("member"), **kwargs
        ),
    )


@entry(
    "CaseFlow steps",
    "choose_project(project_id)",
    "submit(title)",
    "submit(severity)",
    "case_id factory result",
)
def _case_flow_steps(arg: str, value: object, data: st.DataObject) -> None:
    returned = {"id": "case-1"}
    flow = sf.CaseFlow(
        ORG, "premium", OWNER, clock=sf.FrozenClock(START), case_id=lambda: returned["id"]
    )
    flow.choose_organization()

    def observe() -> object:
        return (flow.state, flow.case, flow.project_id, flow.scope)

    if arg == "choose_project(project_id)":
        attempt(arg, value, lambda: flow.choose_project(value), observe=observe)  # type: ignore[arg-type]
        return
    flow.choose_project("p-1")
    flow.open_project_support()
    kwargs: dict[str, Any] = {"title": "Slow queries", "severity": "S2"}
    if arg == "submit(title)":
        kwargs["title"] = value
    elif arg == "submit(severity)":
        kwargs["severity"] = value
    else:
        returned["id"] = value  # type: ignore[assignment]
    error = attempt(arg, value, lambda: flow.submit(**kwargs), observe=observe)
    if error is not None:
        assert flow.case is None
        assert flow.state == "project_support"


VALUE_METHODS: dict[str, Callable[[object], object]] = {
    "Organization.has_project": ORG.has_project,
    "Member.roles_in_project": OWNER.roles_in_project,  # type: ignore[dict-item]
    "Member.is_member_of": sf.Member("u-dev", project_roles={"p-1": "PROJECT_OWNER"}).is_member_of,  # type: ignore[dict-item]
    "Member.in_some_project_of": OWNER.in_some_project_of,  # type: ignore[dict-item]
}


@entry("public methods of values and flows", *VALUE_METHODS, "CaseFlow.enabled_events")
def _value_methods(arg: str, value: object, data: st.DataObject) -> None:
    if arg in VALUE_METHODS:
        attempt(arg, value, lambda: VALUE_METHODS[arg](value))
        return
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=sf.FrozenClock(START))
    flow.choose_organization()
    attempt(
        arg,
        value,
        lambda: flow.enabled_events(value),  # type: ignore[arg-type]
        observe=lambda: (flow.state, flow.case, flow.project_id),
    )


CHECKOUT_ARGS = ("units", "hours_per_unit", "validity_months", "order_id", "engine")


@entry("ConsultingOrder.start_checkout", "org", "actor", "clock", "outbox", *CHECKOUT_ARGS)
def _start_checkout(arg: str, value: object, data: st.DataObject) -> None:
    outbox, clock = sf.InMemoryOutbox(), sf.FrozenClock(START)
    kwargs: dict[str, Any] = {
        "org": ORG,
        "units": 10,
        "actor": OWNER,
        "clock": clock,
        "outbox": outbox,
        "hours_per_unit": 1,
        "validity_months": 12,
        "order_id": "order-1",
        "engine": "table",
        arg: value,
    }
    attempt(
        arg,
        value,
        lambda: sf.ConsultingOrder.start_checkout(kwargs.pop("org"), **kwargs),
        observe=lambda: (len(outbox.sent), clock.now()),
    )


@entry(
    "ConsultingOrder.from_representative",
    "org",
    "sales_reference",
    "email",
    "clock",
    "outbox",
    *CHECKOUT_ARGS,
)
def _from_representative(arg: str, value: object, data: st.DataObject) -> None:
    outbox, clock = sf.InMemoryOutbox(), sf.FrozenClock(START)
    kwargs: dict[str, Any] = {
        "org": ORG,
        "units": 10,
        "sales_reference": "SO-1",
        "email": "buyer@example.com",
        "clock": clock,
        "outbox": outbox,
        "hours_per_unit": 1,
        "validity_months": 12,
        "order_id": "order-1",
        "engine": "table",
        arg: value,
    }
    attempt(
        arg,
        value,
        lambda: sf.ConsultingOrder.from_representative(kwargs.pop("org"), **kwargs),
        observe=lambda: (len(outbox.sent), clock.now()),
    )


@entry("ConsultingOrder.schedule", "start", "hours", "actor")
def _schedule(arg: str, value: object, data: st.DataObject) -> None:
    booked = Booked()
    kwargs: dict[str, Any] = {"start": START.add(days=5), "hours": 1, "actor": OWNER, arg: value}
    attempt(
        arg,
        value,
        lambda: booked.order.schedule(**kwargs),
        observe=booked.observe,
        must_succeed=arg == "start" and valid_instant(value, after=booked.clock.now()),
    )


@entry("ConsultingOrder.cancel_session", "session_id", "actor")
def _cancel_session(arg: str, value: object, data: st.DataObject) -> None:
    booked = Booked()
    kwargs: dict[str, Any] = {"session_id": booked.second.session_id, "actor": OWNER, arg: value}
    attempt(
        arg,
        value,
        lambda: booked.order.cancel_session(kwargs.pop("session_id"), **kwargs),
        observe=booked.observe,
    )


@entry("ConsultingOrder.deliver", "session_id", "actor")
def _deliver(arg: str, value: object, data: st.DataObject) -> None:
    booked = Booked()
    kwargs: dict[str, Any] = {"session_id": booked.first.session_id, "actor": OWNER, arg: value}
    attempt(
        arg,
        value,
        lambda: booked.order.deliver(kwargs.pop("session_id"), **kwargs),
        observe=booked.observe,
    )


@entry("ConsultingOrder.restore", "data", "org", "clock", "outbox")
def _order_restore(arg: str, value: object, data: st.DataObject) -> None:
    outbox = sf.InMemoryOutbox()
    kwargs: dict[str, Any] = {
        "data": ORDER_SNAPSHOT,
        "org": ORG,
        "clock": sf.FrozenClock(START),
        "outbox": outbox,
    }
    fields: tuple[str, ...] = ()
    if arg == "data":
        kwargs["data"], fields = _replaced(data, ORDER_SNAPSHOT, ORDER_PATHS, value)
    else:
        kwargs[arg] = value
    attempt(
        arg,
        value,
        lambda: sf.ConsultingOrder.restore(kwargs.pop("data"), kwargs.pop("org"), **kwargs),
        observe=lambda: len(outbox.sent),
        fields=fields,
    )


# A clock whose reading is hostile: every action refuses it and leaves the object as it was.

PLAN_ACTIONS: dict[str, Callable[[sf.SupportPlan], object]] = {
    "change": lambda plan: plan.change("developer", actor=OWNER),
    "cancel": lambda plan: plan.cancel(actor=OWNER),
    "revoke_pending": lambda plan: plan.revoke_pending(actor=OWNER),
    "check": lambda plan: plan.check("change", actor=OWNER, tier="developer"),
    "apply_due": lambda plan: plan.apply_due(),
    "state": lambda plan: plan.state,
    "pending": lambda plan: plan.pending,
    "billing": lambda plan: plan.billing,
    "history": lambda plan: plan.history,
    "snapshot": lambda plan: plan.snapshot(),
}


def _bad_reading(value: object) -> bool:
    """A reading no clock may give: anything but an aware instant in 1970-2999."""
    utc = _utc(value)
    return utc is None or not 1970 <= utc.year <= 2999


@entry("SupportPlan under a hostile clock", *PLAN_ACTIONS)
def _plan_hostile_clock(arg: str, value: object, data: st.DataObject) -> None:
    bad = _bad_reading(value)
    good = START.add(hours=2)
    clock = ReadingClock(START)
    plan = premium_plan(clock)

    def observe() -> object:
        clock.reading = good
        return plan.snapshot()

    def act() -> object:
        clock.reading = value
        try:
            return PLAN_ACTIONS[arg](plan)
        finally:
            clock.reading = good

    attempt(arg, value, act, observe=observe, must_fail=bad, only_refused=valid_instant(value))


ORDER_ACTIONS: dict[str, Callable[[Booked], object]] = {
    "schedule": lambda b: b.order.schedule(start=START.add(days=5), hours=1, actor=OWNER),
    "cancel_session": lambda b: b.order.cancel_session(b.second.session_id, actor=OWNER),
    "deliver": lambda b: b.order.deliver(b.first.session_id, actor=OWNER),
    "apply_due": lambda b: b.order.apply_due(),
    "state": lambda b: b.order.state,
    "units": lambda b: b.order.units,
    "sessions": lambda b: b.order.sessions,
    "history": lambda b: b.order.history,
    "snapshot": lambda b: b.order.snapshot(),
}


OPENINGS: dict[str, Callable[[ReadingClock, sf.InMemoryOutbox], object]] = {
    "start_checkout": lambda clock, outbox: sf.ConsultingOrder.start_checkout(
        ORG, units=1, actor=OWNER, clock=clock, outbox=outbox
    ),
    "from_representative": lambda clock, outbox: sf.ConsultingOrder.from_representative(
        ORG, units=1, sales_reference="SO-1", email="b@example.com", clock=clock, outbox=outbox
    ),
}


@entry(
    "ConsultingOrder under a hostile clock",
    *ORDER_ACTIONS,
    "confirm",
    *OPENINGS,
)
def _order_hostile_clock(arg: str, value: object, data: st.DataObject) -> None:
    bad = _bad_reading(value)
    good = START.add(days=1, hours=2)
    clock = ReadingClock(START)
    outbox = sf.InMemoryOutbox()
    if arg in OPENINGS:
        clock.reading = value
        attempt(
            arg,
            value,
            lambda: OPENINGS[arg](clock, outbox),
            observe=lambda: len(outbox.sent),
            must_fail=bad,
            only_refused=valid_instant(value),
        )
        return
    if arg == "confirm":
        order = sf.ConsultingOrder.start_checkout(
            ORG, units=1, actor=OWNER, clock=clock, outbox=outbox
        )
        run: Callable[[], object] = order.confirm
    else:
        booked = Booked(clock)
        order, outbox = booked.order, booked.outbox
        run = functools.partial(ORDER_ACTIONS[arg], booked)

    def observe() -> object:
        clock.reading = good
        return (order.snapshot(), len(outbox.sent))

    def act() -> object:
        clock.reading = value
        try:
            return run()
        finally:
            clock.reading = good

    attempt(arg, value, act, observe=observe, must_fail=bad, only_refused=valid_instant(value))


@entry("CaseFlow under a hostile clock", "submit", "open_case")
def _case_hostile_clock(arg: str, value: object, data: st.DataObject) -> None:
    bad = _bad_reading(value)
    clock = ReadingClock(value)
    if arg == "open_case":
        attempt(
            arg,
            value,
            lambda: sf.open_case(
                ORG, "premium", OWNER, scope="organization", title="Down", clock=clock
            ),
            must_fail=bad,
            only_refused=valid_instant(value),
        )
        return
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=clock)
    flow.choose_organization()
    flow.open_organization_support()
    error = attempt(
        arg,
        value,
        lambda: flow.submit(title="Down", severity="S1"),
        observe=lambda: (flow.state, flow.case, flow.project_id, flow.scope),
        must_fail=bad,
        only_refused=valid_instant(value),
    )
    if error is not None:
        assert flow.case is None


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
@given(data=st.data())
def test_v4_v5_every_entry_point_refuses_hostile_input_with_a_coded_error(
    name: str, data: st.DataObject
) -> None:
    """V4, V5, T1: a hostile argument is accepted or refused coded, named, changing nothing."""
    STARTED.add(name)
    CURRENT[0] = name
    args, run = ENTRY_POINTS[name]
    arg = data.draw(st.sampled_from(args), label="argument")
    value = data.draw(SLOT_STRATEGIES.get(arg, HOSTILE), label="value")
    # A callable where the host's own case id factory is called is the host's code raising.
    assume(not (arg == "case_id" and callable(value.value)))
    run(arg, value.value, data)


# -- the cases, one by one -------------------------------------------------------------


def _refused(
    call: Callable[[], object], code: str, rule: str, *, names: str | None = None
) -> sf.SupportFlowsError:
    with pytest.raises(sf.SupportFlowsError) as caught:
        call()
    assert caught.value.code == code, caught.value
    assert caught.value.rule == rule, caught.value
    if names is not None:
        assert names in caught.value.message
    return caught.value


def test_v4_validity_months_beyond_120_is_invalid_quantity() -> None:
    """V4: validity_months=100000 is refused invalid_quantity (F6's field), no order, no email."""
    outbox, clock = sf.InMemoryOutbox(), sf.FrozenClock(START)
    _refused(
        lambda: sf.ConsultingOrder.start_checkout(
            ORG, units=1, actor=OWNER, clock=clock, outbox=outbox, validity_months=100_000
        ),
        "invalid_quantity",
        "F6",
        names="100000",
    )
    assert outbox.sent == []
    assert clock.now() == START


def test_v4_units_of_ten_to_the_5000_is_invalid_quantity() -> None:
    """V4: units=10**5000 is refused invalid_quantity (F2's field) before any arithmetic."""
    outbox = sf.InMemoryOutbox()
    for make in (
        lambda: sf.ConsultingOrder.start_checkout(
            ORG, units=10**5000, actor=OWNER, clock=sf.FrozenClock(START), outbox=outbox
        ),
        lambda: sf.ConsultingOrder.from_representative(
            ORG,
            units=10**5000,
            sales_reference="SO-1",
            email="b@example.com",
            clock=sf.FrozenClock(START),
            outbox=outbox,
        ),
    ):
        _refused(make, "invalid_quantity", "F2", names=describe(10**5000))
    assert outbox.sent == []


def test_v4_session_of_ten_to_the_8_hours_is_invalid_quantity() -> None:
    """V4: schedule(hours=10**8) is refused invalid_quantity and books nothing."""
    booked = Booked()
    before = booked.observe()
    _refused(
        lambda: booked.order.schedule(start=START.add(days=5), hours=10**8, actor=OWNER),
        "invalid_quantity",
        "V4",
        names="100000000",
    )
    assert booked.observe() == before


def test_v4_session_starting_in_year_9999_is_invalid_value() -> None:
    """V4: a session start in year 9999 is refused invalid_value and books nothing."""
    booked = Booked()
    before = booked.observe()
    start = dt.datetime(9999, 6, 1, tzinfo=UTC)
    _refused(
        lambda: booked.order.schedule(start=start, hours=1, actor=OWNER),
        "invalid_value",
        "V4",
        names=start.isoformat(),
    )
    assert booked.observe() == before


def test_v5_member_org_roles_of_a_number_is_invalid_value() -> None:
    """V5: Member(org_roles=5) is refused invalid_value naming 5."""
    _refused(lambda: sf.Member("u-1", org_roles=5), "invalid_value", "V5", names="5")  # type: ignore[arg-type]


def test_v5_organization_projects_of_a_number_is_invalid_value() -> None:
    """V5: Organization(projects=5) is refused invalid_value naming 5."""
    _refused(lambda: sf.Organization("org-1", projects=5), "invalid_value", "V5", names="5")  # type: ignore[arg-type]


def test_v5_plan_change_by_no_actor_is_invalid_value() -> None:
    """V5: plan.change(actor=None) is refused invalid_value and changes nothing."""
    plan = premium_plan()
    before = plan.snapshot()
    _refused(
        lambda: plan.change("developer", actor=None),  # type: ignore[arg-type]
        "invalid_value",
        "V5",
        names="None",
    )
    assert plan.snapshot() == before


def test_v5_order_schedule_by_no_actor_is_invalid_value() -> None:
    """V5: order.schedule(actor=None) is refused invalid_value and books nothing."""
    booked = Booked()
    before = booked.observe()
    _refused(
        lambda: booked.order.schedule(start=START.add(days=5), hours=1, actor=None),  # type: ignore[arg-type]
        "invalid_value",
        "V5",
        names="None",
    )
    assert booked.observe() == before


def test_v5_check_channel_without_organization_is_invalid_value_not_allowed() -> None:
    """V5: check_channel(org=None, ...) raises invalid_value; it never answers allowed."""
    _refused(
        lambda: sf.check_channel(None, "premium", OWNER, "chat"),  # type: ignore[arg-type]
        "invalid_value",
        "V5",
        names="None",
    )


def test_v4_advancing_a_clock_by_nan_days_is_invalid_value() -> None:
    """V4: FrozenClock.advance(days=nan) is refused invalid_value and the clock stays put."""
    clock = sf.FrozenClock(START)
    _refused(lambda: clock.advance(days=float("nan")), "invalid_value", "V4", names="nan")
    assert clock.now() == START


def test_v5_case_id_factory_returning_a_number_is_invalid_value() -> None:
    """V5: a case_id factory returning 123 is refused invalid_value: no case, flow unsubmitted."""
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=sf.FrozenClock(START), case_id=lambda: 123)  # type: ignore[arg-type,return-value]
    flow.choose_organization()
    flow.open_organization_support()
    _refused(lambda: flow.submit(title="Down"), "invalid_value", "V5", names="123")
    assert flow.state == "organization_support"
    assert flow.case is None
    _refused(
        lambda: sf.open_case(
            ORG,
            "premium",
            OWNER,
            scope="organization",
            title="Down",
            clock=sf.FrozenClock(START),
            case_id=lambda: 123,  # type: ignore[arg-type,return-value]
        ),
        "invalid_value",
        "V5",
        names="123",
    )


def test_t1_clock_reading_naive_during_submit_is_naive_datetime() -> None:
    """T1: a clock reading a naive datetime makes submit refuse naive_datetime; nothing changes."""
    clock = ReadingClock(dt.datetime(2026, 3, 14, 10))
    flow = sf.CaseFlow(ORG, "premium", OWNER, clock=clock)
    flow.choose_organization()
    flow.choose_project("p-1")
    flow.open_project_support()
    _refused(lambda: flow.submit(title="Down"), "naive_datetime", "T1", names="2026-03-14T10:00:00")
    assert (flow.state, flow.case, flow.project_id) == ("project_support", None, "p-1")


@pytest.mark.parametrize(
    ("name", "rule", "names"),
    [
        ("localtime", "V5", "'localtime'"),
        ("posixrules", "V5", "'posixrules'"),
        ("right/UTC", "V5", "'right/UTC'"),
        ("Europe/paris", "V5", "'Europe/Paris'"),
    ],
)
def test_v5_non_canonical_timezone_names_are_unknown_timezone(
    name: str, rule: str, names: str
) -> None:
    """V5: localtime, posixrules, right/ names and wrong case are refused unknown_timezone."""
    _refused(
        lambda: sf.Organization("org-1", billing_timezone=name),
        "unknown_timezone",
        rule,
        names=names,
    )
    _refused(lambda: sf.next_month_start(START, tz=name), "unknown_timezone", rule, names=names)


def test_t8_plan_clock_reading_earlier_than_its_history_counts_as_its_last_instant() -> None:
    """T8: a plan that acted at 10:00 and then reads 09:00 records its next act at 10:00."""
    clock = ReadingClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    plan = sf.SupportPlan(ORG, clock=clock)
    plan.change("premium", actor=OWNER)
    clock.reading = pendulum.datetime(2026, 3, 14, 9, tz="UTC")
    plan.cancel(actor=OWNER)
    history = plan.history
    assert [entry.at for entry in history] == [START, START]
    assert plan.pending is not None
    assert plan.pending.requested_at == START
    assert all(a.at <= b.at for a, b in itertools.pairwise(history))


def test_t8_order_clock_reading_earlier_than_its_last_booking_counts_as_that_instant() -> None:
    """T8: an order that booked at 10:00 and then reads 09:00 records its next booking at 10:00."""
    clock = ReadingClock(pendulum.datetime(2026, 3, 14, 10, tz="UTC"))
    outbox = sf.InMemoryOutbox()
    order = sf.ConsultingOrder.from_representative(
        ORG, units=5, sales_reference="SO-1", email="b@example.com", clock=clock, outbox=outbox
    )
    order.schedule(start=START.add(days=1), hours=1, actor=OWNER)
    clock.reading = pendulum.datetime(2026, 3, 14, 9, tz="UTC")
    order.schedule(start=START.add(days=2), hours=1, actor=OWNER)
    history = order.history
    assert [entry.at for entry in history] == [START, START, START]
    assert all(a.at <= b.at for a, b in itertools.pairwise(history))


def test_every_entry_point_was_exercised() -> None:
    """V4, V5: every entry point got at least max_examples // 3 hostile calls (20 under dev)."""
    if not STARTED:
        pytest.skip("the hostile-input property tests did not run in this process")
    least = settings().max_examples // 3
    short = {name: CALLS[name] for name in sorted(STARTED) if CALLS[name] < least}
    assert not short, f"fewer than {least} calls: {short}; all: {dict(CALLS)}"
