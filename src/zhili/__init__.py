"""Zhili (治理): city- and county-level social governance platform."""

__version__ = "0.1.0"
