"""MARC-in-JSON reading (the code4lib format: ``{"leader": ..., "fields": [{"245": {...}}]}``).

A file holds one record object, an array of them, or one object per line (JSON Lines). Objects are
decoded one at a time from a sliding buffer, so memory stays flat and each record keeps its exact
bytes and offset; a broken object is reported and reading resumes at the next record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from pymarc import Field, Indicators, Record, Subfield

from harvest.chunked import TextWindow
from harvest.incoming import MAX_RECORD_BYTES, Incoming, oversized

_DECODER = json.JSONDecoder()
_NEXT_RECORD = re.compile(r'\{\s*"(?:leader|fields)"')
_SKIP = " \t\r\n,"
# Characters, not bytes: the window holds text (a character is at least one byte, so no record of
# MAX_RECORD_BYTES bytes is longer).
MAX_RECORD = MAX_RECORD_BYTES["marcjson"]
TOO_DEEP = "the record nests arrays or objects too deeply to be MARC-in-JSON"


def record_from_dict(obj: Any) -> Record:
    if not isinstance(obj, dict) or "fields" not in obj:
        raise ValueError("not a MARC-in-JSON record (an object with 'leader' and 'fields')")
    record = Record(leader=str(obj.get("leader") or "").ljust(24)[:24])
    fields = obj["fields"]
    if not isinstance(fields, list):
        raise ValueError("'fields' is not a list")
    for entry in fields:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ValueError(f"a field is not an object with one tag: {str(entry)[:60]}")
        ((tag, value),) = entry.items()
        if isinstance(value, str):
            record.add_field(Field(tag=tag, data=value))
            continue
        if not isinstance(value, dict):
            raise ValueError(f"field {tag} is neither text nor an object")
        subfields = []
        for sub in value.get("subfields") or []:
            if not isinstance(sub, dict) or len(sub) != 1:
                raise ValueError(f"a subfield of {tag} is not an object with one code")
            ((code, text),) = sub.items()
            subfields.append(Subfield(code=str(code), value=str(text)))
        ind1 = str(value.get("ind1") or " ")[:1]
        ind2 = str(value.get("ind2") or " ")[:1]
        record.add_field(Field(tag=tag, indicators=Indicators(ind1, ind2), subfields=subfields))
    if not record.fields:
        raise ValueError("a record without fields")
    return record


def decode_item(item: Incoming) -> Incoming:
    """Fill in ``item.record``, or ``item.error``."""
    if item.error is not None:
        return item
    try:
        item.record = record_from_dict(json.loads(item.raw))
    except ValueError as exc:
        item.error = str(exc)
    except RecursionError:
        item.error = TOO_DEEP
    return item


def split(stream: BinaryIO) -> Iterator[Incoming]:
    """The record objects of a MARC-in-JSON stream (UTF-8), not yet turned into records."""
    window = TextWindow(stream)
    number = 0
    started = False
    skipping = False  # the rest of an oversized record, up to the next record's start
    while window.fill():
        text, eof = window.data, window.eof
        pos = 0
        if skipping:
            nxt = _NEXT_RECORD.search(text)
            if nxt is None:
                if eof:
                    return
                window.consume(max(0, len(text) - 16))  # a record's start may straddle chunks
                continue
            pos, skipping = nxt.start(), False
        if not started:
            pos = len(text) - len(text.lstrip("\ufeff \t\r\n"))
            if pos < len(text) and text[pos] == "[":
                pos += 1
            started = pos < len(text)
        while True:
            while pos < len(text) and text[pos] in _SKIP:
                pos += 1
            if pos >= len(text) or text[pos] == "]":
                pos = len(text) if pos < len(text) else pos
                break
            try:
                _obj, end = _DECODER.raw_decode(text, pos)
            except (json.JSONDecodeError, RecursionError) as exc:
                error = (
                    f"not valid JSON: {exc.msg} (column {exc.colno})"
                    if isinstance(exc, json.JSONDecodeError)
                    else TOO_DEEP
                )
                unfinished = isinstance(exc, json.JSONDecodeError) and exc.pos >= len(text) - 1
                if not eof and len(text) - pos > MAX_RECORD:  # never a whole record: skipped
                    number += 1
                    yield oversized(
                        number, window.offset_of(pos), text[pos : pos + 1024].encode(), "marcjson"
                    )
                    nxt = _NEXT_RECORD.search(text, pos + 1)
                    if nxt is None:
                        skipping, pos = True, max(pos, len(text) - 16)
                        break
                    pos = nxt.start()
                    continue
                if not eof and unfinished:
                    break  # the object goes on in the next chunk
                nxt = _NEXT_RECORD.search(text, pos + 1)
                if nxt is None and not eof:
                    break
                end = nxt.start() if nxt else len(text)
                number += 1
                yield Incoming(
                    number=number,
                    offset=window.offset_of(pos),
                    raw=text[pos:end].encode("utf-8"),
                    raw_format="marcjson",
                    error=error,
                )
                pos = end
                continue
            number += 1
            yield Incoming(
                number=number,
                offset=window.offset_of(pos),
                raw=text[pos:end].encode("utf-8"),
                raw_format="marcjson",
            )
            pos = end
        window.consume(pos)
        if eof and window.data.strip(_SKIP + "]") == "":
            return
