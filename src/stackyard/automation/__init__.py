"""The StackStorm-compatible automation engine: packs, actions, runners, executions, rules, triggers, keys and the stream."""
