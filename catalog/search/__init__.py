"""Search over union records: one document per union record, two engines behind one interface.

``embedded`` (SQLite FTS5, in the catalogue database and its transactions) serves SQLite catalogues;
``meili`` (Meilisearch, through the official client) serves production.
"""
