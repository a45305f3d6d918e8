//! The MARC21 mapping of `catalog/marc_fields.py`, compiled, for clean UTF-8 ISO 2709 records.
//!
//! `map_iso2709(raw, keep)` reads a record the way `harvest/fast_iso2709.py` does and maps it the
//! way `catalog.marc_fields.extract` does: the same fields, key for key and in the same order, handed
//! back as the JSON text orjson writes for them (src/value.rs), with the match keys and title key
//! of `catalog.records.match_keys` and `catalog.dedup.keys`. The Python modules stay the reference:
//! the tests compare both on every real file and on generated records.
//!
//! Text that is printable ASCII (nearly all of an English-language record), and Latin text with
//! diacritics, is handled here (`text.rs`: `catalog.text`'s display/clean/fold, rule for rule).
//! Any other value goes through the Python function it would have gone through (those three,
//! `catalog.identifiers`, the year and page patterns of `catalog.marc_fields`): `catalog.text`
//! stays the reference for Unicode normalisation and the Vietnamese repairs. Anything this code is
//! not sure to read exactly as the Python path does (a non-ASCII leader, directory or indicator, odd
//! fixed fields, a number too long) makes it return `None`, and the record takes the Python path.

use pyo3::once_cell::GILOnceCell;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

mod text;
mod value;
use text::{squeeze, strip_isbd};
use value::{Map, Val};

const FT: u8 = 0x1E;
const SF: u8 = 0x1F;
const RT: u8 = 0x1D;

enum Failure {
    /// The record goes back to the Python path; not an error.
    Decline,
    Python(PyErr),
}

impl From<PyErr> for Failure {
    fn from(err: PyErr) -> Self {
        Failure::Python(err)
    }
}

type Res<T> = Result<T, Failure>;

// ---------------------------------------------------------------------------------------------
// The Python functions that handle what is not printable ASCII.

struct Fallbacks {
    display: PyObject,
    clean: PyObject,
    fold: PyObject,
    isbn13: PyObject,
    isbn_candidate: PyObject,
    issn: PyObject,
    lccn: PyObject,
    system_number: PyObject,
    pages: PyObject,
    year: PyObject,
}

static FALLBACKS: GILOnceCell<Fallbacks> = GILOnceCell::new();

fn fallbacks(py: Python<'_>) -> PyResult<&Fallbacks> {
    if let Some(found) = FALLBACKS.get(py) {
        return Ok(found);
    }
    let text = py.import("catalog.text")?;
    let ids = py.import("catalog.identifiers")?;
    let fields = py.import("catalog.marc_fields")?;
    let made = Fallbacks {
        display: text.getattr("display")?.into(),
        clean: text.getattr("clean")?.into(),
        fold: text.getattr("fold")?.into(),
        isbn13: ids.getattr("isbn13")?.into(),
        isbn_candidate: ids.getattr("isbn_candidate")?.into(),
        issn: ids.getattr("issn")?.into(),
        lccn: ids.getattr("lccn")?.into(),
        system_number: ids.getattr("system_number")?.into(),
        pages: fields.getattr("_pages")?.into(),
        year: fields.getattr("_year")?.into(),
    };
    let _ = FALLBACKS.set(py, made);
    Ok(FALLBACKS.get(py).expect("set just now"))
}

fn call_str(py: Python<'_>, func: &PyObject, value: &str) -> Res<String> {
    Ok(func.call1(py, (value,))?.extract::<String>(py)?)
}

fn call_opt_str(py: Python<'_>, func: &PyObject, value: &str) -> Res<Option<String>> {
    Ok(func.call1(py, (value,))?.extract::<Option<String>>(py)?)
}

// ---------------------------------------------------------------------------------------------
// Python's str semantics, for printable ASCII and white space.

/// Printable ASCII: Python's `isprintable()` and `isascii()` both hold, and the only white space
/// is the plain space, so splitting, stripping and `\s` all agree with Python's.
fn simple(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7E).contains(&b))
}

/// Python's `str.isspace()` for one character.
fn py_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f' | ' ' | '\u{85}' | '\u{a0}' | '\u{1680}'
            | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(py_space)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn display(py: Python<'_>, s: &str) -> Res<String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if simple(s) {
        return Ok(squeeze(s));
    }
    if text::all_handled(s) {
        return Ok(text::display(s));
    }
    call_str(py, &fallbacks(py)?.display, s)
}

fn clean(py: Python<'_>, s: &str) -> Res<String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if simple(s) {
        return Ok(strip_isbd(&squeeze(s)));
    }
    if text::all_handled(s) {
        return Ok(text::clean(s));
    }
    call_str(py, &fallbacks(py)?.clean, s)
}

fn fold(py: Python<'_>, s: &str) -> Res<String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if !simple(s) {
        if text::all_handled(s) {
            return Ok(text::fold(s));
        }
        return call_str(py, &fallbacks(py)?.fold, s);
    }
    Ok(text::fold_ascii(s))
}

fn none_if_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn uniq(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Identifiers (catalog/identifiers.py) for printable ASCII.

fn digit(b: &[u8], i: usize) -> bool {
    i < b.len() && b[i].is_ascii_digit()
}

fn isbn_body(b: &[u8], mut q: usize) -> Option<usize> {
    for _ in 0..9 {
        if !digit(b, q) {
            return None;
        }
        q += 1;
        if q < b.len() && (b[q] == b' ' || b[q] == b'-') {
            q += 1;
        }
    }
    if q < b.len() && (b[q].is_ascii_digit() || b[q] == b'X' || b[q] == b'x') {
        Some(q + 1)
    } else {
        None
    }
}

/// `_ISBN_CANDIDATE.search`: `(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx]`. Each separator is taken when
/// present (leaving it would put it where a digit must be), so the match is found without backtracking.
fn isbn_candidate_simple(s: &str) -> Option<String> {
    let b = s.as_bytes();
    for p in 0..b.len() {
        let mut end = None;
        if p + 2 < b.len() && b[p] == b'9' && b[p + 1] == b'7' && (b[p + 2] == b'8' || b[p + 2] == b'9') {
            let mut q = p + 3;
            if q < b.len() && (b[q] == b' ' || b[q] == b'-') {
                q += 1;
            }
            end = isbn_body(b, q);
        }
        if end.is_none() {
            end = isbn_body(b, p);
        }
        if let Some(e) = end {
            return Some(
                s[p..e].chars().filter(|c| *c != ' ' && *c != '-').map(|c| c.to_ascii_uppercase()).collect(),
            );
        }
    }
    None
}

fn isbn10_check(d9: &[u8]) -> u8 {
    let total: u32 = d9.iter().enumerate().map(|(i, d)| (10 - i as u32) * u32::from(d - b'0')).sum();
    let check = (11 - total % 11) % 11;
    if check == 10 {
        b'X'
    } else {
        b'0' + check as u8
    }
}

fn isbn13_check(d12: &[u8]) -> u8 {
    let total: u32 = d12
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    b'0' + ((10 - total % 10) % 10) as u8
}

fn isbn13_of(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    if b.len() == 10 {
        if !b[..9].iter().all(u8::is_ascii_digit) || isbn10_check(&b[..9]) != b[9] {
            return None;
        }
        let mut body = String::from("978");
        body.push_str(&raw[..9]);
        let check = isbn13_check(body.as_bytes());
        body.push(check as char);
        return Some(body);
    }
    if b.len() == 13 && b.iter().all(u8::is_ascii_digit) && (raw.starts_with("978") || raw.starts_with("979")) {
        return if isbn13_check(&b[..12]) == b[12] { Some(raw.to_string()) } else { None };
    }
    None
}

fn isbn13(py: Python<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return call_opt_str(py, &fallbacks(py)?.isbn13, s);
    }
    Ok(isbn_candidate_simple(s).and_then(|raw| isbn13_of(&raw)))
}

fn isbn_candidate(py: Python<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return call_opt_str(py, &fallbacks(py)?.isbn_candidate, s);
    }
    Ok(isbn_candidate_simple(s))
}

/// `_ISSN.search`: `\b(\d{4})[\s-]?(\d{3}[\dXx])\b`, then the check digit.
fn issn(py: Python<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return call_opt_str(py, &fallbacks(py)?.issn, s);
    }
    let b = s.as_bytes();
    let tail = |q: usize| -> Option<usize> {
        if digit(b, q) && digit(b, q + 1) && digit(b, q + 2) && q + 3 < b.len() {
            let c = b[q + 3];
            if (c.is_ascii_digit() || c == b'X' || c == b'x') && (q + 4 == b.len() || !is_word(b[q + 4])) {
                return Some(q);
            }
        }
        None
    };
    for p in 0..b.len() {
        if p > 0 && is_word(b[p - 1]) {
            continue;
        }
        if !(digit(b, p) && digit(b, p + 1) && digit(b, p + 2) && digit(b, p + 3)) {
            continue;
        }
        let q = p + 4;
        let found = if q < b.len() && (b[q] == b' ' || b[q] == b'-') { tail(q + 1) } else { tail(q) };
        if let Some(q) = found {
            let mut digits: Vec<u8> = b[p..p + 4].to_vec();
            digits.extend(b[q..q + 4].iter().map(u8::to_ascii_uppercase));
            let total: u32 = digits[..7].iter().enumerate().map(|(i, d)| (8 - i as u32) * u32::from(d - b'0')).sum();
            let check = (11 - total % 11) % 11;
            let expected = if check == 10 { b'X' } else { b'0' + check as u8 };
            if expected != digits[7] {
                return Ok(None);
            }
            let text = String::from_utf8(digits).expect("ASCII");
            return Ok(Some(format!("{}-{}", &text[..4], &text[4..])));
        }
    }
    Ok(None)
}

fn zfill(s: &str, width: usize) -> String {
    if s.len() >= width {
        return s.to_string();
    }
    let fill = "0".repeat(width - s.len());
    match s.as_bytes().first() {
        Some(b'+') | Some(b'-') => format!("{}{}{}", &s[..1], fill, &s[1..]),
        _ => format!("{}{}", fill, s),
    }
}

fn lccn(py: Python<'_>, s: &str) -> Res<Option<String>> {
    if s.is_empty() {
        return Ok(None);
    }
    if !simple(s) {
        return call_opt_str(py, &fallbacks(py)?.lccn, s);
    }
    let first = py_strip(s).split('/').next().unwrap_or("");
    let mut value: String = first.chars().filter(|c| *c != ' ').map(|c| c.to_ascii_lowercase()).collect();
    if let Some(at) = value.find('-') {
        value = format!("{}{}", &value[..at], zfill(&value[at + 1..], 6));
    }
    let value: String = value.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit()).collect();
    Ok(none_if_empty(value))
}

fn system_number(py: Python<'_>, s: &str) -> Res<Option<(String, String)>> {
    if s.is_empty() {
        return Ok(None);
    }
    if !simple(s) {
        let found = fallbacks(py)?.system_number.call1(py, (s,))?;
        return Ok(found.extract::<Option<(String, String)>>(py)?);
    }
    let t = py_strip(s);
    if !t.starts_with('(') {
        return Ok(None);
    }
    let close = match t[1..].find(')') {
        Some(i) if i > 0 => i + 1,
        _ => return Ok(None),
    };
    let rest = t[close + 1..].trim_start_matches(' ');
    if rest.is_empty() {
        return Ok(None);
    }
    let org = py_strip(&t[1..close]);
    let num = py_strip(rest);
    let upper = org.to_ascii_uppercase();
    if upper == "OCOLC" || upper == "OCLC" {
        let lower = num.to_ascii_lowercase();
        let cut = ["ocm", "ocn", "on", "oc"].iter().find(|p| lower.starts_with(*p)).map_or(0, |p| p.len());
        let digits = num[cut..].trim_start_matches('0');
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        return Ok(Some(("OCoLC".to_string(), digits.to_string())));
    }
    Ok(if num.is_empty() { None } else { Some((org.to_string(), num.to_string())) })
}

// ---------------------------------------------------------------------------------------------
// The record: harvest/fast_iso2709.py's checks, then light fields.

struct Fld<'a> {
    tag: &'a str,
    control: bool,
    data: &'a str,
    ind1: u8,
    ind2: u8,
    body: &'a str,
}

impl<'a> Fld<'a> {
    fn subs(&self) -> impl Iterator<Item = (u8, &'a str)> + 'a {
        let body: &'a str = if self.control { "" } else { self.body };
        body.split('\x1f').filter(|p| !p.is_empty()).map(|p| (p.as_bytes()[0], &p[1..]))
    }

    fn sub(&self, code: u8) -> &'a str {
        self.subs().find(|(c, _)| *c == code).map_or("", |(_, v)| v)
    }

    fn values(&self, codes: &'static [u8]) -> impl Iterator<Item = &'a str> + 'a {
        self.subs().filter(move |(c, _)| codes.contains(c)).map(|(_, v)| v)
    }
}

fn ascii_digits(b: &[u8]) -> Option<usize> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0')))
}

fn read(raw: &[u8]) -> Option<(&str, Vec<Fld<'_>>)> {
    let size = raw.len();
    if size < 26 || raw[9] != b'a' || raw[size - 1] != RT {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    if !raw[..24].is_ascii() {
        return None;
    }
    let base = ascii_digits(&raw[12..17])?;
    if base <= 24 || base >= size || raw[base - 1] != FT {
        return None;
    }
    // A subfield delimiter not followed by a valid code (an empty subfield is skipped).
    let tail = &raw[base..];
    for i in 0..tail.len() {
        if tail[i] == SF && i + 1 < tail.len() {
            let next = tail[i + 1];
            if !(next.is_ascii_alphanumeric() || next == FT || next == SF) {
                return None;
            }
        }
    }
    let directory = &raw[24..base - 1];
    if directory.len() % 12 != 0 || !directory.is_ascii() {
        return None;
    }
    let mut fields = Vec::with_capacity(directory.len() / 12);
    for entry in directory.chunks(12) {
        let length = ascii_digits(&entry[3..7])?;
        let start = base + ascii_digits(&entry[7..12])?;
        let end = start + length;
        if length < 1 || end > size || raw[end - 1] != FT {
            return None;
        }
        let tag = std::str::from_utf8(&entry[..3]).ok()?;
        if tag.bytes().all(|b| b.is_ascii_digit()) && tag < "010" {
            let data = text.get(start..end - 1)?;
            fields.push(Fld { tag, control: true, data, ind1: b' ', ind2: b' ', body: "" });
            continue;
        }
        if length < 3 || raw[start] == SF || raw[start + 1] == SF || (length > 3 && raw[start + 2] != SF) {
            return None;
        }
        if !raw[start].is_ascii() || !raw[start + 1].is_ascii() {
            return None;
        }
        let body = text.get(start + 2..end - 1)?;
        fields.push(Fld { tag, control: false, data: "", ind1: raw[start], ind2: raw[start + 1], body });
    }
    if fields.is_empty() {
        return None;
    }
    Some((&text[..24], fields))
}

struct Rec<'a> {
    fields: Vec<Fld<'a>>,
}

impl<'a> Rec<'a> {
    fn tagged(&self, tag: &'a str) -> impl Iterator<Item = &Fld<'a>> + '_ {
        self.fields.iter().filter(move |f| f.tag == tag)
    }

    fn first(&self, tag: &'a str) -> Option<&Fld<'a>> {
        self.tagged(tag).next()
    }
}

// ---------------------------------------------------------------------------------------------
// The mapping: catalog/marc_fields.py, part for part.

/// `_join`: clean(sep.join(v.strip() for v in values if v.strip())).
fn join(py: Python<'_>, field: &Fld<'_>, codes: &'static [u8]) -> Res<String> {
    let parts: Vec<&str> = field.values(codes).map(py_strip).filter(|v| !v.is_empty()).collect();
    clean(py, &parts.join(" "))
}

fn opt<T: Into<Val>>(value: Option<T>) -> Val {
    value.into()
}

fn title(py: Python<'_>, rec: &Rec<'_>, out: &mut Map) -> Res<()> {
    let field = match rec.first("245") {
        Some(field) => field,
        None => {
            for key in ["title", "subtitle", "responsibility", "sort_title"] {
                out.set_item(key, Val::Null);
            }
            return Ok(());
        }
    };
    let parts: Vec<&str> = field.values(b"anp").map(py_strip).filter(|v| !v.is_empty()).collect();
    let title = if parts.is_empty() { None } else { Some(clean(py, &parts.join(" "))?) };
    let subtitle = none_if_empty(join(py, field, b"b")?);
    let nonfiling = if field.ind2.is_ascii_digit() { usize::from(field.ind2 - b'0') } else { 0 };
    let sort_title = match &title {
        Some(t) if nonfiling > 0 && nonfiling < t.chars().count() => {
            let at = t.char_indices().nth(nonfiling).map_or(t.len(), |(i, _)| i);
            Some(t[at..].trim_start_matches(py_space).to_string())
        }
        other => other.clone(),
    };
    out.set_item("title", opt(title));
    out.set_item("subtitle", opt(subtitle));
    out.set_item("responsibility", opt(none_if_empty(join(py, field, b"c")?)));
    out.set_item("sort_title", opt(sort_title));
    out.set_item("medium", opt(none_if_empty(join(py, field, b"h")?)));
    Ok(())
}

fn names(py: Python<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for (tag, parts, kind, role) in [
        ("100", &b"abcdq"[..], "person", &b"e"[..]),
        ("110", &b"abcdn"[..], "corporate", &b"e"[..]),
        ("111", &b"acdenq"[..], "meeting", &b"j"[..]),
        ("700", &b"abcdq"[..], "person", &b"e"[..]),
        ("710", &b"abcdn"[..], "corporate", &b"e"[..]),
        ("711", &b"acdenq"[..], "meeting", &b"j"[..]),
    ] {
        for field in rec.tagged(tag) {
            let name = join(py, field, parts)?;
            if name.is_empty() {
                continue;
            }
            let mut roles = Vec::new();
            for (code, value) in field.subs() {
                if role.contains(&code) {
                    roles.push(clean(py, value)?);
                }
            }
            roles.extend(field.values(b"4").map(|v| py_strip(v).to_string()));
            let mut entry = Map::new();
            entry.set_item("name", name);
            entry.set_item("kind", kind);
            entry.set_item("main", tag.starts_with('1'));
            entry.set_item("roles", uniq(roles));
            list.push(entry.into());
        }
    }
    Ok(list)
}

struct Publication {
    place: Option<String>,
    publisher: Option<String>,
    date: Option<String>,
}

fn publication(py: Python<'_>, rec: &Rec<'_>) -> Res<Publication> {
    let field = rec
        .tagged("264")
        .find(|f| f.ind2 == b'1')
        .or_else(|| rec.first("260"))
        .or_else(|| rec.first("264"));
    let field = match field {
        Some(field) => field,
        None => return Ok(Publication { place: None, publisher: None, date: None }),
    };
    Ok(Publication {
        place: none_if_empty(clean(py, field.sub(b'a'))?),
        publisher: none_if_empty(clean(py, field.sub(b'b'))?),
        date: none_if_empty(clean(py, field.sub(b'c'))?),
    })
}

/// `_year`: the first `(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)`.
fn year_in(py: Python<'_>, text: &str) -> Res<Option<i64>> {
    if !simple(text) {
        return Ok(fallbacks(py)?.year.call1(py, (text,))?.extract::<Option<i64>>(py)?);
    }
    let b = text.as_bytes();
    for p in 0..b.len().saturating_sub(3) {
        if p > 0 && b[p - 1].is_ascii_digit() {
            continue;
        }
        let four = &b[p..p + 4];
        let shaped = (four[0] == b'1' && four[1..].iter().all(u8::is_ascii_digit))
            || (four[0] == b'2' && four[1] == b'0' && four[2..].iter().all(u8::is_ascii_digit));
        if shaped && !digit(b, p + 4) {
            return Ok(Some(four.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))));
        }
    }
    Ok(None)
}

fn year_of(py: Python<'_>, fixed: &str, pub_date: Option<&str>) -> Res<Option<i64>> {
    let b = fixed.as_bytes();
    if b.len() >= 11 && b[7..11].iter().all(u8::is_ascii_digit) {
        let year = b[7..11].iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        if (1000..=2099).contains(&year) {
            return Ok(Some(year));
        }
    }
    year_in(py, pub_date.unwrap_or(""))
}

fn lang_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn languages(rec: &Rec<'_>, fixed: &str) -> Res<Vec<String>> {
    let mut langs = Vec::new();
    if fixed.len() >= 38 {
        let code = py_strip(&fixed[35..38]).to_ascii_lowercase();
        if lang_code(&code) && !["zxx", "und", "mul"].contains(&code.as_str()) {
            langs.push(code);
        }
    }
    for field in rec.tagged("041") {
        for value in field.values(b"ad") {
            if !value.is_ascii() {
                return Err(Failure::Decline); // Python's lower() and slicing of other scripts
            }
            let value = py_strip(value).to_ascii_lowercase();
            let mut i = 0;
            while i + 2 < value.len() {
                let code = &value[i..i + 3];
                if lang_code(code) {
                    langs.push(code.to_string());
                }
                i += 3;
            }
        }
    }
    Ok(uniq(langs))
}

fn material_type(leader: &str) -> &'static str {
    let b = leader.as_bytes();
    let kind = match b[6] {
        b'a' => "book",
        b't' => "manuscript",
        b'c' => "score",
        b'd' => "manuscript score",
        b'e' => "map",
        b'f' => "manuscript map",
        b'g' => "video",
        b'i' => "audio",
        b'j' => "music recording",
        b'k' => "image",
        b'm' => "computer file",
        b'o' => "kit",
        b'p' => "mixed materials",
        b'r' => "object",
        _ => "book",
    };
    if (kind == "book" || kind == "manuscript") && b"bis".contains(&b[7]) {
        return "serial";
    }
    kind
}

fn electronic(py: Python<'_>, rec: &Rec<'_>) -> Res<bool> {
    for field in rec.tagged("338") {
        if fold(py, field.sub(b'a'))? == "online resource" || field.sub(b'b') == "cr" {
            return Ok(true);
        }
    }
    if rec.tagged("007").any(|f| f.data.starts_with("cr")) {
        return Ok(true);
    }
    for field in rec.tagged("245") {
        if fold(py, field.sub(b'h'))?.contains("electronic resource") {
            return Ok(true);
        }
    }
    Ok(false)
}

fn cleaned_values(py: Python<'_>, rec: &Rec<'_>, tag: &'static str) -> Res<Vec<String>> {
    let mut out = Vec::new();
    for field in rec.tagged(tag) {
        for value in field.values(b"a") {
            out.push(clean(py, value)?);
        }
    }
    Ok(uniq(out))
}

fn subject(py: Python<'_>, field: &Fld<'_>) -> Res<String> {
    let mut out = String::new();
    for (code, value) in field.subs() {
        let value = py_strip(value);
        if b"0123456789e".contains(&code) || value.is_empty() {
            continue;
        }
        let value = clean(py, value)?;
        if out.is_empty() {
            out = value;
        } else if b"vxyz".contains(&code) {
            out.push_str(" -- ");
            out.push_str(&value);
        } else {
            out.push(' ');
            out.push_str(&value);
        }
    }
    Ok(out)
}

const SUBJECT_TAGS: [&str; 13] =
    ["600", "610", "611", "630", "647", "648", "650", "651", "653", "654", "655", "656", "657"];

fn subjects(py: Python<'_>, rec: &Rec<'_>) -> Res<Vec<String>> {
    let mut out = Vec::new();
    for tag in SUBJECT_TAGS {
        for field in rec.tagged(tag) {
            out.push(subject(py, field)?);
        }
    }
    Ok(uniq(out))
}

fn scheme_entry<'v>(scheme: &'v mut Vec<(String, Vec<String>)>, key: &str) -> &'v mut Vec<String> {
    let at = match scheme.iter().position(|(k, _)| k == key) {
        Some(at) => at,
        None => {
            scheme.push((key.to_string(), Vec::new()));
            scheme.len() - 1
        }
    };
    &mut scheme[at].1
}

fn classification(py: Python<'_>, rec: &Rec<'_>) -> Res<Map> {
    let mut scheme: Vec<(String, Vec<String>)> = Vec::new();
    for field in rec.tagged("082") {
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(display(py, v)?.replace('/', ""));
        }
        scheme_entry(&mut scheme, "ddc").extend(values);
    }
    for field in rec.tagged("080") {
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(display(py, v)?);
        }
        scheme_entry(&mut scheme, "udc").extend(values);
    }
    for tag in ["050", "090"] {
        for field in rec.tagged(tag) {
            let lcc = display(py, &field.values(b"ab").collect::<Vec<_>>().join(" "))?;
            if !lcc.is_empty() {
                scheme_entry(&mut scheme, "lcc").push(lcc);
            }
        }
    }
    for field in rec.tagged("084") {
        let mut source = display(py, field.sub(b'2'))?;
        if source.is_empty() {
            source = "other".to_string();
        }
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(display(py, v)?);
        }
        scheme_entry(&mut scheme, &source).extend(values);
    }
    let mut out = Map::new();
    for (key, values) in scheme {
        if values.iter().any(|v| !v.is_empty()) {
            out.set_item(key, uniq(values));
        }
    }
    Ok(out)
}

fn series(py: Python<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for tag in ["830", "490", "440", "800", "810", "811"] {
        let codes: &'static [u8] = if tag.starts_with('8') && tag != "830" { b"atp" } else { b"anp" };
        for field in rec.tagged(tag) {
            let title = join(py, field, codes)?;
            if title.is_empty() {
                continue;
            }
            let key = fold(py, &title)?;
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let mut entry = Map::new();
            entry.set_item("title", title);
            entry.set_item("volume", opt(none_if_empty(clean(py, field.sub(b'v'))?)));
            list.push(entry.into());
        }
    }
    Ok(list)
}

fn links(py: Python<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for field in rec.tagged("856") {
        let mut notes = Vec::new();
        for v in field.values(b"3yz") {
            if !py_strip(v).is_empty() {
                notes.push(clean(py, v)?);
            }
        }
        let note = none_if_empty(notes.join(" "));
        let kind = match field.ind2 {
            b'0' => "resource",
            b'1' => "version",
            b'2' => "related",
            _ => "resource",
        };
        for url in field.values(b"u") {
            let url = py_strip(url);
            if !url.is_empty() {
                let mut entry = Map::new();
                entry.set_item("url", url);
                entry.set_item("note", opt(note.clone()));
                entry.set_item("kind", kind);
                list.push(entry.into());
            }
        }
    }
    Ok(list)
}

fn alternate_script(py: Python<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for field in rec.tagged("880") {
        let link = field.sub(b'6');
        let parts: Vec<&str> =
            field.subs().filter(|(c, v)| *c != b'6' && !py_strip(v).is_empty()).map(|(_, v)| v).collect();
        let text = display(py, &parts.join(" "))?;
        if text.is_empty() {
            continue;
        }
        let tag: String = link.chars().take(3).collect();
        let mut entry = Map::new();
        entry.set_item("tag", opt(none_if_empty(tag)));
        entry.set_item("link", opt(none_if_empty(link.to_string())));
        entry.set_item("text", text);
        list.push(entry.into());
    }
    Ok(list)
}

const PAGE_WORDS: [&str; 10] = ["p", "pages", "page", "pp", "tr", "trang", "s", "str", "leaves", "l"];

/// `_pages`: the largest `(\d+)\s*(?:p|pages?|pp|tr|trang|s|str|leaves|l)\b` (any case).
fn pages(py: Python<'_>, extent: Option<&str>) -> Res<Val> {
    let extent = match extent.filter(|e| !e.is_empty()) {
        Some(extent) => extent,
        None => return Ok(Val::Null),
    };
    if !simple(extent) {
        return python_pages(py, extent);
    }
    let b = extent.as_bytes();
    let mut best: Option<i64> = None;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &extent[start..i];
        let mut j = i;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let rest = &b[j..];
        let unit = PAGE_WORDS.iter().any(|w| {
            let w = w.as_bytes();
            rest.len() >= w.len()
                && rest[..w.len()].eq_ignore_ascii_case(w)
                && (rest.len() == w.len() || !is_word(rest[w.len()]))
        });
        if unit {
            if digits.len() > 18 {
                return python_pages(py, extent);
            }
            let n: i64 = digits.parse().expect("ASCII digits");
            best = Some(best.map_or(n, |b| b.max(n)));
        }
    }
    Ok(opt(best))
}

/// `_pages` in Python; a number too large for 64 bits (which orjson cannot write) is declined.
fn python_pages(py: Python<'_>, extent: &str) -> Res<Val> {
    let found = fallbacks(py)?.pages.call1(py, (extent,))?;
    match found.extract::<Option<i64>>(py) {
        Ok(n) => Ok(opt(n)),
        Err(_) => Err(Failure::Decline),
    }
}

fn identifiers(py: Python<'_>, rec: &Rec<'_>, out: &mut Map) -> Res<()> {
    let mut isbns = Vec::new();
    let mut invalid_isbns = Vec::new();
    for field in rec.tagged("020") {
        for (code, value) in field.subs() {
            if code != b'a' && code != b'z' {
                continue;
            }
            let norm = if code == b'a' { isbn13(py, value)? } else { None };
            match norm {
                Some(n) => isbns.push(n),
                None => {
                    let raw = match isbn_candidate(py, value)? {
                        Some(c) if !c.is_empty() => c,
                        _ => display(py, value)?,
                    };
                    if !raw.is_empty() {
                        invalid_isbns.push(raw);
                    }
                }
            }
        }
    }
    let mut issns = Vec::new();
    let mut invalid_issns = Vec::new();
    for field in rec.tagged("022") {
        for (code, value) in field.subs() {
            if !b"alyz".contains(&code) {
                continue;
            }
            let norm = if code == b'a' || code == b'l' { issn(py, value)? } else { None };
            match norm {
                Some(n) => issns.push(n),
                None if !py_strip(value).is_empty() => invalid_issns.push(display(py, value)?),
                None => {}
            }
        }
    }
    let mut found_lccn = None;
    for field in rec.tagged("010") {
        found_lccn = lccn(py, field.sub(b'a'))?;
        if found_lccn.is_some() {
            break;
        }
    }
    let mut numbers: Vec<Val> = Vec::new();
    for field in rec.tagged("035") {
        if let Some((org, number)) = system_number(py, field.sub(b'a'))? {
            let mut entry = Map::new();
            entry.set_item("org", org);
            entry.set_item("number", number);
            numbers.push(entry.into());
        }
    }
    let isbns = uniq(isbns);
    let invalid_isbns = uniq(invalid_isbns.into_iter().filter(|v| !isbns.contains(v)).collect());
    out.set_item("isbns", isbns);
    out.set_item("invalid_isbns", invalid_isbns);
    out.set_item("issns", uniq(issns));
    out.set_item("invalid_issns", uniq(invalid_issns));
    out.set_item("lccn", opt(found_lccn));
    out.set_item("system_numbers", numbers);
    Ok(())
}

fn extract(py: Python<'_>, leader: &str, rec: &Rec<'_>) -> Res<Map> {
    let fixed = rec.first("008").map_or("", |f| f.data);
    if !fixed.is_ascii() {
        return Err(Failure::Decline);
    }
    let pub_ = publication(py, rec)?;
    let extent = match rec.first("300") {
        Some(f) => Some(join(py, f, b"abcefg")?),
        None => None,
    };
    let mut out = Map::new();
    title(py, rec, &mut out)?;
    out.set_item("authors", names(py, rec)?);
    let edition = match rec.first("250") {
        Some(f) => Some(join(py, f, b"ab")?),
        None => None,
    };
    out.set_item("edition", opt(edition));
    let year = year_of(py, fixed, pub_.date.as_deref())?;
    out.set_item("place", opt(pub_.place));
    out.set_item("publisher", opt(pub_.publisher));
    out.set_item("pub_date", opt(pub_.date));
    out.set_item("year", opt(year));
    let extent_pages = pages(py, extent.as_deref())?;
    out.set_item("extent", opt(extent.filter(|e| !e.is_empty())));
    out.set_item("pages", extent_pages);
    out.set_item("languages", languages(rec, fixed)?);
    out.set_item("material_type", material_type(leader));
    out.set_item("electronic", electronic(py, rec)?);
    out.set_item("content_types", cleaned_values(py, rec, "336")?);
    out.set_item("carrier_types", cleaned_values(py, rec, "338")?);
    out.set_item("subjects", subjects(py, rec)?);
    out.set_item("classification", classification(py, rec)?);
    out.set_item("series", series(py, rec)?);
    out.set_item("links", links(py, rec)?);
    let summary = match rec.first("520") {
        Some(f) => Some(join(py, f, b"a")?),
        None => None,
    };
    out.set_item("summary", opt(summary));
    out.set_item("alternate_script", alternate_script(py, rec)?);
    identifiers(py, rec, &mut out)?;
    Ok(out)
}

/// The record's leader, the fields whose tags are in ``keep`` (3-character tags run together, such
/// as "001952999") as (tag, indicator 1, indicator 2, data, subfields as in the record or None),
/// the JSON of the catalogue fields that `catalog.marc_fields.extract` gives, the few of them
/// Python reads (`CORE`) as a dict, the match keys and the title key; or None when the record is
/// for the Python path.
#[pyfunction]
fn map_iso2709(py: Python<'_>, raw: &[u8], keep: &str) -> PyResult<Option<PyObject>> {
    let (leader, fields) = match read(raw) {
        Some(found) => found,
        None => return Ok(None),
    };
    map_record(py, leader, Rec { fields }, keep)
}

/// A field of a record read by other means (MARCXML): tag, indicators, control field data and
/// the subfields as (code, value).
type GivenField = (String, String, String, String, Vec<(String, String)>);

/// `map_iso2709` for a record already read into fields (the light records of harvest/marcxml.py),
/// with nothing kept. Declined: what the ISO 2709 reader would not have let through and the Python
/// mapping reads otherwise (a leader, tag or indicator that is not ASCII, a tag not of 3
/// characters, a subfield code not of one ASCII character, a value holding a subfield delimiter).
#[pyfunction]
fn map_fields(py: Python<'_>, leader: &str, fields: Vec<GivenField>) -> PyResult<Option<PyObject>> {
    if leader.len() != 24 || !leader.is_ascii() {
        return Ok(None);
    }
    let mut bodies: Vec<String> = Vec::with_capacity(fields.len());
    for (tag, ind1, ind2, _, subfields) in &fields {
        if tag.len() != 3 || !tag.is_ascii() || ind1.len() != 1 || ind2.len() != 1 {
            return Ok(None); // indicators of one ASCII character: the reader gives " " for none
        }
        let mut body = String::new();
        for (code, value) in subfields {
            if code.len() != 1 || value.contains('\x1f') {
                return Ok(None);
            }
            body.push('\x1f');
            body.push_str(code);
            body.push_str(value);
        }
        bodies.push(body);
    }
    let mut read: Vec<Fld<'_>> = Vec::with_capacity(fields.len());
    for ((tag, ind1, ind2, data, _), body) in fields.iter().zip(&bodies) {
        let control = tag.bytes().all(|b| b.is_ascii_digit()) && tag.as_str() < "010";
        let (ind1, ind2) = (ind1.as_bytes()[0], ind2.as_bytes()[0]);
        read.push(Fld { tag, control, data, ind1, ind2, body });
    }
    map_record(py, leader, Rec { fields: read }, "")
}

fn map_record(py: Python<'_>, leader: &str, rec: Rec<'_>, keep: &str) -> PyResult<Option<PyObject>> {
    // Mapped and keyed first: a record either declines before anything is built for it, or not.
    let mapped = extract(py, leader, &rec).and_then(|mapped| Ok((match_keys(py, &mapped)?, mapped)));
    let ((keys, title_key), mapped) = match mapped {
        Ok(found) => found,
        Err(Failure::Decline) => return Ok(None),
        Err(Failure::Python(err)) => return Err(err),
    };
    let kept = PyList::empty(py);
    for field in &rec.fields {
        if keep.as_bytes().chunks(3).any(|t| t == field.tag.as_bytes()) {
            let body = if field.control { py.None() } else { field.body.to_object(py) };
            let item = PyTuple::new(
                py,
                [
                    field.tag.to_object(py),
                    (field.ind1 as char).to_object(py),
                    (field.ind2 as char).to_object(py),
                    field.data.to_object(py),
                    body,
                ],
            );
            kept.append(item)?;
        }
    }
    let json = value::to_json(&mapped);
    let core = PyDict::new(py);
    for key in CORE {
        if let Some(found) = mapped.get(key) {
            core.set_item(key, value::to_py(py, found)?)?;
        }
    }
    let out = [
        leader.to_object(py),
        kept.to_object(py),
        json.to_object(py),
        core.to_object(py),
        keys.to_object(py),
        title_key.to_object(py),
    ];
    Ok(Some(PyTuple::new(py, out).to_object(py)))
}

/// The catalogue fields the Python side reads of a record mapped here, for its title
/// (`catalog.records.CORE_FIELDS`): the rest stays JSON text.
const CORE: [&str; 5] = ["title", "subtitle", "sort_title", "year", "material_type"];

// ---------------------------------------------------------------------------------------------
// Match keys: catalog/records.py's match_keys and catalog/dedup/keys.py's blocking keys.

fn text<'m>(map: &'m Map, key: &str) -> Option<&'m str> {
    match map.get(key) {
        Some(Val::Str(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

fn strings<'m>(map: &'m Map, key: &str) -> Vec<&'m str> {
    match map.get(key) {
        Some(Val::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Val::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The first `n` characters, as Python's `s[:n]`.
fn chars_prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `main_author_key`: the first word without a digit of the first main author's folded name.
/// A name with a non-ASCII numeric character is declined: Python's `\d` is narrower than Rust's.
fn main_author_key(py: Python<'_>, map: &Map) -> Res<Option<String>> {
    let authors = match map.get("authors") {
        Some(Val::List(items)) => items,
        _ => return Ok(None),
    };
    for author in authors {
        let author = match author {
            Val::Map(author) => author,
            _ => continue,
        };
        if !matches!(author.get("main"), Some(Val::Bool(true))) {
            continue;
        }
        let name = fold(py, text(author, "name").unwrap_or(""))?;
        if name.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
            return Err(Failure::Decline);
        }
        return Ok(name.split_whitespace().find(|w| !w.bytes().any(|b| b.is_ascii_digit())).map(str::to_string));
    }
    Ok(None)
}

fn match_keys(py: Python<'_>, map: &Map) -> Res<(Vec<(String, String)>, Option<String>)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for isbn in strings(map, "isbns") {
        keys.push(("isbn".into(), isbn.to_string()));
    }
    for issn in strings(map, "issns") {
        keys.push(("issn".into(), issn.replace('-', "")));
    }
    if let Some(lccn) = text(map, "lccn") {
        keys.push(("lccn".into(), lccn.to_string()));
    }
    if let Some(Val::List(numbers)) = map.get("system_numbers") {
        for number in numbers {
            let number = match number {
                Val::Map(number) => number,
                _ => continue,
            };
            let (org, value) = (text(number, "org").unwrap_or(""), text(number, "number").unwrap_or(""));
            if org == "OCoLC" {
                keys.push(("oclc".into(), value.to_string()));
            } else {
                keys.push(("sysno".into(), chars_prefix(&format!("{org}:{value}"), 255).to_string()));
            }
        }
    }
    let title = text(map, "sort_title").or_else(|| text(map, "title")).unwrap_or("");
    let title_key = fold(py, title)?;
    let words: Vec<&str> = title_key.split_whitespace().take(5).collect(); // keys.TITLE_WORDS
    let words = words.join(" ");
    if !words.is_empty() {
        let year = match map.get("year") {
            Some(Val::Int(n)) if *n != 0 => Some(*n),
            _ => None,
        };
        let blocking = match main_author_key(py, map)? {
            Some(author) => format!("{words}|{author}"),
            None => {
                let publisher = fold(py, text(map, "publisher").unwrap_or(""))?;
                let first = publisher.split_whitespace().next().unwrap_or("");
                format!("{words}|{}|{first}", year.map_or(String::new(), |y| y.to_string()))
            }
        };
        keys.push(("title".into(), chars_prefix(&blocking, 255).to_string()));
        if let Some(year) = year {
            keys.push(("title_year".into(), chars_prefix(&format!("{words}|{year}"), 255).to_string()));
        }
    }
    let mut unique: Vec<(String, String)> = Vec::with_capacity(keys.len());
    for key in keys {
        if !unique.contains(&key) {
            unique.push(key);
        }
    }
    Ok((unique, none_if_empty(title_key)))
}

/// `catalog.text`'s `display`, `clean` or `fold` (``function``) of ``value`` as this module computes
/// it, or ``None`` where it hands the value to Python: for the tests, which compare the two.
#[pyfunction]
fn text_function(py: Python<'_>, function: &str, value: &str) -> PyResult<Option<String>> {
    if !(simple(value) || text::all_handled(value)) {
        return Ok(None);
    }
    let result = match function {
        "display" => display(py, value),
        "clean" => clean(py, value),
        "fold" => fold(py, value),
        _ => return Err(pyo3::exceptions::PyValueError::new_err("display, clean or fold")),
    };
    match result {
        Ok(done) => Ok(Some(done)),
        Err(Failure::Python(err)) => Err(err),
        Err(Failure::Decline) => Ok(None),
    }
}

#[pymodule]
fn _mapping(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(text_function, m)?)?;
    m.add_function(wrap_pyfunction!(map_iso2709, m)?)?;
    m.add_function(wrap_pyfunction!(map_fields, m)?)?;
    Ok(())
}
