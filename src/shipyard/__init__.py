"""Shipyard: get features and fixes from a developer's branch into production, safely."""

__version__ = "0.1.0"
