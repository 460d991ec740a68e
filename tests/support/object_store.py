"""A local S3-compatible server (moto's server mode) for the object-storage tests: our code and
boto3 run unchanged against it, over real HTTP."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3

from tests.support.app_server import free_port, serving_process

REGION = "us-east-1"
KEY_ID, SECRET = "test-key-id", "test-secret-key"


@dataclass
class LocalS3:
    endpoint: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def new_bucket(self) -> str:
        name = f"media-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """The app's variables for a bucket here."""
        return {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET,
        }

    def keys(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))


@contextmanager
def running_s3(log_path: Path | None = None) -> Iterator[LocalS3]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    argv = [str(moto), "-H", "127.0.0.1", "-p", str(port)]
    with serving_process(argv, f"http://127.0.0.1:{port}/moto-api/data.json", log_path=log_path):
        yield LocalS3(f"http://127.0.0.1:{port}")
