"""What every domain shares: the event spine, durable jobs, the outbound HTTP client, per-process caches."""
