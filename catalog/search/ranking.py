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

from catalog.search.matching import Plan

RANKING_RULES = ["words", "typo", "proximity", "attribute", "sort", "exactness"]


def typo_conditions(plan: Plan, match: str) -> list[str]:
    """The FTS5 expressions of the typo rule, as typed first (every record ranked already matches
    ``match``, the words rule); the words typed with diacritics come after these."""
    out: list[str] = []
    for rings in range(1, plan.rings):  # as typed, then repaired
        expression = plan.expression(rings)
        if expression and expression != match and expression not in out:
            out.append(expression)
    return out


def later_conditions(plan: Plan) -> list[str]:
    """The FTS5 expressions of the proximity and attribute rules."""
    out = []
    phrase = plan.phrase()
    if phrase:
        out.append(phrase)
    title = plan.expression(3, columns="title")
    if title:
        out.append(title)
    return out


Bucket = tuple[str, int | None]  # (FTS5 expression, how many words typed with diacritics, or any)


def _cut(match: str, conditions: list[str]) -> list[str]:
    out = []
    for signs in itertools.product((True, False), repeat=len(conditions)):
        expression = f"({match})"
        for condition, inside in zip(conditions, signs, strict=True):
            expression = f"({expression} {'AND' if inside else 'NOT'} ({condition}))"
        out.append(expression)
    return out


def buckets(match: str, typo: list[str], later: list[str], exact_words: int) -> list[Bucket]:
    """The matches of ``match`` cut into the buckets relevance ranks in order: for each condition
    of ``typo`` in turn, those passing it before those that do not; then records by how many of
    the ``exact_words`` words typed with diacritics they spell the same, most first; then likewise
    for each condition of ``later``."""
    out: list[Bucket] = []
    levels: list[int | None] = list(range(exact_words, -1, -1)) if exact_words else [None]
    for head in _cut(match, typo):
        for spelled in levels:
            out += [(bucket, spelled) for bucket in _cut(head, later)]
    return out
