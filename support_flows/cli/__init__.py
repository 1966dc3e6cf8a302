"""The ``support-flows`` command (also ``python -m support_flows``): `main` and its commands
(`cli.main`), the group that loads optional commands (`cli.group`), the requests it explains
and draws (`cli.requests`), and its exit statuses and one-line failures (`cli.errors`, U1)."""

from __future__ import annotations

from support_flows.cli.group import Main, load_optional
from support_flows.cli.main import OPTIONAL_COMMANDS, main, register_optional

__all__ = ["OPTIONAL_COMMANDS", "Main", "load_optional", "main", "register_optional"]
