"""Pure checks: facts in, a violation or None out. They never import the charts."""
