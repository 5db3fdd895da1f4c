"""Publishing: snapshots of entries and assets per environment and locale, schedules, bulk jobs, releases and the publish queue (see the publishing issue)."""
