"""One test suite for every object storage: the directory of the embedded default and an
S3-compatible service (moto's standalone S3 server, started here on 127.0.0.1: a real HTTP server
speaking the S3 protocol, as MinIO does in production)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.digital.s3 import S3Storage
from catalog.digital.storage import LocalStorage, ObjectStorage, StorageError, content_key, open_storage
from catalog.settings import Settings

DATA = bytes(range(256)) * 1000  # 256,000 bytes: several chunks


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail("moto's S3 server did not start")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def s3_storage(endpoint: str) -> S3Storage:
    storage = S3Storage(endpoint, f"test-{uuid.uuid4().hex[:12]}", "testing", "testing")
    storage.create_bucket()
    return storage


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return s3_storage(request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.bin"
    path.write_bytes(DATA)
    return path


def test_an_object_is_stored_once_and_read_whole_or_in_ranges(storage: ObjectStorage, source: Path) -> None:
    key = content_key("ab" * 32)
    assert not storage.exists(key)
    storage.put(key, source)
    storage.put(key, source)  # the same key again changes nothing
    assert storage.exists(key) and storage.size(key) == len(DATA)
    assert b"".join(storage.read(key)) == DATA
    assert b"".join(storage.read(key, 5, 17)) == DATA[5:17]
    assert b"".join(storage.read(key, 100_000)) == DATA[100_000:]
    assert b"".join(storage.read(key, 255_990, 300_000)) == DATA[255_990:]
    assert b"".join(storage.read(key, 10, 10)) == b""
    assert b"".join(storage.read(key, len(DATA))) == b""
    with storage.open(key) as handle:
        handle.seek(1000)
        assert handle.read(10) == DATA[1000:1010]
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)  # deleting what is gone is no error


def test_missing_objects_and_bad_keys_are_storage_errors(storage: ObjectStorage, source: Path) -> None:
    missing = content_key("0" * 64)
    with pytest.raises(StorageError):
        list(storage.read(missing))
    with pytest.raises(StorageError):
        storage.size(missing)
    with pytest.raises(StorageError):
        storage.open(missing)
    for bad in ("../x", "sha256/../../x", "", "a//b", "a\\b"):
        with pytest.raises(StorageError):
            storage.exists(bad)
        with pytest.raises(StorageError):
            storage.put(bad, source)


def test_the_storage_is_chosen_by_the_settings(tmp_path: Path, s3_endpoint: str) -> None:
    assert isinstance(open_storage(Settings(data_dir=tmp_path)), LocalStorage)
    chosen = open_storage(
        Settings(
            data_dir=tmp_path,
            digital_s3_url=s3_endpoint,
            digital_s3_bucket="chosen",
            digital_s3_access_key="k",
            digital_s3_secret_key="s",
        )
    )
    assert isinstance(chosen, S3Storage) and chosen.bucket == "chosen"
    source = tmp_path / "first.bin"
    source.write_bytes(DATA)
    chosen.put(content_key("cd" * 32), source)  # a new installation: the bucket is made at first
    assert b"".join(chosen.read(content_key("cd" * 32), 0, 10)) == DATA[:10]
