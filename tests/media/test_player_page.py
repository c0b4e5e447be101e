"""The player on the testimony page: shown exactly where the media rule and a
ready rendition of the current state allow, as the rendition's kind, with its
captions; a plain notice while the rendition is being prepared."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from testimonies import services
from testimonies.media.plan import rendition_plan
from testimonies.models import ConsentRecord, Narrator, Rendition

from ..factories import NarratorFactory, NarratorRequestFactory, TestimonyFactory
from .archive import stand_in_original, stored_rendition
from .test_serve import may_hear, sign_in

pytestmark = pytest.mark.django_db

TIERS = ("anonymous", "researcher", "curator")
SCOPES = ("public", "research")
RELEASES = ("audio_video", "audio", "none")
KINDS = ("audio", "video")
PREPARING = "en cours de préparation"


class Media(HTMLParser):
    """The media elements of a page, with their sources and tracks."""

    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("audio", "video"):
            self.elements.append({"tag": tag, **attributes, "sources": []})
            self.elements[-1]["tracks"] = []
        elif tag == "source" and self.elements:
            self.elements[-1]["sources"].append(attributes)
        elif tag == "track" and self.elements:
            self.elements[-1]["tracks"].append(attributes)


def media_of(response) -> list[dict]:
    parser = Media()
    parser.feed(response.content.decode())
    return parser.elements


def page_of(testimony):
    return reverse("testimonies:detail", args=[testimony.slug])


def recorded(*, scope="public", release="audio_video", kind="audio", **fields):
    testimony = TestimonyFactory(
        published=True,
        consent=scope,
        narrator=fields.pop("narrator", None)
        or NarratorFactory(identity=Narrator.Identity.PSEUDONYM),
        **fields,
    )
    testimony.consent_records.update(media=release)
    services.segment_create(
        testimony=testimony, start=0, end=4, speaker="narrator", text="Bonjour."
    )
    return stand_in_original(testimony, kind)


def make_ready(testimony) -> Rendition:
    return stored_rendition(testimony, b"sound")


@pytest.mark.parametrize("ready", [True, False], ids=["ready", "pending"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("tier", TIERS)
def test_the_player_appears_exactly_where_the_rule_and_a_ready_rendition_allow(
    client, request, tier, scope, release, kind, ready
):
    testimony = recorded(scope=scope, release=release, kind=kind)
    if rendition_plan(testimony) is not None:
        if ready:
            make_ready(testimony)
        else:
            Rendition.objects.create(
                testimony=testimony, state=rendition_plan(testimony).state
            )
    sign_in(client, request, tier)
    offered = may_hear(tier, scope, release, kind, "pseudonym")

    response = client.get(page_of(testimony))

    if tier == "anonymous" and scope == "research":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    shown = media_of(response)
    body = response.content.decode()
    if offered == "none":
        assert shown == []
        assert PREPARING not in body
        assert "/media" not in body
        return
    if not ready:
        assert shown == []
        assert PREPARING in body
        assert "/media" not in body
        return
    assert PREPARING not in body
    [player] = shown
    # The kind is the rendition's: the sound alone of a video released as audio.
    picture = offered == "audio_video" and kind == "video"
    assert player["tag"] == ("video" if picture else "audio")
    assert "controls" in player
    assert player["preload"] == "metadata"
    [source] = player["sources"]
    assert source["src"] == reverse("testimonies:media", args=[testimony.slug])
    rendition = Rendition.objects.get(testimony=testimony)
    assert source["type"] == rendition.content_type
    [track] = player["tracks"]
    assert track["kind"] == "captions"
    assert track["src"] == reverse("testimonies:captions", args=[testimony.slug])
    assert track["srclang"] == testimony.language
    assert track["label"]
    assert "default" in track


def test_an_anonymous_narrators_video_plays_as_its_sound_alone(client):
    testimony = recorded(
        kind="video", narrator=NarratorFactory(identity=Narrator.Identity.ANONYMOUS)
    )
    make_ready(testimony)

    [player] = media_of(client.get(page_of(testimony)))

    assert player["tag"] == "audio"
    assert player["sources"][0]["type"].startswith("audio/")


def test_a_ready_rendition_of_a_former_state_gives_no_player(client):
    testimony = recorded()
    stored_rendition(testimony, b"stale", state="0" * 64)

    response = client.get(page_of(testimony))

    assert media_of(response) == []
    assert PREPARING in response.content.decode()


def test_a_failed_rendition_says_it_is_being_prepared_and_shows_no_player(client):
    testimony = recorded()
    Rendition.objects.create(
        testimony=testimony,
        state=rendition_plan(testimony).state,
        status=Rendition.Status.FAILED,
    )

    response = client.get(page_of(testimony))

    assert media_of(response) == []
    assert PREPARING in response.content.decode()


def test_the_notice_is_in_english_under_en(client):
    testimony = recorded()

    response = client.get("/en" + page_of(testimony))

    assert "being prepared" in response.content.decode()


def test_the_player_is_in_english_under_en(client):
    testimony = recorded()
    make_ready(testimony)

    response = client.get("/en" + page_of(testimony))

    [player] = media_of(response)
    assert player["sources"][0]["src"] == f"/en/testimonies/{testimony.slug}/media"
    assert (
        player["tracks"][0]["src"] == f"/en/testimonies/{testimony.slug}/captions.vtt"
    )


@pytest.mark.parametrize("hidden", ["withdrawn", "paused", "retired", "draft"])
def test_a_withdrawn_or_hidden_testimony_has_no_page_and_no_player(client, hidden):
    narrator = NarratorFactory(identity=Narrator.Identity.PSEUDONYM)
    testimony = recorded(narrator=narrator)
    make_ready(testimony)
    assert media_of(client.get(page_of(testimony)))
    if hidden == "withdrawn":
        ConsentRecord.objects.create(
            testimony=testimony,
            scope=ConsentRecord.Scope.WITHDRAWN,
            media=ConsentRecord.MediaRelease.NONE,
            given_on=testimony.consent_records.get().given_on,
        )
    elif hidden == "paused":
        NarratorRequestFactory(narrator=narrator, kind="pause")
    else:
        testimony.__class__.objects.filter(pk=testimony.pk).update(status=hidden)

    response = client.get(page_of(testimony))

    assert response.status_code == 404
    assert "/media" not in response.content.decode()
    assert (
        client.get(reverse("testimonies:media", args=[testimony.slug])).status_code
        == 404
    )


def test_the_player_sits_behind_the_content_warning_with_the_transcript(client):
    testimony = recorded(content_warnings=["accident"])
    make_ready(testimony)

    body = client.get(page_of(testimony)).content.decode()

    behind = re.search(r'<details class="behind-warning".*?</details>', body, re.S)
    assert behind is not None
    assert "<audio" in behind.group(0)
    assert 'class="transcript"' in behind.group(0)
    assert "<audio" not in body.replace(behind.group(0), "")


def test_each_segment_time_is_a_link_reachable_by_the_keyboard(client):
    testimony = recorded()
    make_ready(testimony)

    body = client.get(page_of(testimony)).content.decode()

    link = re.search(r'<a class="time" href="#t=0:00"[^>]*>0:00</a>', body)
    assert link is not None
    assert "tabindex" not in link.group(0)
