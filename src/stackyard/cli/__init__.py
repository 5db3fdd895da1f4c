"""The `stackyard` command: server administration plus client commands built on the SDK."""
