"""Stackyard: a self-hosted content platform."""

__version__ = "0.1.0"
