//! `catalog.records.match_keys`: identifier keys for lookups, and the blocking keys of
//! `catalog.dedup.keys` that find candidate duplicates, from the mapped fields.

use crate::fallback::{Ctx, Failure, Res};
use crate::pystr::{chars_prefix, none_if_empty};
use crate::value::{Map, Val};

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

/// `main_author_key`: the first word without a digit of the first main author's folded name.
/// A name with a non-ASCII numeric character is declined: Python's `\d` is narrower than Rust's.
fn main_author_key(cx: &Ctx<'_>, map: &Map) -> Res<Option<String>> {
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
        let name = cx.fold(text(author, "name").unwrap_or(""))?;
        if name.chars().any(|c| !c.is_ascii() && c.is_numeric()) {
            return Err(Failure::Decline);
        }
        return Ok(name.split_whitespace().find(|w| !w.bytes().any(|b| b.is_ascii_digit())).map(str::to_string));
    }
    Ok(None)
}

pub fn match_keys(cx: &Ctx<'_>, map: &Map) -> Res<(Vec<(String, String)>, Option<String>)> {
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
    let title_key = cx.fold(title)?;
    let words: Vec<&str> = title_key.split_whitespace().take(cx.t.title_words).collect();
    let words = words.join(" ");
    if !words.is_empty() {
        let year = match map.get("year") {
            Some(Val::Int(n)) if *n != 0 => Some(*n),
            _ => None,
        };
        let blocking = match main_author_key(cx, map)? {
            Some(author) => format!("{words}|{author}"),
            None => {
                let publisher = cx.fold(text(map, "publisher").unwrap_or(""))?;
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
