"""Recordings and consent forms taken in through the services and the admin:
probed, stored privately under server names, nothing left of a refused file.

The S3 cases run against the real S3 API server (moto) of the fixture.
"""

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models, transaction
from django.urls import reverse

from testimonies import services
from testimonies.errors import ServiceError
from testimonies.importers.bundle import bundle_import_file
from testimonies.importers.validate import BundleError
from testimonies.media import storage
from testimonies.media.commits import stored_files_follow_the_transaction
from testimonies.media.names import Aliased
from testimonies.media.probe import MediaRefused
from testimonies.models import ConsentRecord, Redaction, Testimony
from tests.factories import SegmentFactory, TestimonyFactory
from tests.test_admin import post_testimony_change, staff

from .conftest import BUCKET
from .signals import speech_like, tone, write_audio, write_video

pytestmark = pytest.mark.django_db

RATE = 16_000
SERVER_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]+")
MEDIA_FIELDS = ("media", "media_kind", "media_duration", "media_sha256", "media_size")


@pytest.fixture
def sound(tmp_path) -> Path:
    """A second of speech, in a file named after its narrator."""
    return write_audio(
        tmp_path / "Jeanne-Querouil-Lyon.wav", speech_like(1.0, RATE), RATE
    )


@pytest.fixture
def picture(tmp_path) -> Path:
    """A second of moving picture with sound, named as if it were an MP3."""
    return write_video(tmp_path / "entretien.mp3", tone(1.0, RATE), RATE, seconds=1.0)


def upload(path: Path, name: str | None = None, content_type="text/plain"):
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type)


def files_in(storage_of) -> set[str]:
    folder = Path(storage_of.location)
    return (
        {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
        if folder.exists()
        else set()
    )


def media_state(testimony: Testimony) -> tuple:
    testimony = Testimony.objects.get(pk=testimony.pk)
    return tuple(str(getattr(testimony, name)) for name in MEDIA_FIELDS)


# The model's fields


def test_the_recording_and_the_consent_form_live_in_their_private_storages():
    media = Testimony._meta.get_field("media")
    form = ConsentRecord._meta.get_field("form")
    assert isinstance(media.storage, Aliased)
    assert media.storage.target is storages[storage.ORIGINALS]
    assert form.storage.target is storages[storage.CONSENT_FORMS]
    assert not media.editable


@pytest.mark.parametrize(
    ("uploaded", "extension"),
    [
        ("Jeanne Querouil consentement.pdf", ".pdf"),
        ("scan.JPEG", ".jpeg"),
        ("entretien-Lyon.mp3", ".mp3"),
        ("page.html", ".bin"),
        ("no extension", ".bin"),
    ],
)
def test_a_name_given_through_a_field_is_the_servers(uploaded, extension):
    upload_to = ConsentRecord._meta.get_field("form").upload_to
    first, second = upload_to(None, uploaded), upload_to(None, uploaded)
    for name in (first, second):
        assert SERVER_NAME.fullmatch(name) and name.endswith(extension)
    assert first != second


# The service


def test_a_recording_is_taken_in_from_what_it_is(sound):
    testimony = TestimonyFactory()
    given = upload(sound, content_type="video/mp4")

    services.testimony_media_attach(testimony=testimony, file=given)

    testimony.refresh_from_db()
    assert SERVER_NAME.fullmatch(testimony.media.name)
    assert testimony.media.name.endswith(".wav")
    assert "jeanne" not in testimony.media.name.lower()
    assert testimony.media_kind == "audio"
    assert testimony.media_duration == pytest.approx(1.0, abs=0.01)
    assert testimony.media_size == sound.stat().st_size
    assert testimony.media_sha256 == hashlib.sha256(sound.read_bytes()).hexdigest()
    assert testimony.media.name in files_in(storage.originals())
    with testimony.media.open("rb") as stored:
        assert stored.read() == sound.read_bytes()


def test_the_kind_comes_from_the_streams_not_the_name(picture):
    testimony = TestimonyFactory()
    services.testimony_media_attach(
        testimony=testimony, file=upload(picture, content_type="audio/mpeg")
    )
    testimony.refresh_from_db()
    assert testimony.media_kind == "video"
    assert testimony.media.name.endswith(".mp4")


def not_media(tmp_path):
    return SimpleUploadedFile("interview.wav", b"RIFF not really " * 64)


def truncated(tmp_path):
    whole = write_audio(tmp_path / "whole.wav", speech_like(1.0, RATE), RATE)
    return SimpleUploadedFile("interview.wav", whole.read_bytes()[:-4000])


def empty(tmp_path):
    return SimpleUploadedFile("interview.wav", b"")


@pytest.mark.parametrize(
    ("make", "code"),
    [(not_media, "not_media"), (truncated, "truncated"), (empty, "empty")],
)
def test_a_refused_file_stores_nothing_and_changes_nothing(tmp_path, sound, make, code):
    testimony = TestimonyFactory()
    services.testimony_media_attach(testimony=testimony, file=upload(sound))
    before, stored = media_state(testimony), files_in(storage.originals())

    with pytest.raises(MediaRefused) as refused:
        services.testimony_media_attach(testimony=testimony, file=make(tmp_path))

    assert refused.value.code == code
    assert media_state(testimony) == before
    assert files_in(storage.originals()) == stored


def test_a_file_over_the_limit_of_the_settings_is_refused_with_both_sizes(
    settings, sound
):
    settings.ARCHIVE_MEDIA_MAX_BYTES = 1000
    testimony = TestimonyFactory()
    before, stored = media_state(testimony), files_in(storage.originals())

    with pytest.raises(MediaRefused) as refused:
        services.testimony_media_attach(testimony=testimony, file=upload(sound))

    assert refused.value.code == "too_large"
    message = refused.value.messages[0]
    assert str(sound.stat().st_size) in message and "1000" in message
    assert media_state(testimony) == before
    assert files_in(storage.originals()) == stored


def test_a_replaced_recording_is_deleted_only_once_the_change_is_committed(
    sound, picture, django_capture_on_commit_callbacks
):
    testimony = TestimonyFactory()
    services.testimony_media_attach(testimony=testimony, file=upload(sound))
    old = Testimony.objects.get(pk=testimony.pk).media.name

    with django_capture_on_commit_callbacks() as callbacks:
        services.testimony_media_attach(testimony=testimony, file=upload(picture))
        new = Testimony.objects.get(pk=testimony.pk).media.name
        # Until the commit, both are kept.
        assert {old, new} <= files_in(storage.originals())
    for callback in callbacks:
        callback()

    assert old not in files_in(storage.originals())
    assert new in files_in(storage.originals())


def test_a_change_that_fails_deletes_the_new_file_and_keeps_the_old(sound, tmp_path):
    testimony = TestimonyFactory()
    services.testimony_media_attach(testimony=testimony, file=upload(sound))
    segment = SegmentFactory(testimony=testimony, start=0, end=1)
    Redaction.objects.create(
        segment=segment,
        start=0,
        end=2,
        reason="person",
        label="[nom]",
        media_start=0.2,
        media_end=0.9,
    )
    before, stored = media_state(testimony), files_in(storage.originals())
    shorter = write_audio(tmp_path / "short.wav", speech_like(0.5, RATE), RATE)

    with pytest.raises(ServiceError) as refused:
        services.testimony_media_attach(testimony=testimony, file=upload(shorter))

    assert "0.9" in str(refused.value)
    assert media_state(testimony) == before
    assert files_in(storage.originals()) == stored


def test_a_file_written_for_rows_rolled_back_is_deleted_by_the_watch(sound):
    testimony = TestimonyFactory()
    stored = files_in(storage.originals())
    with (
        stored_files_follow_the_transaction(),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.testimony_media_attach(testimony=testimony, file=upload(sound))
        raise RuntimeError("a later step of the same page fails")
    assert files_in(storage.originals()) == stored
    # A change that stands keeps its file.
    with stored_files_follow_the_transaction():
        services.testimony_media_attach(testimony=testimony, file=upload(sound))
    name = Testimony.objects.get(pk=testimony.pk).media.name
    assert files_in(storage.originals()) == stored | {name}


def test_a_consent_form_is_kept_under_a_server_name():
    testimony = TestimonyFactory()
    scan = SimpleUploadedFile("Consentement Jeanne Querouil.pdf", b"%PDF-1.4 signed")

    record = services.consent_record(
        testimony=testimony,
        scope="public",
        media="audio",
        given_on=testimony.created_at.date(),
        form=scan,
    )

    record.refresh_from_db()
    assert SERVER_NAME.fullmatch(record.form.name) and record.form.name.endswith(".pdf")
    assert record.form.name in files_in(storage.consent_forms())
    assert record.form.name not in files_in(storage.originals())
    with record.form.open("rb") as kept:
        assert kept.read() == b"%PDF-1.4 signed"


# On S3, for real


def test_an_original_taken_in_on_s3_is_private_under_its_prefix(s3, sound):
    testimony = TestimonyFactory()

    services.testimony_media_attach(testimony=testimony, file=upload(sound))

    testimony.refresh_from_db()
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"archive/originals/{testimony.media.name}"]
    assert SERVER_NAME.fullmatch(testimony.media.name)
    grants = s3.get_object_acl(Bucket=BUCKET, Key=keys[0])["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert testimony.media_sha256 == hashlib.sha256(body).hexdigest()
    assert body == sound.read_bytes()
    with testimony.media.open("rb") as stored:
        assert stored.read() == body


def test_a_refused_file_leaves_nothing_on_s3(s3):
    testimony = TestimonyFactory()
    with pytest.raises(MediaRefused):
        services.testimony_media_attach(
            testimony=testimony, file=SimpleUploadedFile("a.wav", b"RIFF" * 100)
        )
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []


def test_a_consent_form_on_s3_lands_under_its_own_prefix(s3):
    testimony = TestimonyFactory()
    record = services.consent_record(
        testimony=testimony,
        scope="public",
        media="none",
        given_on=testimony.created_at.date(),
        form=SimpleUploadedFile("consent.pdf", b"%PDF-1.4"),
    )
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"archive/consent-forms/{record.form.name}"]


# The admin


def test_the_admin_uploads_a_recording_through_the_service(client, curator, sound):
    testimony = TestimonyFactory(consent="public")
    client.force_login(staff(curator))

    response = post_testimony_change(
        client, testimony, extra={"media_upload": upload(sound, "voix.txt")}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    testimony.refresh_from_db()
    assert testimony.media_kind == "audio"
    assert SERVER_NAME.fullmatch(testimony.media.name)
    assert testimony.media_sha256 == hashlib.sha256(sound.read_bytes()).hexdigest()


def test_the_admin_shows_a_refused_file_at_its_field_and_stores_nothing(
    client, curator
):
    testimony = TestimonyFactory(consent="public", title="Avant")
    client.force_login(staff(curator))
    stored = files_in(storage.originals())

    response = post_testimony_change(
        client,
        testimony,
        title="Après",
        extra={"media_upload": SimpleUploadedFile("voix.mp3", b"not a recording")},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["media_upload"]
    assert "enregistrement" in errors[0]
    testimony.refresh_from_db()
    assert testimony.title == "Avant" and not testimony.media
    assert files_in(storage.originals()) == stored


def test_the_admin_change_page_shows_the_recording_linked_only_to_the_staff_view(
    client, curator, sound
):
    testimony = TestimonyFactory(consent="public")
    services.testimony_media_attach(testimony=testimony, file=upload(sound))
    testimony.refresh_from_db()
    client.force_login(staff(curator))

    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    page = client.get(url).content.decode()

    assert testimony.media.name in page
    assert testimony.media_sha256 in page
    assert f'href="{testimony.media.name}' not in page
    assert testimony.media.name not in "".join(re.findall(r'href="[^"]*"', page))
    original = reverse("admin:testimonies_testimony_original", args=[testimony.pk])
    assert f'href="{original}"' in page


def test_the_admin_consent_inline_keeps_the_signed_form(client, curator):
    testimony = TestimonyFactory(consent="public")
    client.force_login(staff(curator))

    response = post_testimony_change(
        client,
        testimony,
        new_consent={
            "scope": "research",
            "media": "audio",
            "given_on": "2024-03-01",
            "form_upload": SimpleUploadedFile("Jeanne consent.pdf", b"%PDF-1.4"),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    record = testimony.consent_in_force()
    assert record.scope == "research"
    assert SERVER_NAME.fullmatch(record.form.name)
    assert record.form.name in files_in(storage.consent_forms())
    # Shown again, the record says a form is kept, with no address to it.
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    page = client.get(url).content.decode()
    assert record.form.name not in page


# A bundle's media on S3


def small_bundle(folder: Path, *, slugs=("une-voix",), kind="audio") -> Path:
    """A bundle of draft testimonies, each with a second of recording beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_audio(folder / "voix.wav", speech_like(1.0, RATE), RATE)
    document = {
        "format": "testimony-bundle/1",
        "narrators": [
            {
                "key": "n",
                "public_name": "N.",
                "identity": "pseudonym",
                "job_types": [],
            }
        ],
        "testimonies": [
            {
                "slug": slug,
                "title": "Une voix",
                "narrator": "n",
                "language": "fr",
                "themes": [],
                "status": "draft",
                "consent": [],
                "media": {"path": "voix.wav", "kind": kind},
                "appearances": [],
                "segments": [],
                "redactions": [],
            }
            for slug in slugs
        ],
    }
    path = folder / "bundle.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_a_bundles_media_lands_privately_in_the_originals_prefix_on_s3(s3, tmp_path):
    bundle_import_file(small_bundle(tmp_path / "in"))

    testimony = Testimony.objects.get(slug="une-voix")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"archive/originals/{testimony.media.name}"]
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert testimony.media_sha256 == hashlib.sha256(body).hexdigest()
    grants = s3.get_object_acl(Bucket=BUCKET, Key=keys[0])["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]

    # The backup reads it back from there.
    target = tmp_path / "out" / "backup.json"
    target.parent.mkdir()
    call_command("export_bundle", str(target), stdout=io.StringIO())
    assert (target.parent / "media/une-voix/une-voix.wav").read_bytes() == body


def test_a_refused_bundle_leaves_no_object_on_s3(s3, tmp_path):
    # The first testimony's file is stored, then the second is refused.
    path = small_bundle(tmp_path / "in", slugs=("une-voix", "deux-voix"))
    document = json.loads(path.read_text("utf-8"))
    document["testimonies"][1]["media"]["kind"] = "video"
    path.write_text(json.dumps(document), "utf-8")

    with pytest.raises(BundleError) as caught:
        bundle_import_file(path)

    assert caught.value.path == "testimonies[1].media.kind"
    assert not Testimony.objects.exists()
    assert s3.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []


def test_no_file_field_of_the_archive_is_kept_in_the_default_storage():
    private = {storage.ORIGINALS, storage.CONSENT_FORMS}
    fields = [
        field
        for model in apps.get_app_config("testimonies").get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert fields
    for field in fields:
        assert isinstance(field.storage, Aliased), field
        assert field.storage.alias in private, field


def test_no_address_of_the_site_serves_a_stored_recording(client, sound):
    testimony = TestimonyFactory()
    services.testimony_media_attach(testimony=testimony, file=upload(sound))
    name = Testimony.objects.get(pk=testimony.pk).media.name

    for address in (
        f"/media/{name}",
        f"/media/originals/{name}",
        f"/originals/{name}",
        f"/static/{name}",
        f"/static/originals/{name}",
    ):
        assert client.get(address).status_code == 404, address
