//! What every part of the mapping reads: the tables, and the text functions that compute a value
//! here when this code handles its characters and call the public Python function otherwise
//! (`catalog.text`'s display, clean and fold; `catalog.identifiers`; `catalog.marc_fields.pages`
//! and `year`). The Python functions stay the reference for the text this code does not handle.

use pyo3::prelude::*;

use crate::pystr::simple;
use crate::tables::{Config, Fallbacks, Tables};
use crate::text;

pub enum Failure {
    /// The record goes back to the Python path; not an error.
    Decline,
    Python(PyErr),
}

impl From<PyErr> for Failure {
    fn from(err: PyErr) -> Self {
        Failure::Python(err)
    }
}

pub type Res<T> = Result<T, Failure>;

/// One mapping call's context: the interpreter, the tables and the fallback functions.
pub struct Ctx<'a> {
    pub py: Python<'a>,
    pub t: &'a Tables,
    fb: &'a Fallbacks,
}

impl<'a> Ctx<'a> {
    pub fn new(py: Python<'a>, config: &'a Config) -> Self {
        Ctx { py, t: &config.tables, fb: &config.fallbacks }
    }

    pub fn fallbacks(&self) -> &'a Fallbacks {
        self.fb
    }

    pub fn call_str(&self, func: &PyObject, value: &str) -> Res<String> {
        Ok(func.call1(self.py, (value,))?.extract::<String>(self.py)?)
    }

    pub fn call_opt_str(&self, func: &PyObject, value: &str) -> Res<Option<String>> {
        Ok(func.call1(self.py, (value,))?.extract::<Option<String>>(self.py)?)
    }

    /// `catalog.text.display`.
    pub fn display(&self, s: &str) -> Res<String> {
        if s.is_empty() {
            return Ok(String::new());
        }
        if simple(s) {
            return Ok(text::squeeze(s));
        }
        if text::all_handled(s) {
            return Ok(text::display(self.t, s));
        }
        self.call_str(&self.fb.display, s)
    }

    /// `catalog.text.clean`.
    pub fn clean(&self, s: &str) -> Res<String> {
        if s.is_empty() {
            return Ok(String::new());
        }
        if simple(s) {
            return Ok(text::strip_isbd(self.t, &text::squeeze(s)));
        }
        if text::all_handled(s) {
            return Ok(text::clean(self.t, s));
        }
        self.call_str(&self.fb.clean, s)
    }

    /// `catalog.text.fold`.
    pub fn fold(&self, s: &str) -> Res<String> {
        if s.is_empty() {
            return Ok(String::new());
        }
        if simple(s) {
            return Ok(text::fold_ascii(s));
        }
        if text::all_handled(s) {
            return Ok(text::fold(self.t, s));
        }
        self.call_str(&self.fb.fold, s)
    }
}
