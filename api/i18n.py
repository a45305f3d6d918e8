"""The web pages' words in Vietnamese (the default) and English."""

from __future__ import annotations

LANGUAGES = ("vi", "en")
TEXTS: dict[str, dict[str, str]] = {
    "site": {"vi": "Mục lục liên hợp", "en": "Union catalogue"},
    "tagline": {
        "vi": "Tìm một lần trong mọi thư viện thành viên",
        "en": "One search across every member library",
    },
    "search": {"vi": "Tìm kiếm", "en": "Search"},
    "search_label": {
        "vi": "Tìm sách, tác giả, chủ đề hoặc ISBN",
        "en": "Search titles, authors, subjects or ISBN",
    },
    "results": {"vi": "kết quả", "en": "results"},
    "no_results": {"vi": "Không tìm thấy kết quả nào", "en": "No results"},
    "did_you_mean": {"vi": "Có phải bạn muốn tìm:", "en": "Did you mean:"},
    "query_too_long": {
        "vi": "Câu tìm kiếm quá dài: chỉ {n} ký tự đầu được dùng để tìm.",
        "en": "The search is too long: only its first {n} characters were searched.",
    },
    "no_results_hint": {
        "vi": "Hãy thử bỏ bớt bộ lọc, bỏ dấu, hoặc dùng ít từ hơn.",
        "en": "Try removing filters or diacritics, or fewer words.",
    },
    "held_by": {"vi": "Có tại {n} thư viện", "en": "Held by {n} libraries"},
    "held_by_one": {"vi": "Có tại 1 thư viện", "en": "Held by 1 library"},
    "type": {"vi": "Loại tài liệu", "en": "Type"},
    "sort": {"vi": "Sắp xếp", "en": "Sort"},
    "relevance": {"vi": "Liên quan nhất", "en": "Relevance"},
    "year_desc": {"vi": "Năm (mới nhất)", "en": "Year (newest)"},
    "year_asc": {"vi": "Năm (cũ nhất)", "en": "Year (oldest)"},
    "title": {"vi": "Nhan đề", "en": "Title"},
    "apply": {"vi": "Áp dụng", "en": "Apply"},
    "facets_estimated": {
        "vi": "≈ số ước tính từ một phần kết quả",
        "en": "≈ counts estimated from a sample of the results",
    },
    "library": {"vi": "Thư viện", "en": "Library"},
    "language": {"vi": "Ngôn ngữ", "en": "Language"},
    "material_type": {"vi": "Loại tài liệu", "en": "Material type"},
    "decade": {"vi": "Thập niên", "en": "Decade"},
    "subject": {"vi": "Chủ đề", "en": "Subject"},
    "author": {"vi": "Tác giả", "en": "Author"},
    "previous": {"vi": "Trang trước", "en": "Previous"},
    "next": {"vi": "Trang sau", "en": "Next"},
    "page": {"vi": "Trang", "en": "Page"},
    "holdings": {"vi": "Thư viện có tài liệu này", "en": "Libraries holding this"},
    "branch": {"vi": "Chi nhánh / kho", "en": "Branch / location"},
    "call_number": {"vi": "Ký hiệu xếp giá", "en": "Call number"},
    "copies": {"vi": "Số bản", "en": "Copies"},
    "status": {"vi": "Tình trạng", "en": "Status"},
    "opac": {"vi": "Xem trong OPAC của thư viện", "en": "View in the library's catalogue"},
    "digital": {"vi": "Bản số", "en": "Digital copies"},
    "other_editions": {"vi": "Các ấn bản khác", "en": "Other editions"},
    "export": {"vi": "Xuất biểu ghi", "en": "Export"},
    "permalink": {"vi": "Đường dẫn cố định", "en": "Permanent link"},
    "publication": {"vi": "Xuất bản", "en": "Publication"},
    "edition": {"vi": "Lần xuất bản", "en": "Edition"},
    "extent": {"vi": "Mô tả vật lý", "en": "Physical description"},
    "series": {"vi": "Tùng thư", "en": "Series"},
    "subjects": {"vi": "Chủ đề", "en": "Subjects"},
    "authors": {"vi": "Tác giả", "en": "Authors"},
    "isbn": {"vi": "ISBN", "en": "ISBN"},
    "classification": {"vi": "Phân loại", "en": "Classification"},
    "summary": {"vi": "Tóm tắt", "en": "Summary"},
    "libraries": {"vi": "Thư viện thành viên", "en": "Member libraries"},
    "records": {"vi": "Biểu ghi", "en": "Records"},
    "last_update": {"vi": "Cập nhật lần cuối", "en": "Last update"},
    "librarian": {"vi": "Dành cho thủ thư", "en": "For librarians"},
    "token": {"vi": "Mã truy cập (API token) của thư viện", "en": "Your library's API token"},
    "sign_in": {"vi": "Đăng nhập", "en": "Sign in"},
    "sign_out": {"vi": "Đăng xuất", "en": "Sign out"},
    "bad_token": {"vi": "Mã truy cập không đúng hoặc đã bị thu hồi.", "en": "Unknown or revoked token."},
    "cite": {"vi": "Trích dẫn", "en": "Cite"},
    "new_acquisitions": {"vi": "Tài liệu mới", "en": "New acquisitions"},
    "cite_moet": {"vi": "Bộ GD&ĐT (tiếng Việt)", "en": "Vietnam MOET (Vietnamese)"},
    "csrf_refused": {
        "vi": "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này. Hãy tải lại trang và thử lại.",
        "en": "The form has expired or was not sent from this site. Reload the page and try again.",
    },
    "upload": {"vi": "Tải lên tệp MARC", "en": "Upload a MARC export"},
    "file": {
        "vi": "Tệp (ISO 2709, MARCXML, MARC-in-JSON, có thể nén)",
        "en": "File (ISO 2709, MARCXML, MARC-in-JSON, may be compressed)",
    },
    "mode": {"vi": "Chế độ", "en": "Mode"},
    "mode_update": {"vi": "Cập nhật (thêm và thay)", "en": "Update (add and replace)"},
    "mode_snapshot": {
        "vi": "Toàn bộ (biểu ghi vắng mặt sẽ bị xoá)",
        "en": "Snapshot (missing records are deleted)",
    },
    "mode_delete": {"vi": "Xoá các biểu ghi trong tệp", "en": "Delete the records in the file"},
    "jobs": {"vi": "Các lần nạp dữ liệu", "en": "Jobs"},
    "job": {"vi": "Lần nạp", "en": "Job"},
    "rejected": {"vi": "Biểu ghi bị từ chối", "en": "Rejected records"},
    "reason": {"vi": "Lý do", "en": "Reason"},
    "record_number": {"vi": "Số thứ tự", "en": "Record number"},
    "running": {"vi": "Đang xử lý… trang sẽ tự cập nhật.", "en": "Working… this page refreshes itself."},
    "read": {"vi": "Đã đọc", "en": "Read"},
    "added": {"vi": "Thêm mới", "en": "Added"},
    "updated": {"vi": "Cập nhật", "en": "Updated"},
    "unchanged": {"vi": "Không đổi", "en": "Unchanged"},
    "deleted": {"vi": "Đã xoá", "en": "Deleted"},
    "skip": {"vi": "Bỏ qua đến nội dung", "en": "Skip to content"},
    "switch": {"vi": "English", "en": "Tiếng Việt"},
    "members": {"vi": "Biểu ghi của các thư viện", "en": "Member records"},
    "not_found": {"vi": "Không tìm thấy", "en": "Not found"},
    "gone": {
        "vi": "Biểu ghi này đã bị xoá: đã được gộp vào một biểu ghi khác hoặc các thư viện đã rút nó",
        "en": "This record was deleted: merged into another record or withdrawn by its libraries",
    },
}


def translator(lang: str):  # type: ignore[no-untyped-def]
    def t(key: str, **values: object) -> str:
        text = TEXTS.get(key, {}).get(lang) or TEXTS.get(key, {}).get("vi") or key
        return text.format(**values) if values else text

    return t
