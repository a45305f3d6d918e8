"""embedded search: the typo index becomes the list of words, measured in memory

``search_typo`` held every word of the titles, authors and subjects with each of its one-letter
deletions: about ten rows a word (three million at 250,000 records), written as the index grew, which
doubled the cost of indexing. It missed words two letters changed from a long query word. The words
alone are kept now, in the order they came (``id``), and each process measures a query word against
those of its first letter and a near length (catalog.search.typos.Vocabulary), which finds every word
within the distance.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL catalogues search with Meilisearch, which has its own typo tolerance
    # AUTOINCREMENT: ids never go back, so a process sees a rebuilt list as new (its lowest id changed)
    op.execute(
        "CREATE TABLE search_typo_word (id INTEGER PRIMARY KEY AUTOINCREMENT, word TEXT NOT NULL UNIQUE)"
    )
    op.execute(
        "INSERT INTO search_typo_word (word) SELECT key FROM search_typo WHERE key = word ORDER BY key"
    )
    op.execute("DROP TABLE search_typo")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE search_typo (key TEXT NOT NULL, word TEXT NOT NULL, "
        "PRIMARY KEY (key, word)) WITHOUT ROWID"
    )
    raw = bind.connection.driver_connection
    words = [row[0] for row in raw.execute("SELECT word FROM search_typo_word")]
    rows = sorted(
        (key, word)
        for word in words
        for key in {word} | {word[:i] + word[i + 1 :] for i in range(1, len(word))}
    )
    raw.executemany("INSERT OR IGNORE INTO search_typo (key, word) VALUES (?, ?)", rows)
    op.execute("DROP TABLE search_typo_word")
