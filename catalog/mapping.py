"""The one entry point from a record as a reader found it to what the catalogue stores.

:func:`prepare_record` takes the record's bytes and format (or the record a reader already
decoded), chooses the fastest path that reads it exactly, and returns a
:class:`~catalog.records.PreparedRecord` or raises :class:`~catalog.records.RecordRejected`:

* ISO 2709: the compiled mapping (:mod:`catalog.native`) from the bytes; else the fast Python
  reader (:mod:`catalog.fast_iso2709`); else the reader's careful decoding (pymarc, every
  encoding), which the caller hands in as ``decode``;
* a light record (MARCXML, as the harvest reads it): the compiled mapping from its fields; else
  the Python mapping;
* anything else: the Python mapping (:func:`catalog.records.prepare`).

Every path gives the same result, byte for byte: the tests compare them on every real file, and
check the Python path (always) and the compiled one (when it is built) against the committed
golden outputs (``python -m tests.golden``). Nothing outside this module needs to know which path
ran.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from pymarc import Field, Record

from catalog import fast_iso2709, holdings, marc_fields, native
from catalog.holdings import HoldingsProfile
from catalog.light_record import LightField, LightRecord
from catalog.records import Mapped, PreparedRecord, RecordRejected, prepare

# The reader's careful decoding of a record the fast paths decline: the record and its warnings,
# or RecordRejected with the reason.
Decode = Callable[[], tuple[Record | LightRecord, list[str]]]


def prepare_record(
    raw: bytes,
    raw_format: str,
    profile: HoldingsProfile | None,
    *,
    record: Record | LightRecord | None = None,
    decode: Decode | None = None,
    warnings: list[str] | None = None,
    library: str | None = None,
    tags: str | None = None,
) -> PreparedRecord:
    """Everything the catalogue stores for one record (see :func:`catalog.records.prepare` for
    ``profile`` and ``library``). ``record``: the record when the reader decoded it already;
    otherwise ``decode`` is called if no fast path reads ``raw``. ``tags``: :func:`native_tags` for
    ``profile``, when it was computed once for many records.

    Raises :class:`RecordRejected` with the reason for a record the catalogue cannot take,
    including one odd enough to break the mapping."""
    try:
        return _prepare(raw, raw_format, profile, record, decode, warnings, library, tags)
    except RecordRejected:
        raise
    except Exception as exc:  # a record odd enough to break the mapping must not stop the job
        raise RecordRejected(f"cannot map the record: {exc!r}") from exc


def _prepare(
    raw: bytes,
    raw_format: str,
    profile: HoldingsProfile | None,
    record: Record | LightRecord | None,
    decode: Decode | None,
    warnings: list[str] | None,
    library: str | None,
    tags: str | None,
) -> PreparedRecord:
    if record is None and raw_format == "iso2709":
        tags = native_tags(profile) if tags is None else tags
        if tags:
            compiled = prepare_iso2709(raw, profile, tags, warnings, library)
            if compiled is not None:
                return compiled
        record = fast_iso2709.parse(raw)
    if record is None:
        if decode is None:
            raise RecordRejected("unreadable record")
        record, warnings = decode()
    if isinstance(record, LightRecord) and raw_format == "marcxml" and native.map_fields is not None:
        compiled = prepare_light(record, raw, raw_format, profile, warnings, library)
        if compiled is not None:
            return compiled
    return prepare(record, raw, raw_format, profile, warnings, library)  # type: ignore[arg-type]


def native_tags(profile: HoldingsProfile | None) -> str:
    """The tags the compiled mapping hands back for holdings, run together; ``""`` when the
    compiled mapping is not there or a library's profile names a tag it cannot take."""
    if native.map_iso2709 is None:
        return ""
    tags = holdings.tags_read(profile)
    return "".join(tags) if all(len(t) == 3 and t.isascii() for t in tags) else ""


def prepare_iso2709(
    raw: bytes,
    profile: HoldingsProfile | None,
    tags: str,
    warnings: list[str] | None = None,
    library: str | None = None,
) -> PreparedRecord | None:
    """:func:`~catalog.records.prepare` for an ISO 2709 record that the compiled mapping reads
    (clean UTF-8, the common case), from its bytes; ``None`` for a record that takes the Python
    path. ``tags``: from :func:`native_tags` for the same profile."""
    assert native.map_iso2709 is not None
    found = native.map_iso2709(raw, tags)
    if found is None:
        return None
    grouped: dict[str, list[Field]] = {}
    for tag, ind1, ind2, data, body in found[1]:
        light = LightField(tag, data) if body is None else LightField(tag, "", (ind1, ind2), None, body)
        grouped.setdefault(tag, []).append(light)  # type: ignore[arg-type]
    return prepare(None, raw, "iso2709", profile, warnings, library, mapped=_mapped(found, grouped, library))


def prepare_light(
    record: LightRecord,
    raw: bytes,
    raw_format: str,
    profile: HoldingsProfile | None,
    warnings: list[str] | None = None,
    library: str | None = None,
) -> PreparedRecord | None:
    """:func:`~catalog.records.prepare` for a light record read by other means than ISO 2709
    (MARCXML), through the compiled mapping; ``None`` when it declines the record (it then takes
    the Python mapping)."""
    found = map_light(record)
    if found is None:
        return None
    mapped = _mapped(found, marc_fields.fields_by_tag(record), library)  # type: ignore[arg-type]
    return prepare(None, raw, raw_format, profile, warnings, library, mapped=mapped)


def map_light(record: LightRecord) -> native.Mapping | None:
    """What the compiled mapping gives for a light record (see :data:`catalog.native.Mapping`), or
    ``None`` when it declines it."""
    assert native.map_fields is not None
    given = [(f.tag, f.indicator1, f.indicator2, f.data, f.subfields) for f in record.fields]
    return native.map_fields(record.leader, given)  # type: ignore[arg-type]


def _mapped(found: native.Mapping, grouped: dict[str, list[Field]], library: str | None) -> Mapped:
    _, _, fields_json, core, keys, title_key = found
    # The search document reads every field: only then is the JSON read back into a dict.
    fields = orjson.loads(fields_json) if library else core
    return Mapped(grouped, fields, fields_json, keys, title_key)
