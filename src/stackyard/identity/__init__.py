"""Identity and tenancy: users, sessions, mail, organizations."""
