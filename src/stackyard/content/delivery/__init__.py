"""Content delivery: the delivery query, sync and the response cache (see the delivery issue)."""
