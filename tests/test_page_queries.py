"""Each public page asks the database a fixed number of queries, whatever the
number of testimonies, segments or hits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from testimonies import services
from testimonies.media.plan import rendition_plan
from testimonies.models import Narrator, Rendition, Testimony

from .factories import (
    EpisodeFactory,
    JobTypeFactory,
    NarratorFactory,
    TestimonyFactory,
    ThemeFactory,
)
from .media.archive import stand_in_original

pytestmark = pytest.mark.django_db


@pytest.fixture
def taxonomy():
    return {
        "job_type": JobTypeFactory(slug="courier"),
        "theme": ThemeFactory(slug="pay"),
        "episode": EpisodeFactory(slug="episode-1", number=1),
    }


def add_testimonies(taxonomy, count: int, segments: int, start: int = 0) -> None:
    narrator = Narrator.objects.filter(slug="karim").first() or NarratorFactory(
        slug="karim", public_name="Karim"
    )
    narrator.job_types.add(taxonomy["job_type"], JobTypeFactory())
    for number in range(start, start + count):
        testimony = TestimonyFactory(
            slug=f"t-{number}",
            published=True,
            consent="public",
            narrator=narrator,
            content_warnings=["violence"],
        )
        testimony.themes.add(taxonomy["theme"], ThemeFactory())
        services.appearance_add(
            testimony=testimony, episode=taxonomy["episode"], start=1, end=2
        )
        services.appearance_add(
            testimony=testimony, episode=EpisodeFactory(), start=3, end=4
        )
        for position in range(segments):
            services.segment_create(
                testimony=testimony,
                start=60 * position,
                end=60 * position + 59,
                speaker="narrator",
                text=f"La plateforme, passage {position}.",
            )


def queries(client, url) -> int:
    client.get(url)  # sessions, caches and the like, once
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def urls(taxonomy):
    episode = taxonomy["episode"]
    return [
        reverse("testimonies:home"),
        reverse("testimonies:search"),
        reverse("testimonies:search") + "?q=plateforme",
        reverse("testimonies:detail", args=["t-0"]),
        reverse("testimonies:captions", args=["t-0"]),
        reverse("testimonies:transcript", args=["t-0"]),
        reverse("testimonies:theme", args=["pay"]),
        reverse("testimonies:job_type", args=["courier"]),
        reverse("testimonies:episode", args=[episode.series.slug, episode.slug]),
        reverse("testimonies:narrator", args=["karim"]),
        reverse("testimonies:about"),
    ]


def give_media(testimony, status) -> None:
    """The testimony's media offered, its rendition ``status`` (none: no row)."""
    stand_in_original(testimony)
    if status is not None:
        Rendition.objects.create(
            testimony=testimony,
            state=rendition_plan(testimony).state,
            status=status,
            name="t-0.ogg",
            kind="audio",
            content_type="audio/ogg; codecs=opus",
        )


@pytest.mark.parametrize(
    "media", [None, "player", "preparing"], ids=["no-media", "player", "preparing"]
)
@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_asks_as_many_queries_for_a_large_archive_as_for_a_small_one(
    client, taxonomy, researcher, signed_in, media
):
    if signed_in:
        client.force_login(researcher)
    add_testimonies(taxonomy, count=1, segments=2)
    if media is not None:
        give_media(
            Testimony.objects.get(slug="t-0"),
            Rendition.Status.READY if media == "player" else None,
        )
    small = {url: queries(client, url) for url in urls(taxonomy)}
    # Many more testimonies, each longer, more themes, job types and episodes,
    # and the testimony shown longer too.
    add_testimonies(taxonomy, count=25, segments=6, start=1)
    longer = Testimony.objects.get(slug="t-0")
    longer.themes.add(*(ThemeFactory() for _ in range(5)))
    longer.narrator.job_types.add(*(JobTypeFactory() for _ in range(5)))
    for _ in range(5):
        services.appearance_add(
            testimony=longer, episode=EpisodeFactory(), start=5, end=6
        )
    for position in range(2, 40):
        services.segment_create(
            testimony=longer,
            start=60 * position,
            end=60 * position + 59,
            speaker="narrator",
            text=f"La plateforme, encore {position}.",
        )
    large = {url: queries(client, url) for url in urls(taxonomy)}
    assert large == small
    page = client.get(reverse("testimonies:detail", args=["t-0"])).content.decode()
    assert ("<audio" in page) is (media == "player")
    assert ("en cours de préparation" in page) is (media == "preparing")
