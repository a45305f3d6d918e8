"""What each word of a query matches in the embedded engine, and the FTS5 expressions its ranking
rules test (see catalog.search.ranking for their order).

Every word becomes a group of alternatives, in three rings:

* as typed: the word folded, and its other i/y spelling ("li" / "ly");
* repaired: the syllable its Telex/VNI keys stand for ("hocj" -> "hoc"), or the syllables it runs
  together as a phrase ("hanoi" -> "ha noi"), each only where the index holds it;
* typos: words of the index within the typos its length allows (catalog.search.typos).

A record matches when each word matches one of its alternatives. Ranking then prefers records that
match every word as typed, then with no typo, then spell more of the words typed with diacritics,
then hold the query's words as a phrase, then all in the title (catalog.search.ranking).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from catalog.search import typo_words
from catalog.search import typos as typo_index
from catalog.search.query import ParsedQuery
from catalog.search.vietnamese import word_forms
from catalog.text import fold

TEXT_COLUMNS = "{title authors subjects other}"
PROXIMITY_COLUMNS = "{title authors subjects}"
MAX_TYPO_WORDS = 8  # words of a query looked up for typos (a pasted paragraph is not corrected)
MAX_AMENDED = 24  # the corrections a "did you mean" tries, one word at a time
MAX_EXACT_WORDS = 6  # words of a query whose diacritics are ranked one by one
PHRASE_PREFIX = 3  # a word being typed joins the phrase from this many letters
# A longer query is pasted text more than words typed: no phrase is looked for in it, and it has no
# second try when it finds nothing.
MAX_TYPED_WORDS = 10


def quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


@dataclass
class Term:
    """One word of a query and what it may stand for (folded words; phrases have spaces)."""

    typed: str
    prefix: bool
    spellings: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # what its Telex/VNI keys stand for
    joined: list[str] = field(default_factory=list)  # the syllables it runs together, as phrases
    typos: list[tuple[str, int]] = field(default_factory=list)  # (word, typos)
    marked: str | None = None  # the repaired word with its diacritics
    best: str = ""  # what the reader most likely meant: the word the corrected query shows
    found: bool = True  # whether the index holds the word, or something it may stand for

    def group(self, rings: int) -> str:
        """The FTS5 alternatives of the first ``rings`` rings (1: as typed, 2: repaired, 3: typos)."""
        words = [self.typed, *self.spellings]
        if rings >= 2:
            words += self.repaired + self.joined
        if rings >= 3:
            words += [w for w, _n in self.typos]
        star = "*" if self.prefix else ""
        unique = list(dict.fromkeys(words))
        parts = [quote(w) + star for w in unique]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    @property
    def rings(self) -> int:
        return 3 if self.typos else 2 if self.repaired or self.joined else 1


@dataclass
class Plan:
    """The matching of one parsed query."""

    terms: list[Term]
    phrases: list[list[str]]
    exact_words: list[str]
    # (first, end, word): terms[first:end] typed apart that the index holds run together as one
    # word ("sun flower" / "sunflower", "ha noi" / "Hanoi"), Meilisearch's concatenation of up to
    # three consecutive words; an alternative of the repaired ring.
    joins: list[tuple[int, int, str]] = field(default_factory=list)

    def expression(self, rings: int = 3, columns: str = TEXT_COLUMNS) -> str | None:
        groups = [t.group(rings) for t in self.terms]
        parts: list[str] = []
        starts = {first: (end, word) for first, end, word in self.joins} if rings >= 2 else {}
        n = 0
        while n < len(groups):
            if n in starts:
                end, word = starts[n]
                star = "*" if self.terms[end - 1].prefix else ""
                parts.append(f"(({' AND '.join(groups[n:end])}) OR {quote(word)}{star})")
                n = end
            else:
                parts.append(groups[n])
                n += 1
        parts += [quote(" ".join(p)) for p in self.phrases]
        return f"{columns} : ({' AND '.join(parts)})" if parts else None

    @property
    def rings(self) -> int:
        return max([t.rings for t in self.terms] + [2 if self.joins else 1])

    def phrase(self) -> str | None:
        """The words the reader most likely meant, as a phrase; None for a single word. A word
        still being typed is left out while it is short: a phrase ending in a prefix costs FTS5 the
        positions of every word the prefix begins ("of" begins thousands, "socie" a few)."""
        kept = [t for t in self.terms if not t.prefix or len(t.best) >= PHRASE_PREFIX]
        words = [t.best for t in kept]
        if not 2 <= sum(len(w.split()) for w in words) <= MAX_TYPED_WORDS:
            return None
        star = "*" if kept[-1].prefix else ""
        return f"{PROXIMITY_COLUMNS} : {quote(' '.join(words))}{star}"

    @property
    def whole_phrase(self) -> bool:
        """Whether the phrase holds every word of the query (so that a record holding it matches)."""
        return not self.phrases and all(not t.prefix or len(t.best) >= PHRASE_PREFIX for t in self.terms)

    def highlighted(self, parsed: ParsedQuery) -> ParsedQuery:
        """``parsed`` with the words its alternatives matched, for highlighting the hits."""
        extra = [
            w
            for t in self.terms
            for alt in [*t.repaired, *t.joined, *(w for w, _n in t.typos)]
            for w in alt.split()
        ] + [word for _first, _end, word in self.joins]
        return replace(parsed, terms=[*extra, *parsed.terms]) if extra else parsed

    def meant(self) -> Plan:
        """The query as the reader most likely meant it: each word its ``best``, no alternative."""
        return Plan([Term(t.best, t.prefix) for t in self.terms], self.phrases, self.exact_words)

    def amended(self) -> list[Plan]:
        """This plan with one word meaning another of its alternatives (a word of the index mistyped
        into another: "teh" for "the"): each word's first alternatives, then their next ones."""
        choices = []
        for n, term in enumerate(self.terms):
            alternatives = [*term.repaired, *(w for w, _n in term.typos), *term.joined]
            choices.append([(rank, n, a) for rank, a in enumerate(a for a in alternatives if a != term.best)])
        out = []
        for _rank, n, alternative in sorted(c for ranked in choices for c in ranked)[:MAX_AMENDED]:
            terms = list(self.terms)
            terms[n] = replace(terms[n], best=alternative)
            out.append(Plan(terms, self.phrases, self.exact_words, self.joins))
        return out

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
    seen: set[tuple[str, bool]] = set()
    for n, word in enumerate(parsed.terms):
        prefix = parsed.prefix_last and n == len(parsed.terms) - 1
        if (word, prefix) in seen:  # a word asked twice is asked once ("a a a a ...")
            continue
        seen.add((word, prefix))
        forms = word_forms(word, prefix=prefix)
        terms.append(
            Term(
                word,
                prefix,
                list(forms.spellings),
                list(forms.repaired),
                list(forms.joined),
                marked=forms.marked,
            )
        )
    words = {w for t in terms for w in [t.typed, *t.spellings, *t.repaired, *" ".join(t.joined).split()]}
    known = typo_index.known(raw, words)
    for term in terms:
        # A word the index holds as typed is taken as meant ("boot" is not "bôt"); syllables run
        # together are another spelling of the same words ("hanoi" / "Hà Nội") unless the word is
        # still being typed.
        if (term.repaired or (term.joined and term.prefix)) and not relaxed:
            held = typo_index.has_prefix(raw, term.typed) if term.prefix else term.typed in known
            if held:
                term.repaired, term.marked = [], None
                if term.prefix:
                    term.joined = []
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
        term.typos = typo_index.candidates(raw, term.typed, allowed)[: typo_index.MAX_COUNTED]
    counts = typo_index.document_counts(raw, {w for t in terms for w, _n in t.typos})
    exact_words = list(parsed.exact_terms)
    for term in terms:
        _settle(term, known, counts)
        if term.marked and not parsed.exact_terms:
            exact_words.append(term.marked)
    return Plan(terms, parsed.phrases, exact_words[:MAX_EXACT_WORDS], _joins(raw, terms, relaxed))


MAX_JOINED = 3  # consecutive words tried run together (Meilisearch concatenates up to three)


def _joins(raw: Any, terms: list[Term], relaxed: bool) -> list[tuple[int, int, str]]:
    """The runs of two or three consecutive words (each as the reader most likely meant it: "Vie65t
    Nam" runs together as "vietnam") the index holds as one word, longest first, none overlapping. A
    run ending in the word being typed is held when a word of the index begins with it."""
    if not 2 <= len(terms) <= MAX_TYPED_WORDS:
        return []
    runs = {
        (first, first + size): "".join(t.best.replace(" ", "") for t in terms[first : first + size])
        for size in range(MAX_JOINED, 1, -1)
        for first in range(len(terms) - size + 1)
    }
    runs = {span: word for span, word in runs.items() if typo_words.indexable(word)}
    whole = {w for (first, end), w in runs.items() if not terms[end - 1].prefix}
    known = typo_index.known(raw, whole) if whole else set()
    out: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for (first, end), word in runs.items():  # three words before two, left to right
        if taken & set(range(first, end)):
            continue
        held = typo_index.has_prefix(raw, word) if terms[end - 1].prefix else word in known
        if held:
            out.append((first, end, word))
            taken |= set(range(first, end))
    return sorted(out)


MAX_WORDS_DROPPED = 6  # the words a query that finds nothing is tried without, one at a time


def without_one_word(plan: Plan) -> list[Plan]:
    """``plan`` without one of its words, the last word left out first (Meilisearch's "last"
    matching strategy, one word deep); none when a word finds nothing even alone: then the query
    asks for something the catalogue does not hold ("path zzqqxx"), not for a combination of
    words no record has."""
    if not 2 <= len(plan.terms) + len(plan.phrases) <= MAX_TYPED_WORDS or not all(
        t.found for t in plan.terms
    ):
        return []
    out = []
    for n in range(len(plan.terms) - 1, max(-1, len(plan.terms) - 1 - MAX_WORDS_DROPPED), -1):
        out.append(Plan(plan.terms[:n] + plan.terms[n + 1 :], plan.phrases, plan.exact_words))
    return out


def _held(phrase: str, known: set[str], prefix: bool) -> bool:
    """Whether the index holds every word of ``phrase`` (but a last one being typed; and a word
    too short for the typo index, which cannot say)."""
    words = phrase.split()
    if prefix:
        words = words[:-1]
    return all(w in known or not typo_words.indexable(w) for w in words)


def _settle(term: Term, known: set[str], counts: dict[str, int]) -> None:
    """Keep the alternatives the index holds (the most frequent typo candidates) and pick ``best``:
    the word as typed when the index holds it, else its repair, else its likeliest typo."""
    term.repaired = [r for r in term.repaired if _held(r, known, term.prefix)]
    term.joined = [j for j in term.joined if _held(j, known, term.prefix)]
    if term.marked and fold(term.marked) not in term.repaired:
        term.marked = None
    held = [(w, n) for w, n in term.typos if counts.get(w, 0)]
    held.sort(key=lambda wn: (wn[1], -counts[wn[0]]))
    term.typos = held[: typo_index.MAX_CANDIDATES]
    alternatives = term.repaired or term.joined or term.typos
    term.found = bool(term.typed in known or alternatives or not typo_words.indexable(term.typed))
    if term.typed in known or any(s in known for s in term.spellings):
        term.best = term.typed
    elif term.repaired:
        term.best = term.repaired[0]
    elif term.typos:
        term.best = term.typos[0][0]
    elif term.joined:
        term.best = term.joined[0]
    else:
        term.best = term.typed
