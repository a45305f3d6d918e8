"""What a search can fail with, whichever engine answers it (both engines and their callers import
these from here)."""

from __future__ import annotations


class QueryError(ValueError):
    """A search request that cannot be answered as asked (bad sort, page out of range ...)."""


class SearchUnavailable(RuntimeError):
    """The search engine cannot be reached or refused a request."""


class ConfigurationError(RuntimeError):
    """The settings name no search engine that can serve this catalogue."""
