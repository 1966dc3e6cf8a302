"""The README's HTTP status table is `HTTP_STATUS`, row for row: it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from support_flows.errors import HTTP_STATUS, Reason

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table() -> dict[str, int]:
    """reason code -> status, read from the rows of the "HTTP status of refusals" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## HTTP status of refusals", 1)[1].split("\n## ", 1)[0]
    table: dict[str, int] = {}
    for line in section.splitlines():
        row = re.match(r"^\| (\d{3}) \|[^|]*\| (.*) \|$", line)
        if row:
            for code in re.findall(r"`([a-z_]+)`", row.group(2)):
                assert code not in table, f"{code} is listed twice"
                table[code] = int(row.group(1))
    return table


def test_readme_http_status_table_equals_http_status() -> None:
    """Every reason appears once in the README table, under the status `sf.http_status` gives."""
    assert readme_table() == {reason.value: status for reason, status in HTTP_STATUS.items()}
    assert set(HTTP_STATUS) == set(Reason)
