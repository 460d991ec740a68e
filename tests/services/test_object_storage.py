"""The media store for S3-compatible services, against a local S3 server over real HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from chat_app.services.object_storage import ObjectStorage
from tests.support.object_store import KEY_ID, REGION, SECRET

PART = 5 * 1024 * 1024  # the smallest part S3 takes


@pytest.fixture
def store(s3_server, tmp_path):
    bucket = s3_server.new_bucket()
    return ObjectStorage(
        bucket=bucket,
        staging_dir=tmp_path,
        endpoint_url=s3_server.endpoint,
        region=REGION,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        key_prefix="media/",
        # parts as small as S3 allows, so a test-sized file goes up and is copied in several
        transfer=TransferConfig(multipart_threshold=PART, multipart_chunksize=PART),
    )


def _staged(store: ObjectStorage, data: bytes):
    staged = store.staging_file()
    staged.write(data)
    staged.flush()
    return staged


def test_a_large_file_goes_up_in_parts_and_reads_back_whole_and_by_range(store, s3_server):
    data = os.urandom(2 * PART + 12345)
    key = store.new_key("mp4")
    with _staged(store, data) as staged:
        store.put(key, Path(staged.name))
    assert s3_server.keys(store.bucket) == [f"media/{key}"]
    head = s3_server.client().head_object(Bucket=store.bucket, Key=f"media/{key}")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    assert store.size(key) == len(data)
    with store.open(key) as f:
        assert f.read() == data
    with store.open_range(key, PART - 10, PART + 9) as f:
        assert f.read() == data[PART - 10 : PART + 10]
    assert store.local_path(key) is None


def test_a_copy_is_made_by_the_store_under_a_new_key(store, s3_server):
    data = os.urandom(PART + 1)
    key = store.new_key("png")
    with _staged(store, data) as staged:
        store.put(key, Path(staged.name))
    copied = store.copy(key)
    assert copied != key and copied.endswith(".png")
    assert s3_server.keys(store.bucket) == sorted([f"media/{key}", f"media/{copied}"])
    with store.open(copied) as f:
        assert f.read() == data


def test_delete_removes_the_object_and_a_missing_one_is_no_error(store, s3_server):
    key = store.new_key("jpg")
    with _staged(store, b"bytes") as staged:
        store.put(key, Path(staged.name))
    store.delete(key)
    store.delete(key)
    assert s3_server.keys(store.bucket) == []


def test_a_signed_link_serves_the_file_for_a_while_with_our_type(store):
    key = store.new_key("png")
    with _staged(store, b"\x89PNG fake") as staged:
        store.put(key, Path(staged.name))
    url = store.signed_url(key, seconds=60, mime="image/png")
    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == b"\x89PNG fake"
    assert fetched.headers["content-type"] == "image/png"
    tampered = url.replace(key, store.new_key("png"))
    assert httpx.get(tampered).status_code == 403


def test_check_fails_for_a_bucket_that_is_not_there(store, s3_server, tmp_path):
    store.check()
    missing = ObjectStorage(
        bucket="no-such-bucket",
        staging_dir=tmp_path,
        endpoint_url=s3_server.endpoint,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
    )
    with pytest.raises(ClientError):
        missing.check()
