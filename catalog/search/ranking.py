"""The order relevance ranks in, one list for both engines: Meilisearch's ranking rules.

1. words: a record must hold every word of the query (or one of its alternatives, see
   catalog.search.matching);
2. typo: records matching the words as typed, then with Telex/VNI repairs, then with typos; and
   among them, the more words typed with diacritics a record spells the same, the better ("hồ"
   found as "họ" is a wrong letter as much as "nguyn" found as "nguyen" is);
3. proximity: the query's words as a phrase;
4. attribute: every word in the title;
5. exactness: within the last tier, the embedded engine orders by bm25 (title words weigh most).

Meilisearch is configured with the same order (meili.SETTINGS["rankingRules"]), "sort" in the
place Meilisearch's defaults give it.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from catalog.search.matching import Plan

RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]


class Condition(NamedTuple):
    """An FTS5 expression a record passes to rank higher; ``within`` when every record passing it
    matches the query anyway (a bucket then needs no more than the condition itself: FTS5 answers
    a simpler expression much faster)."""

    expression: str
    within: bool = True


def typo_conditions(plan: Plan, match: str) -> list[Condition]:
    """The conditions of the typo rule, as typed first (every record ranked already matches
    ``match``, the words rule); the words typed with diacritics come after these."""
    out: list[Condition] = []
    for rings in range(1, plan.rings):  # as typed, then repaired
        expression = plan.expression(rings)
        if expression and expression != match and Condition(expression) not in out:
            out.append(Condition(expression))
    return out


def later_conditions(plan: Plan) -> list[Condition]:
    """The conditions of the proximity and attribute rules."""
    out = []
    phrase = plan.phrase()
    if phrase:
        out.append(Condition(phrase, plan.whole_phrase))
    title = plan.expression(3, columns="title")
    if title:
        out.append(Condition(title))
    return out


Bucket = tuple[str, int | None]  # (FTS5 expression, how many words typed with diacritics, or any)


def _cut(match: str, conditions: list[Condition]) -> list[tuple[list[Condition], list[Condition]]]:
    """(conditions passed, conditions failed) of each bucket, in order."""
    out = []
    for signs in itertools.product((True, False), repeat=len(conditions)):
        passed = [c for c, inside in zip(conditions, signs, strict=True) if inside]
        failed = [c for c, inside in zip(conditions, signs, strict=True) if not inside]
        out.append((passed, failed))
    return out


def _expression(match: str, passed: list[Condition], failed: list[Condition]) -> str:
    parts = [f"({c.expression})" for c in passed]
    if not any(c.within for c in passed):
        parts.insert(0, f"({match})")
    expression = " AND ".join(parts)
    for condition in failed:
        expression = f"({expression}) NOT ({condition.expression})"
    return expression


def buckets(match: str, typo: list[Condition], later: list[Condition], exact_words: int) -> list[Bucket]:
    """The matches of ``match`` cut into the buckets relevance ranks in order: for each condition
    of ``typo`` in turn, those passing it before those that do not; then records by how many of
    the ``exact_words`` words typed with diacritics they spell the same, most first; then likewise
    for each condition of ``later``."""
    out: list[Bucket] = []
    levels: list[int | None] = list(range(exact_words, -1, -1)) if exact_words else [None]
    for head_passed, head_failed in _cut(match, typo):
        for spelled in levels:
            for passed, failed in _cut(match, later):
                out.append((_expression(match, head_passed + passed, head_failed + failed), spelled))
    return out
