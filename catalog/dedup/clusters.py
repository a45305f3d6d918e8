"""Union records, kept incrementally: a change re-decides only the pairs it touches and re-clusters
only the connected records around it.

Clusters are the connected components of accepted pairs, split where needed so that no union record
holds two records of one library (strongest evidence joins first; ties are broken by library code
and local id, never by database ids or ingest order, so the result does not depend on the order in
which libraries were ingested). A union record keeps its id while most of its members stay together.

Librarians' manual decisions (catalog.dedup.manual) win over the rules: their verdict replaces the
rules' on every pair they name, their merges join first, and the records they keep apart are never
put in one union record, however the accepted pairs connect them. A union record that disappears
because its members went into another remembers which in its tombstone (``merged_into``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import orjson
from rapidfuzz import fuzz
from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from catalog.db import allocate_ids, bind_datetime, chunks, placeholder, rows_in
from catalog.dedup import keys as blocking
from catalog.dedup import union_keys
from catalog.dedup.joining import Joiner
from catalog.dedup.keys import Key
from catalog.dedup.manual import ManualIndex
from catalog.dedup.merge import Tags, merge_tagged
from catalog.dedup.rules import STRENGTH, Decision, MatchView, decide, ignored_isbns, view
from catalog.marc_fields import display_title
from catalog.models import (
    Library,
    MatchDecision,
    RecordKey,
    SourceRecord,
    UnionRecord,
    UnionTombstone,
    utcnow,
)
from catalog.text import fold

SR = SourceRecord.__table__  # type: ignore[attr-defined]
KEY = RecordKey.__table__  # type: ignore[attr-defined]
DECISION = MatchDecision.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]
TOMB = UnionTombstone.__table__  # type: ignore[attr-defined]

MAX_BLOCK = 200  # a key shared by more records than this is too common to say anything
MAX_REDECIDE_BLOCK = 50  # identifier blocks up to this size are re-decided whole when one member changes
UNTRUSTED_TITLE_SCORE = 50  # an ISBN on records with titles this far apart is not trusted for matching
MIN_RANGE_RUN = 8  # singletons with consecutive ids written by range from this many on
# PostgreSQL: the transactions that change union records take turns on this advisory lock
UNION_WRITERS_LOCK = 0x756E696F6E726563 & 0x7FFFFFFFFFFFFFFF


@dataclass
class DedupResult:
    union_ids: set[int] = field(default_factory=set)  # created, changed or deleted union records
    singletons: dict[int, int] = field(default_factory=dict)  # new union id -> its one source record
    # union id -> the new records that joined it and all that changed it (catalog.dedup.joining)
    joined: dict[int, list[int]] = field(default_factory=dict)
    described_as_before: set[int] = field(default_factory=set)  # of those, the merged fields unchanged
    decisions: int = 0
    accepted: int = 0

    def rewritten(self, union_ids: Iterable[int]) -> None:
        """Union records written whole from their members (or deleted): more than a join changed them."""
        for uid in union_ids:
            self.union_ids.add(uid)
            self.joined.pop(uid, None)
            self.described_as_before.discard(uid)


Fresh = tuple[int, Sequence[Key]]  # a new record's library id and match keys


def take_turns(conn: Connection) -> None:
    """Wait until no other transaction that changes union records is open, and hold the turn until
    this one ends. Records are decided against the records committed, so two jobs of different
    libraries writing at once would not see each other's records, and their shared editions would
    stay apart: on PostgreSQL (where jobs of different libraries may run at the same moment) their
    union-record work takes turns, a transaction at a time (a file ingest is one; a harvest commits
    page after page). SQLite has a single writer: its transactions take turns already. A request's
    write waits for its turn as long as its lock timeout (see catalog.db.write_waiting)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(UNION_WRITERS_LOCK)))


class Deduplicator:
    """Keeps union records right for the source records a job touched, on the job's connection."""

    max_block = MAX_BLOCK

    def __init__(self, conn: Connection, ignore_isbns: Iterable[str] = ()) -> None:
        self.conn = conn
        take_turns(conn)
        self.ignore_isbns = ignored_isbns(ignore_isbns)
        self._libraries: dict[int, str] | None = None
        self._views: dict[int, MatchView] = {}
        self._fields: dict[int, dict[str, Any]] = {}
        self._library_of: dict[int, int] = {}
        self.manual = ManualIndex()

    # ----------------------------------------------------------------------------------- loading
    @property
    def libraries(self) -> dict[int, str]:
        if self._libraries is None:
            self._libraries = dict(self.conn.execute(select(LIBRARY.c.id, LIBRARY.c.code)).all())
        return self._libraries

    def _load(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - self._fields.keys())
        rows = rows_in(
            self.conn,
            "SELECT id, library_id, local_id, fields FROM source_record "
            "WHERE status = 'active' AND id IN ({ids})",
            missing,
        )
        for rid, library_id, local_id, fields in rows:
            data = orjson.loads(fields) if isinstance(fields, (str, bytes)) else fields
            self._fields[rid] = data
            self._library_of[rid] = library_id
            self._views[rid] = view(rid, self.libraries[library_id], local_id, data)

    def _keys(self, record_ids: Sequence[int], fresh: Mapping[int, Fresh]) -> dict[int, list[Key]]:
        """The match keys of ``record_ids``: those of ``fresh`` records as given, the others read."""
        keys = {rid: list(fresh[rid][1]) for rid in record_ids if rid in fresh}
        stored = [rid for rid in record_ids if rid not in fresh]
        sql = "SELECT source_record_id, kind, value FROM record_key WHERE source_record_id IN ({ids})"
        for rid, kind, value in rows_in(self.conn, sql, stored):
            keys.setdefault(rid, []).append((kind, value))
        return keys

    def _blocks(
        self, record_ids: Sequence[int], known: Mapping[int, Sequence[Key]] | None = None
    ) -> dict[Key, list[int]]:
        """Blocking key -> its records, for every blocking key of ``record_ids`` held by more than one
        record (a key of one record makes no pair and says nothing about an ISBN's trust).

        Identifiers are found by value (record_key's partial index). A title key is found through
        the union records that hold it (union_key) and their members: exact for every record whose
        union record's keys are written. Those whose are not yet (the records a call of process is
        placing) are ``known``, with their keys, which are not read back."""
        known = known or {}
        # the keys in hand: of every record in ``known``, and of the others among record_ids, read
        keys = {**self._keys([r for r in record_ids if r not in known], {}), **known}
        wanted = {key for rid in record_ids for key in keys.get(rid, ()) if key[0] in blocking.BLOCKING_KINDS}
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, value in wanted:
            if kind in blocking.IDENTIFIER_KINDS:
                by_kind[kind].append(value)
        blocks: dict[Key, list[int]] = defaultdict(list)
        for kind, values in by_kind.items():
            # Most keys belong to one record alone, which no pair can come from: the index alone
            # says which are shared, and only the members of those are read.
            shared = rows_in(
                self.conn,
                "SELECT value FROM record_key WHERE kind = {mark} AND value IN ({ids}) "
                f"AND {blocking.IDENTIFIER_KEYS} GROUP BY value HAVING count(*) > 1",
                sorted(values),
                before=(kind,),
            )
            sql = (
                "SELECT value, source_record_id FROM record_key WHERE kind = {mark} AND value IN ({ids}) "
                f"AND {blocking.IDENTIFIER_KEYS}"
            )
            for value, rid in rows_in(self.conn, sql, sorted(v for (v,) in shared), before=(kind,)):
                blocks[(kind, value)].append(rid)
        titles = {key for key in wanted if key[0] in blocking.TITLE_KINDS}
        if titles:
            blocks.update(self._title_blocks(titles, keys))
        return blocks

    def _title_blocks(self, wanted: set[Key], keys: Mapping[int, Sequence[Key]]) -> dict[Key, list[int]]:
        """The records holding each title key of ``wanted``: those whose ``keys`` are in hand, and
        the members of the union records that hold it."""
        own: dict[Key, set[int]] = defaultdict(set)
        for rid, pairs in keys.items():
            for key in pairs:
                if key in wanted:
                    own[key].add(rid)
        unions = union_keys.holders(self.conn, wanted)
        # at least as many holders as the records that hold it: those of union records whose keys
        # are written counted there, the others among their own
        shared = {key for key in wanted if len(own[key]) + sum(unions.get(key, {}).values()) > 1}
        found: dict[Key, set[int]] = {key: set(own[key]) for key in shared}
        kinds = ", ".join(f"'{kind}'" for kind in blocking.TITLE_KINDS)
        for kind, value, rid in rows_in(
            self.conn,
            "SELECT k.kind, k.value, s.id FROM source_record s CROSS JOIN record_key k "
            "WHERE k.source_record_id = s.id AND s.union_record_id IN ({ids}) AND s.status = 'active' "
            f"AND k.kind IN ({kinds})",
            sorted({uid for key in shared for uid in unions.get(key, {})}),
        ):
            if (kind, value) in found:
                found[(kind, value)].add(rid)
        return {key: sorted(rids) for key, rids in found.items() if len(rids) > 1}

    # --------------------------------------------------------------------------------- deciding
    def _untrusted(self, blocks: dict[Key, list[int]]) -> frozenset[str]:
        """ISBNs on the ignore list, and ISBNs shared by records with clearly different titles."""
        untrusted = set(self.ignore_isbns)
        for (kind, value), members in blocks.items():
            if kind != "isbn" or len(members) < 2 or len(members) > MAX_BLOCK:
                continue
            titles = {self._views[m].title for m in members if m in self._views}
            if any(fuzz.ratio(x, y) < UNTRUSTED_TITLE_SCORE for x, y in combinations(sorted(titles), 2)):
                untrusted.add(value)
        return frozenset(untrusted)

    def _pairs(self, touched: set[int], blocks: dict[Key, list[int]]) -> set[tuple[int, int]]:
        pairs: set[tuple[int, int]] = set()
        for (kind, _value), members in blocks.items():
            if len(members) < 2 or len(members) > MAX_BLOCK:
                continue
            if kind in blocking.IDENTIFIER_KINDS and len(members) <= MAX_REDECIDE_BLOCK:
                candidates = combinations(sorted(set(members)), 2)
            else:
                inside = sorted(set(members) & touched)
                candidates = ((min(t, m), max(t, m)) for t in inside for m in members if m != t)
            for a, b in candidates:
                la, lb = self._library_of.get(a), self._library_of.get(b)
                if la is not None and lb is not None and la != lb:
                    pairs.add((a, b))
        return pairs

    def _decide(self, a: int, b: int, untrusted: frozenset[str]) -> Decision:
        """The manual decision on the pair where there is one, else the rules'."""
        return self.manual.get(a, b) or decide(self._views[a], self._views[b], untrusted)

    def explain_pair(self, a: int, b: int) -> Decision:
        self.manual = ManualIndex.load(self.conn)
        self._meta([a, b])
        self._load([a, b])
        blocks = self._blocks([a, b])
        self._load({m for members in blocks.values() for m in members})
        return self._decide(a, b, self._untrusted(blocks))

    # ------------------------------------------------------------------------------- clustering
    def _accepted_edges(self, nodes: set[int]) -> list[tuple[int, int, str]]:
        edges: set[tuple[int, int, str]] = set()
        for column in ("record_a_id", "record_b_id"):
            sql = "SELECT record_a_id, record_b_id, rule FROM match_decision WHERE accepted AND "
            sql += f"{column} IN ({{ids}})"
            edges.update(tuple(r) for r in rows_in(self.conn, sql, sorted(nodes)))  # type: ignore[misc]
        return list(edges)

    def _closure(self, seeds: set[int]) -> tuple[set[int], list[tuple[int, int, str]]]:
        nodes, frontier = set(seeds), set(seeds)
        edges: set[tuple[int, int, str]] = set()
        while frontier:
            found = self._accepted_edges(frontier)
            edges.update(found)
            frontier = {n for a, b, _ in found for n in (a, b)} - nodes
            nodes |= frontier
        return nodes, sorted(edges)

    def _clusters(self, nodes: set[int], edges: list[tuple[int, int, str]]) -> list[list[int]]:
        """Connected components, joined strongest edge first, never two records of one library."""
        parent = {n: n for n in nodes}
        libraries = {n: {self._views[n].library} for n in nodes}
        apart = self.manual.apart_among(nodes)  # kept apart by a librarian, even through other records
        grouped = {n: {n} for n in nodes} if apart else {}

        def root(n: int) -> int:
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        def order(edge: tuple[int, int, str]) -> tuple[Any, ...]:
            a, b, rule = edge
            keys = sorted((self._views[a].order_key, self._views[b].order_key))
            return (-STRENGTH.get(rule, 0), keys)

        for a, b, _rule in sorted((e for e in edges if e[0] in nodes and e[1] in nodes), key=order):
            ra, rb = root(a), root(b)
            if ra == rb or libraries[ra] & libraries[rb]:
                continue
            if apart and any(apart.get(n, set()) & grouped[rb] for n in grouped[ra]):
                continue
            keep, gone = sorted((ra, rb), key=lambda r: self._views[r].order_key)
            parent[gone] = keep
            libraries[keep] |= libraries.pop(gone)
            if apart:
                grouped[keep] |= grouped.pop(gone)
        groups: dict[int, list[int]] = defaultdict(list)
        for n in nodes:
            groups[root(n)].append(n)
        clusters = [sorted(g, key=lambda n: self._views[n].order_key) for g in groups.values()]
        return sorted(clusters, key=lambda c: self._views[c[0]].order_key)

    # ---------------------------------------------------------------------------------- writing
    def _allocate_union_ids(self, count: int) -> list[int]:
        return allocate_ids(self.conn, "union_record", count)

    def _union_row(self, members: list[int]) -> tuple[dict[str, Any], Tags | None]:
        """The union record's row, and its merge tags when it merges two members or more."""
        # A union record of one member is its record's copy, as when it is written by copying the row
        # (_insert_singletons): a value its record repeats within a list stays repeated.
        tags = None
        if len(members) == 1:
            merged = self._fields[members[0]]
        else:
            merged, tags = merge_tagged([(self._views[m].order_key, self._fields[m]) for m in members])
        return {
            "title": display_title(merged),
            "title_key": fold(merged.get("sort_title") or merged.get("title")) or None,
            "year": merged.get("year"),
            "fields": merged,
            "member_count": len(members),
            "library_count": len({self._views[m].library for m in members}),
            "updated_at": utcnow(),
        }, tags

    def _meta(self, ids: Iterable[int]) -> None:
        """Library and status of records, cheaply (no fields): enough to know which pairs to decide."""
        missing = set(ids) - self._library_of.keys()
        for rid, library_id, status in rows_in(
            self.conn, "SELECT id, library_id, status FROM source_record WHERE id IN ({ids})", sorted(missing)
        ):
            if status == "active":
                self._library_of[rid] = library_id

    def process(self, touched_ids: Iterable[int], fresh: Mapping[int, Fresh] | None = None) -> DedupResult:
        """Bring union records up to date after ``touched_ids`` were added, changed or deleted.

        ``fresh``: records among them that were just inserted as new rows, with their library and
        match keys as written. What they are is known without reading it back: active, of that
        library, with those keys, and in no union record yet."""
        result = DedupResult()
        touched = set(touched_ids)
        if not touched:
            return result
        self._fields.clear()  # what other jobs or batches changed is read afresh; memory stays bounded
        self._views.clear()
        self._library_of.clear()
        self.manual = ManualIndex.load(self.conn)
        fresh = {rid: value for rid, value in (fresh or {}).items() if rid in touched}
        placed: set[int] = set()
        if fresh:  # new records placed against their candidates' states where that decides them
            # a record a librarian's decision names is placed by the member-level clustering
            held = {rid for rid in fresh if rid in self.manual.partners}
            rest = {rid: value for rid, value in fresh.items() if rid not in held}
            left = (Joiner(self).place(rest, result) if rest else set()) | held
            placed = set(result.union_ids)
            touched = (touched - fresh.keys()) | left
            fresh = {rid: fresh[rid] for rid in left}
            if not touched:
                return result
        previous: dict[int, int | None] = dict.fromkeys(fresh)
        previous.update(
            rows_in(
                self.conn,
                "SELECT id, union_record_id FROM source_record WHERE id IN ({ids})",
                sorted(touched - fresh.keys()),
            )
        )
        for rid, (library_id, _keys) in fresh.items():
            self._library_of[rid] = library_id
        self._meta(touched)
        active = {t for t in touched if t in self._library_of}

        known = self._keys(sorted(active), fresh)
        blocks = self._blocks(sorted(active), known)
        self._meta({m for members in blocks.values() if len(members) <= MAX_BLOCK for m in members})
        pairs = self._pairs(active, blocks)
        manual_pairs = self.manual.pairs_of(active)
        if manual_pairs:
            self._meta({n for pair in manual_pairs for n in pair})
            pairs |= {(a, b) for a, b in manual_pairs if a in self._library_of and b in self._library_of}
        in_pairs = {n for pair in pairs for n in pair}
        self._load(in_pairs)
        untrusted = self._untrusted(blocks)

        # Old edges of the touched records: their other ends may now belong elsewhere.
        old_edges = self._accepted_edges(touched)
        old_neighbours = {n for a, b, _ in old_edges for n in (a, b)}
        old_unions = {u for u in previous.values() if u is not None}
        mates: set[int] = set()
        if old_unions:
            mates = {
                r[0]
                for r in rows_in(
                    self.conn,
                    "SELECT id FROM source_record WHERE union_record_id IN ({ids})",
                    sorted(old_unions),
                )
            }

        if old_edges or pairs:
            for part in chunks(sorted(touched)):
                self.conn.execute(
                    delete(DECISION).where(
                        or_(DECISION.c.record_a_id.in_(part), DECISION.c.record_b_id.in_(part))
                    )
                )
        others = sorted(p for p in pairs if p[0] not in touched and p[1] not in touched)
        if others:  # pairs of untouched records decided again: their old decisions go, in one statement
            self.conn.execute(
                delete(DECISION).where(
                    and_(DECISION.c.record_a_id == bindparam("a"), DECISION.c.record_b_id == bindparam("b"))
                ),
                [{"a": a, "b": b} for a, b in others],
            )
        rows = []
        now = utcnow()
        for a, b in sorted(pairs):
            decision = self._decide(a, b, untrusted)
            rows.append(decision.row(a, b, now))
        if rows:
            self.conn.execute(insert(DECISION), rows)
        result.decisions += len(rows)
        result.accepted += sum(r["accepted"] for r in rows)
        accepted_nodes = {r["record_a_id"] for r in rows if r["accepted"]} | {
            r["record_b_id"] for r in rows if r["accepted"]
        }

        # New records with no candidate, no old union and no old edge are union records of their own:
        # written straight from the source record, with no merge to compute.
        alone = sorted(
            t
            for t in active
            if t not in accepted_nodes and previous.get(t) is None and t not in old_neighbours
        )
        if alone:
            self._insert_singletons(alone, result)
        seeds = (active - set(alone)) | old_neighbours | mates | accepted_nodes
        self._load(seeds)
        seeds = {s for s in seeds if s in self._views}
        if not seeds and not (touched - active):
            union_keys.refresh(self.conn, result.union_ids - placed)
            return result
        nodes, edges = self._closure(seeds)
        self._load(nodes)
        nodes = {n for n in nodes if n in self._views}
        edges += self._complete(nodes, result, known)
        missing = sorted(nodes - previous.keys())
        previous.update(
            rows_in(self.conn, "SELECT id, union_record_id FROM source_record WHERE id IN ({ids})", missing)
        )
        before = {u for u in previous.values() if u is not None}
        written, tags = self._write_clusters(self._clusters(nodes, edges), previous, touched, result)
        union_keys.refresh(self.conn, before | (result.union_ids - placed))
        Joiner(self).keep_states(written, tags)
        return result

    def _complete(
        self, nodes: set[int], result: DedupResult, known: Mapping[int, Sequence[Key]]
    ) -> list[tuple[int, int, str]]:
        """Decide the candidate pairs among ``nodes`` that have no decision yet, and return the
        accepted ones. New records placed against a union record's classes were decided against one
        member of each (see catalog.dedup.joining); where the member-level clustering runs, it needs
        the decisions against every member, as if each record had been decided against all."""
        if len(nodes) < 2:
            return []
        blocks = self._blocks(sorted(nodes), known)
        pairs: set[tuple[int, int]] = set()
        for members in blocks.values():
            if len(members) > MAX_BLOCK:
                continue
            inside = sorted(set(members) & nodes)
            for a, b in combinations(inside, 2):
                if self._library_of.get(a) != self._library_of.get(b):
                    pairs.add((a, b))
        if not pairs:
            return []
        decided = {
            (a, b)
            for a, b in rows_in(
                self.conn,
                "SELECT record_a_id, record_b_id FROM match_decision WHERE record_a_id IN ({ids})",
                sorted({a for a, _b in pairs}),
            )
        }
        todo = sorted(pairs - decided)
        if not todo:
            return []
        isbn_members = {
            m for (kind, _v), ms in blocks.items() if kind == "isbn" and len(ms) <= MAX_BLOCK for m in ms
        }
        self._load(isbn_members)
        untrusted = self._untrusted(blocks)
        now = utcnow()
        rows = []
        for a, b in todo:
            decision = self._decide(a, b, untrusted)
            rows.append(decision.row(a, b, now))
        self.conn.execute(insert(DECISION), rows)
        result.decisions += len(rows)
        result.accepted += sum(r["accepted"] for r in rows)
        return [(r["record_a_id"], r["record_b_id"], r["rule"]) for r in rows if r["accepted"]]

    def _insert_singletons(self, record_ids: list[int], result: DedupResult) -> None:
        """Union records of their own for ``record_ids`` (sorted), copied from the source records.

        A batch's new records have consecutive ids, and so have the union records allocated for
        them: a run of both is written by two range statements (half the time of one statement per
        record); what is left, record by record."""
        new_ids = self._allocate_union_ids(len(record_ids))
        mark = placeholder(self.conn)
        stamp = bind_datetime(self.conn, utcnow())
        copy = (
            "INSERT INTO union_record (id, title, title_key, year, fields, member_count, library_count, "
            "created_at, updated_at) SELECT {uid}, title, title_key, year, fields, 1, 1, {mark}, {mark} "
            "FROM source_record WHERE {where}"
        )
        single: list[tuple[int, int]] = []
        for run in _runs(list(zip(new_ids, record_ids, strict=True))):
            if len(run) < MIN_RANGE_RUN:
                single += run
                continue
            offset, first, last = run[0][0] - run[0][1], run[0][1], run[-1][1]
            where = f"id BETWEEN {mark} AND {mark}"
            self.conn.exec_driver_sql(
                copy.format(uid=f"id + {mark}", mark=mark, where=where), (offset, stamp, stamp, first, last)
            )
            self.conn.exec_driver_sql(
                f"UPDATE source_record SET union_record_id = id + {mark} WHERE {where}", (offset, first, last)
            )
        if single:
            self.conn.exec_driver_sql(
                copy.format(uid=mark, mark=mark, where=f"id = {mark}"),
                [(uid, stamp, stamp, rid) for uid, rid in single],
            )
            self._assign(single)
        result.union_ids.update(new_ids)
        result.singletons.update(zip(new_ids, record_ids, strict=True))

    def _assign(self, pairs: list[tuple[int, int]]) -> None:
        """Point source records at union records: (union id, source record id) pairs."""
        mark = placeholder(self.conn)
        self.conn.exec_driver_sql(
            f"UPDATE source_record SET union_record_id = {mark} WHERE id = {mark}", pairs
        )

    def _write_clusters(
        self,
        clusters: list[list[int]],
        previous: dict[int, int | None],
        touched: set[int],
        result: DedupResult,
    ) -> tuple[dict[int, list[int]], dict[int, Tags]]:
        """Write the union records of ``clusters``; return them (union id -> members) with the merge
        tags of those written whole from two members or more."""
        used: set[int] = set()
        assignment: dict[int, int | None] = {}
        fresh: list[list[int]] = []
        for members in clusters:
            counts = Counter(previous.get(m) for m in members if previous.get(m) is not None)
            choice = next(
                (u for u, _ in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if u not in used), None
            )
            if choice is None:
                fresh.append(members)
                continue
            used.add(choice)
            for m in members:
                assignment[m] = choice
        new_ids = self._allocate_union_ids(len(fresh))
        now = utcnow()
        inserts = []
        tags: dict[int, Tags] = {}
        for uid, members in zip(new_ids, fresh, strict=True):
            used.add(uid)
            row, merge_tags = self._union_row(members)
            inserts.append({"id": uid, "created_at": now, **row})
            if merge_tags is not None:
                tags[uid] = merge_tags
            for m in members:
                assignment[m] = uid
        if inserts:
            self.conn.execute(insert(UNION), inserts)
        by_union: dict[int, list[int]] = defaultdict(list)
        for m, uid in assignment.items():
            by_union[uid].append(m)  # type: ignore[index]
        members_before: dict[int, list[int]] = defaultdict(list)  # once, not once per union record
        for m, u in previous.items():
            if u is not None:
                members_before[u].append(m)
        rewritten = []
        for uid, members in by_union.items():
            if uid in new_ids:
                continue
            before = sorted(members_before.get(uid, []))
            if before != sorted(members) or touched & set(members):
                members.sort(key=lambda n: self._views[n].order_key)
                row, merge_tags = self._union_row(members)
                rewritten.append({"union_id": uid, **row})
                result.rewritten([uid])
                if merge_tags is not None:
                    tags[uid] = merge_tags
        if rewritten:  # one statement for all of them: building one per union record cost more than it
            self.conn.execute(update(UNION).where(UNION.c.id == bindparam("union_id")), rewritten)
        result.union_ids.update(new_ids)
        changed = [(uid, m) for m, uid in assignment.items() if previous.get(m) != uid]
        if changed:
            self._assign(changed)
        gone_records = [m for m in touched if m not in self._views and previous.get(m) is not None]
        for part in chunks(gone_records):
            self.conn.execute(update(SR).where(SR.c.id.in_(part)).values(union_record_id=None))
        orphans = {u for u in previous.values() if u is not None} - used
        for part in chunks(sorted(orphans)):
            still = set(
                self.conn.execute(
                    select(SR.c.union_record_id).where(
                        SR.c.union_record_id.in_(part), SR.c.status == "active"
                    )
                ).scalars()
            )
            dead = [u for u in part if u not in still]
            if dead:
                self.conn.execute(
                    update(SR).where(SR.c.union_record_id.in_(dead)).values(union_record_id=None)
                )
                self.conn.execute(delete(UNION).where(UNION.c.id.in_(dead)))
                result.rewritten(dead)
                self._remember_merges(dead, previous, assignment)
        return by_union, tags

    def _remember_merges(
        self, dead: Sequence[int], previous: dict[int, int | None], assignment: dict[int, int | None]
    ) -> None:
        """The tombstones of union records whose members went into another: where most of them went
        (a union record whose members were all deleted has none, and its URL answers Gone)."""
        went: dict[int, Counter[int]] = defaultdict(Counter)
        for m, u in previous.items():
            target = assignment.get(m)
            if u is not None and target is not None and target != u:
                went[u][target] += 1
        rows = [
            {"tomb_id": u, "merged_into": sorted(went[u].items(), key=lambda x: (-x[1], x[0]))[0][0]}
            for u in dead
            if went.get(u)
        ]
        if rows:
            self.conn.execute(
                update(TOMB)
                .where(TOMB.c.id == bindparam("tomb_id"))
                .values(merged_into=bindparam("merged_into")),
                rows,
            )


def _runs(pairs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """(union id, record id) pairs, in record id order, cut where either id does not go up by one."""
    runs: list[list[tuple[int, int]]] = []
    for pair in pairs:
        if runs and pair[0] == runs[-1][-1][0] + 1 and pair[1] == runs[-1][-1][1] + 1:
            runs[-1].append(pair)
        else:
            runs.append([pair])
    return runs


def rebuild(conn: Connection, ignore_isbns: Iterable[str] = (), batch: int = 2000) -> DedupResult:
    """Decide every candidate pair again and rebuild all union records (ids kept where clusters stay)."""
    conn.execute(delete(DECISION))
    total = DedupResult()
    ids = list(conn.execute(select(SR.c.id).where(SR.c.status == "active").order_by(SR.c.id)).scalars())
    dedup = Deduplicator(conn, ignore_isbns)
    for part in chunks(ids, batch):
        step = dedup.process(part)
        total.union_ids |= step.union_ids
        total.decisions += step.decisions
        total.accepted += step.accepted
    orphans = (
        conn.execute(
            select(UNION.c.id).where(
                ~UNION.c.id.in_(select(SR.c.union_record_id).where(SR.c.union_record_id.is_not(None)))
            )
        )
        .scalars()
        .all()
    )
    for part in chunks(orphans):
        conn.execute(delete(UNION).where(UNION.c.id.in_(part)))
    total.union_ids.update(orphans)
    union_keys.refresh_all(conn)
    return total
