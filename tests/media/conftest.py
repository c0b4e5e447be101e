import boto3
import pytest
from django.conf import settings
from django.test import override_settings
from moto.server import ThreadedMotoServer

from archive.settings import media_storages

BUCKET = "archive-media"


@pytest.fixture(autouse=True)
def private_media(tmp_path):
    """Each test's private media in folders of its own: what one stores, another
    never finds."""
    root = tmp_path / "private-media"
    entries = media_storages({}, root)
    with override_settings(MEDIA_ROOT=root, STORAGES={**settings.STORAGES, **entries}):
        yield root


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API server (moto) on a free port of 127.0.0.1, for the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server):
    """An empty private bucket, and the archive's storages pointed at it through
    the environment variables production would set."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="eu-west-3",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    environment = {
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_S3_REGION_NAME": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_LOCATION": "archive",
    }
    entries = media_storages(environment, settings.MEDIA_ROOT)
    with override_settings(STORAGES={**settings.STORAGES, **entries}):
        yield client
    objects = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    for item in objects:
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)
