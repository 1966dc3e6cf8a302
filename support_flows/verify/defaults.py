"""The verifier's names and defaults that the command line reads when it lists its commands,
in a module that imports nothing."""

__all__ = ["MACHINES", "STRICT_BOTH_WAYS"]

MACHINES = ("plan", "case", "consulting")
"""The machines the verifier explores, by the names `run` takes."""

STRICT_BOTH_WAYS = True
"""Whether a check's outcome never seen keeps a report from being ok by default (see `Report`):
a rule counts as covered only once it has decided both ways where it can (U1: exit 1)."""
