"""The digital library's files in an S3-compatible object storage (MinIO, Ceph, AWS S3), the
production choice: every replica of the service and every worker reads the same bucket. One
object per content-addressed key; an upload is one PUT (or a multipart upload completed at once),
so readers never see a partial object."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from catalog.digital.storage import CHUNK, StorageError, check_key
from catalog.settings import Settings

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Objects in ``bucket`` of the S3-compatible service at ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        assert settings.digital_s3_url is not None
        return cls(
            settings.digital_s3_url,
            settings.digital_s3_bucket,
            settings.digital_s3_access_key,
            settings.digital_s3_secret_key,
            settings.digital_s3_region,
        )

    def create_bucket(self) -> None:
        """Create the bucket when it does not exist yet (set-up and tests)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def _head(self, key: str) -> dict[str, Any] | None:
        check_key(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)  # type: ignore[no-any-return]
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                return None
            raise StorageError(f"object storage: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"object storage unreachable: {exc}") from exc

    def put(self, key: str, source: Path) -> None:
        if self._head(key) is not None:
            return  # content-addressed: the same key holds the same bytes
        try:
            try:
                self.client.upload_file(str(source), self.bucket, key)
            except S3UploadFailedError as exc:
                if "NoSuchBucket" not in str(exc):
                    raise
                self.create_bucket()  # a new installation: the bucket is made on the first deposit
                self.client.upload_file(str(source), self.bucket, key)
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise StorageError(f"object storage: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise StorageError(f"no object {key!r}")
        return int(head["ContentLength"])

    def _get(self, key: str, **extra: Any) -> Any:
        check_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
                raise StorageError(f"no object {key!r}") from exc
            raise StorageError(f"object storage: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"object storage unreachable: {exc}") from exc

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            check_key(key)
            return
        wanted = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self._get(key, Range=wanted)["Body"]
        except StorageError as exc:
            if "InvalidRange" in str(exc):  # a start at or past the end: nothing to read
                return
            raise
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def open(self, key: str) -> BinaryIO:
        body = self._get(key)["Body"]
        copy = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        try:
            for chunk in body.iter_chunks(CHUNK):
                copy.write(chunk)
        except BaseException:
            copy.close()
            raise
        finally:
            body.close()
        copy.seek(0)
        return copy  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"object storage: {exc}") from exc
