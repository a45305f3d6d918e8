"""New records placed against their candidate union records as wholes, at a cost that does not grow
with the number of members.

A new record's candidates are the union records that hold one of its blocking keys (union_key). It
is decided against one member of each class of each candidate (catalog.dedup.state) that shares a
blocking key with it: the decision the member-level clustering would make against every member of
that class. When the record is accepted by exactly one union record, which holds no record of its
library, the clustering would put it there and change nothing else: it joins, and the merged
description takes it in (catalog.dedup.merge.add_member). Accepted by none, it is a union record of
its own. Every other case (two union records joined, one record per library at stake, an ISBN whose
trust the record changes, a union record of more than MAX_CLASSES classes) is left to the
member-level clustering.

That holds for a union record split from another by one record per library (an accepted decision
crossing between the two) as well. The clustering joins components strongest edge first and refuses
a join that would bring two records of one library together. The new record's accepted edges all
end in the one union record; every component holding one of its members lies within it, and none
holds the new record's library. So every join the clustering made without the record it still
makes (the record adds only its library, which none of them holds), every join it refused it still
refuses (a component only gains libraries), and the record ends in that union record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import orjson
from rapidfuzz import fuzz
from sqlalchemy import bindparam, insert, update

from catalog.db import rows_in
from catalog.dedup import union_keys
from catalog.dedup.keys import BLOCKING_KINDS, Key
from catalog.dedup.merge import Tags, add_member, merge_tagged
from catalog.dedup.rules import decide
from catalog.dedup.state import UnionState
from catalog.marc_fields import display_title
from catalog.models import MatchDecision, UnionRecord, utcnow
from catalog.text import fold

if TYPE_CHECKING:
    from catalog.dedup.clusters import Deduplicator, DedupResult, Fresh

DECISION = MatchDecision.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
MAX_CLASSES = 24  # a union record with more classes of members is left to the member-level clustering


@dataclass
class _Union:
    state: UnionState
    fields: dict[str, Any] | None = None  # merged, read when a record joins
    joined: list[int] = field(default_factory=list)


class Joiner:
    """The new records of one batch, placed where their candidates' states suffice."""

    def __init__(self, dedup: Deduplicator) -> None:
        self.dedup = dedup
        self.conn = dedup.conn

    def place(self, fresh: Mapping[int, Fresh], result: DedupResult) -> set[int]:
        """Place what can be placed; return the records left to the member-level clustering."""
        if len({library for library, _keys in fresh.values()}) > 1:
            return set(fresh)  # records of one library never match each other: the usual batch
        keys_of = {rid: [k for k in keys if k[0] in BLOCKING_KINDS] for rid, (_lib, keys) in fresh.items()}
        found = union_keys.holders(self.conn, {k for keys in keys_of.values() for k in keys})
        batch_holders: dict[Key, list[int]] = defaultdict(list)
        for rid, keys in keys_of.items():
            for k in keys:
                batch_holders[k].append(rid)
        # A key held by more records than MAX_BLOCK says nothing (as in the member-level clustering).
        usable = {
            k
            for k, unions in found.items()
            if sum(unions.values()) + len(batch_holders[k]) <= self.dedup.max_block
        }
        matched = sorted(rid for rid, keys in keys_of.items() if any(k in usable for k in keys))
        alone = sorted(set(fresh) - set(matched))
        left: set[int] = set()
        if matched:
            self.dedup._load(matched)
            unions = self._unions({u for k in usable for u in found[k]})
            untrusted, flipped = self._trust(matched, keys_of, usable, found, unions)
            left, alone_too = self._decide(
                matched, keys_of, usable, found, unions, untrusted, flipped, result
            )
            alone = sorted([*alone, *alone_too])
        if alone:
            self.dedup._insert_singletons(alone, result)
            by_record = {rid: uid for uid, rid in result.singletons.items()}
            union_keys.add(self.conn, [(k, v, by_record[rid]) for rid in alone for k, v in keys_of[rid]])
        return left

    # ------------------------------------------------------------------------------------ state
    def _unions(self, union_ids: set[int]) -> dict[int, _Union]:
        stored = union_keys.load_states(self.conn, union_ids)
        out = {uid: _Union(UnionState.loads(raw)) for uid, raw in stored.items()}
        missing = sorted(union_ids - stored.keys())
        if missing:
            out.update(self._build(missing))
        return out

    def _build(self, union_ids: list[int]) -> dict[int, _Union]:
        """States of union records that have none yet, from their members (once per union record)."""
        dedup = self.dedup
        members: dict[int, list[int]] = defaultdict(list)
        for rid, uid in rows_in(
            self.conn,
            "SELECT id, union_record_id FROM source_record "
            "WHERE status = 'active' AND union_record_id IN ({ids})",
            union_ids,
        ):
            members[uid].append(rid)
        ids = sorted(r for rs in members.values() for r in rs)
        dedup._load(ids)
        keys = self._blocking_keys(ids)
        out: dict[int, _Union] = {}
        for uid, rids in members.items():
            rids = [r for r in rids if r in dedup._views]
            state = self._state(rids, keys)
            merged, state.tags = merge_tagged([(dedup._views[r].order_key, dedup._fields[r]) for r in rids])
            out[uid] = _Union(state, merged)
        return out

    def keep_states(self, clusters: Mapping[int, list[int]], tags: Mapping[int, Tags]) -> None:
        """Save the states of the union records the member-level clustering has just placed, from
        what it has read: ``clusters`` (union id -> its members, every one loaded) and the merge
        ``tags`` of those it wrote whole. The same states as _build would make from the members
        when a record is next matched, without reading them again. A union record of one member is
        left to _build: its fields are its record's copy, which merge tags do not describe."""
        merged = sorted(uid for uid, rids in clusters.items() if len(rids) > 1)
        held = dict(
            rows_in(
                self.conn,
                "SELECT union_record_id, count(*) FROM source_record "
                "WHERE status = 'active' AND union_record_id IN ({ids}) GROUP BY union_record_id",
                merged,
            )
        )
        # a union record with members the clustering did not see is left to _build
        wanted = {uid: clusters[uid] for uid in merged if held.get(uid) == len(clusters[uid])}
        keys = self._blocking_keys(sorted(r for rids in wanted.values() for r in rids))
        views, fields = self.dedup._views, self.dedup._fields
        states = {}
        for uid, rids in wanted.items():
            state = self._state(rids, keys)
            state.tags = (
                tags[uid] if uid in tags else merge_tagged([(views[r].order_key, fields[r]) for r in rids])[1]
            )
            states[uid] = state.dumps().decode()
        union_keys.save_states(self.conn, states)

    def _blocking_keys(self, record_ids: list[int]) -> dict[int, list[Key]]:
        return {
            rid: [key for key in keys if key[0] in BLOCKING_KINDS]
            for rid, keys in self.dedup._keys(record_ids, {}).items()
        }

    def _state(self, record_ids: list[int], keys: Mapping[int, list[Key]]) -> UnionState:
        state = UnionState()
        for rid in record_ids:
            state.add(self.dedup._views[rid], keys.get(rid, []))
        return state

    # ---------------------------------------------------------------------------------- deciding
    def _trust(
        self,
        matched: list[int],
        keys_of: dict[int, list[Key]],
        usable: set[Key],
        found: dict[Key, dict[int, int]],
        unions: dict[int, _Union],
    ) -> tuple[frozenset[str], set[Key]]:
        """ISBNs not to match on for this batch, and those whose trust the batch takes away (an ISBN
        shared by records with clearly different titles is not trusted; before the batch it was)."""
        untrusted = set(self.dedup.ignore_isbns)
        flipped: set[Key] = set()
        views = self.dedup._views
        batch: dict[Key, set[str]] = defaultdict(set)
        for rid in matched:
            for key in keys_of[rid]:
                if key in usable and key[0] == "isbn":
                    batch[key].add(views[rid].title)
        for key, titles in sorted(batch.items()):
            before: set[str] = set()
            for uid in found[key]:
                if uid in unions:
                    before |= unions[uid].state.titles_with(key)
            after = before | titles
            if _distrusted(after):
                untrusted.add(key[1])
                if not _distrusted(before):
                    flipped.add(key)
        return frozenset(untrusted), flipped

    def _decide(
        self,
        matched: list[int],
        keys_of: dict[int, list[Key]],
        usable: set[Key],
        found: dict[Key, dict[int, int]],
        unions: dict[int, _Union],
        untrusted: frozenset[str],
        flipped: set[Key],
        result: DedupResult,
    ) -> tuple[set[int], list[int]]:
        views = self.dedup._views
        left: set[int] = set()
        alone: list[int] = []
        decisions: list[dict[str, Any]] = []
        now = utcnow()
        for rid in matched:
            record = views[rid]
            keys = {k for k in keys_of[rid] if k in usable}
            if keys & flipped:
                left.add(rid)
                continue
            candidates = sorted({u for k in keys for u in found[k] if u in unions})
            if any(len(unions[u].state.classes) > MAX_CLASSES for u in candidates):
                left.add(rid)
                continue
            rows: list[dict[str, Any]] = []
            accepting: list[int] = []
            for uid in candidates:
                for member_class in unions[uid].state.ordered():
                    if not member_class.keys & keys:
                        continue  # no blocking key in common: never a candidate pair
                    other = member_class.view_for(record.library)
                    if other is None:
                        continue  # its only members are of this record's library
                    a, b = sorted((record, other), key=lambda v: v.id)
                    decision = decide(a, b, untrusted)
                    rows.append(decision.row(a.id, b.id, now))
                    if decision.accepted:
                        accepting.append(uid)
                        break
            if not accepting:
                alone.append(rid)
                decisions += rows
                continue
            target = unions[accepting[0]]
            if len(accepting) > 1 or record.library in target.state.libraries:
                left.add(rid)
                continue
            decisions += rows
            target.state.add(record, keys_of[rid])
            target.joined.append(rid)
            for k in keys_of[rid]:  # the next record of the batch sees this one's keys in the union
                found.setdefault(k, {})[accepting[0]] = found.get(k, {}).get(accepting[0], 0) + 1
        self._write(unions, keys_of, decisions, result)
        return left, alone

    # ----------------------------------------------------------------------------------- writing
    def _write(
        self,
        unions: dict[int, _Union],
        keys_of: dict[int, list[Key]],
        decisions: list[dict[str, Any]],
        result: DedupResult,
    ) -> None:
        dedup = self.dedup
        if decisions:
            dedup.conn.execute(insert(DECISION), decisions)
            result.decisions += len(decisions)
            result.accepted += sum(d["accepted"] for d in decisions)
        changed = {uid: u for uid, u in unions.items() if u.joined}
        if not changed:
            return
        stored = dict(
            rows_in(
                self.conn,
                "SELECT id, fields FROM union_record WHERE id IN ({ids})",
                sorted(uid for uid, u in changed.items() if u.fields is None),
            )
        )
        rows = []
        states: dict[int, str] = {}
        now = utcnow()
        for uid, union in sorted(changed.items()):
            merged = union.fields
            if merged is None:
                raw = stored[uid]
                merged = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
            tags = union.state.tags
            before = merged
            for rid in union.joined:
                merged, tags = add_member(merged, tags, dedup._views[rid].order_key, dedup._fields[rid])
            union.state.tags = tags
            # its search document changes in its holdings alone (compared with the fields stored, on
            # which the document was built; a state built from the members merged them afresh)
            if union.fields is None and merged == before:
                result.described_as_before.add(uid)
            states[uid] = union.state.dumps().decode()
            rows.append(
                {
                    "union_id": uid,
                    "title": display_title(merged),
                    "title_key": fold(merged.get("sort_title") or merged.get("title")) or None,
                    "year": merged.get("year"),
                    "fields": merged,
                    "member_count": sum(c.count for c in union.state.classes.values()),
                    "library_count": len(union.state.libraries),
                    "updated_at": now,
                }
            )
            result.union_ids.add(uid)
            result.joined.setdefault(uid, []).extend(union.joined)
        dedup.conn.execute(update(UNION).where(UNION.c.id == bindparam("union_id")), rows)
        dedup._assign([(uid, rid) for uid, u in sorted(changed.items()) for rid in u.joined])
        union_keys.add(
            self.conn,
            [(k, v, uid) for uid, u in changed.items() for rid in u.joined for k, v in keys_of[rid]],
        )
        union_keys.save_states(self.conn, states)


def _distrusted(titles: Iterable[str]) -> bool:
    return any(fuzz.ratio(x, y) < 50 for x, y in combinations(sorted(set(titles)), 2))
