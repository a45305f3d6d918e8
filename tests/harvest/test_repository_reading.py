"""Reading what a DSpace repository gives: Dublin Core descriptions into MARC records, the file
lists of DSpace 6 and 7 (ORE, METS), and the rules a file fetch keeps to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from harvest.bitstreams import content_files
from harvest.dc_marc import dc_to_marc, marc_language, prepare_item
from harvest.dublin_core import DcItem, read_dc
from harvest.file_fetch import FetchFailed, FileFetcher
from tests.pdf_files import make_pdf

OAI_DC = """<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title>Giáo trình Lập trình Python</dc:title>
  <dc:title>Python programming: a textbook</dc:title>
  <dc:creator>Đỗ, Quang Huy</dc:creator>
  <dc:creator>Hoàng, Lan</dc:creator>
  <dc:contributor>Ngô, Bảo Châu</dc:contributor>
  <dc:subject>Lập trình</dc:subject>
  <dc:description>Giáo trình cho sinh viên năm nhất.</dc:description>
  <dc:description>Có bài tập cuối chương.</dc:description>
  <dc:date>2022-09-01T02:03:04Z</dc:date>
  <dc:date>2022-09-01T02:03:04Z</dc:date>
  <dc:date>2021</dc:date>
  <dc:type>Book</dc:type>
  <dc:identifier>ISBN 978-604-0-00001-9</dc:identifier>
  <dc:identifier>doi:10.1234/abcd.5678</dc:identifier>
  <dc:identifier>https://repository.vnu.edu.vn/handle/VNU_123/45678</dc:identifier>
  <dc:language>vi_VN</dc:language>
  <dc:language>en</dc:language>
  <dc:publisher>Nhà xuất bản Giáo dục</dc:publisher>
  <dc:rights>Attribution 4.0 International</dc:rights>
  <dc:rights>info:eu-repo/semantics/restrictedAccess</dc:rights>
</oai_dc:dc>""".encode()

# DSpace 7's ore.xsl lists only the ORIGINAL bundle's links, and every bitstream in its triples.
ORE_7 = b"""<atom:entry xmlns:atom="http://www.w3.org/2005/Atom" xmlns:oreatom="http://www.openarchives.org/ore/atom/"
  xmlns:dcterms="http://purl.org/dc/terms/">
  <atom:id>https://repository.vnu.edu.vn/handle/VNU_123/45678/ore.xml</atom:id>
  <atom:link rel="alternate" href="https://repository.vnu.edu.vn/handle/VNU_123/45678"/>
  <atom:link rel="http://www.openarchives.org/ore/terms/aggregates"
    href="https://repository.vnu.edu.vn/bitstreams/0b1c/download" title="Gi%C3%A1o tr%C3%ACnh.pdf"
    type="application/pdf" length="1048576"/>
  <oreatom:triples>
    <rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      rdf:about="https://repository.vnu.edu.vn/bitstreams/0b1c/download">
      <dcterms:description>ORIGINAL</dcterms:description>
    </rdf:Description>
    <rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      rdf:about="https://repository.vnu.edu.vn/bitstreams/9f9f/download">
      <dcterms:description>THUMBNAIL</dcterms:description>
    </rdf:Description>
  </oreatom:triples>
</atom:entry>"""

METS = b"""<mets:mets xmlns:mets="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink">
  <mets:fileSec>
    <mets:fileGrp USE="ORIGINAL">
      <mets:file ID="f1" MIMETYPE="application/pdf" SIZE="2048" CHECKSUM="9E107D9D372BB6826BD81D3542A419D6"
        CHECKSUMTYPE="MD5">
        <mets:FLocat LOCTYPE="URL" xlink:href="https://repo.example.edu.vn/bitstream/123/4/thesis%20final.pdf"/>
      </mets:file>
    </mets:fileGrp>
    <mets:fileGrp USE="TEXT">
      <mets:file ID="f2" MIMETYPE="text/plain" SIZE="20">
        <mets:FLocat LOCTYPE="URL" xlink:href="https://repo.example.edu.vn/bitstream/123/4/thesis.pdf.txt"/>
      </mets:file>
    </mets:fileGrp>
  </mets:fileSec>
</mets:mets>"""


def test_oai_dc_becomes_a_marc_record() -> None:
    item = read_dc(etree.fromstring(OAI_DC))
    assert item.issued == "2021" and item.year == 2021  # not the accession timestamps
    assert item.abstracts == ["Giáo trình cho sinh viên năm nhất."]
    assert item.access == ("members", None)
    record = dc_to_marc(item, "oai:repository.vnu.edu.vn:VNU_123/45678")
    fields = {(f.tag, str(f)) for f in record.get_fields()}
    assert ("020", "=020  \\\\$aISBN 978-604-0-00001-9") in fields
    assert ("024", "=024  7\\$a10.1234/abcd.5678$2doi") in fields
    assert ("024", "=024  7\\$ahttps://repository.vnu.edu.vn/handle/VNU_123/45678$2hdl") in fields
    assert ("041", "=041  0\\$avie$aeng") in fields
    assert ("100", "=100  1\\$aĐỗ, Quang Huy") in fields
    assert ("245", "=245  10$aGiáo trình Lập trình Python") in fields
    assert ("246", "=246  3\\$aPython programming: a textbook") in fields
    assert ("264", "=264  \\1$bNhà xuất bản Giáo dục$c2021") in fields
    assert ("500", "=500  \\\\$aCó bài tập cuối chương.") in fields
    assert ("540", "=540  \\\\$aAttribution 4.0 International") in fields
    assert ("700", "=700  1\\$aNgô, Bảo Châu$econtributor") in fields
    assert ("856", "=856  40$uhttps://repository.vnu.edu.vn/handle/VNU_123/45678") in fields
    assert record["008"].data[7:11] == "2021" and record["008"].data[35:38] == "vie"
    prepared = prepare_item(item, "oai:repository.vnu.edu.vn:VNU_123/45678")
    assert prepared.local_id == "oai:repository.vnu.edu.vn:VNU_123/45678"
    assert ("isbn", "9786040000019") in prepared.keys
    assert prepared.fields["authors"][1]["name"] == "Hoàng, Lan"
    assert prepare_item(item, prepared.local_id).checksum == prepared.checksum  # the same every time


@pytest.mark.parametrize(
    ("rights", "expected"),
    [
        (["info:eu-repo/semantics/openAccess"], ("open", None)),
        (["info:eu-repo/semantics/closedAccess"], ("members", None)),
        (
            ["info:eu-repo/semantics/embargoedAccess", "info:eu-repo/date/embargoEnd/2030-05-31"],
            ("embargo", datetime(2030, 5, 31, tzinfo=UTC)),
        ),
        (["Bản quyền thuộc về tác giả"], (None, None)),
    ],
)
def test_rights_the_repository_gives(rights: list[str], expected: tuple[str | None, datetime | None]) -> None:
    assert DcItem(titles=["x"], rights=rights).access == expected


def test_languages() -> None:
    assert [marc_language(v) for v in ("vi", "vi_VN", "en-US", "fre", "fra", "Vietnamese", "xx", "")] == [
        "vie",
        "vie",
        "eng",
        "fre",
        "fre",
        "vie",
        None,
        None,
    ]


def test_file_lists_of_dspace_7_ore_and_mets() -> None:
    (pdf,) = content_files(etree.fromstring(ORE_7))
    assert (pdf.url, pdf.size, pdf.content_type) == (
        "https://repository.vnu.edu.vn/bitstreams/0b1c/download",
        1048576,
        "application/pdf",
    )
    (thesis,) = content_files(etree.fromstring(METS))
    assert (thesis.name, thesis.size, thesis.checksum) == (
        "thesis final.pdf",
        2048,
        "MD5:9e107d9d372bb6826bd81d3542a419d6",
    )


class _Redirects(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/pdf":
            body = make_pdf(["redirected"])
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        targets = {"/to-http": "/pdf", "/to-file": "file:///etc/passwd", "/loop": "/loop"}
        self.send_response(302)
        self.send_header("Location", targets[self.path])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def redirects() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetches_follow_http_redirects_only(redirects: str, tmp_path: Path) -> None:
    with FileFetcher(1 << 20, timeout=5, retries=0) as fetcher:
        fetched = fetcher.fetch(f"{redirects}/to-http", tmp_path)
        assert fetched.path is not None and fetched.path.read_bytes().startswith(b"%PDF-")
        assert fetched.url == f"{redirects}/pdf"
        with pytest.raises(FetchFailed, match="not http"):
            fetcher.fetch(f"{redirects}/to-file", tmp_path)
        with pytest.raises(FetchFailed, match="more than 5 redirects"):
            fetcher.fetch(f"{redirects}/loop", tmp_path)
        for address in ("file:///etc/passwd", "ftp://repo.example.edu.vn/x.pdf", "/relative.pdf"):
            with pytest.raises(FetchFailed, match="not an http"):
                fetcher.fetch(address, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [fetched.path.name]  # no partial file left
