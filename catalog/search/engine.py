"""The interface both search engines implement, and how the configured one is chosen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from catalog.search.errors import ConfigurationError, SearchUnavailable
from catalog.search.query import SearchQuery, SearchResult
from catalog.settings import Settings


class SearchEngine(Protocol):
    name: str
    # True when writes happen on the catalogue's own connection, inside its transaction.
    transactional: bool

    def upsert(self, conn: Connection | None, docs: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, conn: Connection | None, ids: Sequence[int]) -> None: ...

    def flush(self, conn: Connection | None) -> None:
        """Write what the engine holds back in the catalogue's transaction (the commit writes it
        anyway; a job calls this to count the time as its index's). An engine that is not
        transactional holds nothing."""
        ...

    def index_pages(self, conn: Connection | None, object_id: int, pages: Iterable[tuple[int, str]]) -> None:
        """Index the pages (number, text) of a digital object whose text was extracted."""
        ...

    def unindex_pages(self, conn: Connection | None, object_id: int) -> None:
        """Remove a digital object's pages from the index (before they leave the catalogue)."""
        ...

    def indexed_holdings(self, conn: Connection | None, ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """The holdings summaries ({library code: copies}) the index holds for those of ``ids`` it
        has, read in the catalogue's transaction; none from an engine that is not transactional."""
        ...

    def add_copies(self, conn: Connection | None, added: Mapping[int, dict[str, int]]) -> set[int]:
        """Add to the indexed documents of union records whose description is unchanged the copies
        ({library code: copies}) their new members brought, in the catalogue's transaction; return
        the ids done (the others need whole documents). An engine that is not transactional does
        none."""
        ...

    def search(self, query: SearchQuery) -> SearchResult: ...

    def count(self) -> int: ...

    def documents(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The stored documents of ``ids`` (for consistency checks)."""
        ...

    def rebuild(self, catalogue: Engine) -> int:
        """Index every union record anew; searches keep working on the old index meanwhile."""
        ...

    def health(self) -> dict[str, Any]: ...


def open_search(settings: Settings, catalogue: Engine) -> SearchEngine:
    """Meilisearch when its URL is configured; otherwise the embedded engine of a SQLite catalogue.

    A PostgreSQL catalogue without Meilisearch is refused: production searches with Meilisearch.
    """
    if settings.meili_url:
        from catalog.search.meili import MeiliSearchEngine

        return MeiliSearchEngine(
            settings.meili_url, settings.meili_key, settings.meili_index, catalogue=catalogue
        )
    if catalogue.dialect.name != "sqlite":
        raise ConfigurationError(
            "a PostgreSQL catalogue searches with Meilisearch: set UNIONCAT_MEILI_URL "
            "(the embedded search engine serves SQLite catalogues only)"
        )
    from catalog.search.embedded import EmbeddedSearchEngine

    return EmbeddedSearchEngine(catalogue)


__all__ = ["ConfigurationError", "SearchEngine", "SearchUnavailable", "open_search"]
