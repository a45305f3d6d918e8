"""Why a record was rejected, an upload refused or a search not made, in the page's language.

The readers and the mapping (harvest/, catalog/), the upload (api/uploads.py) and the search's
checks give their reasons in English, as they are stored and as the API and the logs return them.
A page in Vietnamese shows each known reason in Vietnamese, recognised by its pattern; the values
in it (a position, a file's member, what a parser said) are kept. A reason no pattern knows is
shown as it is, marked as English text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (English pattern, Vietnamese text): the pattern matches the whole reason; its named groups are
# put into the Vietnamese text. The first pattern that matches wins. The MARC reader's own words
# after a reason ("(Invalid directory)") only restate it in English, and are left out.
_VIETNAMESE: tuple[tuple[str, str], ...] = (
    (r"no local record identifier \((?P<where>.*)\)", "không có số hiệu biểu ghi của thư viện ({where})"),
    (
        r"local record identifier longer than 255 characters",
        "số hiệu biểu ghi của thư viện dài quá 255 ký tự",
    ),
    (r"cannot map the record: (?P<detail>.*)", "không chuyển đổi được biểu ghi: {detail}"),
    (r"unreadable record", "không đọc được biểu ghi"),
    (
        r"the record is longer than (?P<n>[\d,.]+) bytes, the most a (?P<format>\S+) record may be: skipped",
        "biểu ghi dài quá {n} byte, mức tối đa của một biểu ghi {format}: bỏ qua",
    ),
    (
        r"not an ISO 2709 record \(no valid leader\)",
        "không phải biểu ghi ISO 2709 (không có đầu biểu hợp lệ)",
    ),
    (r"no fields could be read from the directory", "không đọc được trường nào từ danh mục biểu ghi"),
    (
        r"bytes that are not text in the leader or directory \(position (?P<n>\d+)\)",
        "có byte không phải văn bản trong đầu biểu hoặc danh mục (vị trí {n})",
    ),
    (
        r"a number in the leader or directory is not a number \((?P<value>.*)\)",
        "một số trong đầu biểu hoặc danh mục không phải là số ({value})",
    ),
    (r"invalid record length in the leader(?: \(.*\))?", "độ dài biểu ghi trong đầu biểu không hợp lệ"),
    (r"invalid leader(?: \(.*\))?", "đầu biểu không hợp lệ"),
    (r"no base address of data in the leader(?: \(.*\))?", "đầu biểu không có địa chỉ gốc của dữ liệu"),
    (
        r"base address of data beyond the end of the record(?: \(.*\))?",
        "địa chỉ gốc của dữ liệu nằm ngoài biểu ghi",
    ),
    (r"invalid directory(?: \(.*\))?", "danh mục biểu ghi không hợp lệ"),
    (r"no fields in the record(?: \(.*\))?", "biểu ghi không có trường nào"),
    (r"record shorter than its leader says(?: \(.*\))?", "biểu ghi ngắn hơn độ dài ghi trong đầu biểu"),
    (r"no end-of-record byte(?: \(.*\))?", "thiếu ký tự kết thúc biểu ghi"),
    (r"field missing(?: \(.*\))?", "thiếu trường"),
    (r"not well-formed MARCXML: (?P<detail>.*)", "MARCXML không đúng cú pháp: {detail}"),
    (
        r"record element is not closed before the end of the file",
        "phần tử record chưa được đóng trước khi hết tệp",
    ),
    (r"record is not well-formed XML: (?P<detail>.*)", "biểu ghi không phải XML đúng cú pháp: {detail}"),
    (r"the record's header has no identifier", "phần đầu của biểu ghi không có định danh"),
    (
        r"the record's metadata is not MARCXML \(found (?P<kind>.*)\)",
        "siêu dữ liệu của biểu ghi không phải MARCXML (gặp {kind})",
    ),
    (r"a MARC record element without fields", "phần tử biểu ghi MARC không có trường nào"),
    # a search the search page could not make
    (r"year_from is after year_to", "năm bắt đầu ở sau năm kết thúc"),
    (
        r"(?P<field>\w+): List should have at most (?P<n>\d+) items after validation, not (?P<m>\d+)",
        "{field}: chọn nhiều nhất {n} giá trị, không phải {m}",
    ),
    # an upload the librarian's page refused
    (r"the upload is empty", "tệp tải lên rỗng"),
    (r"the upload is larger than (?P<n>\d+) bytes", "tệp tải lên lớn quá {n} byte"),
    (r"send the file as multipart/form-data", "hãy gửi tệp dưới dạng multipart/form-data"),
    (r"the multipart upload needs a 'file' field", "biểu mẫu tải lên thiếu trường 'file'"),
    (r"the multipart upload has more than one file", "biểu mẫu tải lên có nhiều hơn một tệp"),
    (r"cross-site upload", "tệp được gửi từ một trang khác: không nhận"),
    (
        r"unknown mode (?P<mode>.*): update, snapshot or delete",
        "chế độ không rõ {mode}: update, snapshot hoặc delete",
    ),
    (
        r"the record nests arrays or objects too deeply to be MARC-in-JSON",
        "biểu ghi lồng mảng hoặc đối tượng quá sâu, không phải MARC-in-JSON",
    ),
)
_PATTERNS = tuple((re.compile(pattern, re.DOTALL), text) for pattern, text in _VIETNAMESE)
# An archive's member the reason is about comes first: "books.mrc: unreadable record"
_MEMBER = re.compile(r"(?P<member>[^:\s][^:]*\.[A-Za-z0-9]{1,8}): (?P<rest>.*)", re.DOTALL)


@dataclass(frozen=True)
class Reason:
    """A reason to show: its text, and the language that text is in (for the page's ``lang``)."""

    text: str
    lang: str


def reason_text(reason: str | None, lang: str) -> Reason:
    """``reason`` in ``lang`` where it is known; otherwise as it is, in English."""
    text = reason or ""
    if lang != "vi" or not text:
        return Reason(text, "en" if text else lang)
    member = _MEMBER.fullmatch(text)
    prefix, rest = (member["member"] + ": ", member["rest"]) if member else ("", text)
    for pattern, vietnamese in _PATTERNS:
        found = pattern.fullmatch(rest)
        if found:
            return Reason(prefix + vietnamese.format(**found.groupdict()), "vi")
    return Reason(text, "en")
