"""The CQL 1.2 parser and its translation to the catalogue's search condition, on the grammar's
own cases: booleans left to right, relations with modifiers, prefix assignments, quoted terms,
sortby, and every fault a syntax error naming where it is."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.sru import cql
from api.sru.diagnostics import Diagnostic
from api.sru.translate import Translator, sort_of
from catalog.search.condition import Both, Records, Words, Year


def test_a_bare_term_is_server_choice() -> None:
    query = cql.parse("jazz")
    assert query.root == cql.SearchClause("cql.serverChoice", cql.Relation("="), "jazz")


def test_booleans_bind_left_to_right_with_equal_precedence() -> None:
    root = cql.parse("a or b and c not d").root
    assert isinstance(root, cql.Boolean) and root.operator == "not"
    assert root.left.operator == "and" and root.left.left.operator == "or"  # type: ignore[union-attr]
    grouped = cql.parse("a or (b and c)").root
    assert grouped.operator == "or" and grouped.right.operator == "and"  # type: ignore[union-attr]


def test_relations_named_and_symbolic_with_modifiers() -> None:
    for text, relation in (("dc.title any fish", "any"), ("dc.date >= 2000", ">="), ("x <> y", "<>")):
        root = cql.parse(text).root
        assert isinstance(root, cql.SearchClause) and root.relation.name == relation
    root = cql.parse("dc.title =/ignoreCase/cql.string fish").root
    assert root.relation.modifiers == (cql.Modifier("ignorecase"), cql.Modifier("cql.string"))  # type: ignore[union-attr]
    prox = cql.parse("a prox/unit=word/distance>3 b").root
    assert prox.modifiers == (cql.Modifier("unit", "=", "word"), cql.Modifier("distance", ">", "3"))  # type: ignore[union-attr]


def test_quoted_terms_keywords_as_terms_and_escapes() -> None:
    root = cql.parse(r'dc.title = "the \"and\" of it"').root
    assert root.term == 'the "and" of it'  # type: ignore[union-attr]
    assert cql.parse('"and"').root.term == "and"  # type: ignore[union-attr]
    assert cql.parse("dc.title = and").root.term == "and"  # type: ignore[union-attr]
    assert cql.parse("dc.title=fish\\*").root.term == "fish\\*"  # type: ignore[union-attr]


def test_prefix_assignments_and_sortby() -> None:
    query = cql.parse(
        '> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title=x sortby dc.date/sort.descending dc.title'
    )
    assert query.root.prefixes == (("dc", "info:srw/cql-context-set/1/dc-v1.1"),)  # type: ignore[union-attr]
    assert [k.index for k in query.sort_keys] == ["dc.date", "dc.title"]
    assert query.sort_keys[0].modifiers == (cql.Modifier("sort.descending"),)
    with pytest.raises(cql.CqlSyntaxError):  # SRU 1.1 knows no sortby: a word where none may be
        cql.parse("x sortby dc.date", "1.1")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("", 10),
        ("dc.title =", 10),
        ("a and", 10),
        ("a b", 10),
        ("(a", 13),
        ("a)", 13),
        (")", 13),
        ('"a', 14),
        ("a sortby", 10),
        ("a =/ b", 10),
        ("(" * 50 + "a" + ")" * 50, 38),
        (" or ".join("x" * 100), 38),
    ],
)
def test_faults_name_their_diagnostic(text: str, number: int) -> None:
    with pytest.raises(cql.CqlSyntaxError) as raised:
        cql.parse(text)
    assert raised.value.diagnostic == number


@given(st.text(max_size=200))
def test_any_text_parses_or_is_a_syntax_error(text: str) -> None:
    """No other exception, whatever the text (no recursion, index or type error)."""
    try:
        query = cql.parse(text)
    except cql.CqlSyntaxError as exc:
        assert 0 <= exc.position <= len(text) and exc.diagnostic in (10, 13, 14, 38)
    else:
        assert isinstance(query.root, (cql.SearchClause, cql.Boolean))


def _translate(text: str) -> object:
    return Translator(
        lambda kind, value: [42] if value.replace("-", "") == "9780670026623" else []
    ).condition(cql.parse(text).root)


def test_translation_to_the_search_condition() -> None:
    assert _translate('title="Đại học"') == Words("title", ("dai", "hoc"), "all")
    assert _translate('dc.creator adj "Nguyễn Văn"') == Words("authors", ("nguyen", "van"), "phrase")
    assert _translate('subject any "hist* văn"') == Words("subjects", ("hist*", "van"), "any")
    assert _translate("dc.date < 2000") == Year("<", 2000)
    assert _translate('dc.date within "2010 2000"') == Both("and", Year(">=", 2000), Year("<=", 2010))
    assert _translate("isbn=978-0-670-02662-3 or issn=1234-5679") == Both("or", Records((42,)), Records(()))
    # an ISBN printed with a wrong check digit is searched as the word it is
    assert _translate("bath.isbn=9780670026624") == Words("any", ("9780670026624",))
    assert _translate('rec.id any "union-7 8"') == Records((7, 8))
    assert _translate("dc.title=a not dc.publisher=b") == Both(
        "not", Words("title", ("a",)), Words("publisher", ("b",))
    )


def test_sort_keys() -> None:
    assert sort_of(cql.parse("x sortby dc.date/sort.descending").sort_keys) == "year_desc"
    assert sort_of(cql.parse("x sortby dc.date/sort.ascending").sort_keys) == "year_asc"
    assert sort_of(cql.parse("x sortby title").sort_keys) == "title"
    assert sort_of([]) == "relevance"
    with pytest.raises(Diagnostic) as raised:
        sort_of(cql.parse("x sortby dc.title/sort.descending").sort_keys)
    assert raised.value.number == 90
