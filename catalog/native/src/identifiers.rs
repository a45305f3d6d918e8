//! `catalog/identifiers.py` for printable ASCII: ISBN, ISSN, LCCN and system numbers. Any other
//! text goes to the Python function of the same name.

use crate::fallback::{Ctx, Res};
use crate::pystr::{digit, is_word, none_if_empty, py_strip, simple};

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
            return Some(s[p..e].chars().filter(|c| *c != ' ' && *c != '-').map(|c| c.to_ascii_uppercase()).collect());
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
    let total: u32 = d12.iter().enumerate().map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
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

pub fn isbn13(cx: &Ctx<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return cx.call_opt_str(&cx.fallbacks().isbn13, s);
    }
    Ok(isbn_candidate_simple(s).and_then(|raw| isbn13_of(&raw)))
}

pub fn isbn_candidate(cx: &Ctx<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return cx.call_opt_str(&cx.fallbacks().isbn_candidate, s);
    }
    Ok(isbn_candidate_simple(s))
}

/// `_ISSN.search`: `\b(\d{4})[\s-]?(\d{3}[\dXx])\b`, then the check digit.
pub fn issn(cx: &Ctx<'_>, s: &str) -> Res<Option<String>> {
    if !simple(s) {
        return cx.call_opt_str(&cx.fallbacks().issn, s);
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

pub fn lccn(cx: &Ctx<'_>, s: &str) -> Res<Option<String>> {
    if s.is_empty() {
        return Ok(None);
    }
    if !simple(s) {
        return cx.call_opt_str(&cx.fallbacks().lccn, s);
    }
    let first = py_strip(s).split('/').next().unwrap_or("");
    let mut value: String = first.chars().filter(|c| *c != ' ').map(|c| c.to_ascii_lowercase()).collect();
    if let Some(at) = value.find('-') {
        value = format!("{}{}", &value[..at], zfill(&value[at + 1..], 6));
    }
    let value: String = value.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit()).collect();
    Ok(none_if_empty(value))
}

pub fn system_number(cx: &Ctx<'_>, s: &str) -> Res<Option<(String, String)>> {
    if s.is_empty() {
        return Ok(None);
    }
    if !simple(s) {
        let found = cx.fallbacks().system_number.call1(cx.py, (s,))?;
        return Ok(found.extract::<Option<(String, String)>>(cx.py)?);
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
