//! The MARC21 mapping of `catalog/marc_fields.py`, compiled: the Python bindings.
//!
//! `map_iso2709(raw, keep)` reads a record the way `catalog/fast_iso2709.py` does (`reader.rs`) and
//! maps it the way `catalog.marc_fields.extract` does (`fields.rs`, `identifiers.rs`): the same
//! fields, key for key and in the same order, handed back as the JSON text orjson writes for them
//! (`value.rs`), with the match keys and title key of `catalog.records.match_keys` (`keys.rs`).
//! `map_fields` does the same for a record already read into fields (MARCXML). The Python modules
//! stay the reference: the tests compare both on every real file, on generated records and against
//! the committed golden outputs.
//!
//! The tables (material types, subject tags, page words ...) are not in this crate: `configure`
//! receives them from `catalog.mapping_tables`, with the public Python functions that handle what
//! this code does not (`tables.rs`, `fallback.rs`). Text that is printable ASCII, and Latin text with
//! diacritics, is handled here (`text.rs`); any other value goes through the Python function it
//! would have gone through. Anything this code is not sure to read exactly as the Python path does
//! (a non-ASCII leader, directory or indicator, odd fixed fields, a number too long) makes it
//! return `None`, and the record takes the Python path.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

mod fallback;
mod fields;
mod identifiers;
mod keys;
mod pystr;
mod reader;
mod tables;
mod text;
mod value;

use fallback::{Ctx, Failure};
use pystr::simple;
use reader::{Fld, Rec};

/// The record's leader, the fields whose tags are in ``keep`` (3-character tags run together, such
/// as "001952999") as (tag, indicator 1, indicator 2, data, subfields as in the record or None),
/// the JSON of the catalogue fields that `catalog.marc_fields.extract` gives, the few of them
/// Python reads (`catalog.native.CORE_FIELDS`) as a dict, the match keys and the title key; or None when the record is
/// for the Python path.
#[pyfunction]
fn map_iso2709(py: Python<'_>, raw: &[u8], keep: &str) -> PyResult<Option<PyObject>> {
    let (leader, fields) = match reader::read(raw) {
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
    let config = tables::current()?;
    let cx = Ctx::new(py, &config);
    // Mapped and keyed first: a record either declines before anything is built for it, or not.
    let mapped = fields::extract(&cx, leader, &rec).and_then(|mapped| Ok((keys::match_keys(&cx, &mapped)?, mapped)));
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
    for key in &config.tables.core_fields {
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

/// `catalog.text`'s `display`, `clean` or `fold` (``function``) of ``value`` as this module computes
/// it, or ``None`` where it hands the value to Python: for the tests, which compare the two.
#[pyfunction]
fn text_function(py: Python<'_>, function: &str, value: &str) -> PyResult<Option<String>> {
    if !(simple(value) || text::all_handled(value)) {
        return Ok(None);
    }
    let config = tables::current()?;
    let cx = Ctx::new(py, &config);
    let result = match function {
        "display" => cx.display(value),
        "clean" => cx.clean(value),
        "fold" => cx.fold(value),
        _ => return Err(pyo3::exceptions::PyValueError::new_err("display, clean or fold")),
    };
    match result {
        Ok(done) => Ok(Some(done)),
        Err(Failure::Python(err)) => Err(err),
        Err(Failure::Decline) => Ok(None),
    }
}

/// Take the mapping's tables (`catalog.mapping_tables.compiled_tables()`), the catalogue fields
/// handed back as objects, the number of title words in a title key and the Python functions for
/// what this code does not handle (a dict of display, clean, fold, isbn13, isbn_candidate, issn,
/// lccn, system_number, pages and year). `catalog.native` calls it when it loads this module.
#[pyfunction]
fn configure(tables: &PyAny, core_fields: Vec<String>, title_words: usize, fallbacks: &PyAny) -> PyResult<()> {
    tables::configure(tables, core_fields, title_words, fallbacks)
}

#[pymodule]
fn _mapping(_py: Python<'_>, m: &PyModule) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(configure, m)?)?;
    m.add_function(wrap_pyfunction!(text_function, m)?)?;
    m.add_function(wrap_pyfunction!(map_iso2709, m)?)?;
    m.add_function(wrap_pyfunction!(map_fields, m)?)?;
    Ok(())
}
