"""The analytics reports as CSV (UTF-8 with a byte order mark, so that spreadsheet programs read
Vietnamese names right): one table per report, as the pages show them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return BOM + out.getvalue()


def summary_csv(data: dict[str, Any]) -> str:
    """dimension, value, label, titles, unique titles: the holders' distribution, then each breakdown."""
    rows: list[list[Any]] = [
        ["libraries", e["libraries"], e["libraries"], e["titles"], e["titles"] if e["libraries"] == 1 else 0]
        for e in data["distribution"]
    ]
    for dimension, entries in data["breakdowns"].items():
        rows.extend([dimension, e["value"], e["label"], e["titles"], e["unique_titles"]] for e in entries)
    return _table(["dimension", "value", "label", "titles", "unique_titles"], rows)


def overlap_csv(data: dict[str, Any]) -> str:
    """For a member: each other member with the titles both hold; else the whole matrix."""
    if data["library"]:
        keys = ["code", "name", "titles", "shared", "share_of_library", "share_of_other"]
        return _table(keys, ([p[k] for k in keys] for p in data["pairs"]))
    codes = [m["code"] for m in data["libraries"]]
    return _table(
        ["code", "name", "titles", *codes],
        (
            [m["code"], m["name"], m["titles"], *row]
            for m, row in zip(data["libraries"], data["matrix"], strict=True)
        ),
    )


def unique_csv(data: dict[str, Any]) -> str:
    """The unique titles listed (union record id, title, year, member)."""
    keys = ["id", "title", "year", "library"]
    return _table(keys, ([t[k] for k in keys] for t in data["titles"]))


def growth_csv(data: dict[str, Any]) -> str:
    keys = ["month", "library", "added", "updated", "deleted", "jobs"]
    return _table(keys, ([e[k] for k in keys] for e in data["months"]))


WRITERS = {"summary": summary_csv, "overlap": overlap_csv, "unique": unique_csv, "growth": growth_csv}
