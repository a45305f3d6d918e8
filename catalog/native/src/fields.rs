//! The field groups of `catalog/marc_fields.py`, part for part: title, names, publication, year,
//! extent and pages, languages, material type, electronic, content and carrier types, subjects,
//! classification, series, links, summary, alternate script and identifiers. The tables come from
//! `catalog.mapping_tables` (`tables.rs`), text goes through `fallback.rs`.

use crate::fallback::{Ctx, Failure, Res};
use crate::identifiers as ids;
use crate::pystr::{digit, is_word, none_if_empty, py_space, py_strip, simple, uniq};
use crate::reader::{Fld, Rec};
use crate::value::{Map, Val};

/// `_join`: clean(sep.join(v.strip() for v in values if v.strip())).
fn join(cx: &Ctx<'_>, field: &Fld<'_>, codes: &[u8]) -> Res<String> {
    let parts: Vec<&str> = field.values(codes).map(py_strip).filter(|v| !v.is_empty()).collect();
    cx.clean(&parts.join(" "))
}

fn opt<T: Into<Val>>(value: Option<T>) -> Val {
    value.into()
}

fn title(cx: &Ctx<'_>, rec: &Rec<'_>, out: &mut Map) -> Res<()> {
    let field = match rec.first("245") {
        Some(field) => field,
        None => {
            for key in ["title", "subtitle", "responsibility", "sort_title"] {
                out.set_item(key, Val::Null);
            }
            return Ok(());
        }
    };
    let parts: Vec<&str> = field.values(&cx.t.title_parts).map(py_strip).filter(|v| !v.is_empty()).collect();
    let title = if parts.is_empty() { None } else { Some(cx.clean(&parts.join(" "))?) };
    let subtitle = none_if_empty(join(cx, field, b"b")?);
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
    out.set_item("responsibility", opt(none_if_empty(join(cx, field, b"c")?)));
    out.set_item("sort_title", opt(sort_title));
    out.set_item("medium", opt(none_if_empty(join(cx, field, b"h")?)));
    Ok(())
}

fn names(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for spec in &cx.t.name_fields {
        let (tag, parts, kind, role) = (spec.tag.as_str(), &spec.parts[..], spec.kind.as_str(), &spec.roles[..]);
        for field in rec.tagged(tag) {
            let name = join(cx, field, parts)?;
            if name.is_empty() {
                continue;
            }
            let mut roles = Vec::new();
            for (code, value) in field.subs() {
                if role.contains(&code) {
                    roles.push(cx.clean(value)?);
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

fn publication(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Publication> {
    let field = rec.tagged("264").find(|f| f.ind2 == b'1').or_else(|| rec.first("260")).or_else(|| rec.first("264"));
    let field = match field {
        Some(field) => field,
        None => return Ok(Publication { place: None, publisher: None, date: None }),
    };
    Ok(Publication {
        place: none_if_empty(cx.clean(field.sub(b'a'))?),
        publisher: none_if_empty(cx.clean(field.sub(b'b'))?),
        date: none_if_empty(cx.clean(field.sub(b'c'))?),
    })
}

/// `marc_fields.year`: the first `(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)`.
fn year_in(cx: &Ctx<'_>, text: &str) -> Res<Option<i64>> {
    if !simple(text) {
        return Ok(cx.fallbacks().year.call1(cx.py, (text,))?.extract::<Option<i64>>(cx.py)?);
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

fn year_of(cx: &Ctx<'_>, fixed: &str, pub_date: Option<&str>) -> Res<Option<i64>> {
    let b = fixed.as_bytes();
    if b.len() >= 11 && b[7..11].iter().all(u8::is_ascii_digit) {
        let year = b[7..11].iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        if (1000..=2099).contains(&year) {
            return Ok(Some(year));
        }
    }
    year_in(cx, pub_date.unwrap_or(""))
}

fn lang_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase())
}

fn languages(cx: &Ctx<'_>, rec: &Rec<'_>, fixed: &str) -> Res<Vec<String>> {
    let mut langs = Vec::new();
    if fixed.len() >= 38 {
        let code = py_strip(&fixed[35..38]).to_ascii_lowercase();
        if lang_code(&code) && !cx.t.no_language.contains(&code) {
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

/// `material_type`: leader/06 and leader/07 through `MATERIAL` and `SERIAL_LEVELS`.
fn material_type(cx: &Ctx<'_>, leader: &str) -> String {
    let b = leader.as_bytes();
    cx.t.material_type(b[6], b[7]).to_string()
}

fn electronic(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<bool> {
    for field in rec.tagged("338") {
        if cx.fold(field.sub(b'a'))? == cx.t.online_carrier || field.sub(b'b') == cx.t.online_carrier_code {
            return Ok(true);
        }
    }
    if rec.tagged("007").any(|f| f.data.starts_with(cx.t.online_carrier_code.as_str())) {
        return Ok(true);
    }
    for field in rec.tagged("245") {
        if cx.fold(field.sub(b'h'))?.contains(cx.t.electronic_medium.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn cleaned_values(cx: &Ctx<'_>, rec: &Rec<'_>, tag: &str) -> Res<Vec<String>> {
    let mut out = Vec::new();
    for field in rec.tagged(tag) {
        for value in field.values(b"a") {
            out.push(cx.clean(value)?);
        }
    }
    Ok(uniq(out))
}

fn subject(cx: &Ctx<'_>, field: &Fld<'_>) -> Res<String> {
    let mut out = String::new();
    for (code, value) in field.subs() {
        let value = py_strip(value);
        if cx.t.subject_skip.contains(&code) || value.is_empty() {
            continue;
        }
        let value = cx.clean(value)?;
        if out.is_empty() {
            out = value;
        } else if cx.t.subject_subdivisions.contains(&code) {
            out.push_str(" -- ");
            out.push_str(&value);
        } else {
            out.push(' ');
            out.push_str(&value);
        }
    }
    Ok(out)
}

fn subjects(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Vec<String>> {
    let mut out = Vec::new();
    for tag in &cx.t.subject_tags {
        for field in rec.tagged(tag) {
            out.push(subject(cx, field)?);
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

fn classification(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Map> {
    let mut scheme: Vec<(String, Vec<String>)> = Vec::new();
    for field in rec.tagged("082") {
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(cx.display(v)?.replace('/', ""));
        }
        scheme_entry(&mut scheme, "ddc").extend(values);
    }
    for field in rec.tagged("080") {
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(cx.display(v)?);
        }
        scheme_entry(&mut scheme, "udc").extend(values);
    }
    for tag in ["050", "090"] {
        for field in rec.tagged(tag) {
            let lcc = cx.display(&field.values(b"ab").collect::<Vec<_>>().join(" "))?;
            if !lcc.is_empty() {
                scheme_entry(&mut scheme, "lcc").push(lcc);
            }
        }
    }
    for field in rec.tagged("084") {
        let mut source = cx.display(field.sub(b'2'))?;
        if source.is_empty() {
            source = "other".to_string();
        }
        let mut values = Vec::new();
        for v in field.values(b"a") {
            values.push(cx.display(v)?);
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

fn series(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (tag, codes) in &cx.t.series_fields {
        for field in rec.tagged(tag) {
            let title = join(cx, field, codes)?;
            if title.is_empty() {
                continue;
            }
            let key = cx.fold(&title)?;
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let mut entry = Map::new();
            entry.set_item("title", title);
            entry.set_item("volume", opt(none_if_empty(cx.clean(field.sub(b'v'))?)));
            list.push(entry.into());
        }
    }
    Ok(list)
}

fn links(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for field in rec.tagged("856") {
        let mut notes = Vec::new();
        for v in field.values(b"3yz") {
            if !py_strip(v).is_empty() {
                notes.push(cx.clean(v)?);
            }
        }
        let note = none_if_empty(notes.join(" "));
        let kind = cx.t.link_kind(field.ind2);
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

fn alternate_script(cx: &Ctx<'_>, rec: &Rec<'_>) -> Res<Vec<Val>> {
    let mut list: Vec<Val> = Vec::new();
    for field in rec.tagged("880") {
        let link = field.sub(b'6');
        let parts: Vec<&str> =
            field.subs().filter(|(c, v)| *c != b'6' && !py_strip(v).is_empty()).map(|(_, v)| v).collect();
        let text = cx.display(&parts.join(" "))?;
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

/// `marc_fields.pages`: the largest number followed by one of `PAGE_WORDS` (any case, a whole word).
fn pages(cx: &Ctx<'_>, extent: Option<&str>) -> Res<Val> {
    let extent = match extent.filter(|e| !e.is_empty()) {
        Some(extent) => extent,
        None => return Ok(Val::Null),
    };
    if !simple(extent) {
        return python_pages(cx, extent);
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
        let unit = cx.t.page_words.iter().any(|w| {
            let w = w.as_bytes();
            rest.len() >= w.len()
                && rest[..w.len()].eq_ignore_ascii_case(w)
                && (rest.len() == w.len() || !is_word(rest[w.len()]))
        });
        if unit {
            if digits.len() > 18 {
                return python_pages(cx, extent);
            }
            let n: i64 = digits.parse().expect("ASCII digits");
            best = Some(best.map_or(n, |b| b.max(n)));
        }
    }
    Ok(opt(best))
}

/// `marc_fields.pages` in Python; a number too large for 64 bits (which orjson cannot write) is declined.
fn python_pages(cx: &Ctx<'_>, extent: &str) -> Res<Val> {
    let found = cx.fallbacks().pages.call1(cx.py, (extent,))?;
    match found.extract::<Option<i64>>(cx.py) {
        Ok(n) => Ok(opt(n)),
        Err(_) => Err(Failure::Decline),
    }
}

fn identifiers(cx: &Ctx<'_>, rec: &Rec<'_>, out: &mut Map) -> Res<()> {
    let mut isbns = Vec::new();
    let mut invalid_isbns = Vec::new();
    for field in rec.tagged("020") {
        for (code, value) in field.subs() {
            if code != b'a' && code != b'z' {
                continue;
            }
            let norm = if code == b'a' { ids::isbn13(cx, value)? } else { None };
            match norm {
                Some(n) => isbns.push(n),
                None => {
                    let raw = match ids::isbn_candidate(cx, value)? {
                        Some(c) if !c.is_empty() => c,
                        _ => cx.display(value)?,
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
            let norm = if code == b'a' || code == b'l' { ids::issn(cx, value)? } else { None };
            match norm {
                Some(n) => issns.push(n),
                None if !py_strip(value).is_empty() => invalid_issns.push(cx.display(value)?),
                None => {}
            }
        }
    }
    let mut found_lccn = None;
    for field in rec.tagged("010") {
        found_lccn = ids::lccn(cx, field.sub(b'a'))?;
        if found_lccn.is_some() {
            break;
        }
    }
    let mut numbers: Vec<Val> = Vec::new();
    for field in rec.tagged("035") {
        if let Some((org, number)) = ids::system_number(cx, field.sub(b'a'))? {
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

pub fn extract(cx: &Ctx<'_>, leader: &str, rec: &Rec<'_>) -> Res<Map> {
    let fixed = rec.first("008").map_or("", |f| f.data);
    if !fixed.is_ascii() {
        return Err(Failure::Decline);
    }
    let pub_ = publication(cx, rec)?;
    let extent = match rec.first("300") {
        Some(f) => Some(join(cx, f, b"abcefg")?),
        None => None,
    };
    let mut out = Map::new();
    title(cx, rec, &mut out)?;
    out.set_item("authors", names(cx, rec)?);
    let edition = match rec.first("250") {
        Some(f) => Some(join(cx, f, b"ab")?),
        None => None,
    };
    out.set_item("edition", opt(edition));
    let year = year_of(cx, fixed, pub_.date.as_deref())?;
    out.set_item("place", opt(pub_.place));
    out.set_item("publisher", opt(pub_.publisher));
    out.set_item("pub_date", opt(pub_.date));
    out.set_item("year", opt(year));
    let extent_pages = pages(cx, extent.as_deref())?;
    out.set_item("extent", opt(extent.filter(|e| !e.is_empty())));
    out.set_item("pages", extent_pages);
    out.set_item("languages", languages(cx, rec, fixed)?);
    out.set_item("material_type", material_type(cx, leader));
    out.set_item("electronic", electronic(cx, rec)?);
    out.set_item("content_types", cleaned_values(cx, rec, "336")?);
    out.set_item("carrier_types", cleaned_values(cx, rec, "338")?);
    out.set_item("subjects", subjects(cx, rec)?);
    out.set_item("classification", classification(cx, rec)?);
    out.set_item("series", series(cx, rec)?);
    out.set_item("links", links(cx, rec)?);
    let summary = match rec.first("520") {
        Some(f) => Some(join(cx, f, b"a")?),
        None => None,
    };
    out.set_item("summary", opt(summary));
    out.set_item("alternate_script", alternate_script(cx, rec)?);
    identifiers(cx, rec, &mut out)?;
    Ok(out)
}
