"""What every route of every API can reach: the settings, the database and the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass

from stackyard.core.ratelimit import RateLimiter
from stackyard.settings import Settings
from stackyard.store.engine import Database


@dataclass
class AppState:
    settings: Settings
    db: Database
    limiter: RateLimiter
