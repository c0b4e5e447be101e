"""Where media is kept: three places apart, private, named by the server.

The S3 cases run against a real S3 API server (moto) started on 127.0.0.1.
"""

import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from archive.settings import MEDIA_PLACES, media_storages
from testimonies.media import storage
from testimonies.media.probe import MediaRefused

from .conftest import BUCKET
from .signals import decode_audio, speech_like, write_audio

RATE = 16_000
KINDS = {
    storage.ORIGINALS: storage.originals,
    storage.RENDITIONS: storage.renditions,
    storage.CONSENT_FORMS: storage.consent_forms,
}
SERVER_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]+")


@pytest.fixture
def recording(tmp_path):
    return write_audio(
        tmp_path / "Jeanne-Querouil-entretien-Lyon.wav", speech_like(2.0, RATE), RATE
    )


def files_in(folder: Path) -> list[Path]:
    return (
        [path for path in folder.rglob("*") if path.is_file()]
        if folder.exists()
        else []
    )


# Local storage (the default)


def test_the_three_kinds_live_in_folders_apart_that_nothing_serves():
    folders = {Path(KINDS[name]().location).resolve() for name in KINDS}
    assert len(folders) == 3
    served = [Path(settings.STATIC_ROOT).resolve()] + [
        Path(folder).resolve() for folder in settings.STATICFILES_DIRS
    ]
    for folder in folders:
        assert Path(settings.MEDIA_ROOT).resolve() in folder.parents
        assert not any(folder == s or s in folder.parents for s in served)


def test_a_local_private_file_has_no_url():
    assert storage.signed_url(storage.originals(), "anything.wav") is None
    with pytest.raises(NotImplementedError):
        storage.originals().url("anything.wav")


def test_a_local_file_is_written_whole_or_not_at_all():
    class Failing(ContentFile):
        def chunks(self, chunk_size=None):
            yield b"half of a recording"
            raise OSError("the upload was cut")

    renditions = storage.renditions()
    before = set(files_in(Path(renditions.location)))
    with pytest.raises(OSError):
        renditions.save(storage.server_name(".ogg"), Failing(b"x"))
    assert set(files_in(Path(renditions.location))) == before


def test_a_local_save_never_replaces_a_file_in_place():
    renditions = storage.renditions()
    name = storage.server_name(".ogg")
    first = renditions.save(name, ContentFile(b"first"))
    second = renditions.save(name, ContentFile(b"second"))
    assert first != second
    assert renditions.open(first).read() == b"first"
    assert renditions.open(second).read() == b"second"


def test_an_ingested_original_gets_a_name_that_reveals_nothing(recording):
    first = storage.ingest(recording)
    second = storage.ingest(recording)
    for ingested in (first, second):
        assert SERVER_NAME.fullmatch(ingested.name)
        assert ingested.name.endswith(".wav")
        assert "jeanne" not in ingested.name.lower()
        assert storage.originals().open(ingested.name).read() == recording.read_bytes()
    assert first.name != second.name
    assert first.probed.sha256 == second.probed.sha256


def test_an_upload_is_ingested_from_its_bytes(recording):
    upload = SimpleUploadedFile(
        "narrator-name.txt", recording.read_bytes(), content_type="text/plain"
    )
    ingested = storage.ingest(upload)
    assert ingested.probed.kind == "audio"
    assert storage.originals().open(ingested.name).read() == recording.read_bytes()


def test_a_refused_file_stores_nothing():
    originals = Path(storage.originals().location)
    before = set(files_in(originals))
    upload = SimpleUploadedFile("interview.wav", b"RIFF not really " * 64)
    with pytest.raises(MediaRefused):
        storage.ingest(upload)
    assert set(files_in(originals)) == before


def test_a_rendition_is_made_from_a_stored_original_and_stored_apart(recording):
    ingested = storage.ingest(recording)
    made = storage.make_rendition(
        ingested.name,
        original_sha256=ingested.probed.sha256,
        silences=[(0.5, 1.0)],
        disguise=0.8,
    )
    assert SERVER_NAME.fullmatch(made.name) and made.name.endswith(".ogg")
    assert made.kind == "audio"
    assert made.duration == pytest.approx(2.0, abs=0.01)
    path = Path(storage.renditions().path(made.name))
    assert Path(storage.renditions().location) in path.parents
    assert len(decode_audio(path, RATE)) > RATE
    assert not storage.originals().exists(made.name)


def test_a_server_name_takes_only_an_extension():
    with pytest.raises(ValueError):
        storage.server_name("/../../etc/passwd")


# Settings


def test_without_a_bucket_each_kind_is_a_local_folder_of_its_own(tmp_path):
    entries = media_storages({}, tmp_path)
    assert set(entries) == set(MEDIA_PLACES) == set(KINDS)
    locations = {entry["OPTIONS"]["location"] for entry in entries.values()}
    assert len(locations) == 3
    assert all(Path(location).parent == tmp_path for location in locations)


def test_with_a_bucket_each_kind_is_a_private_prefix(tmp_path):
    entries = media_storages(
        {
            "AWS_STORAGE_BUCKET_NAME": "archive-media",
            "AWS_LOCATION": "prod/",
            "AWS_QUERYSTRING_EXPIRE": "86400",
        },
        tmp_path,
    )
    prefixes = set()
    for entry in entries.values():
        options = entry["OPTIONS"]
        assert entry["BACKEND"] == "storages.backends.s3.S3Storage"
        assert options["default_acl"] is None
        assert options["querystring_auth"] is True
        # A longer life asked for in the environment is cut down to five minutes.
        assert options["querystring_expire"] <= 300
        assert options["custom_domain"] is None
        prefixes.add(options["location"])
    assert prefixes == {"prod/originals", "prod/renditions", "prod/consent-forms"}


# S3, for real, against the server started by the fixture


def test_an_object_written_to_s3_is_private(s3, recording):
    ingested = storage.ingest(recording)
    key = f"archive/originals/{ingested.name}"
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]
    assert not any(
        "AllUsers" in str(grant) or "AuthenticatedUsers" in str(grant)
        for grant in grants
    )
    endpoint = s3.meta.endpoint_url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{endpoint}/{BUCKET}/{key}")
    assert refused.value.code == 403


def test_the_same_unsigned_get_reaches_a_public_object(s3):
    # The refusal above is the server's own rule for private objects: a public
    # one is served to anyone, so the test could fail.
    s3.put_object(Bucket=BUCKET, Key="public.txt", Body=b"open", ACL="public-read")
    endpoint = s3.meta.endpoint_url
    assert urllib.request.urlopen(f"{endpoint}/{BUCKET}/public.txt").read() == b"open"


def test_the_three_kinds_land_under_their_own_prefixes(s3):
    for name, kind in KINDS.items():
        kind().save(f"{name}.bin", ContentFile(name.encode()))
    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [
        "archive/consent-forms/consent-forms.bin",
        "archive/originals/media-originals.bin",
        "archive/renditions/media-renditions.bin",
    ]


def test_a_signed_url_expires_within_five_minutes_and_serves_the_object(s3):
    name = storage.renditions().save("public.ogg", ContentFile(b"rendition"))
    url = storage.signed_url(storage.renditions(), name)
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert query["X-Amz-Date"][0]
    assert "X-Amz-Signature" in query
    assert urllib.request.urlopen(url).read() == b"rendition"


def test_a_rendition_is_made_from_an_original_on_s3(s3, recording):
    ingested = storage.ingest(recording)
    made = storage.make_rendition(
        ingested.name, original_sha256=ingested.probed.sha256, silences=[(0.2, 0.6)]
    )
    key = f"archive/renditions/{made.name}"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] > 0
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()[:4] == b"OggS"
