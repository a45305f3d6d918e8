"""Facets and filters of the embedded search engine: a dictionary of facet values, and per union
record a narrow row (search_filter) with what filters read: year, digital copy, and the packed list
of its facet values' codes, which filters search and facet counts count.

Counting facets is the costly part of a search that matches thousands of records: each record holds
eight facet values on average (libraries, languages, decade, material type, subjects, authors), so a
query matching 5,000 records counts some 40,000 of them. Counting them in SQL (a join and a
GROUP BY over text) took over 100 ms; here each union record's values are one small blob of integer
codes, read for all matches in one statement and counted with numpy, in a few milliseconds.

A value's code (see :func:`code_of`) is also its id in the dictionary, and carries its facet in
its low bits: the facet of a counted code is known without a lookup.
"""

from __future__ import annotations

import array
import bisect
import functools
import hashlib
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from catalog.search import facets as registry

if TYPE_CHECKING:  # numpy is imported where facets are counted: ingest processes never need it
    import numpy as np

FACETS = registry.NAMES  # a code's facet is its position here (see catalog.search.facets)
FACET_INDEX = {facet: i for i, facet in enumerate(FACETS)}
FACET_MASK = 0b111  # the low bits of a code: its facet (room for 8)
CODE_DTYPE = "<i8"  # stored little-endian whatever the machine

Pair = tuple[str, str]  # (facet, value)


def facet_pairs(doc: Mapping[str, Any]) -> list[Pair]:
    """The facet values of a search document, each once."""
    pairs: list[Pair] = [(facet.name, value) for facet in registry.COUNTED for value in facet.values_of(doc)]
    return list(dict.fromkeys(pairs))


def pack(codes: Iterable[int]) -> bytes:
    packed = array.array("q", codes)  # 64-bit signed, stored little-endian
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: bytes) -> list[int]:
    codes = array.array("q", blob)
    if sys.byteorder == "big":
        codes.byteswap()
    return codes.tolist()


@functools.lru_cache(maxsize=16384)  # libraries, languages, decades, common subjects: hashed once
def code_of(facet: str, value: str) -> int:
    """The code of a facet value: 61 bits of its BLAKE2b digest and the facet's index in the low 3
    bits, a signed 64-bit integer (SQLite's rowid). Computed, never looked up, so writing a document
    costs no read; two values would have to collide in 61 bits to be counted together."""
    digest = hashlib.blake2b(f"{facet}\x1f{value}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "little", signed=True) & ~FACET_MASK) | FACET_INDEX[facet]


def codes_of(doc: Mapping[str, Any]) -> tuple[bytes, list[tuple[int, str, str]]]:
    """(packed codes, dictionary entries (code, facet, value)) of a search document's facet values."""
    entries = [(code_of(facet, value), facet, value) for facet, value in facet_pairs(doc)]
    return pack(sorted(code for code, _f, _v in entries)), entries


def recoded(
    codes: bytes, facet: str, old: Iterable[str], new: Iterable[str]
) -> tuple[bytes, list[tuple[int, str, str]]]:
    """(packed codes, dictionary entries of the values added) of a document whose values of
    ``facet`` went from ``old`` to ``new``, its other values unchanged: only the values that differ
    are coded (a library joining a union record of thirty adds one). ValueError if ``codes`` lacks
    one of the values gone."""
    before, after = dict.fromkeys(old), dict.fromkeys(new)
    kept = unpack(codes)
    for value in before.keys() - after.keys():
        kept.remove(code_of(facet, value))
    entries = [(code_of(facet, value), facet, value) for value in after if value not in before]
    for code, _facet, _value in entries:
        bisect.insort(kept, code)
    return pack(kept), entries


def write_filters(raw: Any, rows: Sequence[tuple[int, Any, int, bytes]]) -> None:
    """search_filter rows (union id, year, has digital, codes) of records that have none (the caller
    deletes those it replaces)."""
    raw.executemany(
        "INSERT INTO search_filter (union_id, year, has_digital, codes) VALUES (?, ?, ?, ?)", rows
    )


def write_values(raw: Any, entries: Iterable[tuple[int, str, str]]) -> None:
    """Dictionary entries (code, facet, value); an entry already in the dictionary is left as it is."""
    raw.executemany(
        "INSERT OR IGNORE INTO search_facet_value (id, facet, value) VALUES (?, ?, ?)", list(entries)
    )


def filter_clause(code_names: Sequence[str]) -> str:
    """SQL true for a record (alias ``f``, of search_filter) holding one of the facet values whose
    codes are bound, packed (:func:`pack`), as ``code_names``.

    The test is a search of the 8 bytes in the record's codes: no lookup in another table, which
    halves the cost of a filtered search. It could only be wrong if the 8 bytes of the value's code
    appeared across two neighbouring codes of the record: for codes that are hash values the chance
    is about 2^-61 per code of the record, as small as that of two values sharing a code at all."""
    return "(" + " OR ".join(f"instr(f.codes, {name}) > 0" for name in code_names) + ")"


def where(facet: registry.Facet, values: Sequence[Any], params: dict[str, Any]) -> str | None:
    """SQL true for a record (alias ``f``, of search_filter) with one of ``values`` of ``facet``,
    binding its parameters in ``params``; None when no value is chosen. A counted facet is found
    among the record's packed codes (:func:`filter_clause`), a yes/no filter in its own column."""
    if not values:
        return None
    if facet.condition is not None:
        return facet.condition if values[0] else f"NOT ({facet.condition})"
    if facet.column is not None:
        params[facet.name] = int(values[0]) if facet.kind is registry.Kind.BOOLEAN else values[0]
        return f"f.{facet.column} = :{facet.name}"
    names = []
    for n, value in enumerate(facet.embedded_values(values)):
        params[f"{facet.name}_{n}"] = pack([code_of(facet.name, value)])
        names.append(f":{facet.name}_{n}")
    return filter_clause(names)


def count_hex(codes_hex: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(codes, counts) of the codes in ``codes_hex`` (the hex of blobs, concatenated by SQL)."""
    import numpy as np

    codes = np.frombuffer(bytes.fromhex(codes_hex or ""), dtype=CODE_DTYPE)
    values, counts = np.unique(codes, return_counts=True)
    return values, counts


def _named(conn: Any, codes: list[int], limit: int | None = None) -> list[tuple[int, str, str]]:
    """(code, facet, value) of ``codes`` from the dictionary, by value (the first ``limit``)."""
    sql = (
        "SELECT v.id, v.facet, v.value FROM json_each(?) j JOIN search_facet_value v ON v.id = j.value "
        "ORDER BY v.value" + (f" LIMIT {int(limit)}" if limit is not None else "")
    )
    return [tuple(row) for row in conn.exec_driver_sql(sql, (orjson.dumps(codes).decode(),))]


def top_values(
    conn: Any, values: np.ndarray, counts: np.ndarray, limit: int, scale: float = 1.0
) -> dict[str, list[tuple[str, int]]]:
    """The ``limit`` most frequent values of each facet, by count then value, with their counts
    (multiplied by ``scale`` when the counts come from a sample)."""
    import numpy as np

    facets = values & FACET_MASK
    chosen: dict[int, int] = {}
    for index in range(len(FACETS)):
        mine = facets == index
        v, c = values[mine], counts[mine]
        if len(c) > limit:
            cut = int(np.partition(c, len(c) - limit)[len(c) - limit])
            above = c > cut
            chosen.update(zip(v[above].tolist(), c[above].tolist(), strict=True))
            # Among the values tied at the cut (often thousands counted once), the first by value.
            tied = v[c == cut].tolist()
            need = limit - int(above.sum())
            kept = tied if len(tied) <= need else [code for code, _f, _v in _named(conn, tied, need)]
            chosen.update(dict.fromkeys(kept, cut))
        else:
            chosen.update(zip(v.tolist(), c.tolist(), strict=True))
    grouped: dict[str, list[tuple[str, int]]] = {facet: [] for facet in FACETS}
    for code, facet, value in _named(conn, list(chosen)):
        grouped[facet].append((value, max(1, round(chosen[code] * scale))))
    return {f: sorted(vs, key=lambda vc: (-vc[1], vc[0]))[:limit] for f, vs in grouped.items()}


def count_all(conn: Any, limit: int) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over the whole index (a search without words or filters)."""
    values, counts = count_hex(
        conn.exec_driver_sql("SELECT group_concat(hex(codes), '') FROM search_filter").scalar_one()
    )
    return top_values(conn, values, counts, limit)
