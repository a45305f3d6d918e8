//! `catalog.text`'s display, clean and fold, for Latin text with diacritics.
//!
//! The old records of a catalogue (French, German, Spanish, Vietnamese ...) carry their diacritics
//! as combining marks, often detached or out of order, and every such value went back to Python:
//! those calls took up to half of a worker's time on them. Here they are done the same way, for
//! the characters `handled` lists: printable ASCII, the precomposed Latin letters with their
//! diacritics, the combining marks U+0300-U+036F and U+FE20-U+FE2F, a few modifier letters and the
//! CJK ideographs of 880 fields. Their normalisation, case, classes and combining classes have not
//! changed since Unicode 8.0, so the results are what Python's unicodedata gives, whatever Unicode
//! version either side has (Python 3.11: 14.0; the unicode-normalization crate: 15.0). Text with any other character
//! (another script, a control character, a space other than U+0020, a character whose case fold
//! differs from its lower case) still goes to Python. The tests compare both on every handled
//! character and on generated and real text.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::UnicodeNormalization;

use crate::tables::Tables;

/// The characters the functions below handle, for every character of a value.
fn handled(c: char) -> bool {
    match c as u32 {
        0x20..=0x7E => true,
        // soft hyphen (not printable); ² ³ ¹ ¼ ½ ¾ (numbers, not digits, for Python's patterns);
        // µ ŉ ſ ǰ (their case fold is not their lower case)
        0xAD | 0xB2 | 0xB3 | 0xB5 | 0xB9 | 0xBC..=0xBE | 0x149 | 0x17F | 0x1F0 => false,
        0xA1..=0x24F => true,
        // ypogegrammeni (case folds to iota); the grapheme joiner (a mark of combining class 0)
        0x345 | 0x34F => false,
        0x300..=0x36F => true,
        0x1E96..=0x1E9B | 0x1E9E => false, // case folds that are not the lower case
        0x1E00..=0x1EFF => true,
        0x2B9..=0x2BC => true, // modifier letters: prime, double prime, turned and plain apostrophe
        0xFE20..=0xFE2F => true, // the half marks of romanised Cyrillic ("t͡s")
        0x4E00..=0x9FFF => true, // CJK ideographs (880 fields): no case, no decomposition
        _ => false,
    }
}

pub fn all_handled(s: &str) -> bool {
    s.chars().all(handled)
}

/// `_MARK_CLASS`, of the handled characters.
fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c) || ('\u{fe20}'..='\u{fe2f}').contains(&c)
}

/// Python's `\w` (`str.isalnum()` or "_"), of the handled characters.
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// `_DETACHED_MARKS.sub(r"\1\3\2", s)`: a mark separated from its letter by spaces moves back to it.
fn reattach(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != ' ' && i + 1 < s.len() && s[i + 1] == ' ' {
            let mut spaces_end = i + 1;
            while spaces_end < s.len() && s[spaces_end] == ' ' {
                spaces_end += 1;
            }
            let mut marks_end = spaces_end;
            while marks_end < s.len() && is_mark(s[marks_end]) {
                marks_end += 1;
            }
            if marks_end > spaces_end {
                out.push(s[i]);
                out.extend_from_slice(&s[spaces_end..marks_end]);
                out.extend_from_slice(&s[i + 1..spaces_end]);
                i = marks_end;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `_ORPHAN_MARKS.sub(r"\1", s)`: marks with nothing before them, or only a space, are dropped.
fn drop_orphans(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    for (i, &c) in s.iter().enumerate() {
        if is_mark(c) {
            let mut start = i;
            while start > 0 && is_mark(s[start - 1]) {
                start -= 1;
            }
            if start == 0 || s[start - 1] == ' ' {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `_reorder_vietnamese_marks`: after one of `QUALITY_BASES`, a quality mark (`QUALITY_MARKS`)
/// before the other marks of its combining class.
fn reorder(t: &Tables, nfd: &str) -> String {
    let s: Vec<char> = nfd.chars().collect();
    let mut out = String::with_capacity(nfd.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        out.push(c);
        i += 1;
        if !t.quality_bases.contains(&c) {
            continue;
        }
        let mut end = i;
        while end < s.len() && canonical_combining_class(s[end]) != 0 {
            end += 1;
        }
        if end - i > 1 {
            let mut marks: Vec<char> = s[i..end].to_vec();
            marks.sort_by_key(|&m| (canonical_combining_class(m), !t.quality_marks.contains(&m)));
            out.extend(marks);
            i = end;
        }
    }
    out
}

/// `repair` of handled text.
fn repair(t: &Tables, s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let nfc: String = s.nfc().collect();
    if !nfc.chars().any(is_mark) {
        return nfc;
    }
    let chars: Vec<char> = nfc.chars().collect();
    let fixed: String = drop_orphans(&reattach(&chars)).into_iter().collect();
    let nfd: String = fixed.nfd().collect();
    reorder(t, &nfd).nfc().collect()
}

/// `" ".join(s.split())`: U+0020 is the only white space among the handled characters.
pub fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `display` of handled text (all of it is printable: no control characters to remove).
pub fn display(t: &Tables, s: &str) -> String {
    squeeze(&repair(t, s))
}

/// `_KEEP_PERIOD.search(t)` for handled text ending in ".".
fn keeps_period(tables: &Tables, t: &[char]) -> bool {
    let n = t.len();
    let letter = |c: char| is_word(c) && c != '_' && !c.is_ascii_digit(); // [^\W\d_]
    if n >= 2 && letter(t[n - 2]) && (n == 2 || !is_word(t[n - 3])) {
        return true;
    }
    if n >= 3 && t[n - 3] == '.' && t[n - 2] == '.' {
        return true;
    }
    let before = &t[..n - 1];
    tables.keep_period_words.iter().any(|w| {
        let len = w.len();
        len <= before.len()
            && before[before.len() - len..] == w[..]
            && (before.len() == len || !is_word(before[before.len() - len - 1]))
    })
}

/// `strip_isbd` of handled text.
pub fn strip_isbd(tables: &Tables, s: &str) -> String {
    let mut t: Vec<char> = s.trim_matches(' ').chars().collect();
    while let Some(&last) = t.last() {
        if tables.isbd_closers.contains(&last) || (last == '.' && !keeps_period(tables, &t)) {
            t.pop();
            while t.last() == Some(&' ') {
                t.pop();
            }
        } else {
            break;
        }
    }
    t.into_iter().collect()
}

/// `clean` of handled text.
pub fn clean(t: &Tables, s: &str) -> String {
    strip_isbd(t, &display(t, s))
}

/// `fold` of handled text that is not all ASCII.
pub fn fold(t: &Tables, s: &str) -> String {
    let mut lower = String::with_capacity(s.len());
    for c in repair(t, s).chars() {
        if c == 'ß' {
            lower.push_str("ss"); // str.casefold(); the one handled letter whose lower case differs
        } else {
            lower.extend(c.to_lowercase());
        }
    }
    let mut base = String::with_capacity(lower.len());
    for c in lower.nfd() {
        if canonical_combining_class(c) == 0 {
            t.fold_char(c, &mut base); // `_FOLD_TABLE`
        }
    }
    words(base.chars())
}

/// `fold` of printable ASCII: Python's fast path, which lower-cases and keeps the apostrophe as a
/// separator (the general path above drops it, with `_FOLD_TABLE`).
pub fn fold_ascii(s: &str) -> String {
    words(s.chars().map(|c| c.to_ascii_lowercase()))
}

/// `_NON_WORD.sub(" ", text).strip()`: the words, one space between them.
fn words(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in chars {
        if is_word(c) && c != '_' {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}
