"""``python -m support_flows.store rollover|outbox relay --db URL``."""

from support_flows.store.cli import main

if __name__ == "__main__":
    main()
