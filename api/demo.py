"""The demo catalogue: demo member libraries loaded with real records through the ingest pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records

from . import context

DEMO_DATA = Path(__file__).parent / "demo_data"

DEMO_LIBRARIES: list[dict[str, Any]] = [
    {
        "code": "VNU-LIC",
        "name": "Trung tâm Thư viện và Tri thức số, Đại học Quốc gia Hà Nội",
        "name_en": "VNU Library and Digital Knowledge Centre",
        "city": "Hà Nội",
        "region": "Đồng bằng sông Hồng",
        "opac_url_pattern": "https://opac.example.edu.vn/vnu/record/{id}",
    },
    {
        "code": "HUST-LIB",
        "name": "Thư viện Tạ Quang Bửu, Đại học Bách khoa Hà Nội",
        "name_en": "Ta Quang Buu Library, Hanoi University of Science and Technology",
        "city": "Hà Nội",
        "region": "Đồng bằng sông Hồng",
    },
    {
        "code": "HNUE-LIB",
        "name": "Thư viện Trường Đại học Sư phạm Hà Nội",
        "name_en": "Hanoi National University of Education Library",
        "city": "Hà Nội",
        "region": "Đồng bằng sông Hồng",
    },
    {
        "code": "TNU-LRC",
        "name": "Trung tâm Học liệu, Đại học Thái Nguyên",
        "name_en": "Thai Nguyen University Learning Resource Centre",
        "city": "Thái Nguyên",
        "region": "Trung du và miền núi phía Bắc",
        "holdings_profile": "koha",
    },
    {
        "code": "VNAM-LIB",
        "name": "Thư viện Học viện Âm nhạc Quốc gia Việt Nam",
        "name_en": "Vietnam National Academy of Music Library",
        "city": "Hà Nội",
        "region": "Đồng bằng sông Hồng",
        "holdings_profile": "949",
    },
]

# Which records of vietnamese-529.mrc each library holds: overlapping, as real members do.
_VIETNAMESE_SHARES: dict[str, Callable[[int], bool]] = {
    "VNU-LIC": lambda i: i < 350,
    "HUST-LIB": lambda i: i >= 200,
    "HNUE-LIB": lambda i: i % 3 == 0,
}


def _subset(source: Path, target: Path, keep: Callable[[int], bool]) -> Path:
    with open(source, "rb") as src, open(target, "wb") as dst:
        for index, (_offset, raw) in enumerate(split_records(src)):
            if keep(index):
                dst.write(raw)
    return target


def build_demo(settings: Settings, log: Callable[[str], Any] = print) -> tuple[Engine, list[dict[str, Any]]]:
    """Replace the catalogue in ``settings.data_dir`` by the demo catalogue; returns it and the jobs."""
    data_dir = settings.data_dir
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    engine = context.open_engine(settings, migrate="always")
    with session_scope(engine) as session:
        for spec in DEMO_LIBRARIES:
            values = {k: v for k, v in spec.items() if k not in ("code", "name")}
            add_library(session, spec["code"], spec["name"], **values)
    files: list[tuple[str, Path]] = [
        (code, _subset(DEMO_DATA / "vietnamese-529.mrc", data_dir / f"{code}.mrc", keep))
        for code, keep in _VIETNAMESE_SHARES.items()
    ]
    files.append(("TNU-LRC", DEMO_DATA / "koha-sample-436-with-952.xml"))
    files.append(("VNAM-LIB", DEMO_DATA / "evergreen-jazz-1k-949.mrc"))
    summaries = []
    for code, path in files:
        summary = ingest_file(engine, code, path, mode="snapshot", source="demo", workers=0)
        log(f"{code}: {summary['added']} records from {path.name} ({summary['rejected']} rejected)")
        summaries.append(summary)
    return engine, summaries
