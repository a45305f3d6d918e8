"""Citations of a union record (BibTeX, CSL-JSON, APA and the Vietnamese Ministry style through
citeproc-py) and Atom feeds (a member's new acquisitions, a search's records), on real records
uploaded through the API; a member's text never becomes markup in either."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from pymarc import Field, Subfield

from tests.api.test_hostile import hostile, marc, union_id, upload
from tests.api.test_http import _library

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = '<script>alert(1)</script> & "Số đỏ" {\\input{/etc/passwd}} %'


def _book(local_id: str, title: str, author: str, year: str, isbn: str) -> bytes:
    return marc(
        local_id,
        title,
        Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", author)]),
        Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", isbn)]),
        Field(
            tag="260",
            indicators=[" ", " "],
            subfields=[Subfield("a", "Hà Nội :"), Subfield("b", "NXB Văn học,"), Subfield("c", year)],
        ),
    )


@pytest.fixture
def books(client: TestClient) -> dict[str, int]:
    token = _library(client, "VNU-LIC")
    other = _library(client, "HUST")
    upload(client, "VNU-LIC", token, _book("K1", "Truyện Kiều", "Nguyễn, Du,", "2015", "9780306406157"))
    upload(client, "VNU-LIC", token, _book("H1", HOSTILE_TITLE, "Vũ, Trọng Phụng,", "1936", "9781861972712"))
    upload(client, "HUST", other, _book("B1", "Bỉ vỏ", "Nguyên, Hồng,", "1938", "9780471958697"))
    return {name: union_id(client, code, local) for name, code, local in
            (("kieu", "VNU-LIC", "K1"), ("hostile", "VNU-LIC", "H1"), ("bivo", "HUST", "B1"))}  # fmt: skip


def test_a_record_is_cited_in_apa_and_the_vietnamese_style(client: TestClient, books: dict[str, int]) -> None:
    apa = client.get(f"/api/v1/records/{books['kieu']}/citation").json()
    assert apa["style"] == "apa"
    assert apa["text"] == "Nguyễn, D. (2015). Truyện Kiều. NXB Văn học."
    assert apa["html"] == "Nguyễn, D. (2015). <i>Truyện Kiều</i>. NXB Văn học."
    moet = client.get(f"/api/v1/records/{books['kieu']}/citation", params={"style": "vietnam-moet"}).json()
    assert moet["text"] == "Nguyễn D. (2015), Truyện Kiều, NXB Văn học, Hà Nội."
    unknown = client.get(f"/api/v1/records/{books['kieu']}/citation", params={"style": "tcvn"})
    assert unknown.status_code == 422 and unknown.headers["content-type"].startswith(
        "application/problem+json"
    )


def test_bibtex_and_csl_json_from_the_api_and_the_record_page(
    client: TestClient, books: dict[str, int]
) -> None:
    record = books["kieu"]
    bib = client.get(f"/api/v1/records/{record}/bibtex")
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.text.startswith(f"@book{{unioncat{record},\n")
    expected = ["title = {Truyện Kiều}", "author = {Nguyễn, Du}", "year = {2015}"]
    expected += ["publisher = {NXB Văn học}", "address = {Hà Nội}", "isbn = {9780306406157}"]
    for line in expected:
        assert f"  {line},\n" in bib.text, bib.text
    csl = client.get(f"/api/v1/records/{record}/csl-json")
    assert csl.headers["content-type"].startswith("application/vnd.citationstyles.csl+json")
    [item] = csl.json()
    assert item["type"] == "book" and item["title"] == "Truyện Kiều"
    assert item["author"] == [{"family": "Nguyễn", "given": "Du"}]
    assert item["issued"] == {"date-parts": [[2015]]} and item["publisher-place"] == "Hà Nội"
    assert "URL" not in item  # no 856: the work has no address of its own
    page = client.get(f"/records/{record}?lang=en")
    for link in (f"/records/{record}/citation.bib", f"/records/{record}/citation.json"):
        assert f'href="{link}"' in page.text
        download = client.get(link)
        assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert client.get(f"/records/{record}/citation.bib").text == bib.text
    assert json.loads(client.get(f"/records/{record}/citation.json").text) == [item]
    assert "Nguyễn, D. (2015). <i>Truyện Kiều</i>. NXB Văn học." in page.text  # APA on the page
    for missing in (
        f"/api/v1/records/{10**6}/bibtex",
        f"/api/v1/records/{10**6}/csl-json",
        f"/records/{10**6}/citation.bib",
    ):
        answer = client.get(missing)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith(
            "application/problem+json"
        )


@hostile("web")
@pytest.mark.parametrize("where", ["record page", "api citation", "bibtex", "csl-json"])
def test_a_hostile_title_stays_text_in_every_citation(
    client: TestClient, books: dict[str, int], where: str
) -> None:
    record = books["hostile"]
    if where == "record page":
        text = client.get(f"/records/{record}").text
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    elif where == "api citation":
        cited = client.get(f"/api/v1/records/{record}/citation").json()
        assert "<script>" not in cited["html"] and "&lt;script&gt;" in cited["html"]
        assert HOSTILE_TITLE.split(" %")[0] in cited["text"]  # plain text is the title as it is
    elif where == "bibtex":
        bib = client.get(f"/api/v1/records/{record}/bibtex").text
        title = next(line for line in bib.splitlines() if line.startswith("  title"))
        assert r"\&" in title and r"\{\textbackslash{}input\{/etc/passwd\}\}" in title and r"\%" in title
        assert title.count("{") - title.count(r"\{") == title.count("}") - title.count(r"\}")  # balanced
    else:
        [item] = client.get(f"/api/v1/records/{record}/csl-json").json()
        assert item["title"] == HOSTILE_TITLE  # data, exactly as catalogued


def _feed(client: TestClient, url: str, **params: object) -> etree._Element:
    answer = client.get(url, params=params)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(answer.content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):  # RFC 4287: once in the feed and in every entry
        assert len(root.findall(f"{ATOM}{required}")) == 1
        for entry in root.findall(f"{ATOM}entry"):
            assert len(entry.findall(f"{ATOM}{required}")) == 1
    assert (
        root.find(f"{ATOM}link[@rel='self']") is not None
        and root.find(f"{ATOM}author/{ATOM}name") is not None
    )
    for element in root.iter():
        if element.get("type") not in (None, "text", "text/html", "application/atom+xml"):
            raise AssertionError(f"{element.tag} has type {element.get('type')}")
        href = element.get("href")
        assert href is None or href.startswith("http://testserver/"), href
    return root


def _titles(root: etree._Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") or "" for entry in root.findall(f"{ATOM}entry")]


@hostile("web")
def test_a_members_new_acquisitions_feed(client: TestClient, books: dict[str, int]) -> None:
    root = _feed(client, "/libraries/VNU-LIC/feed.atom")
    assert _titles(root) == [HOSTILE_TITLE, "Truyện Kiều"]  # newest first, the hostile title as text
    entry = root.find(f"{ATOM}entry")
    assert entry is not None and entry.find(f"{ATOM}title").get("type") == "text"  # type: ignore[union-attr]
    assert entry.findtext(f"{ATOM}id") == f"http://testserver/records/{books['hostile']}"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Vũ, Trọng Phụng"
    assert _titles(_feed(client, "/libraries/hust/feed.atom")) == ["Bỉ vỏ"]
    page = client.get("/libraries/VNU-LIC?lang=en").text
    assert 'type="application/atom+xml" href="/libraries/VNU-LIC/feed.atom"' in page
    missing = client.get("/libraries/NOPE/feed.atom")
    assert missing.status_code == 404


@hostile("query")
def test_a_search_feed_keeps_the_searchs_words_and_filters(client: TestClient, books: dict[str, int]) -> None:
    assert _titles(_feed(client, "/search/feed.atom", q="kiều")) == ["Truyện Kiều"]
    held = _titles(_feed(client, "/search/feed.atom", library="HUST"))
    assert held == ["Bỉ vỏ"]
    every = _titles(_feed(client, "/search/feed.atom", sort="year_asc"))
    assert every == [HOSTILE_TITLE, "Bỉ vỏ", "Truyện Kiều"]
    assert _titles(_feed(client, "/search/feed.atom", q='"<script>" OR )(', library="VNU-LIC")) is not None
    for bad in ({"sort": "bogus"}, {"year_from": "abc"}, {"q": "x" * 20_000}):
        answer = client.get("/search/feed.atom", params=bad)
        assert answer.status_code == 422 and answer.headers["content-type"].startswith(
            "application/problem+json"
        )
