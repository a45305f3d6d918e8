"""The facet registry: every facet it declares filters and counts on the embedded engine over a real
catalogue, its Meilisearch filters follow Meilisearch's documented filter syntax, and the labels of
its values come from the kind the registry names."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from api.labels import facet_value_label
from catalog.search import facets as registry
from catalog.search.documents import all_union_ids, documents
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.meili import SETTINGS, filters
from catalog.search.query import FACETS, SearchQuery
from tests.conftest import KOHA, shared_catalogue


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = shared_catalogue(
        tmp_path_factory.mktemp("facets"),
        {"VNU-LIC": lambda i: i < 200, "HUST-LIB": lambda i: i >= 120},
        [("TNU-LRC", "Trung tâm Học liệu", "koha", KOHA)],
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def docs(catalogue: Engine) -> list[dict]:
    with catalogue.connect() as conn:
        return [d for ids in all_union_ids(conn) for d in documents(conn, ids)[0]]


def _query(facet: registry.Facet, values: list[object], **extra: object) -> SearchQuery:
    value: object = values[0] if facet.kind is registry.Kind.BOOLEAN else values
    return SearchQuery(**{facet.query_field: value}, **extra)  # type: ignore[arg-type]


def _every_id(engine: EmbeddedSearchEngine, facet: registry.Facet, values: list[object]) -> set[int]:
    seen: set[int] = set()
    page = 1
    while True:
        result = engine.search(_query(facet, values, per_page=100, page=page, facets=False))
        if not result.hits:
            return seen
        seen |= {h.id for h in result.hits}
        page += 1


def test_the_registry_declares_each_facet_once() -> None:
    names = [f.name for f in registry.FILTERS]
    assert len(names) == len(set(names))
    assert FACETS == registry.NAMES == tuple(f.name for f in registry.FILTERS if f.counted)
    # the embedded engine's codes keep each counted facet's place (migration 0005 wrote them so)
    assert registry.NAMES[:6] == ("library", "language", "material_type", "decade", "subject", "author")
    for facet in registry.FILTERS:
        assert hasattr(SearchQuery(), facet.query_field), facet.name
        assert facet.field in SETTINGS["filterableAttributes"], facet.name
    assert {f.kind for f in registry.FILTERS} == set(registry.Kind)


def test_every_facet_filters_on_the_embedded_engine(catalogue: Engine, docs: list[dict]) -> None:
    engine = EmbeddedSearchEngine(catalogue)
    for facet in registry.FILTERS:
        if facet.kind is registry.Kind.BOOLEAN:
            for wanted in (True, False):
                expected = {d["id"] for d in docs if bool(d[facet.field]) is wanted}
                assert _every_id(engine, facet, [wanted]) == expected, (facet.name, wanted)
            continue
        holders: dict[str, set[int]] = {}
        for doc in docs:
            for value in facet.values_of(doc):
                holders.setdefault(value, set()).add(doc["id"])
        assert holders, f"the catalogue has no value of {facet.name}"
        # the most and the least common values, and two values at once (any of them)
        ranked = sorted(holders, key=lambda v: (-len(holders[v]), v))
        chosen: list[list[object]] = [[ranked[0]], [ranked[-1]], ranked[:2]]
        for values in chosen:
            if facet.kind is registry.Kind.INTEGER:
                values = [int(str(v)) for v in values]
            expected = set().union(*(holders[str(v)] for v in values))
            assert _every_id(engine, facet, values) == expected, (facet.name, values)


def test_every_counted_facet_counts_on_the_embedded_engine(catalogue: Engine, docs: list[dict]) -> None:
    engine = EmbeddedSearchEngine(catalogue)
    library = registry.BY_NAME["library"]
    for query in (SearchQuery(facet_limit=200), _query(library, ["HUST-LIB"], facet_limit=200)):
        chosen = set(library.chosen(query))
        subset = [d for d in docs if not chosen or chosen & set(d["libraries"])]
        result = engine.search(query)
        assert result.total == len(subset) and result.facets_exact
        assert set(result.facets) == set(registry.NAMES)
        for facet in registry.COUNTED:
            expected = Counter(v for d in subset for v in dict.fromkeys(facet.values_of(d)))
            assert expected, facet.name
            top = sorted(expected.items(), key=lambda vc: (-vc[1], vc[0]))[:200]
            assert result.facets[facet.name] == top, facet.name


# Meilisearch's filter grammar for what the registry writes: `attribute = value`, a value being a
# number, true/false, or a double-quoted string in which a quote or a backslash is escaped.
_STRING = r'"(?:[^"\\]|\\.)*"'
_CONDITION = re.compile(rf"^(?P<attribute>[A-Za-z_][\w.]*) = (?P<value>{_STRING}|-?\d+|true|false)$")


@pytest.mark.parametrize("facet", registry.FILTERS, ids=lambda f: f.name)
def test_meilisearch_filters_follow_the_documented_syntax(facet: registry.Facet) -> None:
    values: list[object] = {
        registry.Kind.TERMS: ['Hà "Nội"', "back\\slash", "plain"],
        registry.Kind.INTEGER: [1990, 2000],
        registry.Kind.BOOLEAN: [True],
    }[facet.kind]
    built = filters(_query(facet, values))
    if facet.kind is registry.Kind.BOOLEAN:
        assert built == [f"{facet.field} = true"]
        assert filters(_query(facet, [False])) == [f"{facet.field} = false"]
        return
    [conditions] = built  # one inner list: any of the values (OR)
    assert len(conditions) == len(values)
    for condition, value in zip(conditions, values, strict=True):
        match = _CONDITION.match(condition)
        assert match, condition
        assert match["attribute"] == facet.field and facet.field in SETTINGS["filterableAttributes"]
        literal = match["value"]
        if facet.kind is registry.Kind.INTEGER:
            assert int(literal) == value
        else:  # the string literal reads back as the value
            assert re.sub(r"\\(.)", r"\1", literal[1:-1]) == value


def test_labels_follow_the_kind_the_registry_names() -> None:
    names = {"VNU-LIC": "Thư viện ĐHQG Hà Nội"}
    assert facet_value_label("library", "VNU-LIC", "en", names) == "Thư viện ĐHQG Hà Nội"
    assert facet_value_label("language", "vie", "en", names) == "Vietnamese"
    assert facet_value_label("material_type", "book", "vi", names) == "Sách"
    assert facet_value_label("decade", 1990, "en", names) == "1990s"
    assert facet_value_label("subject", "vie", "en", names) == "vie"  # no label kind: as it is
    labelled = {f.name for f in registry.COUNTED if f.label is not None}
    assert labelled == {"library", "language", "material_type", "decade"}
