"""What each word of a query matches in the embedded engine, and the FTS5 expressions its ranking
rules test (see catalog.search.ranking for their order).

Every word becomes a group of alternatives, in three rings:

* as typed: the word folded, and its other i/y spelling ("li" / "ly");
* repaired: the syllable its Telex/VNI keys stand for ("hocj" -> "hoc"), or the syllables it runs
  together as a phrase ("hanoi" -> "ha noi"), each only where the index holds it;
* typos: words of the index within the typos its length allows (catalog.search.typos).

A record matches when each word matches one of its alternatives. Ranking then prefers records that
match every word as typed, then with no typo, then the query's words as a phrase, then all in the
title, then the words typed with diacritics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.search import typos as typo_index
from catalog.search.query import ParsedQuery
from catalog.search.vietnamese import word_forms
from catalog.text import fold

TEXT_COLUMNS = "{title authors subjects other}"
PROXIMITY_COLUMNS = "{title authors}"  # the phrase is looked for where it is short to look for
MAX_TYPO_WORDS = 8  # words of a query looked up for typos (a pasted paragraph is not corrected)
MAX_EXACT_WORDS = 6  # words of a query whose diacritics are ranked one by one


def quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


@dataclass
class Term:
    """One word of a query and what it may stand for (folded words; phrases have spaces)."""

    typed: str
    prefix: bool
    spellings: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    typos: list[tuple[str, int]] = field(default_factory=list)  # (word, typos)
    marked: str | None = None  # the repaired word with its diacritics
    best: str = ""  # what the reader most likely meant: the word the corrected query shows

    def group(self, rings: int) -> str:
        """The FTS5 alternatives of the first ``rings`` rings (1: as typed, 2: repaired, 3: typos)."""
        words = [self.typed, *self.spellings]
        if rings >= 2:
            words += self.repaired
        if rings >= 3:
            words += [w for w, _n in self.typos]
        star = "*" if self.prefix else ""
        unique = list(dict.fromkeys(words))
        parts = [quote(w) + star for w in unique]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    @property
    def rings(self) -> int:
        return 3 if self.typos else 2 if self.repaired else 1


@dataclass
class Plan:
    """The matching of one parsed query."""

    terms: list[Term]
    phrases: list[list[str]]
    exact_words: list[str]

    def expression(self, rings: int = 3, columns: str = TEXT_COLUMNS) -> str | None:
        parts = [t.group(rings) for t in self.terms] + [quote(" ".join(p)) for p in self.phrases]
        return f"{columns} : ({' AND '.join(parts)})" if parts else None

    @property
    def rings(self) -> int:
        return max((t.rings for t in self.terms), default=1)

    def phrase(self) -> str | None:
        """The words the reader most likely meant, as a phrase; None for a single word. A word
        still being typed is left out: a phrase ending in a prefix costs FTS5 the positions of
        every word the prefix begins."""
        words = [t.best for t in self.terms if not t.prefix]
        if sum(len(w.split()) for w in words) < 2:
            return None
        return f"{PROXIMITY_COLUMNS} : {quote(' '.join(words))}"

    def corrected(self) -> str | None:
        """The query as the reader most likely meant it, when that differs from what was typed."""
        if not any(t.best != t.typed for t in self.terms):
            return None
        return " ".join(
            [t.marked if t.marked and t.best == fold(t.marked) else t.best for t in self.terms]
            + [f'"{" ".join(p)}"' for p in self.phrases]
        )


def plan(raw: Any, parsed: ParsedQuery, relaxed: bool = False) -> Plan:
    """The alternatives of each word of ``parsed``, checked against the index's vocabulary through
    ``raw`` (the catalogue's sqlite3 connection). ``relaxed`` allows typos in shorter words, and
    repairs of words the index holds (a second try when a query finds nothing)."""
    terms: list[Term] = []
    for n, word in enumerate(parsed.terms):
        prefix = parsed.prefix_last and n == len(parsed.terms) - 1
        forms = word_forms(word, prefix=prefix)
        terms.append(Term(word, prefix, list(forms.spellings), list(forms.repaired), marked=forms.marked))
    words = {w for t in terms for w in [t.typed, *t.spellings, *t.repaired]}
    known = typo_index.known(raw, words)
    for term in terms:
        # A word the index holds as typed is taken as meant ("boot" is not "bôt").
        if term.repaired and not relaxed:
            held = typo_index.has_prefix(raw, term.typed) if term.prefix else term.typed in known
            if held:
                term.repaired, term.marked = [], None
        # Syllables run together are another spelling of the same words ("hanoi" / "Hà Nội").
        joined = word_forms(term.typed, prefix=term.prefix).joined
        if joined:
            term.repaired += list(joined)
            known |= typo_index.known(raw, {w for phrase in joined for w in phrase.split()})
    looked_up = 0
    for term in terms:
        allowed = typo_index.allowed(term.typed, relaxed)
        if not allowed or term.repaired or looked_up >= MAX_TYPO_WORDS:
            continue
        # A word being typed is a prefix already, and a word of the index is taken as meant: both
        # are corrected only when the query finds nothing as it is.
        if (term.prefix or term.typed in known) and not relaxed:
            continue
        looked_up += 1
        term.typos = typo_index.candidates(raw, term.typed, allowed)[: 2 * typo_index.MAX_CANDIDATES]
    counts = typo_index.document_counts(raw, {w for t in terms for w, _n in t.typos})
    exact_words = list(parsed.exact_terms)
    for term in terms:
        _settle(term, known, counts)
        if term.marked and not parsed.exact_terms:
            exact_words.append(term.marked)
    return Plan(terms, parsed.phrases, exact_words[:MAX_EXACT_WORDS])


def _settle(term: Term, known: set[str], counts: dict[str, int]) -> None:
    """Keep the alternatives the index holds (the most frequent typo candidates) and pick ``best``:
    the word as typed when the index holds it, else its repair, else its likeliest typo."""
    if not term.prefix:  # a prefix is matched as one: "vă" finds "văn"
        term.repaired = [r for r in term.repaired if all(w in known for w in r.split())]
    if term.marked and fold(term.marked) not in term.repaired:
        term.marked = None
    held = [(w, n) for w, n in term.typos if counts.get(w, 0)]
    held.sort(key=lambda wn: (wn[1], -counts[wn[0]]))
    term.typos = held[: typo_index.MAX_CANDIDATES]
    if term.typed in known or any(s in known for s in term.spellings):
        term.best = term.typed
    elif term.repaired:
        term.best = term.repaired[0]
    elif term.typos:
        term.best = term.typos[0][0]
    else:
        term.best = term.typed
