"""What a union record keeps to take a new member without reading its other members again.

Its members fall into classes of equal match content (:func:`catalog.dedup.rules.content`): every
member of a class gets the same decision against a record of another library, so deciding a record
against one member of each class decides it against all of them. A class keeps its content, its
size and its two smallest members by (library, local id): one of them is of another library than
any given record, since a union record holds one record per library. Next to the classes: the
libraries that hold the union record and the merge tags (:func:`catalog.dedup.merge.merge_tagged`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from catalog.dedup.keys import Key
from catalog.dedup.merge import Tags
from catalog.dedup.rules import MatchView, content, from_content


class MemberClass:
    """Members of equal match content: the content (kept as its signature, read when a record is
    decided against the class), how many, the two smallest and the blocking keys they hold."""

    __slots__ = ("_content", "count", "keys", "reps", "signature", "title")

    def __init__(
        self,
        signature: str,
        title: str,  # its content's title: whether an ISBN is trusted depends on it
        count: int,
        reps: list[tuple[str, str, int]],  # (library, local id, source record id), the two smallest
        keys: set[Key],  # the blocking keys its members hold: who the old pairs were with
        content: dict[str, Any] | None = None,
    ) -> None:
        self.signature = signature
        self.title = title
        self._content = content
        self.count = count
        self.reps = reps
        self.keys = keys

    @property
    def content(self) -> dict[str, Any]:
        if self._content is None:  # most classes of a candidate are never decided against
            self._content = orjson.loads(self.signature)
        return self._content

    def view_for(self, library: str) -> MatchView | None:
        """A member of this class held by another library than ``library``, as the rules see it."""
        for code, local_id, rid in self.reps:
            if code != library:
                return from_content(self.content, rid, code, local_id)
        return None

    def add(self, member: MatchView, keys: Iterable[Key]) -> None:
        self.count += 1
        self.reps = sorted([*self.reps, (member.library, member.local_id, member.id)])[:2]
        self.keys.update(keys)


@dataclass
class UnionState:
    classes: dict[str, MemberClass] = field(default_factory=dict)  # by signature
    libraries: set[str] = field(default_factory=set)
    tags: Tags = field(default_factory=lambda: {"face": None, "lists": {}, "classification": {}})

    def add(self, member: MatchView, keys: Iterable[Key]) -> None:
        data = content(member)
        sig = signature(data)
        if sig not in self.classes:
            self.classes[sig] = MemberClass(sig, data["title"], 0, [], set(), data)
        self.classes[sig].add(member, keys)
        self.libraries.add(member.library)

    def ordered(self) -> list[MemberClass]:
        """Classes, the largest first (then by smallest member): the one most likely to accept first."""
        return sorted(self.classes.values(), key=lambda c: (-c.count, c.reps[0]))

    def titles_with(self, key: Key) -> set[str]:
        """Titles of the members that hold ``key``: for an ISBN, what says whether it is trusted."""
        return {c.title for c in self.classes.values() if key in c.keys}

    def dumps(self) -> bytes:
        return orjson.dumps(
            {
                "classes": [
                    [sig, c.title, c.count, c.reps, sorted(c.keys)] for sig, c in self.classes.items()
                ],
                "libraries": sorted(self.libraries),
                "tags": self.tags,
            }
        )

    @classmethod
    def loads(cls, raw: str | bytes) -> UnionState:
        data = orjson.loads(raw)
        # [signature, title, count, reps, keys]; states saved before the content was read from its
        # signature hold the content in place of the title
        classes = {
            sig: MemberClass(
                sig,
                title["title"] if isinstance(title, dict) else title,
                n,
                [(r[0], r[1], r[2]) for r in reps],
                {(k, v) for k, v in keys},
            )
            for sig, title, n, reps, keys in data["classes"]
        }
        return cls(classes, set(data["libraries"]), data["tags"])  # an "entangled" flag of old: unused


def signature(data: dict[str, Any]) -> str:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
