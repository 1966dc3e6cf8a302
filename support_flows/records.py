"""What every record a host returns can do: turn itself into JSON-safe data."""

from __future__ import annotations

from typing import Any

__all__ = ["Record"]


class Record:
    """A frozen record with `to_dict()`: JSON-safe, instants as ISO 8601 UTC, enums as text."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        from support_flows.snapshots import unstructure  # snapshots reads these records

        return unstructure(self)
