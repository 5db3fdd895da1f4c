"""Stack administration: stacks, members, roles, tokens, environments, locales and stack settings."""
