//! An ISO 2709 record read the way `catalog/fast_iso2709.py` reads it: the whole record checked
//! first (UTF-8, the directory, indicators, subfield codes), then fields that borrow from its
//! bytes. Anything that reader would hand to pymarc gives `None` here.

const FT: u8 = 0x1E;
const SF: u8 = 0x1F;
const RT: u8 = 0x1D;

pub struct Fld<'a> {
    pub tag: &'a str,
    pub control: bool,
    pub data: &'a str,
    pub ind1: u8,
    pub ind2: u8,
    pub body: &'a str,
}

impl<'a> Fld<'a> {
    pub fn subs(&self) -> impl Iterator<Item = (u8, &'a str)> + 'a {
        let body: &'a str = if self.control { "" } else { self.body };
        body.split('\x1f').filter(|p| !p.is_empty()).map(|p| (p.as_bytes()[0], &p[1..]))
    }

    pub fn sub(&self, code: u8) -> &'a str {
        self.subs().find(|(c, _)| *c == code).map_or("", |(_, v)| v)
    }

    pub fn values<'c>(&self, codes: &'c [u8]) -> impl Iterator<Item = &'a str> + 'c
    where
        'a: 'c,
    {
        self.subs().filter(move |(c, _)| codes.contains(c)).map(|(_, v)| v)
    }
}

fn ascii_digits(b: &[u8]) -> Option<usize> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0')))
}

pub fn read(raw: &[u8]) -> Option<(&str, Vec<Fld<'_>>)> {
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

pub struct Rec<'a> {
    pub fields: Vec<Fld<'a>>,
}

impl<'a> Rec<'a> {
    pub fn tagged<'s>(&'s self, tag: &'s str) -> impl Iterator<Item = &'s Fld<'a>> + 's {
        self.fields.iter().filter(move |f| f.tag == tag)
    }

    pub fn first<'s>(&'s self, tag: &'s str) -> Option<&'s Fld<'a>> {
        self.tagged(tag).next()
    }
}
