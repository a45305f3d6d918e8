//! The mapping's tables and the Python functions it falls back on, received from Python.
//!
//! Nothing here is a copy: `catalog/native/__init__.py` calls `configure` when it loads this
//! module, with `catalog.mapping_tables.compiled_tables()` (material types, subject tags, page
//! words, kept-period words, ISBD punctuation ...), the catalogue fields handed back as objects and
//! the public Python functions for what this code leaves to Python. A mapping call before
//! `configure` is an error, never a mapping with other rules.

use std::sync::{Arc, RwLock};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// The tables as `compiled_tables()` gives them.
#[derive(FromPyObject)]
struct Given {
    #[pyo3(item)]
    material: Vec<(String, String)>,
    #[pyo3(item)]
    default_material: String,
    #[pyo3(item)]
    serial: String,
    #[pyo3(item)]
    serial_levels: String,
    #[pyo3(item)]
    serial_kinds: Vec<String>,
    #[pyo3(item)]
    online_carrier: String,
    #[pyo3(item)]
    online_carrier_code: String,
    #[pyo3(item)]
    electronic_medium: String,
    #[pyo3(item)]
    title_parts: String,
    #[pyo3(item)]
    name_fields: Vec<(String, String, String, String)>,
    #[pyo3(item)]
    no_language: Vec<String>,
    #[pyo3(item)]
    subject_tags: Vec<String>,
    #[pyo3(item)]
    subject_skip: String,
    #[pyo3(item)]
    subject_subdivisions: String,
    #[pyo3(item)]
    series_fields: Vec<(String, String)>,
    #[pyo3(item)]
    link_kinds: Vec<(String, String)>,
    #[pyo3(item)]
    default_link_kind: String,
    #[pyo3(item)]
    page_words: Vec<String>,
    #[pyo3(item)]
    isbd_closers: String,
    #[pyo3(item)]
    keep_period_words: Vec<String>,
    #[pyo3(item)]
    quality_bases: String,
    #[pyo3(item)]
    quality_marks: String,
    #[pyo3(item)]
    fold_letters: Vec<(String, String)>,
    #[pyo3(item)]
    fold_dropped: String,
}

pub struct NameField {
    pub tag: String,
    pub parts: Vec<u8>,
    pub kind: String,
    pub roles: Vec<u8>,
}

pub struct Tables {
    material: Vec<(u8, String)>,
    default_material: String,
    serial: String,
    serial_levels: Vec<u8>,
    serial_kinds: Vec<String>,
    pub online_carrier: String,
    pub online_carrier_code: String,
    pub electronic_medium: String,
    pub title_parts: Vec<u8>,
    pub name_fields: Vec<NameField>,
    pub no_language: Vec<String>,
    pub subject_tags: Vec<String>,
    pub subject_skip: Vec<u8>,
    pub subject_subdivisions: Vec<u8>,
    pub series_fields: Vec<(String, Vec<u8>)>,
    link_kinds: Vec<(u8, String)>,
    default_link_kind: String,
    /// Lower case, for a comparison that ignores case.
    pub page_words: Vec<String>,
    pub isbd_closers: Vec<char>,
    pub keep_period_words: Vec<Vec<char>>,
    pub quality_bases: Vec<char>,
    pub quality_marks: Vec<char>,
    fold_letters: Vec<(char, String)>,
    fold_dropped: Vec<char>,
    /// The catalogue fields handed back as Python objects (`catalog.native.CORE_FIELDS`).
    pub core_fields: Vec<String>,
    /// How many words of the title make a title key (`catalog.dedup.keys.TITLE_WORDS`).
    pub title_words: usize,
}

impl Tables {
    /// The material type of a leader's type of record and bibliographic level.
    pub fn material_type(&self, kind: u8, level: u8) -> &str {
        let found = self.material.iter().find(|(k, _)| *k == kind).map_or(&self.default_material, |(_, v)| v);
        if self.serial_levels.contains(&level) && self.serial_kinds.contains(found) {
            return &self.serial;
        }
        found
    }

    /// The kind of an 856 link from its second indicator.
    pub fn link_kind(&self, ind2: u8) -> &str {
        self.link_kinds.iter().find(|(k, _)| *k == ind2).map_or(&self.default_link_kind, |(_, v)| v)
    }

    /// A case-folded character of a search key as `_FOLD_TABLE` writes it.
    pub fn fold_char(&self, c: char, out: &mut String) {
        if self.fold_dropped.contains(&c) {
            return;
        }
        match self.fold_letters.iter().find(|(k, _)| *k == c) {
            Some((_, to)) => out.push_str(to),
            None => out.push(c),
        }
    }
}

/// The public Python functions for what the compiled mapping does not handle itself.
#[derive(FromPyObject)]
pub struct Fallbacks {
    #[pyo3(item)]
    pub display: PyObject,
    #[pyo3(item)]
    pub clean: PyObject,
    #[pyo3(item)]
    pub fold: PyObject,
    #[pyo3(item)]
    pub isbn13: PyObject,
    #[pyo3(item)]
    pub isbn_candidate: PyObject,
    #[pyo3(item)]
    pub issn: PyObject,
    #[pyo3(item)]
    pub lccn: PyObject,
    #[pyo3(item)]
    pub system_number: PyObject,
    #[pyo3(item)]
    pub pages: PyObject,
    #[pyo3(item)]
    pub year: PyObject,
}

pub struct Config {
    pub tables: Tables,
    pub fallbacks: Fallbacks,
}

static CONFIG: RwLock<Option<Arc<Config>>> = RwLock::new(None);

/// The configuration every mapping call reads; an error before `configure`.
pub fn current() -> PyResult<Arc<Config>> {
    let guard = CONFIG.read().map_err(|_| PyRuntimeError::new_err("the mapping's configuration is poisoned"))?;
    guard
        .clone()
        .ok_or_else(|| PyRuntimeError::new_err("the compiled mapping has no tables: load it through catalog.native"))
}

fn codes(name: &str, value: &str) -> PyResult<Vec<u8>> {
    if !value.is_ascii() {
        return Err(PyValueError::new_err(format!("{name}: subfield codes and indicators are ASCII")));
    }
    Ok(value.bytes().collect())
}

fn code(name: &str, value: &str) -> PyResult<u8> {
    match codes(name, value)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(PyValueError::new_err(format!("{name}: {value:?} is not one ASCII character"))),
    }
}

fn one_char(name: &str, value: &str) -> PyResult<char> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(PyValueError::new_err(format!("{name}: {value:?} is not one character"))),
    }
}

fn ascii_words(name: &str, words: Vec<String>) -> PyResult<Vec<String>> {
    if words.iter().any(|w| w.is_empty() || !w.is_ascii()) {
        // The compiled rules compare them byte for byte with ASCII text.
        return Err(PyValueError::new_err(format!("{name}: words of ASCII letters")));
    }
    Ok(words)
}

fn tables_of(given: Given, core_fields: Vec<String>, title_words: usize) -> PyResult<Tables> {
    let mut material = Vec::new();
    for (kind, name) in given.material {
        material.push((code("material", &kind)?, name));
    }
    let mut name_fields = Vec::new();
    for (tag, parts, kind, roles) in given.name_fields {
        name_fields.push(NameField {
            tag,
            parts: codes("name_fields", &parts)?,
            kind,
            roles: codes("name_fields", &roles)?,
        });
    }
    let mut series_fields = Vec::new();
    for (tag, parts) in given.series_fields {
        series_fields.push((tag, codes("series_fields", &parts)?));
    }
    let mut link_kinds = Vec::new();
    for (ind, kind) in given.link_kinds {
        link_kinds.push((code("link_kinds", &ind)?, kind));
    }
    let mut fold_letters = Vec::new();
    for (from, to) in given.fold_letters {
        fold_letters.push((one_char("fold_letters", &from)?, to));
    }
    let page_words = ascii_words("page_words", given.page_words)?;
    let keep = ascii_words("keep_period_words", given.keep_period_words)?;
    Ok(Tables {
        material,
        default_material: given.default_material,
        serial: given.serial,
        serial_levels: codes("serial_levels", &given.serial_levels)?,
        serial_kinds: given.serial_kinds,
        online_carrier: given.online_carrier,
        online_carrier_code: given.online_carrier_code,
        electronic_medium: given.electronic_medium,
        title_parts: codes("title_parts", &given.title_parts)?,
        name_fields,
        no_language: given.no_language,
        subject_tags: given.subject_tags,
        subject_skip: codes("subject_skip", &given.subject_skip)?,
        subject_subdivisions: codes("subject_subdivisions", &given.subject_subdivisions)?,
        series_fields,
        link_kinds,
        default_link_kind: given.default_link_kind,
        page_words: page_words.iter().map(|w| w.to_ascii_lowercase()).collect(),
        isbd_closers: given.isbd_closers.chars().collect(),
        keep_period_words: keep.iter().map(|w| w.chars().collect()).collect(),
        quality_bases: given.quality_bases.chars().collect(),
        quality_marks: given.quality_marks.chars().collect(),
        fold_letters,
        fold_dropped: given.fold_dropped.chars().collect(),
        core_fields,
        title_words,
    })
}

/// Take the tables, the catalogue fields handed back as objects, the title key's word count and the
/// fallback functions; later mapping calls use them (a second call replaces them).
pub fn configure(tables: &PyAny, core_fields: Vec<String>, title_words: usize, fallbacks: &PyAny) -> PyResult<()> {
    let config =
        Config { tables: tables_of(tables.extract()?, core_fields, title_words)?, fallbacks: fallbacks.extract()? };
    let mut guard = CONFIG.write().map_err(|_| PyRuntimeError::new_err("the mapping's configuration is poisoned"))?;
    *guard = Some(Arc::new(config));
    Ok(())
}
