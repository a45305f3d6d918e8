"""embedded search: the vocabulary's deletion neighbourhood, for typo tolerance

``search_typo`` holds, for each word of the indexed titles, authors and subjects, the word and its
variants with one letter (not the first) deleted: a query word's own deletions find the words within
a typo of it by key, without comparing it with the whole vocabulary (see catalog.search.typos).
``search_fts_words`` is FTS5's own view of its vocabulary (fts5vocab): how many records hold a word,
so that a word no record holds any more is never offered, and the most frequent spelling is the
one a "did you mean" proposes. An existing index has its words put in the table here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch, which has its own typo tolerance
    op.execute(
        "CREATE TABLE search_typo (key TEXT NOT NULL, word TEXT NOT NULL, "
        "PRIMARY KEY (key, word)) WITHOUT ROWID"
    )
    op.execute("CREATE VIRTUAL TABLE search_fts_words USING fts5vocab(search_fts, 'row')")
    # The words of the columns the typo index covers (title, authors, subjects), from FTS5 itself.
    op.execute("CREATE VIRTUAL TABLE temp.search_fts_columns USING fts5vocab(main, search_fts, 'col')")
    from catalog.search import typo_words

    rows = bind.exec_driver_sql(
        "SELECT DISTINCT term FROM temp.search_fts_columns WHERE col IN ('title', 'authors', 'subjects')"
    )
    words = typo_words.words_of(row[0] for row in rows)
    op.execute("DROP TABLE temp.search_fts_columns")
    raw = bind.connection.driver_connection
    # The deletion neighbourhood of each word (keys); revision 0023 keeps the words alone.
    rows = sorted(
        (key, word)
        for word in words
        for key in {word} | {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    )
    raw.executemany("INSERT OR IGNORE INTO search_typo (key, word) VALUES (?, ?)", rows)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE search_fts_words")
    op.execute("DROP TABLE search_typo")
