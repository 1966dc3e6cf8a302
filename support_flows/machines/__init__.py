"""State charts and the objects that host applications drive."""
