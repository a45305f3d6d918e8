"""The corrections of ``unioncat dedup``: split, merge, keep apart, undo, and the decisions exported
and imported with the catalogue. The command line speaks for the consortium's admin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog import corrections
from catalog.db import writing
from catalog.updates import push_after_commit

from .common import CliError, err, load_settings, open_catalogue, out, print_json, search_for


def correct(action: str, values: list[str], note: str | None, as_json: bool) -> None:
    """Make one correction (``split``, ``merge``, ``never`` or ``undo``) and print what it changed."""
    settings = load_settings()
    engine = open_catalogue()
    search = search_for(engine)
    ignore = settings.dedup_ignore_isbns
    try:
        with writing(engine) as conn:
            if action == "split":
                target = corrections.parse_target(values[0])
                if isinstance(target, int):
                    raise CliError("--split takes CODE:LOCAL_ID, the library's record to take out")
                done = corrections.split(conn, target, corrections.ADMIN, note, ignore, search)
            elif action == "merge":
                a, b = (_union(v) for v in values)
                done = corrections.merge(conn, a, b, corrections.ADMIN, note, ignore, search)
            elif action == "never":
                a, b = (corrections.parse_target(v) for v in values)
                done = corrections.keep_apart(conn, a, b, corrections.ADMIN, note, ignore, search)
            else:
                done = corrections.undo(conn, _number(values[0]), corrections.ADMIN, ignore, search)
    except corrections.CorrectionError as exc:
        raise CliError(str(exc)) from None
    if not search.transactional:
        push_after_commit(engine, search, done.changed)
    if as_json:
        print_json(done.as_dict())
        return
    decision = done.correction
    verb = "undone" if done.undone else "recorded"
    out.print(f"decision {decision.id} {verb}: {decision.label}", markup=False, highlight=False)
    where = ", ".join(str(u) for u in done.unions) or "none"
    out.print(f"its records are now in union records {where}", markup=False, highlight=False)


def _number(text: str) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise CliError(f"{text!r} is not a decision id")
    return int(text)


def _union(text: str) -> int:
    target = corrections.parse_target(text)
    if not isinstance(target, int):
        raise CliError(f"--merge takes two union record ids, not {text!r}")
    return target


def export_decisions(path: Path, as_json: bool) -> None:
    engine = open_catalogue()
    with engine.connect() as conn:
        data = corrections.export_decisions(conn)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if str(path) == "-":
        out.print(text, markup=False, highlight=False)
        return
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
    summary = {"decisions": len(data["decisions"]), "file": str(path)}
    if as_json:
        print_json(summary)
    else:
        err.print(f"exported {summary['decisions']} manual decisions to {path}")


def import_decisions(path: Path, as_json: bool) -> None:
    settings = load_settings()
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not JSON: {exc}") from None
    engine = open_catalogue()
    search = search_for(engine)
    try:
        with writing(engine) as conn:
            summary, changed = corrections.import_decisions(conn, data, settings.dedup_ignore_isbns, search)
    except corrections.CorrectionError as exc:
        raise CliError(f"{path}: {exc}") from None
    if not search.transactional:
        push_after_commit(engine, search, changed)
    if as_json:
        print_json(summary)
    else:
        err.print(
            f"imported {summary['added']} of {summary['decisions']} manual decisions "
            f"({summary['union_records_changed']} union records changed)"
        )
