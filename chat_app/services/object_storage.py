"""Media in an S3-compatible object store (AWS S3, MinIO, Cloudflare R2…), chosen by S3_BUCKET.

Uploads are judged in a local staging file first (MEDIA_DIR/.incoming), then sent in parts from
disk, never held whole; reads stream from the store; a copy is made by the store itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from chat_app.services.storage import extension_of, new_key, staging_file_in

if TYPE_CHECKING:
    from chat_app.settings import Settings

PART_BYTES = 16 * 1024 * 1024  # files above this go up (and are copied) in parts of this size
_TRANSFER = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES, max_concurrency=4)


class ObjectStorage:
    def __init__(
        self,
        *,
        bucket: str,
        staging_dir: str | Path,
        endpoint_url: str = "",
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
        key_prefix: str = "",
        transfer: TransferConfig = _TRANSFER,
    ):
        self.bucket = bucket
        self._prefix = key_prefix
        self._staging = Path(staging_dir) / ".incoming"
        self._transfer = transfer
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                signature_version="s3v4",
                retries={"max_attempts": 4, "mode": "standard"},
                # Other S3-compatible stores answer at the endpoint's own name, not a bucket subdomain.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
            ),
        )

    def _object(self, key: str) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": self._prefix + key}

    def new_key(self, extension: str) -> str:
        return new_key(extension)

    def staging_file(self):
        return staging_file_in(self._staging)

    def put(self, key: str, source: Path) -> None:
        self._client.upload_file(str(source), self.bucket, self._prefix + key, Config=self._transfer)

    def copy(self, key: str) -> str:
        copied = new_key(extension_of(key))
        self._client.copy(self._object(key), self.bucket, self._prefix + copied, Config=self._transfer)
        return copied

    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, self._client.get_object(**self._object(key))["Body"])

    def open_range(self, key: str, start: int, end: int) -> BinaryIO:
        answer = self._client.get_object(**self._object(key), Range=f"bytes={start}-{end}")
        return cast(BinaryIO, answer["Body"])

    def size(self, key: str) -> int:
        return int(self._client.head_object(**self._object(key))["ContentLength"])

    def delete(self, key: str) -> None:
        self._client.delete_object(**self._object(key))  # S3 answers 204 for a missing key too

    def local_path(self, key: str) -> Path | None:
        return None

    def signed_url(self, key: str, *, seconds: int, mime: str) -> str | None:
        return self._client.generate_presigned_url(
            "get_object",
            Params={**self._object(key), "ResponseContentType": mime, "ResponseContentDisposition": "inline"},
            ExpiresIn=seconds,
        )

    def check(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)


@lru_cache(maxsize=4)
def _store(
    bucket: str, staging_dir: str, endpoint_url: str, region: str, key_id: str, secret: str, prefix: str
) -> ObjectStorage:
    return ObjectStorage(
        bucket=bucket,
        staging_dir=staging_dir,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=key_id,
        secret_access_key=secret,
        key_prefix=prefix,
    )


def store_for(settings: Settings) -> ObjectStorage:
    """One client per configuration (boto3 clients are thread-safe and pool their connections)."""
    return _store(
        settings.s3_bucket,
        settings.media_dir,
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
        settings.s3_key_prefix,
    )
