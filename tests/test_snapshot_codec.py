"""The generated snapshot codec reads exactly what cattrs' strict, detailed converter reads, and
writes what a plain cattrs converter writes (V2): the same records from the same dicts, the same
dicts from the same records, and the same refusals of mutated snapshots."""

from __future__ import annotations

import json
from typing import Any

import attrs
import cattrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_snapshot_mutations import (
    ZONES,
    build_plan,
    built_orders,
    mutate,
    plan_steps,
)

import support_flows as sf
from support_flows.codec import structure_fn, unstructure_fn, writer_fn
from support_flows.snapshots.consulting import OrderSnapshot
from support_flows.snapshots.plan import PlanSnapshot
from support_flows.snapshots.strict import detailed

ORG = sf.Organization("org-1", projects=("p-1",), billing_timezone="UTC")
OWNER = sf.Member("u-owner", org_roles={sf.Role.ORG_OWNER}, email="owner@example.com")
WRITER = cattrs.Converter()
WRITER.register_unstructure_hook(pendulum.DateTime, lambda at: at.isoformat())


def _written(record: object) -> Any:
    """What a plain cattrs converter writes, as JSON reads it back."""
    return json.loads(json.dumps(WRITER.unstructure(record)))


def _cattrs_reads(data: object, kind: type[Any]) -> tuple[bool, Any]:
    try:
        return True, detailed.structure(data, kind)
    except Exception:  # cattrs raises many kinds; a refusal is all that matters here
        return False, None


def _codec_reads(data: object, kind: type[Any]) -> tuple[bool, Any]:
    try:
        return True, structure_fn(kind)(data)
    except Exception:  # the generated reader raises many kinds, like cattrs
        return False, None


def _agree(data: dict[str, Any], kind: type[Any], mutated: object) -> None:
    record = detailed.structure(data, kind)
    assert structure_fn(kind)(data) == record
    assert unstructure_fn(kind)(record) == _written(record) == data
    fields = [getattr(record, f.name) for f in attrs.fields(kind)]
    assert writer_fn(kind)(*fields) == data
    assert _codec_reads(mutated, kind) == _cattrs_reads(mutated, kind)


@given(
    tz=st.sampled_from(ZONES),
    start=st.integers(0, 400 * 24 * 60),
    steps=plan_steps,
    history=st.booleans(),
    data=st.data(),
)
def test_v2_generated_codec_agrees_with_cattrs_on_plans(
    tz: str, start: int, steps: list[tuple[Any, ...]], history: bool, data: st.DataObject
) -> None:
    """V2: plan snapshots read and write the same through both codecs; a mutated one is refused
    by both or read alike."""
    plan, _ = build_plan(tz, start, steps)
    written = plan.snapshot(history=history)
    mutated, _kind = mutate(data, written)
    _agree(written, PlanSnapshot, mutated)


@given(built=built_orders, history=st.booleans(), data=st.data())
def test_v2_generated_codec_agrees_with_cattrs_on_orders(
    built: tuple[sf.ConsultingOrder, sf.FrozenClock], history: bool, data: st.DataObject
) -> None:
    """V2: order snapshots read and write the same through both codecs; a mutated one is
    refused by both or read alike."""
    order, _ = built
    written = order.snapshot(history=history)
    mutated, _kind = mutate(data, written)
    _agree(written, OrderSnapshot, mutated)


@pytest.mark.parametrize(
    "bad",
    [
        {"tier": "developer", "starts_at": "2026-04-01T00:00:00+00:00", "ends_at": None},
        {
            "tier": "developer",
            "starts_at": "2026-04-01T00:00:00+00:00",
            "ends_at": None,
            "retroactive": 0,
        },
        {
            "tier": "Developer",
            "starts_at": "2026-04-01T00:00:00+00:00",
            "ends_at": None,
            "retroactive": False,
        },
        {
            "tier": "developer",
            "starts_at": "2026-04-01T00:00:00Z",
            "ends_at": None,
            "retroactive": False,
        },
        {
            "tier": "developer",
            "starts_at": "2026-W14-3T00:00:00+00:00",  # ISO 8601 week date: 2026-04-01
            "ends_at": None,
            "retroactive": False,
        },
    ],
)
def test_v2_generated_reader_refuses_what_cattrs_refuses(bad: dict[str, Any]) -> None:
    """V2: a missing field, an int for a bool, an unknown enum value and an instant not written
    as this library writes it are refused by the generated reader as by cattrs."""
    from support_flows.values.plan import BillingPeriod

    assert _codec_reads(bad, BillingPeriod) == (False, None) == _cattrs_reads(bad, BillingPeriod)


@pytest.mark.parametrize(
    "written",
    ["2026-W18-5T00:00:00+00:00", "2026-W18-5T00:00:00.250000+00:00"],
)
def test_v2_an_iso_week_date_is_not_an_instant_this_library_writes(written: str) -> None:
    """V2: an ISO 8601 instant in another form than this library's (a week date, which Python
    reads as 2026-05-01) is refused on restore, naming the value."""
    plan = sf.SupportPlan(ORG, clock=sf.FrozenClock(pendulum.datetime(2026, 4, 20, tz="UTC")))
    plan.change("premium", actor=OWNER)
    plan.change("developer", actor=OWNER)
    data = plan.snapshot()
    assert data["pending"]["effective_at"] == "2026-05-01T00:00:00+00:00"
    data["pending"]["effective_at"] = written
    with pytest.raises(sf.InvalidInput) as info:
        sf.SupportPlan.restore(data, ORG, clock=sf.FrozenClock(pendulum.datetime(2026, 4, 21)))
    assert (info.value.code, info.value.rule) == ("invalid_snapshot", "V2")
    assert written in info.value.message
    assert "$.pending.effective_at" in info.value.message


def test_generated_reader_shows_its_source_in_a_traceback() -> None:
    """A generated codec function is registered in linecache under a name of its own, so a
    traceback through it shows the generated line that raised, and inspect finds its source."""
    import inspect
    import traceback

    from support_flows.values.plan import BillingPeriod

    reader = structure_fn(BillingPeriod)
    assert inspect.getsource(reader).startswith("def structure(data):")
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - the frame is what is checked
        reader({"tier": "developer"})
    frames = traceback.extract_tb(raised.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<support_flows generated structure")]
    assert generated
    assert "BillingPeriod" in generated[-1].filename
    assert generated[-1].line
