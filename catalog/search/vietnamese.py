"""How Vietnamese readers type, turned back into what the catalogue holds.

A model of the Vietnamese syllable (initial consonant, rhyme, tone) decides whether a word of a query
is a syllable as typed. Only a word that is not one is repaired:

* Telex and VNI keys left in the text by a keyboard that was off ("nguyeenx", "hocj", "truwowngf",
  "Vie65t") are turned back into the marks they stand for ("nguyễn", "học", "trường", "việt");
* "dd" (Telex for đ) becomes đ: "ddai hoc" -> "đai hoc";
* a run of syllables typed without spaces ("hanoi", "Hànội") is offered split ("ha noi").

And two spellings Vietnamese writes both ways are offered as alternatives of each other: i and y
after a consonant ("lí luận" / "lý luận", "kĩ thuật" / "kỹ thuật").

Everything here is pure and shared by both search engines: the embedded engine matches the
alternatives, Meilisearch is sent the repaired query and the i/y pairs as synonyms.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass

from catalog.text import fold

# Tone marks as combining characters: sắc, huyền, hỏi, ngã, nặng.
SAC, HUYEN, HOI, NGA, NANG = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TONES = (SAC, HUYEN, HOI, NGA, NANG)
_TONE_SET = frozenset(TONES)
_STOP_FINALS = ("c", "ch", "p", "t")  # a syllable closed by one of these takes only sắc or nặng

INITIALS = (
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh", "nh",
    "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
)  # fmt: skip

_OPEN_RHYMES = [
    "a",
    "ai",
    "ao",
    "au",
    "ay",
    "âu",
    "ây",
    "e",
    "eo",
    "ê",
    "êu",
    "i",
    "ia",
    "iu",
    "iêu",
    "o",
    "oa",
    "oai",
    "oao",
    "oay",
    "oe",
    "oeo",
    "oi",
    "ô",
    "ôi",
    "ơ",
    "ơi",
    "u",
    "ua",
    "uâu",
    "uây",
    "uê",
    "ui",
    "uôi",
    "uơ",
    "uy",
    "uya",
    "uyu",
    "ư",
    "ưa",
    "ưi",
    "ươi",
    "ươu",
    "ưu",
    "y",
    "yêu",
]
# Nucleus -> the final consonants it takes.
_CLOSED_RHYMES = {
    "a": "c ch m n ng nh p t",
    "ă": "c m n ng p t",
    "â": "c m n ng p t",
    "e": "c m n ng p t",
    "ê": "ch m n nh p t",
    "i": "ch m n nh p t",
    "o": "c m n ng p t",
    "ô": "c m n ng p t",
    "ơ": "m n p t",
    "u": "c m n ng p t",
    "ư": "c m n ng t",
    "iê": "c m n ng p t",
    "yê": "c m n ng p t",
    "uô": "c m n ng t",
    "ươ": "c m n ng p t",
    "oa": "c ch m n ng nh p t",
    "oă": "c m n ng t",
    "oe": "m n t",
    "oo": "c ng",
    "uâ": "n ng t",
    "uê": "ch nh n",
    "uy": "ch nh n p t",
    "uyê": "n t",
}
RHYMES = tuple(_OPEN_RHYMES) + tuple(
    nucleus + final for nucleus, finals in _CLOSED_RHYMES.items() for final in finals.split()
)
_FRONT = ("i", "e", "ê", "y")  # k, gh and ngh come only before these; c, g and ng never do


_OO_INITIALS = frozenset("bglmstx")


def _spellable(initial: str, rhyme: str) -> bool:
    if rhyme.startswith("oo"):  # a few loanwords only ("xoong", "boong", "goòng"): "khoong" is không
        return initial in _OO_INITIALS
    front = rhyme.startswith(_FRONT)
    if initial in ("k", "gh", "ngh"):
        return front
    if initial in ("c", "ng"):
        return not front
    if initial == "qu":
        return not rhyme.startswith(("u", "o"))
    return True


@functools.cache
def toneless_syllables() -> frozenset[str]:
    """Every Vietnamese syllable without its tone, lower case, NFC ("nguyên", "trương", "gia")."""
    out = set()
    for initial in INITIALS:
        for rhyme in RHYMES:
            if _spellable(initial, rhyme):
                out.add(initial + rhyme)
            if initial == "gi" and rhyme.startswith("i") and len(rhyme) > 1:
                out.add("g" + rhyme)  # "gìn", "giếng": the i of gi- and of the rhyme are one letter
    return frozenset(unicodedata.normalize("NFC", s) for s in out)


@functools.cache
def folded_syllables() -> frozenset[str]:
    """Every syllable as typed without diacritics ("nguyen", "truong", "dai")."""
    return frozenset(fold(s) for s in toneless_syllables())


@functools.cache
def _folded_prefixes() -> frozenset[str]:
    return frozenset(s[:n] for s in folded_syllables() for n in range(1, len(s) + 1))


def _split_tone(word: str) -> tuple[str, str | None] | None:
    """(the word without its tone, NFC; the tone) or None when it carries more than one tone."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONE_SET]
    if len(tones) > 1:
        return None
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_SET))
    return bare, (tones[0] if tones else None)


def is_syllable(word: str) -> bool:
    """Whether ``word`` (any case) is one Vietnamese syllable spelt right, its tone included."""
    split = _split_tone(word.lower())
    if split is None:
        return False
    bare, tone = split
    if bare not in toneless_syllables():
        return False
    return tone in (None, SAC, NANG) or not bare.endswith(_STOP_FINALS)


def is_folded_syllable(word: str, prefix: bool = False) -> bool:
    """Whether a folded word (no diacritics) is a syllable typed without its marks, or with
    ``prefix`` the beginning of one."""
    return word in (_folded_prefixes() if prefix else folded_syllables())


# ------------------------------------------------------------------------------- tone placement
_VOWELS = frozenset("aeiouyăâêôơư")
_QUALITY_VOWELS = frozenset("ăâêôơư")


def place_tone(bare: str, tone: str | None) -> str:
    """A toneless syllable with ``tone`` on the vowel Vietnamese puts it on ("hoa" + huyền ->
    "hoà", the newer placement that catalog.text.exact_key also ranks by)."""
    if tone is None:
        return bare
    chars = list(bare)
    vowels = [i for i, ch in enumerate(chars) if ch in _VOWELS]
    # The u of qu- and the i of gi- belong to the initial when another vowel follows.
    if len(vowels) > 1 and vowels[0] == 1 and bare.startswith(("qu", "gi")):
        vowels = vowels[1:]
    if not vowels:
        return bare
    marked = [i for i in vowels if chars[i] in _QUALITY_VOWELS]
    if marked:
        at = marked[-1]
    elif len(vowels) == 1 or vowels[-1] < len(chars) - 1:  # one vowel, or a final consonant
        at = vowels[-1]
    elif len(vowels) == 2:
        at = vowels[1] if bare[vowels[0] : vowels[1] + 1] in ("oa", "oe", "uy") else vowels[0]
    else:
        at = vowels[1]
    chars[at] = unicodedata.normalize("NFC", chars[at] + tone)
    return "".join(chars)


# --------------------------------------------------------------------------- Telex and VNI keys
_CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
_HORN = {"o": "ơ", "u": "ư"}
_BREVE = {"a": "ă"}
_TELEX_TONES = {"s": SAC, "f": HUYEN, "r": HOI, "x": NGA, "j": NANG}
_VNI_TONES = {"1": SAC, "2": HUYEN, "3": HOI, "4": NGA, "5": NANG}


def _last_vowel(letters: list[str]) -> int | None:
    for i in range(len(letters) - 1, -1, -1):
        if letters[i] in _VOWELS:
            return i
    return None


def _horn(letters: list[str]) -> bool:
    """Apply the horn/breve key (Telex w, VNI 7/8 alike): "uo" -> "ươ", else the last a/o/u."""
    at = _last_vowel(letters)
    if at is None:
        return False
    if at >= 1 and letters[at] in "oơ" and letters[at - 1] in "uư" and letters[at - 2 : at] != ["q", "u"]:
        letters[at - 1], letters[at] = "ư", "ơ"
        return True
    table = {**_HORN, **_BREVE}
    if letters[at] in table:
        letters[at] = table[letters[at]]
        return True
    return False


def _decode(word: str, scheme: str) -> tuple[str, str | None] | None:
    """The toneless letters and tone a word typed with ``scheme``'s keys stands for, or None when
    it uses no key or a key where a keyboard would not take it (two tones, a mark on nothing)."""
    letters: list[str] = []
    tone: str | None = None
    used = False
    tones = _TELEX_TONES if scheme == "telex" else _VNI_TONES
    for ch in word:
        has_vowel = _last_vowel(letters) is not None
        if ch in tones and not has_vowel and ch in "srx":
            letters.append(ch)  # s, r, x begin syllables too: "sao", "rau", "xoong"
        elif ch in tones:
            if not has_vowel or tone is not None:
                return None
            tone, used = tones[ch], True
        elif scheme == "telex" and ch == "d" and letters == ["d"]:
            letters, used = ["đ"], True
        elif scheme == "vni" and ch == "9":
            if letters != ["d"]:
                return None
            letters, used = ["đ"], True
        elif (scheme == "telex" and ch in _CIRCUMFLEX) or (scheme == "vni" and ch == "6"):
            at = _last_vowel(letters)
            target = ch if scheme == "telex" else (letters[at] if at is not None else "")
            # Telex doubles the vowel ("aa" -> â), right after it or after the final ("tieent").
            if at is not None and letters[at] == target and target in _CIRCUMFLEX:
                letters[at], used = _CIRCUMFLEX[target], True
            elif scheme == "telex":
                letters.append(ch)
            else:
                return None
        elif (scheme == "telex" and ch == "w") or (scheme == "vni" and ch in "78"):
            if not _horn(letters):
                if scheme == "telex" and not has_vowel:
                    letters.append("ư")  # "w" alone is ư: "tw" -> "tư"
                else:
                    return None
            used = True
        elif ch.isascii() and ch.isalpha():
            letters.append(ch)
        else:
            return None
    if not used:
        return None
    bare = "".join(letters)
    if bare.endswith("ươ"):  # "ươ" is always closed ("ương", "ươi"); open, the horn is the o's alone
        bare = bare[:-2] + "uơ"
    return bare, tone


def _repair_keys(word: str, prefix: bool) -> str | None:
    """The syllable a folded word typed with Telex or VNI keys stands for, with its marks; None when
    no reading of the keys gives a syllable (or, with ``prefix``, the beginning of one)."""
    for scheme in ("telex", "vni"):
        decoded = _decode(word, scheme)
        if decoded is None:
            continue
        bare, tone = decoded
        syllable = place_tone(bare, tone)
        if is_folded_syllable(fold(syllable), prefix=prefix):
            return syllable
    return None


# ------------------------------------------------------------------------ spellings and joins
_I_Y_INITIALS = frozenset(("b", "d", "h", "k", "l", "m", "n", "qu", "s", "t", "v", "x", "r"))


def i_y_variant(word: str) -> str | None:
    """The other spelling of a syllable whose rhyme is a lone i or y after a consonant
    ("li" <-> "ly", "ki" <-> "ky", "qui" <-> "quy"); None for any other word. Works on folded words."""
    if len(word) < 2 or word[-1] not in "iy" or word[:-1] not in _I_Y_INITIALS:
        return None
    return word[:-1] + ("y" if word[-1] == "i" else "i")


MAX_JOINED = 4  # at most this many syllables read out of a word typed without spaces


def splits(word: str, limit: int = 6) -> list[str]:
    """Ways to read a folded word as syllables typed without spaces ("hanoi" -> "ha noi"): those
    with fewer syllables that begin with a vowel first (a consonant usually begins the next one),
    then with fewer syllables; at most ``limit``."""
    found: list[list[str]] = []

    def walk(rest: str, parts: list[str]) -> None:
        if len(parts) >= MAX_JOINED:
            return
        for cut in range(min(len(rest), 7), 1, -1):  # 2 to 7 letters (a lone vowel is seldom run in)
            head = rest[:cut]
            if head not in folded_syllables():
                continue
            if cut == len(rest):
                if parts:
                    found.append([*parts, head])
            else:
                walk(rest[cut:], [*parts, head])

    if word.isascii() and word.isalpha() and len(word) >= 4:
        walk(word, [])
    found.sort(key=lambda parts: (sum(p[0] in "aeiouy" for p in parts[1:]), len(parts)))
    return [" ".join(parts) for parts in found[:limit]]


# ------------------------------------------------------------------------------ one word
@dataclass(frozen=True)
class WordForms:
    """What one word of a query can stand for.

    ``typed`` is the word folded; ``spellings`` the folded spellings it equals (i/y); ``repaired``
    the folded word its Telex/VNI keys stand for, and its other i/y spelling; ``marked`` that word
    with its diacritics (for ranking exact spellings first); ``joined`` phrases of the syllables it
    runs together."""

    typed: str
    spellings: tuple[str, ...] = ()
    repaired: tuple[str, ...] = ()
    marked: str | None = None
    joined: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.repaired or self.joined)


# Letters with VNI keys among them (a digit after a letter), and at least three letters.
_VNI_WORD = re.compile(r"(?=(?:[0-9]*[a-z]){3})[a-z]+(?:[1-9][a-z]*)+")
_VNI_KEYS = re.compile(r"[0-9]")


@functools.lru_cache(maxsize=8192)
def word_forms(word: str, prefix: bool = False) -> WordForms:
    """The forms of one folded query word. A word that is a syllable as typed (or, with
    ``prefix``, the beginning of one) is never repaired; neither is a number."""
    variant = i_y_variant(word)
    spellings = (variant,) if variant else ()
    if not word or is_folded_syllable(word, prefix=prefix) or word.isdigit() or not word.isascii():
        return WordForms(word, spellings)
    repaired = _repair_keys(word, prefix)
    if repaired is not None:
        folded = fold(repaired)
        variant = i_y_variant(folded)
        return WordForms(
            word,
            spellings,
            repaired=(folded, variant) if variant else (folded,),
            marked=repaired if is_syllable(repaired) else None,
        )
    if word.isalpha():
        return WordForms(word, spellings, joined=tuple(splits(word)))
    if _VNI_WORD.fullmatch(word):  # VNI keys in a word that is no syllable: "vie6tnamien"
        return WordForms(word, spellings, repaired=(_VNI_KEYS.sub("", word),))
    return WordForms(word, spellings)


def repaired_query(q: str) -> str:
    """``q`` with each word typed with Telex/VNI keys replaced by the syllable it stands for (with
    its marks where it has them), the rest as typed: what is sent to an engine that takes one
    query string and corrects the rest itself (Meilisearch)."""
    words = q.split()
    out = []
    for n, word in enumerate(words):
        folded = fold(word)
        forms = word_forms(folded, prefix=n == len(words) - 1 and not q.endswith(" "))
        repaired = forms.marked or (forms.repaired[0] if forms.repaired else None)
        out.append(repaired or word if folded and " " not in folded else word)
    return " ".join(out) + (" " if q.endswith(" ") and out else "")


def with_keys(word: str, scheme: str) -> str:
    """``word`` typed with Telex or VNI keys on a keyboard that shows them as letters (the way
    readers leave them in a query): the quality key after its vowel, the tone key at the end of the
    word, đ as dd or d9. The inverse of the repair, for tests and benchmarks."""
    tones = {v: k for k, v in (_TELEX_TONES if scheme == "telex" else _VNI_TONES).items()}
    out: list[str] = []
    tone = ""
    for ch in unicodedata.normalize("NFD", word):
        if ch in tones:
            tone = tones[ch]
        elif ch == "\u0302":  # circumflex: the vowel again in Telex, 6 in VNI
            out.append(out[-1].lower() if scheme == "telex" else "6")
        elif ch in "\u0306\u031b":  # breve, horn
            out.append("w" if scheme == "telex" else ("8" if ch == "\u0306" else "7"))
        elif ch in "đĐ":
            out.append(ch.replace("đ", "d").replace("Đ", "D") + ("d" if scheme == "telex" else "9"))
        elif not unicodedata.combining(ch):
            out.append(ch)
    return "".join(out) + tone


def i_y_synonyms() -> dict[str, list[str]]:
    """Every folded syllable spelt with a lone i or y and its other spelling, both ways."""
    pairs: dict[str, list[str]] = {}
    for initial, vowel in itertools.product(sorted(_I_Y_INITIALS), "iy"):
        word = initial + vowel
        other = i_y_variant(word)
        if other:
            pairs[word] = [other]
    return pairs
