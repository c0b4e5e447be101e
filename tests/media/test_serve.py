"""The media view: the ready rendition of the current state, to whoever may hear
it, never another; a signed URL that expires within five minutes, or a local
stream with Range support that checks access at every range."""

import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.config import Config
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from archive.settings import media_storages
from testimonies import services
from testimonies.media import jobs
from testimonies.media import render as rendering
from testimonies.media.plan import rendition_plan
from testimonies.media.render import rendition_state
from testimonies.media.serve import byte_range
from testimonies.models import Narrator, Rendition

from ..factories import NarratorFactory, TestimonyFactory
from .archive import (
    RATE,
    heard_testimony,
    stand_in_original,
    stored_rendition,
    voice,
)
from .signals import decode_audio
from .test_render import best_correlation, inside, outside_mask, peak_dbfs

pytestmark = pytest.mark.django_db

TIERS = ("anonymous", "researcher", "curator", "archivist")
# None: no consent record at all, which admits no one outside staff.
SCOPES = ("public", "research", "archive", "withdrawn", None)
RELEASES = ("audio_video", "audio", "none")
IDENTITIES = ("pseudonym", "anonymous")
KINDS = ("audio", "video")


def media_url(testimony, language="fr"):
    with translation.override(language):
        return reverse("testimonies:media", kwargs={"slug": testimony.slug})


def sign_in(client, request, tier):
    if tier != "anonymous":
        client.force_login(request.getfixturevalue(tier))


def may_hear(tier, scope, release, kind, identity) -> str:
    """The oracle, from the policy's words: the tier sees the testimony, and the
    release (never the picture of an anonymous narrator) offers something."""
    sees = {
        "anonymous": scope == "public",
        "researcher": scope in ("public", "research"),
        "curator": True,
        "archivist": True,
    }[tier]
    if not sees or release == "none" or scope is None:
        return "none"
    if release == "audio_video" and not (kind == "video" and identity == "anonymous"):
        return "audio_video"
    return "audio"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("tier", TIERS)
def test_each_tier_hears_only_the_current_rendition_the_rule_offers(
    client, request, tier, scope, release, identity, kind
):
    testimony = TestimonyFactory(
        published=True, consent=scope, narrator=NarratorFactory(identity=identity)
    )
    testimony.consent_records.update(media=release)
    stand_in_original(testimony, kind)
    offered = may_hear(tier, scope, release, kind, identity)
    plan = rendition_plan(testimony)
    if plan is not None:
        stored_rendition(testimony, b"current " + plan.state.encode())
        # A rendition of another state, ready too: it is never served.
        stored_rendition(testimony, b"stale", state="0" * 64)
    sign_in(client, request, tier)

    response = client.get(media_url(testimony))

    if offered == "none":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"current " + plan.state.encode()
    assert response["Cache-Control"] == "private, no-store"
    # The rendition belongs to the state the rule asks for: the picture only
    # where it is offered, the voice disguised for an anonymous narrator.
    assert plan.audio_only is (kind == "video" and offered == "audio")
    assert (plan.disguise is not None) is (identity == "anonymous")
    assert plan.disguise in (None, settings.MEDIA_DISGUISE_COEFFICIENT)


def test_the_view_answers_under_both_languages(client):
    testimony = stand_in_original(TestimonyFactory(published=True, consent="public"))
    stored_rendition(testimony, b"sound")
    assert media_url(testimony) == f"/testimonies/{testimony.slug}/media"
    assert media_url(testimony, "en") == f"/en/testimonies/{testimony.slug}/media"
    for language in ("fr", "en"):
        response = client.get(media_url(testimony, language))
        assert b"".join(response.streaming_content) == b"sound"


def test_an_unknown_testimony_and_a_hidden_one_answer_alike(client):
    hidden = stand_in_original(TestimonyFactory(published=False, consent="public"))
    stored_rendition(hidden, b"sound")
    assert client.get(media_url(hidden)).status_code == 404
    assert client.get("/testimonies/nobody/media").status_code == 404


# --- Ranges ---------------------------------------------------------------------


@pytest.fixture
def streamed(client):
    testimony = stand_in_original(TestimonyFactory(published=True, consent="public"))
    payload = bytes(range(256)) * 40
    stored_rendition(testimony, payload)
    return testimony, payload


@pytest.mark.parametrize(
    "header, first, last",
    [
        ("bytes=100-199", 100, 199),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10000-99999", 10000, 10239),
    ],
)
def test_a_range_request_gets_exactly_that_slice_of_the_file(
    client, streamed, header, first, last
):
    testimony, payload = streamed
    response = client.get(media_url(testimony), HTTP_RANGE=header)
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == payload[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(payload)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"].startswith("audio/ogg")


def test_without_a_range_the_whole_file_is_sent_with_ranges_offered(client, streamed):
    testimony, payload = streamed
    response = client.get(media_url(testimony))
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(payload))
    assert b"".join(response.streaming_content) == payload


@pytest.mark.parametrize(
    "header",
    [
        "bytes=20000-",
        "bytes=300-200",
        "bytes=-0",
        "items=0-1",
        "bytes=0-1,5-9",
        "bytes=-",
    ],
)
def test_a_range_the_file_cannot_satisfy_is_answered_416(client, streamed, header):
    testimony, payload = streamed
    response = client.get(media_url(testimony), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(payload)}"


@given(
    size=st.integers(min_value=1, max_value=5000),
    first=st.integers(min_value=0, max_value=6000),
    length=st.integers(min_value=1, max_value=6000),
)
def test_a_satisfiable_range_lies_within_the_file_and_starts_where_asked(
    size, first, length
):
    wanted = byte_range(f"bytes={first}-{first + length - 1}", size)
    if first >= size:
        assert wanted is None
    else:
        assert wanted == (first, min(first + length - 1, size - 1))


def test_each_range_request_checks_access_again(client, streamed):
    testimony, payload = streamed
    first = client.get(media_url(testimony), HTTP_RANGE="bytes=0-99")
    assert first.status_code == 206
    services.consent_withdraw(testimony=testimony)
    assert (
        client.get(media_url(testimony), HTTP_RANGE="bytes=100-199").status_code == 404
    )


def test_a_pending_withdrawal_request_stops_the_stream_at_once(client, streamed):
    testimony, _ = streamed
    assert client.get(media_url(testimony)).status_code == 200
    Narrator.objects.filter(pk=testimony.narrator_id).update(
        reference_code_hash=services.hash_reference_code("ABCD-ABCD-ABCD-ABCD")
    )
    services.narrator_request_submit(
        reference_code="ABCD-ABCD-ABCD-ABCD", kind="withdraw"
    )
    assert client.get(media_url(testimony)).status_code == 404


# --- Never stale ------------------------------------------------------------------


def decoded(response, folder: Path):
    path = folder / "heard.ogg"
    path.write_bytes(b"".join(response.streaming_content))
    return decode_audio(path, RATE)


def test_after_a_redaction_the_old_rendition_is_never_served_until_the_new_one(
    client, tmp_path, django_capture_on_commit_callbacks
):
    testimony = heard_testimony()
    segment = services.segment_create(
        testimony=testimony,
        start=2.0,
        end=3.5,
        speaker="narrator",
        text="Le chef Bartholoméo surveillait la plateforme.",
    )
    call_command("process_media", verbosity=0)
    before = client.get(media_url(testimony))
    assert before.status_code == 200
    assert peak_dbfs(inside(decoded(before, tmp_path), RATE, 2.0, 3.5)) > -20

    with django_capture_on_commit_callbacks(execute=True):
        services.segment_redact(segment=segment, start=8, end=19, reason="person")
    preparing = client.get(media_url(testimony))
    assert preparing.status_code == 503
    assert preparing["Content-Type"].startswith("text/plain")
    assert "préparation" in preparing.content.decode()
    assert preparing["Retry-After"]

    call_command("process_media", verbosity=0)
    after = client.get(media_url(testimony))
    assert after.status_code == 200
    assert peak_dbfs(inside(decoded(after, tmp_path), RATE, 2.0, 3.5)) < -60


def test_being_prepared_is_said_in_english_under_en(client):
    testimony = heard_testimony()
    response = client.get(media_url(testimony, "en"))
    assert response.status_code == 503
    assert "being prepared" in response.content.decode()
    # The view asked for the rendition that no change had announced.
    assert Rendition.objects.get().status == Rendition.Status.PENDING


def test_a_failed_rendition_serves_nothing(client, monkeypatch):
    testimony = heard_testimony()
    monkeypatch.setattr(jobs, "make_rendition", lambda *a, **k: 1 / 0)
    for _attempt in range(settings.MEDIA_RENDITION_ATTEMPTS):
        jobs.rendition_make(
            rendition_id=jobs.renditions_follow(
                testimony_id=testimony.pk, enqueue=False
            ).pk
        )
    assert Rendition.objects.get().status == Rendition.Status.FAILED
    assert client.get(media_url(testimony)).status_code == 503


# --- What the public hears -----------------------------------------------------------

REDACTED = [(1.0, 1.6), (3.2, 4.5)]


def redacted_testimony(**fields):
    testimony = heard_testimony(**fields)
    for start, end in REDACTED:
        segment = services.segment_create(
            testimony=testimony,
            start=start,
            end=end,
            speaker="narrator",
            text="Le chef Bartholoméo surveillait la plateforme.",
        )
        services.segment_redact(segment=segment, start=8, end=19, reason="person")
    return testimony


def test_the_served_sound_is_silent_over_every_redacted_range(client, tmp_path):
    testimony = redacted_testimony()
    call_command("process_media", verbosity=0)
    heard = decoded(client.get(media_url(testimony)), tmp_path)
    for start, end in REDACTED:
        assert peak_dbfs(inside(heard, RATE, start, end)) < -60
    keep = outside_mask(len(voice()), RATE, REDACTED, rendering.GUARD + 0.04)
    assert best_correlation(voice(), heard, keep, RATE) > 0.9


def test_an_anonymous_narrator_is_heard_disguised_and_silenced(client, tmp_path):
    plain = redacted_testimony()
    disguised = redacted_testimony(identity="anonymous")
    call_command("process_media", verbosity=0)
    rendition = Rendition.objects.get(testimony=disguised)
    assert rendition.state == rendition_state(
        original_sha256=disguised.media_sha256,
        silences=REDACTED,
        disguise=settings.MEDIA_DISGUISE_COEFFICIENT,
        audio_only=False,
    )
    heard_plain = decoded(client.get(media_url(plain)), tmp_path)
    heard_disguised = decoded(client.get(media_url(disguised)), tmp_path)
    for start, end in REDACTED:
        assert peak_dbfs(inside(heard_disguised, RATE, start, end)) < -60
    keep = outside_mask(len(heard_plain), RATE, REDACTED, rendering.GUARD + 0.04)
    # The sound is there, but no longer the narrator's waveform.
    assert peak_dbfs(heard_disguised[keep[: len(heard_disguised)]]) > -20
    assert best_correlation(heard_plain, heard_disguised, keep, RATE) < 0.9


@pytest.mark.parametrize(
    "identity, release", [("pseudonym", "audio"), ("anonymous", "audio_video")]
)
def test_the_sound_alone_of_a_video_is_served_where_only_it_is_offered(
    client, identity, release
):
    testimony = heard_testimony(kind="video", identity=identity, release=release)
    call_command("process_media", verbosity=0)
    response = client.get(media_url(testimony))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/ogg")
    assert b"".join(response.streaming_content)[:4] == b"OggS"


def test_a_video_released_whole_is_served_as_video(client):
    testimony = heard_testimony(kind="video")
    call_command("process_media", verbosity=0)
    response = client.get(media_url(testimony))
    assert response["Content-Type"] == "video/mp4"


# --- Object storage ------------------------------------------------------------------


def test_on_s3_the_view_redirects_to_a_url_that_expires_within_five_minutes(client, s3):
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    response = client.get(media_url(testimony))
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) <= 300
    assert "X-Amz-Signature" in query
    assert "/renditions/" in urlsplit(url).path
    assert urllib.request.urlopen(url).read()[:4] == b"OggS"


def test_on_s3_no_url_is_given_after_a_withdrawal(client, s3):
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    assert client.get(media_url(testimony)).status_code == 302
    services.consent_withdraw(testimony=testimony)
    assert client.get(media_url(testimony)).status_code == 404


@pytest.fixture
def storage_down():
    """The archive's storages pointed at an S3 endpoint where nothing listens."""
    environment = {
        "AWS_STORAGE_BUCKET_NAME": "archive-media",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_S3_REGION_NAME": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
    }
    entries = media_storages(environment, Path(tempfile.gettempdir()))
    for entry in entries.values():
        # One quick try: the test is of the answer, not of the client's patience.
        entry["OPTIONS"]["client_config"] = Config(
            retries={"max_attempts": 1}, connect_timeout=1
        )
    with override_settings(STORAGES={**settings.STORAGES, **entries}):
        yield


def test_when_object_storage_is_down_media_is_503_and_the_page_renders(
    client, storage_down
):
    testimony = stand_in_original(TestimonyFactory(published=True, consent="public"))
    Rendition.objects.create(
        testimony=testimony,
        state=rendition_plan(testimony).state,
        status=Rendition.Status.READY,
        name="0123456789abcdef.ogg",
        kind="audio",
        content_type="audio/ogg",
    )
    response = client.get(media_url(testimony))
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert "joint" in response.content.decode()
    page = client.get(testimony.get_absolute_url())
    assert page.status_code == 200


def test_the_decoded_range_is_what_the_whole_file_holds(client, tmp_path):
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    whole = b"".join(client.get(media_url(testimony)).streaming_content)
    head = client.get(media_url(testimony), HTTP_RANGE="bytes=0-999")
    tail = client.get(media_url(testimony), HTTP_RANGE="bytes=1000-")
    rebuilt = b"".join(head.streaming_content) + b"".join(tail.streaming_content)
    assert rebuilt == whole
    assert whole[:4] == b"OggS"
