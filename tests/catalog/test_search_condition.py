"""Fielded conditions (catalog.search.condition) as each engine asks them: one FTS5 expression for
the words of a top-level AND, SQL on the filter rows for the rest, and Meilisearch's words, fields
and filters where it can answer; every word quoted, so that no FTS5 operator can be injected."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from catalog.search.condition import Both, Records, Words, Year, meili_plan, words_of
from catalog.search.condition_fts import embedded_plan
from catalog.search.errors import QueryError
from catalog.search.query import SearchQuery
from tests.conftest import shared_catalogue


def test_words_are_folded_and_prefixes_kept() -> None:
    assert words_of("Đại HỌC hist*") == ("dai", "hoc", "hist*")
    assert words_of('NEAR(a b) "x" OR') == ("near", "a", "b", "x", "or")
    with pytest.raises(QueryError):
        Words("title", ())


def test_the_embedded_plan_puts_the_words_of_an_and_in_one_expression() -> None:
    params: dict[str, Any] = {}
    condition = Both(
        "and",
        Both("and", Words("title", ("dai", "hoc*")), Year(">=", 2000)),
        Both("or", Words("authors", ("nguyen", "du"), "phrase"), Records((3, 4))),
    )
    match, clauses = embedded_plan(condition, params)
    assert match == 'title : ("dai" AND "hoc"*)'
    assert clauses[0] == "f.year >= :cond_0"
    assert "search_fts MATCH :cond_1" in clauses[1] and "f.union_id IN (:cond_2, :cond_3)" in clauses[1]
    assert params == {"cond_0": 2000, "cond_1": 'authors : "nguyen du"', "cond_2": 3, "cond_3": 4}
    negated, rest = embedded_plan(Both("not", Words("any", ("a",)), Words("subjects", ("b",), "any")), {})
    assert negated == '{title authors subjects other} : ("a")' and rest[0].startswith("NOT f.union_id IN")
    quoted, _ = embedded_plan(Words("title", ('x" OR "y',)), {})
    assert quoted == 'title : ("x"" OR ""y")'


def test_meilisearch_answers_what_joins_with_and() -> None:
    assert meili_plan(Both("and", Words("title", ("dai", "hoc")), Year("<", 1990))) == (
        "dai hoc",
        ["title_folded"],
        ["year < 1990"],
    )
    assert meili_plan(Both("and", Words("title", ("a",)), Words("authors", ("b",))))[1] is None
    assert meili_plan(Records((1, 2)))[2] == ["id IN [1, 2]"]
    for refused in (Both("or", Words("title", ("a",)), Year("=", 1)), Words("title", ("a", "b"), "any")):
        with pytest.raises(QueryError):
            meili_plan(refused)


def test_the_embedded_engine_answers_conditions_as_sets_do(tmp_path: Any) -> None:
    from catalog.search.embedded import EmbeddedSearchEngine

    engine = shared_catalogue(tmp_path, {"LIB-A": lambda i: True})
    search = EmbeddedSearchEngine(engine)

    def total(condition: Any) -> int:
        return search.search(SearchQuery(condition=condition, per_page=1, facets=False)).total

    viet, nam, recent = Words("title", ("viet",)), Words("title", ("nam",)), Year(">=", 2010)
    both = total(Both("and", viet, nam))
    assert 0 < both < total(viet)
    assert both + total(Both("not", viet, nam)) == total(viet)
    assert total(Both("or", viet, nam)) == total(viet) + total(nam) - both
    assert total(Both("or", viet, recent)) == total(viet) + total(recent) - total(Both("and", viet, recent))
    hits = search.search(SearchQuery(condition=viet, per_page=3, facets=False)).hits
    some = tuple(h.id for h in hits)
    found = search.search(SearchQuery(condition=Records(some), per_page=10, facets=False))
    assert {h.id for h in found.hits} == set(some) and found.total == 3
    with pytest.raises(QueryError):
        search.search(SearchQuery(q="viet", condition=viet))


@responses.activate
def test_meilisearch_is_asked_the_condition_as_words_fields_and_filters() -> None:
    from catalog.search.meili import MeiliSearchEngine
    from tests.catalog.test_meili_contract import URL, _index_exists

    _index_exists(responses)
    search = responses.post(
        f"{URL}/indexes/union_records/search",
        json={"hits": [], "totalHits": 0, "page": 1, "hitsPerPage": 10, "totalPages": 0},
    )
    condition = Both("and", Words("title", ("dai", "hoc")), Both("and", Year(">=", 1990), Records((5, 9))))
    MeiliSearchEngine(URL, None).search(SearchQuery(condition=condition, per_page=10, facets=False))
    body = json.loads(search.calls[0].request.body)
    assert body["q"] == "dai hoc" and body["attributesToSearchOn"] == ["title_folded"]
    assert body["filter"] == ["year >= 1990", "id IN [5, 9]"]
