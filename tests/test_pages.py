"""The public site's pages: themes, job types, episodes, narrators, the testimony
page and its transcripts, the pages about the archive, in both languages."""

import datetime as dt
from html import escape

import pytest
from django.urls import reverse
from django.utils import translation

from testimonies import services
from testimonies.models import Narrator
from testimonies.timecodes import timecode

from .factories import (
    EpisodeFactory,
    JobTypeFactory,
    NarratorFactory,
    SegmentFactory,
    TestimonyFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy():
    return {
        "job_type": JobTypeFactory(slug="moderator", name_fr="Modératrice"),
        "theme": ThemeFactory(slug="trauma", name_fr="Traumatisme"),
        "episode": EpisodeFactory(slug="les-moderateurs", number=3),
    }


@pytest.fixture
def archive(taxonomy):
    """Two testimonies of one narrator under every way in: one public, one
    research-only, and a draft; each with the job type, theme and episode."""
    narrator = NarratorFactory(slug="lina", public_name="Lina")
    narrator.job_types.set([taxonomy["job_type"]])
    made = {}
    for name, fields in {
        "public": {"consent": "public"},
        "research": {"consent": "research"},
        "draft": {"consent": "public", "published": False},
    }.items():
        testimony = TestimonyFactory(
            **{"published": True, **fields},
            slug=f"{name}-testimony",
            title=f"Récit {name}",
            narrator=narrator,
        )
        testimony.themes.set([taxonomy["theme"]])
        services.appearance_add(
            testimony=testimony, episode=taxonomy["episode"], start=62, end=75
        )
        made[name] = testimony
    return made


def shown(response, archive) -> set[str]:
    body = response.content.decode()
    return {name for name, t in archive.items() if escape(t.title) in body}


def pages(taxonomy):
    episode = taxonomy["episode"]
    return {
        "theme": reverse("testimonies:theme", args=["trauma"]),
        "job type": reverse("testimonies:job_type", args=["moderator"]),
        "episode": reverse(
            "testimonies:episode", args=[episode.series.slug, episode.slug]
        ),
        "narrator": reverse("testimonies:narrator", args=["lina"]),
    }


@pytest.mark.parametrize("page", ["theme", "job type", "episode", "narrator"])
def test_a_way_in_lists_the_testimonies_its_visitor_may_see(
    client, archive, taxonomy, researcher, page
):
    url = pages(taxonomy)[page]
    assert shown(client.get(url), archive) == {"public"}
    client.force_login(researcher)
    assert shown(client.get(url), archive) == {"public", "research"}


def test_an_unknown_theme_job_type_or_episode_answers_404(client, db):
    for url in (
        reverse("testimonies:theme", args=["nothing"]),
        reverse("testimonies:job_type", args=["nothing"]),
        reverse("testimonies:episode", args=["no-series", "no-episode"]),
    ):
        assert client.get(url).status_code == 404


def test_an_anonymous_narrator_has_no_page(client, db):
    # Even a narrator record that somehow holds a slug: no page, ever.
    narrator = NarratorFactory(identity=Narrator.Identity.PSEUDONYM, slug="ano")
    TestimonyFactory(narrator=narrator, published=True, consent="public")
    Narrator.objects.filter(pk=narrator.pk).update(
        identity=Narrator.Identity.ANONYMOUS, slug=""
    )
    assert client.get(reverse("testimonies:narrator", args=["ano"])).status_code == 404


def test_a_narrator_with_nothing_visible_has_no_page(client, archive, researcher):
    url = reverse("testimonies:narrator", args=["lina"])
    archive["public"].consent_records.update(scope="research")
    assert client.get(url).status_code == 404
    client.force_login(researcher)
    assert client.get(url).status_code == 200


def test_an_anonymous_narrator_cannot_be_given_a_page(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        NarratorFactory(identity=Narrator.Identity.ANONYMOUS, slug="someone")


def test_the_gate_reads_a_narrators_slug_like_their_name(db):
    narrator = NarratorFactory(legal_name="Paul Quennec", slug="paul-quennec")
    testimony = TestimonyFactory(narrator=narrator, consent="public")
    with pytest.raises(services.PublicationRefused) as caught:
        services.testimony_publish(testimony=testimony)
    assert [hit.place for hit in caught.value.hits] == ["narrator.slug"]


def test_the_episode_page_lists_who_is_seen_and_when(client, archive, taxonomy):
    body = client.get(pages(taxonomy)["episode"]).content.decode()
    assert "1:02–1:15" in body


# --- The testimony page ------------------------------------------------------


@pytest.fixture
def long_testimony(db):
    testimony = TestimonyFactory(
        slug="deux-heures",
        published=True,
        consent="public",
        content_warnings=["violence"],
        recorded_on=dt.date(2021, 3, 9),
    )
    for position, start in enumerate((0, 61.5, 3723)):
        SegmentFactory(
            testimony=testimony,
            position=position,
            start=start,
            end=start + 30,
            text=f"Passage {position} <b>gras</b> & fin",
        )
    return testimony


def test_times_read_as_clock_times_never_as_seconds(client, long_testimony):
    body = client.get(long_testimony.get_absolute_url()).content.decode()
    for shown_as in ("0:00", "1:01", "1:02:03"):
        assert f'id="t={shown_as}"' in body
        assert f'href="#t={shown_as}"' in body
    assert " s</span>" not in body


@pytest.mark.parametrize(
    "seconds, expected",
    [(0, "0:00"), (59.99, "0:59"), (60, "1:00"), (3599, "59:59"), (3600, "1:00:00")],
)
def test_timecode(seconds, expected):
    assert timecode(seconds) == expected


@pytest.mark.parametrize("value", [None, "x", -1, float("nan"), float("inf")])
def test_timecode_of_nothing_readable_is_empty(value):
    assert timecode(value) == ""


def test_content_warnings_come_before_the_transcript_behind_a_step(
    client, long_testimony
):
    body = client.get(long_testimony.get_absolute_url()).content.decode()
    warning = body.index("violence")
    step = body.index('<details class="behind-warning"')
    assert warning < step < body.index('class="transcript"')


def test_a_testimony_without_warnings_shows_its_transcript_at_once(client, db):
    testimony = TestimonyFactory(published=True, consent="public")
    SegmentFactory(testimony=testimony)
    body = client.get(testimony.get_absolute_url()).content.decode()
    assert "<details" not in body
    assert 'class="transcript"' in body


def test_the_citation_gives_the_permanent_address_in_either_language(
    client, long_testimony
):
    french = client.get(long_testimony.get_absolute_url()).content.decode()
    with translation.override("en"):
        english_url = long_testimony.get_absolute_url()
    english = client.get(english_url).content.decode()
    permanent = "http://testserver/testimonies/deux-heures/"
    assert english_url.startswith("/en/")
    assert f'<a href="{permanent}">{permanent}</a>' in french
    assert f'<a href="{permanent}">{permanent}</a>' in english
    assert "9 mars 2021" in french
    assert "March 9, 2021" in english


def test_the_webvtt_transcript_is_made_of_public_text(client, long_testimony):
    segment = long_testimony.segments.get(position=1)
    services.segment_redact(segment=segment, start=0, end=7, reason="person")
    response = client.get(reverse("testimonies:captions", args=["deux-heures"]))
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    vtt = response.content.decode()
    assert vtt.startswith("WEBVTT\n\n")
    assert "00:01:01.500 --> 00:01:31.500\n<v narrateur>[nom retiré] 1" in vtt
    assert "01:02:03.000 --> 01:02:33.000" in vtt
    # The text's own markup is escaped, as a cue's text is markup.
    assert "&lt;b&gt;gras&lt;/b&gt; &amp; fin" in vtt
    assert "Passage 1" not in vtt


def test_the_text_transcript_is_made_of_public_text(client, long_testimony):
    segment = long_testimony.segments.get(position=0)
    services.segment_redact(segment=segment, start=0, end=7, reason="person")
    response = client.get(reverse("testimonies:transcript", args=["deux-heures"]))
    text = response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "[0:00] narrateur\n[nom retiré] 0" in text
    assert "[1:02:03] narrateur\nPassage 2 <b>gras</b> & fin" in text
    assert "Passage 0" not in text


@pytest.mark.parametrize("name", ["captions", "transcript"])
def test_the_transcript_of_a_hidden_testimony_answers_404(client, name):
    hidden = TestimonyFactory(slug="cachee", published=True, consent="research")
    SegmentFactory(testimony=hidden)
    assert (
        client.get(reverse(f"testimonies:{name}", args=["cachee"])).status_code == 404
    )


# --- Two languages -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["home", "search", "about", "ethics", "consent", "request"]
)
def test_every_page_offers_itself_in_the_other_language(client, db, name):
    url = reverse(f"testimonies:{name}")
    body = client.get(url).content.decode()
    with translation.override("en"):
        english = reverse(f"testimonies:{name}")
    assert (
        f'<link rel="alternate" hreflang="en" href="http://testserver{english}">'
        in (body)
    )
    assert f'href="http://testserver{english}" hreflang="en" lang="en">English</a>' in (
        body
    )
    back = client.get(english).content.decode()
    assert f'href="http://testserver{url}" hreflang="fr" lang="fr">Français</a>' in (
        back
    )


def test_the_language_switch_keeps_the_query(client, db):
    body = client.get("/testimonies/", {"q": "pluie", "page": "2"}).content.decode()
    assert 'href="http://testserver/en/testimonies/?q=pluie&amp;page=2"' in body


@pytest.mark.parametrize("name", ["about", "ethics", "consent"])
def test_the_pages_about_the_archive_speak_both_languages(client, db, name):
    french = client.get(reverse(f"testimonies:{name}")).content.decode()
    with translation.override("en"):
        english = client.get(reverse(f"testimonies:{name}")).content.decode()
    assert '<html lang="fr">' in french and '<html lang="en">' in english
    heading = {"about": "À propos", "ethics": "Éthique", "consent": "consentement"}
    assert heading[name] in french
    assert heading[name] not in english
