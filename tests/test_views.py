"""The public pages: what each visitor sees, and what a hidden testimony answers."""

import datetime as dt
import re
from html import escape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from testimonies import services
from testimonies.models import NarratorRequest, Segment, Testimony

from .factories import (
    NarratorFactory,
    NarratorRequestFactory,
    SegmentFactory,
    TestimonyFactory,
)

MISSING_SLUG = "no-such-testimony"


@pytest.fixture
def archive(db):
    """One testimony per state that matters to a visitor, by name."""
    future = timezone.now() + dt.timedelta(days=30)
    paused = NarratorFactory()
    NarratorRequestFactory(narrator=paused, kind="pause")
    specs = {
        "public": {"consent": "public"},
        "research": {"consent": "research"},
        "draft": {"consent": "public", "published": False},
        "withdrawn": {"consent": ["public", "withdrawn"]},
        "embargoed": {"consent": "public", "embargo_until": future},
        "paused": {"consent": "public", "narrator": paused},
    }
    return {
        name: TestimonyFactory(
            **{"published": True, **spec},
            slug=f"{name}-testimony",
            title=f"Récit {name} du travail du clic",
        )
        for name, spec in specs.items()
    }


def titles_shown(response, testimonies) -> set[str]:
    body = response.content.decode()
    return {name for name, t in testimonies.items() if escape(t.title) in body}


def test_home_lists_exactly_the_testimonies_visible_to_anonymous(client, archive):
    response = client.get("/")

    assert response.status_code == 200
    assert titles_shown(response, archive) == {"public"}


def test_home_lists_research_only_testimonies_for_researchers(
    client, archive, researcher
):
    client.force_login(researcher)

    response = client.get("/")

    assert titles_shown(response, archive) == {"public", "research"}


def test_detail_of_a_visible_testimony_answers_200_with_its_title(client, archive):
    response = client.get("/testimonies/public-testimony/")

    assert response.status_code == 200
    assert escape(archive["public"].title) in response.content.decode()


def test_detail_of_a_research_only_testimony_answers_200_to_a_researcher(
    client, archive, researcher
):
    client.force_login(researcher)

    response = client.get("/testimonies/research-testimony/")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "name", ["draft", "research", "withdrawn", "embargoed", "paused"]
)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_hidden_testimony_answers_exactly_like_one_that_does_not_exist(
    client, archive, name, prefix
):
    testimony = archive[name]
    missing = client.get(f"{prefix}/testimonies/{MISSING_SLUG}/")

    response = client.get(f"{prefix}/testimonies/{testimony.slug}/")

    assert response.status_code == missing.status_code == 404
    assert response.content.replace(
        testimony.slug.encode(), b"<slug>"
    ) == missing.content.replace(MISSING_SLUG.encode(), b"<slug>")
    assert escape(testimony.title) not in response.content.decode()


@pytest.mark.django_db
def test_detail_shows_public_text_and_never_the_redacted_words(client):
    testimony = TestimonyFactory(published=True, consent="public")
    segment = SegmentFactory(
        testimony=testimony, text="Mon chef Marcel notait chaque course."
    )
    redaction = services.segment_redact(
        segment=segment, start=9, end=15, reason="person"
    )

    response = client.get(testimony.get_absolute_url())

    body = response.content.decode()
    assert response.status_code == 200
    assert "Marcel" not in body
    assert escape(redaction.label) in body
    assert escape(Segment.objects.get(pk=segment.pk).public_text) in body


def without_csrf_token(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


@pytest.mark.django_db
def test_a_request_answers_the_same_whatever_the_code():
    narrator = NarratorFactory()
    code = services.narrator_reference_code_reset(narrator=narrator)
    TestimonyFactory(published=True, consent="public", narrator=narrator)
    data = {"kind": "withdraw", "message": "Je ne veux plus être en ligne."}

    known = Client(enforce_csrf_checks=False).post(
        "/requests/", {**data, "reference_code": code}
    )
    unknown = Client(enforce_csrf_checks=False).post(
        "/requests/", {**data, "reference_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"}
    )

    assert known.status_code == unknown.status_code == 200
    assert without_csrf_token(known.content) == without_csrf_token(unknown.content)
    assert sorted(known.headers.items()) == sorted(unknown.headers.items())
    assert sorted(known.cookies) == sorted(unknown.cookies)


@pytest.mark.django_db
def test_a_withdraw_request_hides_the_narrators_testimonies_on_the_next_request(
    client,
):
    narrator = NarratorFactory()
    code = services.narrator_reference_code_reset(narrator=narrator)
    own = [
        TestimonyFactory(published=True, consent="public", narrator=narrator)
        for _ in range(2)
    ]
    other = TestimonyFactory(published=True, consent="public")
    testimonies = {t.slug: t for t in [*own, other]}
    assert titles_shown(client.get("/"), testimonies) == set(testimonies)

    client.post("/requests/", {"reference_code": code, "kind": "withdraw"})

    assert titles_shown(client.get("/"), testimonies) == {other.slug}
    for testimony in own:
        assert client.get(testimony.get_absolute_url()).status_code == 404
    assert client.get(other.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_a_request_with_an_unknown_code_hides_nothing(client, anonymous):
    testimony = TestimonyFactory(published=True, consent="public")

    client.post(
        "/requests/", {"reference_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "kind": "withdraw"}
    )

    assert client.get(testimony.get_absolute_url()).status_code == 200
    assert Testimony.objects.visible_to(anonymous).count() == 1


@pytest.mark.django_db
def test_french_is_the_default_language_and_english_is_under_en(client):
    french = client.get("/")
    english = client.get("/en/")

    assert french.status_code == english.status_code == 200
    assert '<html lang="fr">' in french.content.decode()
    assert '<html lang="en">' in english.content.decode()
    assert "<h1>Archive des témoignages des travailleurs du clic</h1>" in (
        french.content.decode()
    )
    assert "<h1>Archive of click workers' testimonies</h1>" in (
        english.content.decode().replace("&#x27;", "'")
    )


def test_healthz_answers_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"


def test_home_page_shows_the_latest_and_leads_to_all_of_them(client, db):
    for number in range(8):
        TestimonyFactory(
            slug=f"page-{number:02d}",
            title=f"Titre {number:02d}",
            published=True,
            published_at=dt.datetime(2024, 1, 1 + number, tzinfo=dt.UTC),
            consent="public",
        )
    home = client.get("/").content.decode()
    assert home.count('class="testimony-card"') == 6
    # The most recent first; the two oldest are a link away.
    assert home.index("Titre 07") < home.index("Titre 02")
    assert "Titre 01" not in home
    assert f'href="{reverse("testimonies:search")}">Les 8 témoignages' in home


@pytest.mark.django_db
def test_requests_are_limited_per_client_and_a_limited_one_records_nothing(
    client, settings
):
    settings.ARCHIVE_REQUEST_RATE = "3/h"
    data = {"reference_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "kind": "pause"}
    answers = [client.post("/requests/", data).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    assert NarratorRequest.objects.count() == 3

    limited = client.post("/requests/", data)

    assert limited.status_code == 429
    assert NarratorRequest.objects.count() == 3
    # Another client is not held back by this one.
    other = client.post("/requests/", data, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200


@pytest.mark.django_db
def test_a_limited_request_answers_the_same_whatever_the_code(client, settings):
    settings.ARCHIVE_REQUEST_RATE = "1/h"
    code = services.narrator_reference_code_reset(narrator=NarratorFactory())
    client.post("/requests/", {"reference_code": code, "kind": "withdraw"})
    known = client.post("/requests/", {"reference_code": code, "kind": "withdraw"})
    unknown = client.post(
        "/requests/", {"reference_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "kind": "withdraw"}
    )
    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content
