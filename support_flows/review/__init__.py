"""The product review pack: ``build(directory)`` writes ``index.html`` (one offline page) and
each chart as ``<chart>.svg`` and ``<chart>.mmd``, reporting one line per step."""

from __future__ import annotations

import datetime as dt
import inspect
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs
import pendulum

from support_flows.clock import SystemClock
from support_flows.diagrams import standalone_svg, to_dot, to_mermaid
from support_flows.diagrams.graph import CHARTS, compiled, graph_of
from support_flows.review.change_pack import opening
from support_flows.review.html import page, shortfalls
from support_flows.review.markup import inline_svg
from support_flows.review.policy_runs import only
from support_flows.review.proposal import proposal_of, same_terms
from support_flows.review.scenarios import PLAN_STORIES, order_example, plan_example
from support_flows.review.verify_cache import Cached, VerifyCache, fingerprint, stamp
from support_flows.values.policy import ATLAS, ATLAS_POLICY, Catalog, Policy

__all__ = ["VERIFY_DEPTH", "Pack", "build", "verification", "verifier"]

VERIFY_DEPTH = 5
"""How deep the verifier explores each machine for the pack: enough to cover every transition,
small enough that the whole pack builds in seconds."""

Progress = Callable[[str], None]


@attrs.frozen
class Pack:
    """What `build` wrote; `shortfalls` says, one line per machine, what kept the verification
    from being whole (a failure, violations, parts not covered), empty when it was."""

    index: Path
    files: tuple[Path, ...]
    verified: bool
    shortfalls: tuple[str, ...] = ()


def _version() -> str:
    try:
        return metadata.version("support-flows")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def verifier() -> Any | None:
    """The verifier module, or None when this build has none."""
    try:
        import support_flows.verify as found  # the optional extra, imported only when asked for
    except ModuleNotFoundError as error:
        if error.name not in ("support_flows.verify", "support_flows"):
            raise
        return None
    return found


def _takes_policy(verify: Any) -> bool:
    return "policy" in inspect.signature(verify.run).parameters


def verification(
    depth: int,
    progress: Progress = lambda line: None,
    policy: Policy | None = None,
    cache: VerifyCache | None = None,
) -> tuple[list[Mapping[str, Any]], str]:
    """Each machine's verifier report as a dict, and a line saying what ran (or why not), when
    and for which code (its fingerprint). With a `policy` other than Atlas's, the verifier
    checks it when it takes one (K6). With a `cache`, a result stored for the same fingerprint
    is reused, and a whole new one stored (`review.verify_cache`)."""
    verify = verifier()
    if verify is None:
        return [], "The verifier (support_flows.verify) is not installed in this build."
    more: dict[str, Any] = {}
    given = ""
    if policy is not None and not same_terms(policy, ATLAS_POLICY):
        if not _takes_policy(verify):
            return [], (
                f"This build's verifier checks Atlas's policy only, not version "
                f"{policy.version!r}: it was not run for this pack."
            )
        more["policy"] = policy
        given = f", policy=<version {policy.version!r}>"
    key, inputs = fingerprint(more.get("policy", ATLAS_POLICY), depth)
    ran = f"support_flows.verify.run(machine, depth={depth}{given}) for every machine."
    found = None if cache is None else cache.load(key)
    if found is not None:
        for machine in CHARTS:
            progress(f"verify {machine} (depth {depth}): reused, computed {found.computed_at}")
        return list(found.reports), f"{ran} {stamp(found, 'reused from the verification cache')}"
    computed_at = SystemClock().now().replace(microsecond=0)
    reports: list[Mapping[str, Any]] = []
    for machine in CHARTS:
        began = time.perf_counter()
        try:
            data = verify.run(machine, depth=depth, **more).to_dict()
        except Exception as error:  # the pack still shows everything else, and says what failed
            data = {"machine": machine, "error": f"{type(error).__name__}: {error}"}
        if isinstance(data, Mapping):
            reports.append(data)
        else:
            reports.append({"machine": machine, "report": repr(data)})
        progress(f"verify {machine} (depth {depth}): {time.perf_counter() - began:.1f} s")
    stored = None
    if cache is not None and not any("error" in report for report in reports):
        stored = cache.store(key, reports, inputs, computed_at)
    done = stored or Cached(key, computed_at.isoformat(), tuple(reports), inputs)
    how = (
        "computed for this pack (no verification cache)"
        if cache is None
        else "computed for this pack and stored for reuse"
        if stored
        else "computed for this pack, not stored (a run failed or the cache is not writable)"
    )
    return reports, f"{ran} {stamp(done, how)}"


def build(
    directory: Path | str,
    *,
    verify_depth: int | None = VERIFY_DEPTH,
    progress: Progress = lambda line: None,
    catalog: Catalog = ATLAS,
    propose: str | None = None,
    store: Any | None = None,
    now: dt.datetime | None = None,
    cache: VerifyCache | None = None,
) -> Pack:
    """Write the review pack into `directory` (created if needed); `verify_depth` None skips the
    verifier. Raises `LayoutEngineMissing` when the ``diagrams`` extra is not installed.

    The charts and worked timelines are those of `catalog`'s version in force at `now` (the
    system clock's by default). With `propose` (a TOML file whose last version is the proposal,
    or a version id of `catalog`) the page opens with what that version changes (K5); with
    `store` too (anything with ``plans()`` and ``orders()``, as `Store`), how many of its
    records it would treat differently at their next request, read-only. With `cache` the
    verification is reused while its fingerprint is unchanged (`review.verify_cache`)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    moment = pendulum.instance(now) if now is not None else SystemClock().now()
    policy = catalog.at(moment)
    proposal = None if propose is None else proposal_of(catalog, propose, moment)
    found = verifier() if verify_depth else None
    verifying = found is not None and (same_terms(policy, ATLAS_POLICY) or _takes_policy(found))
    total = len(CHARTS) + len(PLAN_STORIES) + 1 + (len(CHARTS) if verifying else 0) + 1
    total += 0 if proposal is None else 2 + (store is not None)
    count = 0

    def step(line: str) -> None:
        nonlocal count
        count += 1
        progress(f"[{count}/{total}] {line}")

    files: list[Path] = []
    changes = None
    if proposal is not None:
        changes = opening(proposal, out, store, step)
        files += changes.files
    charts = []
    for name in CHARTS:
        graph = graph_of(name, policy)
        svg = standalone_svg(to_dot(graph))
        for suffix, text in (("svg", svg), ("mmd", to_mermaid(graph))):
            path = out / f"{name}.{suffix}"
            path.write_text(text, encoding="utf-8")
            files.append(path)
        doc = (compiled(name).chart.__doc__ or "").strip()
        named = f"Diagram of the {graph.title} chart; the transitions table below lists each arrow"
        charts.append((graph, inline_svg(svg, name, named), " ".join(doc.split())))
        step(f"diagram {name}: {out / name}.svg, {out / name}.mmd")
    worked = []
    under = None if same_terms(policy, ATLAS_POLICY) else only(policy)
    for story in PLAN_STORIES:
        worked.append(plan_example(story, under))
        step(f"timeline: {story.title}")
    worked.append(order_example() if under is None else order_example(under))
    step(f"timeline: {worked[-1].title}")
    if verify_depth:
        reports, note = verification(verify_depth, step, policy, cache)
    else:
        reports, note = [], "The verifier was not run for this pack (--no-verify)."
    index = out / "index.html"
    opened = ("", "") if changes is None else (changes.html, changes.css)
    shown = page(charts, worked, reports, note, _version(), *opened, catalog=only(policy))
    index.write_text(shown, encoding="utf-8")
    files.append(index)
    step(f"page: {index}")
    return Pack(index, tuple(files), bool(reports), shortfalls(reports))
