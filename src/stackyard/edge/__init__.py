"""The StackPath-compatible edge: the CDN control plane and the caching proxy (data plane)."""
