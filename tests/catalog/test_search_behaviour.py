"""What every search engine must do, run against each available engine: the embedded engine always,
a live Meilisearch whenever UNIONCAT_MEILI_URL points at one (skipped, saying so, otherwise)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import QueryError, SearchQuery
from catalog.text import exact_key, fold
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import JAZZ_949, KOHA, VIETNAMESE, shared_catalogue

MEILI_URL = os.environ.get("UNIONCAT_MEILI_URL")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = shared_catalogue(
        tmp_path_factory.mktemp("search"),
        {"VNU-LIC": lambda i: i < 350, "HUST-LIB": lambda i: i >= 200, "HNUE-LIB": lambda i: i % 3 == 0},
        [
            ("TNU-LRC", "Trung tâm Học liệu", "koha", KOHA),
            ("VNAM-LIB", "Học viện Âm nhạc", "949", JAZZ_949),
        ],
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
def search(request: pytest.FixtureRequest, catalogue: Engine):  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        return EmbeddedSearchEngine(catalogue)
    if not MEILI_URL:
        pytest.skip(
            "no Meilisearch server: set UNIONCAT_MEILI_URL (and UNIONCAT_MEILI_KEY) to run this suite live"
        )
    from catalog.search.meili import MeiliSearchEngine

    engine = MeiliSearchEngine(
        MEILI_URL, os.environ.get("UNIONCAT_MEILI_KEY"), index="unioncat_test_behaviour"
    )
    engine.rebuild(catalogue)
    return engine


def ids(result) -> list[int]:  # type: ignore[no-untyped-def]
    return [h.id for h in result.hits]


def run(search, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("per_page", 100)
    return search.search(SearchQuery(**kwargs))


def test_vietnamese_without_diacritics_and_in_capitals(search) -> None:  # type: ignore[no-untyped-def]
    variants = [
        "dai hoc quoc gia ha noi",
        "Đại học Quốc gia Hà Nội",
        "DAI HOC QUOC GIA HA NOI",
        "ĐẠI HỌC QUỐC GIA HÀ NỘI",
    ]
    results = [sorted(ids(run(search, q=v))) for v in variants]
    assert results[0], "the demo data holds records of the Vietnam National University press"
    assert all(r == results[0] for r in results)
    assert sorted(ids(run(search, q="dang cong san"))) == sorted(ids(run(search, q="Đảng cộng sản")))
    assert ids(run(search, q="dang cong san"))  # đ folds to d


def test_tone_placement_variants_match(search) -> None:  # type: ignore[no-untyped-def]
    assert sorted(ids(run(search, q="văn hóa"))) == sorted(ids(run(search, q="văn hoá")))
    assert ids(run(search, q="văn hóa"))


def test_exact_diacritics_rank_first(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from catalog.models import UnionRecord

    result = run(search, q="hồ ")
    assert result.total > 5
    with catalogue.connect() as conn:
        rows = dict(
            conn.execute(
                select(UnionRecord.id, UnionRecord.fields).where(UnionRecord.id.in_(ids(result)))
            ).all()
        )

    def exact(uid: int) -> bool:
        f = rows[uid]
        text = " ".join(
            [
                f.get("title") or "",
                f.get("subtitle") or "",
                *(a["name"] for a in f.get("authors") or []),
                *(f.get("subjects") or []),
            ]
        )
        return "hồ" in exact_key(text).split()

    flags = [exact(h.id) for h in result.hits]
    assert flags[0] and not all(
        flags
    )  # "hồ" first, then "hổ", "họ", "hộ" ... that match only without diacritics
    assert flags == sorted(flags, reverse=True)
    assert run(search, q="ho ").total >= result.total


def test_prefix_all_words_and_phrases(search) -> None:  # type: ignore[no-untyped-def]
    assert run(search, q="emancip").hits[0].title.startswith("The path of emancipation")
    assert run(search, q="path emancipation").total >= 1
    assert run(search, q="path zzqqxx").total == 0
    assert run(search, q='"path of emancipation"').total >= 1
    assert run(search, q='"emancipation path of"').total == 0


def test_isbn_search(search) -> None:  # type: ignore[no-untyped-def]
    plain = ids(run(search, q="9781888375152"))
    assert plain and plain == ids(run(search, q="978-1-888375-15-2")) == ids(run(search, q="1888375159"))
    assert plain == ids(run(search, q="1-888375-15-9"))
    # with the label readers copy along with the number
    assert plain == ids(run(search, q="ISBN 978-1-888375-15-2")) == ids(run(search, q="isbn: 1888375159"))
    assert plain == ids(run(search, q="ISBN-13: 9781888375152"))


def test_filters(search) -> None:  # type: ignore[no-untyped-def]
    everything = run(search, q="", per_page=1)
    vnu = run(search, q="", libraries=["VNU-LIC"], per_page=1)
    both = run(search, q="", libraries=["VNU-LIC", "HUST-LIB"], per_page=1)
    assert 0 < vnu.total < both.total < everything.total
    assert vnu.total == 350
    vie = run(search, q="", languages=["vie"])
    assert vie.total > 100 and all(
        "vie" in search.documents([h.id])[h.id].get("languages", ["vie"]) for h in vie.hits[:5]
    )
    music = run(search, q="", material_types=["music recording"])
    assert music.total > 100 and all(h.material_type == "music recording" for h in music.hits)
    decade = run(search, q="", year_from=1990, year_to=1999)
    assert decade.total > 0 and all(1990 <= (h.year or 0) <= 1999 for h in decade.hits)
    jazz = run(search, q="", subjects=["Jazz"])
    assert jazz.total > 50
    davis = run(search, q="", authors=["Davis, Miles, 1926-1991"])
    assert davis.total > 5 and all(any("Davis" in a for a in h.authors) for h in davis.hits)
    digital = run(search, q="", has_digital=True)
    assert 0 < digital.total < everything.total and all(h.has_digital for h in digital.hits)


def test_facet_counts(search) -> None:  # type: ignore[no-untyped-def]
    result = run(search, q="viet nam", per_page=5)
    facets = result.facets
    assert set(facets) == {"library", "language", "material_type", "decade", "subject", "author"}
    for code, count in facets["library"]:
        assert run(search, q="viet nam", libraries=[code], per_page=1).total == count
    assert dict(facets["language"]).get("vie", 0) > 0


def test_sorting(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from catalog.models import UnionRecord

    newest = [h.year for h in run(search, q="jazz", sort="year_desc").hits if h.year]
    oldest = [h.year for h in run(search, q="jazz", sort="year_asc").hits if h.year]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest)
    hits = ids(run(search, q="viet", sort="title"))
    with catalogue.connect() as conn:
        fields = dict(
            conn.execute(select(UnionRecord.id, UnionRecord.fields).where(UnionRecord.id.in_(hits))).all()
        )
    # filing titles (leading articles skipped), folded: Vietnamese alphabetical order without diacritics
    keys = [fold(fields[i].get("sort_title") or fields[i].get("title")) for i in hits]
    assert keys == sorted(keys)


def test_pagination_is_exact(search) -> None:  # type: ignore[no-untyped-def]
    total = run(search, q="jazz", per_page=1).total
    seen: list[int] = []
    page = 1
    while True:
        result = run(search, q="jazz", per_page=100, page=page)
        assert result.total == total
        if not result.hits:
            break
        seen += ids(result)
        page += 1
    assert len(seen) == total == len(set(seen))


def test_highlighting_keeps_diacritics(search) -> None:  # type: ignore[no-untyped-def]
    result = run(search, q="dai hoc")
    marked = [h.highlight["title"] for h in result.hits if "<mark>" in h.highlight["title"]]
    assert marked and any("<mark>Đại</mark>" in m or "<mark>học</mark>" in m for m in marked)


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        "'",
        "title:x",
        "NEAR(a b)",
        "a OR b",
        "a AND NOT b",
        "*",
        "(",
        "x' OR '1'='1",
        "); DROP TABLE library;--",
        "{title}: x",
        "^a",
        "a -b",
        "\\",
        "%",
        "_",
    ],
)
def test_hostile_input_is_just_text(search, hostile: str) -> None:  # type: ignore[no-untyped-def]
    result = run(search, q=hostile, libraries=[hostile], subjects=[hostile], authors=[hostile], per_page=5)
    assert result.total == 0
    plain = run(search, q=hostile, per_page=5)
    assert plain.total >= 0


def test_invalid_requests(search) -> None:  # type: ignore[no-untyped-def]
    for kwargs in (
        {"sort": "nope"},
        {"page": 0},
        {"per_page": 1000},
        {"q": "x" * 600},
        {"year_from": 2000, "year_to": 1990},
    ):
        with pytest.raises(QueryError):
            run(search, **kwargs)


def test_index_follows_every_job(catalogue: Engine, tmp_path: Path) -> None:
    """Ingest, update and delete jobs update the embedded index in the same transaction."""
    search = EmbeddedSearchEngine(catalogue)
    from catalog.search.consistency import check

    assert check(catalogue, search, sample=500)["in_sync"]
    with open(VIETNAMESE, "rb") as fh:
        first = next(split_records(fh))[1]
    gone = tmp_path / "gone.mrc"
    gone.write_bytes(first)
    before = run(search, q="emancipation").hits[0]
    assert "HNUE-LIB" in before.libraries
    ingest_file(catalogue, "HNUE-LIB", gone, mode="delete")
    after = run(search, q="emancipation").hits[0]
    assert after.id == before.id and "HNUE-LIB" not in after.libraries
    assert check(catalogue, search, sample=500)["in_sync"]
    ingest_file(catalogue, "HNUE-LIB", gone)
    assert "HNUE-LIB" in run(search, q="emancipation").hits[0].libraries
