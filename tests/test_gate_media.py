"""The publication gate and media (testimonies/gate.py, ``media_hits``): a video
released with its picture of an anonymous narrator is never published."""

import itertools
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from testimonies import services
from testimonies.gate import HitKind, PublicationRefused
from testimonies.importers.bundle import bundle_import_file
from testimonies.importers.validate import BundleError
from testimonies.media import storage
from testimonies.models import ConsentRecord, Narrator, Testimony

from .factories import NarratorFactory, TestimonyFactory
from .media.signals import recording_bytes

pytestmark = pytest.mark.django_db

IDENTITIES = Narrator.Identity.values
KINDS = Testimony.MediaKind.values
RELEASES = ConsentRecord.MediaRelease.values


def refused(identity: str, kind: str, release: str) -> bool:
    """The policy, as docs/design.md words it."""
    return identity == "anonymous" and kind == "video" and release == "audio_video"


def recorded_testimony(identity: str, kind: str, release: str) -> Testimony:
    testimony = TestimonyFactory(
        narrator=NarratorFactory(identity=identity),
        media=f"0123456789abcdef0123456789abcdef.{'mp4' if kind == 'video' else 'wav'}",
        media_kind=kind,
        consent="public",
    )
    testimony.consent_records.update(media=release)
    return testimony


@pytest.mark.parametrize(
    ("identity", "kind", "release"),
    list(itertools.product(IDENTITIES, KINDS, RELEASES)),
)
def test_publication_of_each_identity_kind_and_release(identity, kind, release):
    testimony = recorded_testimony(identity, kind, release)

    if refused(identity, kind, release):
        with pytest.raises(PublicationRefused) as caught:
            services.testimony_publish(testimony=testimony)
        assert [(h.place, h.kind) for h in caught.value.hits] == [
            ("media", HitKind.VIDEO_OF_ANONYMOUS)
        ]
        assert Testimony.objects.get(pk=testimony.pk).status == "draft"
    else:
        services.testimony_publish(testimony=testimony)
        assert Testimony.objects.get(pk=testimony.pk).status == "published"


def test_the_media_hit_is_listed_with_the_others_each_at_its_place(english):
    testimony = recorded_testimony("anonymous", "video", "audio_video")
    Testimony.objects.filter(pk=testimony.pk).update(summary="Écrire à a@b.org.")

    with pytest.raises(PublicationRefused) as caught:
        services.testimony_publish(
            testimony=testimony.__class__.objects.get(pk=testimony.pk)
        )

    assert [(h.place, h.kind) for h in caught.value.hits] == [
        ("media", HitKind.VIDEO_OF_ANONYMOUS),
        ("summary", HitKind.EMAIL),
    ]
    assert str(caught.value.hits[0]) == (
        "media: video released of an anonymous narrator: only their disguised "
        "voice may be"
    )


def test_the_media_hit_reads_in_the_curators_language():
    testimony = recorded_testimony("anonymous", "video", "audio_video")
    with translation.override("fr"), pytest.raises(PublicationRefused) as caught:
        services.testimony_publish(testimony=testimony)
    assert "anonyme" in str(caught.value)


def test_a_narrator_who_becomes_anonymous_sends_their_video_back_to_review():
    testimony = recorded_testimony("pseudonym", "video", "audio_video")
    services.testimony_publish(testimony=testimony)

    withdrawn = services.narrator_update(
        narrator=testimony.narrator, changes={"identity": "anonymous"}
    )

    assert withdrawn == [testimony.slug]
    assert Testimony.objects.get(pk=testimony.pk).status == "in_review"


@pytest.mark.parametrize("release", RELEASES)
def test_consent_releasing_an_anonymous_video_sends_it_back_to_review(release):
    testimony = recorded_testimony("anonymous", "video", "audio")
    services.testimony_publish(testimony=testimony)
    today = testimony.consent_in_force().given_on

    record = services.consent_record(
        testimony=testimony, scope="public", media=release, given_on=today
    )

    # The consent is recorded whatever it releases.
    assert testimony.consent_in_force() == record
    expected = "in_review" if release == "audio_video" else "published"
    assert Testimony.objects.get(pk=testimony.pk).status == expected


def test_a_video_attached_to_a_published_anonymous_testimony_is_refused(tmp_path):
    testimony = recorded_testimony("anonymous", "audio", "audio_video")
    services.testimony_publish(testimony=testimony)
    before = set(Path(storage.originals().location).rglob("*"))
    video = SimpleUploadedFile("film.mp4", recording_bytes("video"))

    with pytest.raises(PublicationRefused):
        services.testimony_media_attach(testimony=testimony, file=video)

    stored = Testimony.objects.get(pk=testimony.pk)
    assert stored.media_kind == "audio"
    assert set(Path(storage.originals().location).rglob("*")) == before
    # Its sound alone may be attached.
    services.testimony_media_attach(
        testimony=testimony, file=SimpleUploadedFile("a.wav", recording_bytes())
    )
    assert Testimony.objects.get(pk=testimony.pk).media_kind == "audio"


def anonymous_video_bundle(folder: Path, release: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "film.mp4").write_bytes(recording_bytes("video"))
    document = {
        "format": "testimony-bundle/1",
        "narrators": [
            {
                "key": "anonyme",
                "public_name": "interne 1",
                "identity": "anonymous",
                "descriptor": {"fr": "une modératrice"},
                "job_types": [],
            }
        ],
        "testimonies": [
            {
                "slug": "un-visage",
                "title": "Un visage",
                "narrator": "anonyme",
                "language": "fr",
                "themes": [],
                "status": "published",
                "consent": [
                    {
                        "scope": "public",
                        "media": "audio_video",
                        "given_on": "2024-01-01",
                    },
                    {"scope": "public", "media": release, "given_on": "2024-02-01"},
                ],
                "media": {"path": "film.mp4", "kind": "video"},
                "appearances": [],
                "segments": [],
                "redactions": [],
            }
        ],
    }
    path = folder / "bundle.json"
    path.write_text(json.dumps(document), "utf-8")
    return path


def test_a_bundle_publishing_an_anonymous_video_is_refused_whole(tmp_path, english):
    before = set(Path(storage.originals().location).rglob("*"))

    with pytest.raises(BundleError) as caught:
        bundle_import_file(anonymous_video_bundle(tmp_path / "in", "audio_video"))

    assert caught.value.path == "testimonies[0].status"
    assert "video released of an anonymous narrator" in caught.value.message
    assert not Testimony.objects.exists() and not Narrator.objects.exists()
    assert set(Path(storage.originals().location).rglob("*")) == before


def test_a_bundle_releasing_the_sound_alone_of_an_anonymous_video_is_published(
    tmp_path,
):
    bundle_import_file(anonymous_video_bundle(tmp_path / "in", "audio"))
    assert Testimony.objects.get(slug="un-visage").status == "published"
