"""``python -m support_flows``: the ``support-flows`` command."""

from support_flows.cli import main

main(prog_name="support-flows")
