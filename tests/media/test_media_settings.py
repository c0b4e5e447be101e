"""Media settings from the environment, each read in a fresh process."""

import pytest

from tests.test_settings import PRODUCTION, run_settings, settings_of

MEDIA_STORAGES = ("media-originals", "media-renditions", "consent-forms")


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1.5"])
def test_a_size_limit_that_is_not_a_positive_whole_number_stops_start_up(value):
    result = run_settings(
        {**PRODUCTION, "ARCHIVE_MEDIA_MAX_BYTES": value}, "ARCHIVE_MEDIA_MAX_BYTES"
    )
    assert result.returncode != 0
    assert "ARCHIVE_MEDIA_MAX_BYTES" in result.stderr


def test_the_size_limit_is_read_from_the_environment():
    found = settings_of(
        {**PRODUCTION, "ARCHIVE_MEDIA_MAX_BYTES": "1048576"}, "ARCHIVE_MEDIA_MAX_BYTES"
    )
    assert found["ARCHIVE_MEDIA_MAX_BYTES"] == 1048576


def test_without_a_bucket_media_is_kept_in_local_folders(tmp_path):
    found = settings_of(
        {**PRODUCTION, "ARCHIVE_MEDIA_ROOT": str(tmp_path)}, "STORAGES"
    )["STORAGES"]
    for name in MEDIA_STORAGES:
        assert found[name]["BACKEND"].endswith("PrivateFileSystemStorage")
        assert found[name]["OPTIONS"]["location"].startswith(str(tmp_path))


def test_with_a_bucket_media_is_kept_in_private_s3_prefixes():
    found = settings_of(
        {**PRODUCTION, "AWS_STORAGE_BUCKET_NAME": "archive-media"}, "STORAGES"
    )["STORAGES"]
    for name in MEDIA_STORAGES:
        assert found[name]["BACKEND"] == "storages.backends.s3.S3Storage"
        assert found[name]["OPTIONS"]["default_acl"] is None
        assert found[name]["OPTIONS"]["querystring_expire"] <= 300
