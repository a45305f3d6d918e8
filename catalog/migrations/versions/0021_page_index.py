"""embedded search: the text of digital objects' pages, in an FTS5 index of its own

``page_fts`` holds the folded text of every page of an active digital object whose text was
extracted (see catalog.search.pages), one row per page, its rowid the object's id and the page's
number together. It is contentless: the text itself is kept once, in ``digital_page``, from which
snippets are cut; the index holds only what searching needs. The tokenizer is the records' index's
(``unicode61`` over folded text), so a word is found in a file as it is in a title. Pages already
extracted are indexed here.

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch, which keeps its own page index
    op.execute(
        "CREATE VIRTUAL TABLE page_fts USING fts5("
        "text, content = '', tokenize = 'unicode61 remove_diacritics 0')"
    )
    from catalog.search import pages

    pages.rebuild(bind.connection.driver_connection)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE page_fts")
