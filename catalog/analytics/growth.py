"""Growth per month, from the jobs' history: the records each member's jobs added, updated and
deleted, by the month (UTC) the job ended. A failed job counts what it committed before it failed
(the pages of a harvest; nothing of a file, which commits as a whole); reindex and dedup-rebuild jobs
belong to no member and are not counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from catalog.analytics.members import Member, members
from catalog.models import JobStatus

COUNTED = ("added", "updated", "deleted", "jobs")
_MONTH = {
    "sqlite": "strftime('%Y-%m', coalesce(finished_at, created_at))",
    "postgresql": "to_char(coalesce(finished_at, created_at) AT TIME ZONE 'UTC', 'YYYY-MM')",
}


def growth(conn: Connection, library: Member | None = None) -> dict[str, Any]:
    """``months``: [{month 'YYYY-MM', library code, added, updated, deleted, jobs}] in month then
    code order; ``totals``: the same summed per month over the members asked for."""
    sql = (
        f"SELECT {_MONTH[conn.dialect.name]} AS month, library_id, sum(added), sum(updated), sum(deleted), "
        "count(*) FROM ingest_job WHERE library_id IS NOT NULL AND status IN (:succeeded, :failed)"
    )
    params: dict[str, Any] = {"succeeded": JobStatus.SUCCEEDED.value, "failed": JobStatus.FAILED.value}
    if library is not None:
        sql += " AND library_id = :library"
        params["library"] = library.id
    codes = {m.id: m.code for m in members(conn)}
    entries = sorted(
        (
            {
                "month": str(month),
                "library": codes[lib],
                "added": int(added or 0),
                "updated": int(updated or 0),
                "deleted": int(deleted or 0),
                "jobs": int(jobs),
            }
            for month, lib, added, updated, deleted, jobs in conn.execute(
                text(sql + " GROUP BY 1, 2"), params
            )
            if lib in codes and month
        ),
        key=lambda e: (e["month"], e["library"]),
    )
    totals: dict[str, dict[str, Any]] = {}
    for e in entries:
        total = totals.setdefault(
            e["month"], {"month": e["month"], "added": 0, "updated": 0, "deleted": 0, "jobs": 0}
        )
        for key in COUNTED:
            total[key] += e[key]
    return {
        "library": library.code if library is not None else None,
        "months": entries,
        "totals": list(totals.values()),
    }
