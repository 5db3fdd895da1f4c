"""Entries: per-locale, versioned content of a content type, with their validation, operators, versions, localization and import/export."""
