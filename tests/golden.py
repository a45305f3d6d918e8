"""Golden outputs of the MARC mapping: what every record of each real fixture maps to.

One JSON Lines file per fixture in tests/fixtures/golden/, one line per record (the first
:data:`LIMIT` records of a file), in file order::

    {"fields":{...},"keys":[["isbn","978..."],...],"record":1,"title_key":"..."}
    {"record":7,"unreadable":"..."}

``fields`` is the JSON of the catalogue fields exactly as the catalogue stores it (its keys in the
mapping's order), ``keys`` the match keys, ``title_key`` the folded filing title; a record the
reader cannot decode has the reason instead. The tests check the Python mapping against these
files always (no compiler needed: a rule changed in Python alone shows up on any machine), and the
compiled mapping when it is built (tests/catalog/test_golden_mapping.py).

After a deliberate change of the mapping's rules or tables, regenerate them and review the diff:

    python -m tests.golden --update

``python -m tests.golden`` alone compares and lists the records that differ, path by path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from lxml import etree
from pymarc import Record

from catalog import fast_iso2709, marc_fields, native
from catalog.light_record import LightRecord
from catalog.mapping import map_light
from catalog.records import match_keys, title_key_of
from harvest import marcxml, sources
from tests.conftest import FIXTURES, ISO2709_FILES, KOHA, fixture

GOLDEN = FIXTURES / "golden"
LIMIT = 300  # records per file: enough of every kind, a reviewable size
MARCXML_FILES = [KOHA.name, "culturegraph-5-clusters.marcxml", "bad_tag.xml"]
FILES = [*ISO2709_FILES, *MARCXML_FILES]


@dataclass(slots=True)
class Read:
    """One record of a fixture: its bytes, the reference reading (pymarc) or the reason it has
    none, and the light record that the fast reader or the OAI-PMH harvest makes of it."""

    number: int
    raw: bytes
    raw_format: str
    record: Record | None
    error: str | None
    light: LightRecord | None


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.jsonl"


def _light_from_marcxml(raw: bytes, context: Any) -> LightRecord | None:
    """The light record that the OAI-PMH harvest reads from a record element (harvest/oai_page.py)."""
    namespaces, _ = context
    cleaned, _ = marcxml.strip_invalid_characters(raw)
    try:
        wrapper = etree.fromstring(marcxml.wrap(cleaned, namespaces), marcxml.parser())
    except etree.XMLSyntaxError:
        return None
    return marcxml.light_record_from_element(wrapper[0])


def records(name: str) -> Iterator[Read]:
    """The first :data:`LIMIT` records of fixture ``name``, read as the ingest reads them."""
    for item in sources.split_path(fixture(name)):
        if item.number > LIMIT:
            return
        raw, context = item.raw, item.context
        sources.decode(item)
        iso2709 = item.raw_format == "iso2709"
        light = fast_iso2709.parse(raw) if iso2709 else _light_from_marcxml(raw, context)
        yield Read(item.number, raw, item.raw_format, item.record, item.error, light)


def line(number: int, fields_json: str, keys: list[tuple[str, str]], title_key: str | None) -> str:
    """A golden line; ``fields_json`` goes in as it stands (its keys in the mapping's order)."""
    rest = orjson.dumps({"record": number, "title_key": title_key}).decode()
    return '{"fields":' + fields_json + ',"keys":' + orjson.dumps(keys).decode() + "," + rest[1:]


def unreadable(number: int, error: str | None) -> str:
    return orjson.dumps({"record": number, "unreadable": error or "unreadable record"}).decode()


def python_line(number: int, record: Record | LightRecord) -> str:
    """The Python mapping of ``record``."""
    fields = marc_fields.extract(record)  # type: ignore[arg-type]
    return line(number, orjson.dumps(fields).decode(), match_keys(fields), title_key_of(fields))


def compiled_line(read: Read) -> str | None:
    """The compiled mapping of ``read`` (from its bytes for ISO 2709, from the harvest's light
    record for MARCXML), or ``None`` where it declines the record."""
    if read.raw_format == "iso2709":
        assert native.map_iso2709 is not None
        found = native.map_iso2709(read.raw, "")
    else:
        found = map_light(read.light) if read.light is not None else None
    if found is None:
        return None
    _, _, fields_json, _, keys, title_key = found
    return line(read.number, fields_json, keys, title_key)


def reference_lines(name: str) -> list[str]:
    """What the golden file of ``name`` holds: the Python mapping of pymarc's reading."""
    return [
        python_line(r.number, r.record) if r.record is not None else unreadable(r.number, r.error)
        for r in records(name)
    ]


def stored(name: str) -> list[str]:
    return golden_path(name).read_text(encoding="utf-8").splitlines()


@dataclass(slots=True)
class Differences:
    """The records whose mapping differs from the golden file, by path; and how many records the
    compiled mapping took."""

    python: list[int]
    light: list[int]
    compiled: list[int]
    compiled_taken: int
    compiled_on_unreadable: list[int]


def differences(name: str, compiled: bool) -> Differences:
    """Compare the Python mapping (of pymarc's reading, and of the light record the fast reader or
    the harvest makes) and, with ``compiled``, the compiled mapping with the golden file."""
    expected = stored(name)
    found = Differences([], [], [], 0, [])
    reads = list(records(name))
    if len(reads) != len(expected):
        found.python.append(0)  # 0: the number of records itself differs
    for read, want in zip(reads, expected, strict=False):
        if read.record is None:
            if unreadable(read.number, read.error) != want:
                found.python.append(read.number)
        elif python_line(read.number, read.record) != want:
            found.python.append(read.number)
        if (
            read.light is not None
            and read.record is not None
            and python_line(read.number, read.light) != want
        ):
            found.light.append(read.number)
        if compiled:
            got = compiled_line(read)
            if got is None:
                continue
            if read.record is None:
                found.compiled_on_unreadable.append(read.number)
                continue
            found.compiled_taken += 1
            if got != want:
                found.compiled.append(read.number)
    return found


def update() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in FILES:
        golden_path(name).write_text("".join(f"{x}\n" for x in reference_lines(name)), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the golden files from the Python path")
    args = parser.parse_args()
    if args.update:
        update()
        print(f"golden outputs written to {GOLDEN.relative_to(FIXTURES.parent.parent)}")
        return 0
    compiled = native.map_iso2709 is not None
    failed = False
    for name in FILES:
        found = differences(name, compiled)
        for path, numbers in (
            ("Python", found.python),
            ("light record", found.light),
            ("compiled", found.compiled),
        ):
            if numbers:
                failed = True
                shown = ", ".join(map(str, numbers[:20])) + (" ..." if len(numbers) > 20 else "")
                print(f"{name}: the {path} mapping differs on records {shown}")
    if not compiled:
        print("the compiled mapping is not built: only the Python path was compared")
    print("golden outputs differ (see above)" if failed else "golden outputs match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
