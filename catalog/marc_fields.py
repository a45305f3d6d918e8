"""MARC21 bibliographic record -> the catalogue's extracted fields (a JSON-ready dict).

Every text value comes out through :mod:`catalog.text` (NFC, repaired marks, no closing ISBD
punctuation). The mapping follows the MARC21 bibliographic format: 245 title, 1xx/7xx names,
020/022/010/035 identifiers, 250 edition, 260/264 publication, 300 extent, 008/041 languages,
leader/06-07 and 33x material type, 6xx subjects, 050/080/082/084 classification, 490/830 series,
856 links, 880 alternate-script fields.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pymarc import Field, Record

from catalog import identifiers
from catalog import mapping_tables as tables
from catalog.text import clean, display, fold

_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
_PAGES = re.compile(
    r"(\d+)\s*(?:" + "|".join(re.escape(word) + r"\b" for word in tables.PAGE_WORDS) + ")", re.IGNORECASE
)
_LANG_CODE = re.compile(r"^[a-z]{3}$")

_SERIAL_LEVELS = frozenset(tables.SERIAL_LEVELS)
# every value material_type() gives
MATERIAL_TYPES = frozenset(tables.MATERIAL.values()) | {tables.DEFAULT_MATERIAL, tables.SERIAL}
_SUBJECT_SUBDIVISIONS = frozenset(tables.SUBJECT_SUBDIVISIONS)
_SUBJECT_SKIP = frozenset(tables.SUBJECT_SKIP)
_TITLE_PARTS = frozenset(tables.TITLE_PARTS)


def _sub(field: Field, code: str) -> str:
    """First value of subfield ``code`` (raw), or ''."""
    for sf in field.subfields:
        if sf.code == code:
            return sf.value
    return ""


def _subs(field: Field, codes: str) -> list[str]:
    return [sf.value for sf in field.subfields if sf.code in codes]


def _join(field: Field, codes: str, sep: str = " ") -> str:
    return clean(sep.join(v.strip() for v in _subs(field, codes) if v.strip()))


def _uniq(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        if value and value not in seen:
            seen.add(value)
            out.append(value)
    return out


def year(text: str) -> int | None:
    """The first year (1000-2099) that ``text`` holds as a number of its own ("c1998." -> 1998)."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def material_type(leader: str, fields: dict[str, list[Field]]) -> str:
    default = tables.DEFAULT_MATERIAL
    kind = tables.MATERIAL.get(leader[6:7], default) if len(leader) > 7 else default
    if kind in tables.SERIAL_KINDS and leader[7:8] in _SERIAL_LEVELS:
        return tables.SERIAL
    return kind


def _is_electronic(fields: dict[str, list[Field]]) -> bool:
    for field in fields.get("338", []):
        if fold(_sub(field, "a")) == tables.ONLINE_CARRIER or _sub(field, "b") == tables.ONLINE_CARRIER_CODE:
            return True
    for field in fields.get("007", []):
        if field.data.startswith(tables.ONLINE_CARRIER_CODE):
            return True
    return any(tables.ELECTRONIC_MEDIUM in fold(_sub(f, "h")) for f in fields.get("245", []))


def _title(fields: dict[str, list[Field]]) -> dict[str, Any]:
    found = fields.get("245")
    if not found:
        return {"title": None, "subtitle": None, "responsibility": None, "sort_title": None}
    field = found[0]
    parts = [v.strip() for v in (sf.value for sf in field.subfields if sf.code in _TITLE_PARTS) if v.strip()]
    title = clean(" ".join(parts)) if parts else None
    subtitle = _join(field, "b") or None
    nonfiling = int(field.indicator2) if field.indicator2 and field.indicator2.isdigit() else 0
    sort_title = title[nonfiling:].lstrip() if title and 0 < nonfiling < len(title) else title
    return {
        "title": title,
        "subtitle": subtitle,
        "responsibility": _join(field, "c") or None,
        "sort_title": sort_title,
        "medium": _join(field, "h") or None,
    }


def _names(fields: dict[str, list[Field]]) -> list[dict[str, Any]]:
    names = []
    for tag, parts, kind, role_codes in tables.NAME_FIELDS:
        for field in fields.get(tag, []):
            name = _join(field, parts)
            if not name:
                continue
            roles = [clean(v) for v in _subs(field, role_codes)]
            roles += [v.strip() for v in _subs(field, "4")]
            names.append(
                {
                    "name": name,
                    "kind": kind,
                    "main": tag.startswith("1"),
                    "roles": _uniq([r for r in roles if r]),
                }
            )
    return names


def _publication(fields: dict[str, list[Field]]) -> dict[str, str | None]:
    candidates = [f for f in fields.get("264", []) if f.indicator2 == "1"] or fields.get("260", [])
    candidates = candidates or fields.get("264", [])
    if not candidates:
        return {"place": None, "publisher": None, "date": None}
    field = candidates[0]
    return {
        "place": clean(_sub(field, "a")) or None,
        "publisher": clean(_sub(field, "b")) or None,
        "date": clean(_sub(field, "c")) or None,
    }


def _year_of(fixed: str, pub_date: str | None) -> int | None:
    if len(fixed) >= 11 and fixed[7:11].isdigit():
        found = int(fixed[7:11])
        if 1000 <= found <= 2099:
            return found
    return year(pub_date or "")


def _languages(fixed: str, fields: dict[str, list[Field]]) -> list[str]:
    langs = []
    if len(fixed) >= 38:
        code = fixed[35:38].strip().lower()
        if _LANG_CODE.match(code) and code not in tables.NO_LANGUAGE:
            langs.append(code)
    for field in fields.get("041", []):
        for value in _subs(field, "ad"):
            value = value.strip().lower()
            langs.extend(
                value[i : i + 3] for i in range(0, len(value) - 2, 3) if _LANG_CODE.match(value[i : i + 3])
            )
    return _uniq(langs)


def _subject(field: Field) -> str:
    out = ""
    for sf in field.subfields:
        value = sf.value.strip()
        if sf.code in _SUBJECT_SKIP or not value:
            continue
        value = clean(value)
        if not out:
            out = value
        elif sf.code in _SUBJECT_SUBDIVISIONS:
            out += " -- " + value
        else:
            out += " " + value
    return out


def _classification(fields: dict[str, list[Field]]) -> dict[str, list[str]]:
    scheme: dict[str, list[str]] = defaultdict(list)
    for field in fields.get("082", []):
        scheme["ddc"].extend(display(v).replace("/", "") for v in _subs(field, "a"))
    for field in fields.get("080", []):
        scheme["udc"].extend(display(v) for v in _subs(field, "a"))
    for tag in ("050", "090"):
        for field in fields.get(tag, []):
            lcc = display(" ".join(_subs(field, "ab")))
            if lcc:
                scheme["lcc"].append(lcc)
    for field in fields.get("084", []):
        source = display(_sub(field, "2")) or "other"
        scheme[source].extend(display(v) for v in _subs(field, "a"))
    return {k: _uniq([v for v in vs if v]) for k, vs in scheme.items() if any(vs)}


def _series(fields: dict[str, list[Field]]) -> list[dict[str, str | None]]:
    series = []
    for tag, parts in tables.SERIES_FIELDS:
        for field in fields.get(tag, []):
            title = _join(field, parts)
            if title:
                series.append({"title": title, "volume": clean(_sub(field, "v")) or None})
    seen: set[str] = set()
    out = []
    for entry in series:
        key = fold(entry["title"])
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def _links(fields: dict[str, list[Field]]) -> list[dict[str, str | None]]:
    kinds, default = tables.LINK_KINDS, tables.DEFAULT_LINK_KIND
    links = []
    for field in fields.get("856", []):
        note = " ".join(clean(v) for v in _subs(field, "3yz") if v.strip()) or None
        for url in _subs(field, "u"):
            url = url.strip()
            if url:
                links.append({"url": url, "note": note, "kind": kinds.get(field.indicator2 or "", default)})
    return links


def _alternate_script(fields: dict[str, list[Field]]) -> list[dict[str, str | None]]:
    out = []
    for field in fields.get("880", []):
        link = _sub(field, "6")
        text = display(
            " ".join(v for v in (sf.value for sf in field.subfields if sf.code != "6") if v.strip())
        )
        if text:
            out.append({"tag": link[:3] or None, "link": link or None, "text": text})
    return out


def pages(extent: str | None) -> int | None:
    """The page count of an extent (300 $a..$g): the largest number followed by a word of
    :data:`catalog.mapping_tables.PAGE_WORDS` ("xii, 245 p." -> 245), or ``None``."""
    if not extent:
        return None
    numbers = [int(m.group(1)) for m in _PAGES.finditer(extent)]
    return max(numbers) if numbers else None


def _identifiers(fields: dict[str, list[Field]]) -> dict[str, Any]:
    isbns: list[str] = []
    invalid_isbns: list[str] = []
    for field in fields.get("020", []):
        for sf in field.subfields:
            if sf.code not in "az":
                continue
            norm = identifiers.isbn13(sf.value) if sf.code == "a" else None
            if norm:
                isbns.append(norm)
            else:
                raw = identifiers.isbn_candidate(sf.value) or display(sf.value)
                if raw:
                    invalid_isbns.append(raw)
    issns, invalid_issns = [], []
    for field in fields.get("022", []):
        for sf in field.subfields:
            if sf.code in "alyz":
                norm = identifiers.issn(sf.value) if sf.code in "al" else None
                if norm:
                    issns.append(norm)
                elif sf.value.strip():
                    invalid_issns.append(display(sf.value))
    lccn = None
    for field in fields.get("010", []):
        lccn = identifiers.lccn(_sub(field, "a"))
        if lccn:
            break
    system_numbers = []
    for field in fields.get("035", []):
        parsed = identifiers.system_number(_sub(field, "a"))
        if parsed:
            system_numbers.append({"org": parsed[0], "number": parsed[1]})
    isbns = _uniq(isbns)
    return {
        "isbns": isbns,
        "invalid_isbns": _uniq([v for v in invalid_isbns if v not in isbns]),
        "issns": _uniq(issns),
        "invalid_issns": _uniq(invalid_issns),
        "lccn": lccn,
        "system_numbers": system_numbers,
    }


def fields_by_tag(record: Record) -> dict[str, list[Field]]:
    grouped: dict[str, list[Field]] = defaultdict(list)
    for field in record.fields:
        grouped[field.tag].append(field)
    return grouped


def extract(record: Record, grouped: dict[str, list[Field]] | None = None) -> dict[str, Any]:
    """The catalogue fields of a bibliographic ``record`` as a JSON-ready dict."""
    fields = grouped if grouped is not None else fields_by_tag(record)
    leader = str(record.leader)
    fixed = fields["008"][0].data if fields.get("008") else ""
    pub = _publication(fields)
    extent_fields = fields.get("300", [])
    extent = _join(extent_fields[0], "abcefg") if extent_fields else None
    edition_fields = fields.get("250", [])
    out: dict[str, Any] = _title(fields)
    out.update(
        {
            "authors": _names(fields),
            "edition": _join(edition_fields[0], "ab") if edition_fields else None,
            "place": pub["place"],
            "publisher": pub["publisher"],
            "pub_date": pub["date"],
            "year": _year_of(fixed, pub["date"]),
            "extent": extent or None,
            "pages": pages(extent),
            "languages": _languages(fixed, fields),
            "material_type": material_type(leader, fields),
            "electronic": _is_electronic(fields),
            "content_types": _uniq([clean(v) for f in fields.get("336", []) for v in _subs(f, "a")]),
            "carrier_types": _uniq([clean(v) for f in fields.get("338", []) for v in _subs(f, "a")]),
            "subjects": _uniq(
                [s for tag in tables.SUBJECT_TAGS for f in fields.get(tag, []) if (s := _subject(f))]
            ),
            "classification": _classification(fields),
            "series": _series(fields),
            "links": _links(fields),
            "summary": _join(fields["520"][0], "a") if fields.get("520") else None,
            "alternate_script": _alternate_script(fields),
        }
    )
    out.update(_identifiers(fields))
    return out


def display_title(fields: dict[str, Any]) -> str | None:
    """``Title : subtitle`` as a catalogue shows it."""
    title, subtitle = fields.get("title"), fields.get("subtitle")
    if title and subtitle:
        return f"{title} : {subtitle}"
    return title or subtitle
