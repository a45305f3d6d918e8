//! The mapped record's values, built in Rust: written out as the JSON `orjson.dumps` gives for the
//! same dict (the catalogue stores that text), and turned into Python objects only for the few
//! fields the Python side reads. Building every field as a Python object and serialising it again
//! in Python cost more than the mapping itself.

use std::borrow::Cow;
use std::fmt::Write;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

#[derive(Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Val>),
    Map(Map),
}

/// A dict: keys in insertion order, as Python's; setting a key again keeps its place.
#[derive(Clone, Default)]
pub struct Map(Vec<(Cow<'static, str>, Val)>);

impl Map {
    pub fn new() -> Self {
        Map(Vec::new())
    }

    pub fn set_item<K: Into<Cow<'static, str>>, V: Into<Val>>(&mut self, key: K, value: V) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Val> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Str(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Str(v.to_string())
    }
}

impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Bool(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}

impl From<Vec<String>> for Val {
    fn from(v: Vec<String>) -> Self {
        Val::List(v.into_iter().map(Val::Str).collect())
    }
}

impl From<Vec<Val>> for Val {
    fn from(v: Vec<Val>) -> Self {
        Val::List(v)
    }
}

impl From<Map> for Val {
    fn from(v: Map) -> Self {
        Val::Map(v)
    }
}

impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// A string as orjson writes it: `"` and `\` escaped, control characters as `\n`-style escapes or
/// `\u00XX` (lower-case hex), everything else as UTF-8.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s); // nearly every value: nothing to escape
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // an ASCII byte: always a character boundary
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

fn write_json(value: &Val, out: &mut String) {
    match value {
        Val::Null => out.push_str("null"),
        Val::Bool(true) => out.push_str("true"),
        Val::Bool(false) => out.push_str("false"),
        Val::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Str(s) => write_str(s, out),
        Val::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Val::Map(map) => write_map(map, out),
    }
}

fn write_map(map: &Map, out: &mut String) {
    out.push('{');
    for (i, (key, item)) in map.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(key, out);
        out.push(':');
        write_json(item, out);
    }
    out.push('}');
}

/// The compact JSON of `map` (orjson's output for the same dict).
pub fn to_json(map: &Map) -> String {
    let mut out = String::with_capacity(1024);
    write_map(map, &mut out);
    out
}

pub fn to_py(py: Python<'_>, value: &Val) -> PyResult<PyObject> {
    Ok(match value {
        Val::Null => py.None(),
        Val::Bool(b) => b.to_object(py),
        Val::Int(n) => n.to_object(py),
        Val::Str(s) => s.to_object(py),
        Val::List(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.to_object(py)
        }
        Val::Map(map) => {
            let dict = PyDict::new(py);
            for (key, item) in &map.0 {
                dict.set_item(key, to_py(py, item)?)?;
            }
            dict.to_object(py)
        }
    })
}
