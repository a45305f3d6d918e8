"""What the web pages show for the catalogue's coded values, in Vietnamese or English: language names
for MARC language codes, material types, holding and job statuses, decades.

Language names come from ISO 639 as pycountry ships it (Debian's iso-codes, with their Vietnamese
translations). MARC language codes are ISO 639-2/B codes, plus codes MARC has made obsolete that
exports still carry; several of those are other languages' codes in ISO 639-3 ("gag" is Galician in
old MARC records and Gagauz in ISO 639-3), so they are mapped to their current code first.
"""

from __future__ import annotations

import gettext
from functools import lru_cache

import pycountry

from catalog.search import facets

# The MARC Code List for Languages' obsolete codes, with the code that replaced each.
OBSOLETE_MARC_CODES = {
    "cam": "khm",  # Khmer
    "esk": "esx",  # Eskimo languages -> Eskimo-Aleut languages
    "esp": "epo",  # Esperanto
    "eth": "gez",  # Ethiopic
    "far": "fao",  # Faroese
    "fri": "fry",  # Frisian
    "gae": "gla",  # Scottish Gaelic
    "gag": "glg",  # Galician
    "gua": "grn",  # Guarani
    "int": "ina",  # Interlingua
    "iri": "gle",  # Irish
    "kus": "kos",  # Kusaie
    "lan": "oci",  # Occitan
    "lap": "smi",  # Sami
    "max": "glv",  # Manx
    "mla": "mlg",  # Malagasy
    "mol": "rum",  # Moldavian
    "sao": "smo",  # Samoan
    "scc": "srp",  # Serbian
    "scr": "hrv",  # Croatian
    "sho": "sna",  # Shona
    "snh": "sin",  # Sinhalese
    "sso": "sot",  # Sotho
    "swz": "ssw",  # Swazi
    "tag": "tgl",  # Tagalog
    "taj": "tgk",  # Tajik
    "tar": "tat",  # Tatar
    "tsw": "tsn",  # Tswana
}
# Codes whose ISO 639 names read oddly in a catalogue, or whose Vietnamese translation does.
_SPECIAL = {
    "und": {"en": "Undetermined", "vi": "Không xác định"},
    "mul": {"en": "Multiple languages", "vi": "Nhiều ngôn ngữ"},
    "zxx": {"en": "No linguistic content", "vi": "Không có nội dung ngôn ngữ"},
    "mis": {"en": "Other languages", "vi": "Ngôn ngữ khác"},
}

# Vietnamese names of the MARC languages (and collective codes) whose ISO 639 name has no Vietnamese
# translation in iso-codes: the ones catalogues carry, historical forms and language groups included.
VIETNAMESE_NAMES: dict[str, str] = {
    "grc": "Tiếng Hy Lạp cổ (đến 1453)",
    "gre": "Tiếng Hy Lạp hiện đại (từ 1453)",
    "gla": "Tiếng Gael Scotland",
    "glg": "Tiếng Galicia",
    "chu": "Tiếng Slav Giáo hội",
    "div": "Tiếng Dhivehi",
    "fry": "Tiếng Frisia",
    "hat": "Tiếng Creole Haiti",
    "hbs": "Tiếng Serbia-Croatia",
    "iii": "Tiếng Di Tứ Xuyên",
    "kal": "Tiếng Greenland",
    "khm": "Tiếng Khmer",
    "lim": "Tiếng Limburg",
    "ltz": "Tiếng Luxembourg",
    "mah": "Tiếng Marshall",
    "may": "Tiếng Mã Lai",
    "nav": "Tiếng Navajo",
    "nbl": "Tiếng Nam Ndebele",
    "nde": "Tiếng Bắc Ndebele",
    "nep": "Tiếng Nepal",
    "nob": "Tiếng Na Uy (Bokmål)",
    "nya": "Tiếng Chichewa",
    "oci": "Tiếng Occitan (sau 1500)",
    "ori": "Tiếng Oriya",
    "oss": "Tiếng Ossetia",
    "pan": "Tiếng Punjab",
    "roh": "Tiếng Romansh",
    "sin": "Tiếng Sinhala",
    "sme": "Tiếng Bắc Sami",
    "sot": "Tiếng Nam Sotho",
    "swa": "Tiếng Swahili",
    "zha": "Tiếng Choang",
    "ang": "Tiếng Anh cổ (khoảng 450-1100)",
    "enm": "Tiếng Anh trung đại (1100-1500)",
    "fro": "Tiếng Pháp cổ (842-khoảng 1400)",
    "frm": "Tiếng Pháp trung đại (khoảng 1400-1600)",
    "pro": "Tiếng Provençal cổ (đến 1500)",
    "ota": "Tiếng Thổ Nhĩ Kỳ Ottoman (1500-1928)",
    "chm": "Tiếng Mari (Nga)",
    "ung": "Tiếng Ngarinyin",
    "sai": "Các ngôn ngữ thổ dân Nam Mỹ",
    "nai": "Các ngôn ngữ thổ dân Bắc Mỹ",
    "cel": "Các ngôn ngữ Celt",
    "tai": "Các ngôn ngữ Tai",
    "mkh": "Các ngôn ngữ Môn-Khmer",
    "sla": "Các ngôn ngữ Slav",
    "map": "Các ngôn ngữ Nam Đảo",
    "sit": "Các ngôn ngữ Hán-Tạng",
    "inc": "Các ngôn ngữ Ấn-Arya",
    "ira": "Các ngôn ngữ Iran",
    "afa": "Các ngôn ngữ Phi-Á",
    "ber": "Các ngôn ngữ Berber",
    "bnt": "Các ngôn ngữ Bantu",
    "roa": "Các ngôn ngữ Rôman",
    "gem": "Các ngôn ngữ German",
}

MATERIAL_TYPE_NAMES: dict[str, dict[str, str]] = {
    "book": {"vi": "Sách", "en": "Book"},
    "serial": {"vi": "Ấn phẩm định kỳ", "en": "Journal, serial"},
    "manuscript": {"vi": "Bản thảo", "en": "Manuscript"},
    "score": {"vi": "Bản nhạc", "en": "Music score"},
    "manuscript score": {"vi": "Bản nhạc viết tay", "en": "Manuscript music score"},
    "map": {"vi": "Bản đồ", "en": "Map"},
    "manuscript map": {"vi": "Bản đồ viết tay", "en": "Manuscript map"},
    "video": {"vi": "Phim, video", "en": "Film, video"},
    "audio": {"vi": "Bản ghi âm", "en": "Sound recording"},
    "music recording": {"vi": "Bản ghi âm nhạc", "en": "Music recording"},
    "image": {"vi": "Tranh ảnh", "en": "Image"},
    "computer file": {"vi": "Tệp máy tính", "en": "Computer file"},
    "kit": {"vi": "Bộ tài liệu", "en": "Kit"},
    "mixed materials": {"vi": "Tài liệu hỗn hợp", "en": "Mixed materials"},
    "object": {"vi": "Hiện vật", "en": "Object"},
}

# The statuses the ready holdings profiles give (catalog/holdings.py); a library's own profile may
# name others, which are shown as they are.
STATUS_NAMES: dict[str, dict[str, str]] = {
    "available": {"vi": "Có sẵn", "en": "Available"},
    "checked out": {"vi": "Đang cho mượn", "en": "Checked out"},
    "not for loan": {"vi": "Không cho mượn về", "en": "Not for loan"},
    "lost": {"vi": "Bị mất", "en": "Lost"},
    "withdrawn": {"vi": "Đã thanh lý", "en": "Withdrawn"},
    "damaged": {"vi": "Hư hỏng", "en": "Damaged"},
    "missing": {"vi": "Không tìm thấy trên giá", "en": "Missing"},
    "in transit": {"vi": "Đang chuyển", "en": "In transit"},
    "in processing": {"vi": "Đang xử lý", "en": "In processing"},
}

JOB_STATUS_NAMES: dict[str, dict[str, str]] = {
    "queued": {"vi": "Đang chờ", "en": "Queued"},
    "running": {"vi": "Đang xử lý", "en": "Running"},
    "succeeded": {"vi": "Hoàn tất", "en": "Succeeded"},
    "failed": {"vi": "Thất bại", "en": "Failed"},
}


@lru_cache(maxsize=1)
def _vietnamese() -> gettext.NullTranslations:
    return gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=["vi"], fallback=True)


@lru_cache(maxsize=2048)
def language_name(code: str, lang: str) -> str:
    """The name of the language with MARC code ``code``, in ``lang`` (vi or en); the code itself when
    ISO 639 does not know it."""
    key = code.strip().lower()
    if key in _SPECIAL:
        return _named(_SPECIAL, key, lang, code)
    current = OBSOLETE_MARC_CODES.get(key, key)
    if len(current) != 3 or not current.isalpha():
        return code
    if lang == "vi" and current in VIETNAMESE_NAMES:
        return VIETNAMESE_NAMES[current]
    entry = pycountry.languages.get(bibliographic=current) or pycountry.languages.get(alpha_3=current)
    if entry is not None:
        name = _vietnamese().gettext(entry.name) if lang == "vi" else entry.name
        return name.removesuffix(" (macrolanguage)")
    family = pycountry.language_families.get(alpha_3=current)  # collective codes: "sla", "mkh"
    return family.name if family is not None else code


def _named(table: dict[str, dict[str, str]], key: str, lang: str, otherwise: str) -> str:
    """``key``'s name in ``lang`` from ``table`` (English where ``lang`` has none), else ``otherwise``."""
    names = table.get(key)
    return names.get(lang, names["en"]) if names else otherwise


def material_type_name(kind: str, lang: str) -> str:
    return _named(MATERIAL_TYPE_NAMES, kind, lang, kind)


def status_name(status: str | None, lang: str) -> str:
    return _named(STATUS_NAMES, status.strip().lower(), lang, status) if status else ""


def job_status_name(status: str, lang: str) -> str:
    return _named(JOB_STATUS_NAMES, status, lang, status)


def number(value: int, lang: str) -> str:
    """A count with its thousands grouped as the language writes them: 1.963 in Vietnamese, 1,963 in
    English."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "vi" else text


def decade_label(decade: int | str, lang: str) -> str:
    """1980 -> "1980s" in English, "1980–1989" in Vietnamese."""
    start = int(decade)
    return f"{start}s" if lang == "en" else f"{start}–{start + 9}"


def facet_value_label(facet: str, value: object, lang: str, library_names: dict[str, str]) -> str:
    """What a facet's checkbox shows for ``value`` (its value in the query stays the code): the names
    of the label kind the facet registry gives it (catalog.search.facets), else the value itself."""
    text = str(value)
    declared = facets.BY_NAME.get(facet)
    kind = declared.label if declared is not None else None
    if kind is facets.Label.LIBRARY:
        return library_names.get(text, text)
    if kind is facets.Label.LANGUAGE:
        return language_name(text, lang)
    if kind is facets.Label.MATERIAL_TYPE:
        return material_type_name(text, lang)
    if kind is facets.Label.DECADE and text.isdigit():
        return decade_label(text, lang)
    return text
