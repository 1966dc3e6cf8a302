"""A small FastAPI host service on support_flows and its store (see app.py)."""
