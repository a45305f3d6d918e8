"""The facets and filters of a search, each declared once: its name in the API and the query string,
the search document's field it reads, the kind of filter it is, and how each engine filters and
counts it. Both engines, the API, the web page and the labels of facet values read this registry.

A *counted* facet is one whose values a search counts (the checkboxes beside the hits); a filter that
is not counted (``has_digital``) only narrows a search. The counted facets keep their order: the
embedded engine stores each value's facet as its position in :data:`COUNTED` (see
``embedded_facets.code_of``), so a new facet goes at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What a filter compares: text values (any of them), whole numbers (any of them), or yes/no."""

    TERMS = "terms"
    INTEGER = "integer"
    BOOLEAN = "boolean"


class Label(StrEnum):
    """Which names a facet's values are shown with (the text is the API layer's: api/labels.py)."""

    LIBRARY = "library"  # a member library's name for its code
    LANGUAGE = "language"  # a language's name for its MARC code
    MATERIAL_TYPE = "material_type"
    DECADE = "decade"  # 1980 -> "1980s"


@dataclass(frozen=True)
class Facet:
    """One facet or filter of a search.

    ``name``: the query-string parameter and the key of the facet's counts; ``query_field``: the
    attribute of :class:`~catalog.search.query.SearchQuery` holding the chosen values; ``field``: the
    search document's field (a value or a list of values), which Meilisearch filters and counts;
    ``column``: for a filter the embedded engine reads from a column of search_filter rather than
    from the record's packed facet codes; ``condition``: for a yes/no filter the embedded engine reads
    from the catalogue's own tables, SQL true for a record (``f.union_id``) that has it; ``label``:
    which names its values are shown with."""

    name: str
    query_field: str
    field: str
    kind: Kind
    label: Label | None = None
    counted: bool = True
    column: str | None = None
    condition: str | None = None
    description: str = ""

    # --------------------------------------------------------------------------------- values
    def values_of(self, doc: Mapping[str, Any]) -> list[str]:
        """The facet's values in a search document, as text (how the embedded engine codes them)."""
        value = doc.get(self.field)
        if value is None or value == "" or (value == 0 and self.kind is Kind.INTEGER):
            return []
        values = value if isinstance(value, list) else [value]
        return [str(v) for v in values]

    def chosen(self, query: Any) -> list[Any]:
        """The values a search query chose for this facet (none: no filter)."""
        value = getattr(query, self.query_field)
        if self.kind is Kind.BOOLEAN:
            return [] if value is None else [bool(value)]
        return list(value)

    # ---------------------------------------------------------------------------- Meilisearch
    def meili_filter(self, values: Sequence[Any]) -> list[str]:
        """The facet's filter in Meilisearch's array form: one condition per value, any of them."""
        if self.kind is Kind.BOOLEAN:
            return [f"{self.field} = {'true' if v else 'false'}" for v in values]
        if self.kind is Kind.INTEGER:
            return [f"{self.field} = {int(v)}" for v in values]
        return [f"{self.field} = {meili_string(v)}" for v in values]

    # ------------------------------------------------------------------------------- embedded
    def embedded_values(self, values: Sequence[Any]) -> list[str]:
        """The chosen values as the embedded engine codes them (see :meth:`values_of`)."""
        return [str(int(v)) if self.kind is Kind.INTEGER else str(v) for v in values]


def meili_string(value: object) -> str:
    """A filter value as a Meilisearch string literal: nothing in it can end the string."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


FILTERS: tuple[Facet, ...] = (
    Facet("library", "libraries", "libraries", Kind.TERMS, Label.LIBRARY, description="Library codes"),
    Facet("language", "languages", "languages", Kind.TERMS, Label.LANGUAGE, description="MARC codes"),
    Facet("material_type", "material_types", "material_type", Kind.TERMS, Label.MATERIAL_TYPE),
    Facet("decade", "decades", "decade", Kind.INTEGER, Label.DECADE, description="Decades, e.g. 1990"),
    Facet("subject", "subjects", "subjects", Kind.TERMS),
    Facet("author", "authors", "authors", Kind.TERMS),
    Facet(
        "has_digital",
        "has_digital",
        "has_digital",
        Kind.BOOLEAN,
        counted=False,
        column="has_digital",
        description="Only records with (or without) a digital copy",
    ),
    Facet(
        "has_fulltext",
        "has_fulltext",
        "has_fulltext",
        Kind.BOOLEAN,
        counted=False,
        condition=(
            "f.union_id IN (SELECT s.union_record_id FROM digital_object o JOIN source_record s "
            "ON s.id = o.source_record_id WHERE o.status = 'active' AND o.text_status = 'extracted' "
            "AND s.union_record_id IS NOT NULL)"
        ),
        description="Only records with (or without) a file whose text is searched",
    ),
)
COUNTED: tuple[Facet, ...] = tuple(f for f in FILTERS if f.counted)
BY_NAME: dict[str, Facet] = {f.name: f for f in FILTERS}
NAMES: tuple[str, ...] = tuple(f.name for f in COUNTED)
