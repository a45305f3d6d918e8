"""The names of the subject classes the analytics count by (catalog.analytics.dimensions): the main
classes of the Library of Congress Classification and the hundreds of the Dewey Decimal
Classification, in Vietnamese and English."""

from __future__ import annotations

LC: dict[str, tuple[str, str]] = {
    "A": ("Tác phẩm tổng quát", "General works"),
    "B": ("Triết học, tâm lý học, tôn giáo", "Philosophy, psychology, religion"),
    "C": ("Khoa học bổ trợ lịch sử", "Auxiliary sciences of history"),
    "D": ("Lịch sử thế giới", "World history"),
    "E": ("Lịch sử châu Mỹ", "History of the Americas"),
    "F": ("Lịch sử địa phương châu Mỹ", "Local history of the Americas"),
    "G": ("Địa lý, nhân học, giải trí", "Geography, anthropology, recreation"),
    "H": ("Khoa học xã hội", "Social sciences"),
    "J": ("Khoa học chính trị", "Political science"),
    "K": ("Luật", "Law"),
    "L": ("Giáo dục", "Education"),
    "M": ("Âm nhạc", "Music"),
    "N": ("Mỹ thuật", "Fine arts"),
    "P": ("Ngôn ngữ và văn học", "Language and literature"),
    "Q": ("Khoa học", "Science"),
    "R": ("Y học", "Medicine"),
    "S": ("Nông nghiệp", "Agriculture"),
    "T": ("Công nghệ", "Technology"),
    "U": ("Khoa học quân sự", "Military science"),
    "V": ("Khoa học hải quân", "Naval science"),
    "Z": ("Thư mục học, thư viện học", "Bibliography, library science"),
}
DDC: dict[str, tuple[str, str]] = {
    "000": ("Tin học, thông tin và tác phẩm tổng quát", "Computer science, information, general works"),
    "100": ("Triết học và tâm lý học", "Philosophy and psychology"),
    "200": ("Tôn giáo", "Religion"),
    "300": ("Khoa học xã hội", "Social sciences"),
    "400": ("Ngôn ngữ", "Language"),
    "500": ("Khoa học tự nhiên", "Science"),
    "600": ("Công nghệ", "Technology"),
    "700": ("Nghệ thuật và giải trí", "Arts and recreation"),
    "800": ("Văn học", "Literature"),
    "900": ("Lịch sử và địa lý", "History and geography"),
}


def class_label(value: str, lang: str) -> str:
    """ "LC Q" -> "LC Q · Science" (or "LC Q · Khoa học"); a class without a name stays as it is."""
    scheme, _, code = value.partition(" ")
    names = (LC if scheme == "LC" else DDC if scheme == "DDC" else {}).get(code)
    return f"{value} · {names[1] if lang == 'en' else names[0]}" if names else value
