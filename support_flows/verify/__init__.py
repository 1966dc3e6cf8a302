"""Systematic verification of the charts against an independent reference of RULES.md.

`run(machine)` explores every action sequence of a machine up to a bounded depth (breadth first,
equivalent points explored once), checks the invariants after every step, and returns a `Report`
with its coverage and, for each broken invariant, the rule it breaks and a shortest
counterexample. `paths(machine)` returns, for every chart edge, the shortest sequence of public
calls found that takes it: data a host's model-based tests can replay.

The references it checks against (`verify.reference.plan`, `verify.reference.case`,
`verify.reference.consulting`) are written from RULES.md alone: they import no chart, guard or
record of the library: their calendar (`verify.reference.calendar`) is their own, on `zoneinfo`.
"""

from typing import TYPE_CHECKING

from support_flows.lazy import lazy_exports

if TYPE_CHECKING:
    from support_flows.verify.defaults import MACHINES, STRICT_BOTH_WAYS
    from support_flows.verify.findings import GENERIC_RULES
    from support_flows.verify.model import (
        Counterexample,
        Coverage,
        Decided,
        Finding,
        Path,
        Report,
        Setup,
        Step,
        Tally,
    )
    from support_flows.verify.runs import default_depth, paths, run

__all__ = [
    "GENERIC_RULES",
    "MACHINES",
    "STRICT_BOTH_WAYS",
    "Counterexample",
    "Coverage",
    "Decided",
    "Finding",
    "Path",
    "Report",
    "Setup",
    "Step",
    "Tally",
    "default_depth",
    "paths",
    "run",
]

# Imported when first read (PEP 562): the command line reads MACHINES without the explorers.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "support_flows.verify.defaults": ("MACHINES", "STRICT_BOTH_WAYS"),
        "support_flows.verify.findings": ("GENERIC_RULES",),
        "support_flows.verify.model": (
            "Counterexample",
            "Coverage",
            "Decided",
            "Finding",
            "Path",
            "Report",
            "Setup",
            "Step",
            "Tally",
        ),
        "support_flows.verify.runs": ("default_depth", "paths", "run"),
    },
)
