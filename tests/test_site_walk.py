"""Every page of the site, walked through Django's URL resolver over an archive
holding every state that hides a testimony: nothing hidden appears anywhere.

The walk reads the URL patterns themselves, so that a new page cannot be
forgotten: a pattern whose parameters the walk cannot fill fails the test
until it learns them.
"""

import datetime as dt
import html
import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from testimonies import services
from testimonies.models import Episode, JobType, Narrator, Testimony, Theme

from .factories import (
    EpisodeFactory,
    JobTypeFactory,
    NarratorFactory,
    NarratorRequestFactory,
    TestimonyFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

# Patterns the public walk leaves out, each for its reason.
NOT_PUBLIC = {
    # The curators' workspace: every page asks staff to sign in first.
    "admin",
    # Pages reached with a one-time token sent by e-mail.
    "password_reset_confirm",
}
MARK = re.compile(r"\bzq[a-z]+")
# Random per response, and so able to hold a marker's letters by chance.
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def patterns(resolver=None, namespace=None):
    """(name as reversed, parameter names) of every page of the site."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if inner in NOT_PUBLIC:
                continue
            yield from patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name not in NOT_PUBLIC:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, tuple(sorted(pattern.pattern.converters))


def fillings() -> dict[tuple[str, ...], list[dict]]:
    """Every value each set of parameters can take in the archive, and one that
    names nothing."""
    testimonies = [*Testimony.objects.values_list("slug", flat=True), "missing"]
    return {
        (): [{}],
        ("slug", "testimony"): [{"slug": slug} for slug in testimonies],
        ("slug", "theme"): [
            {"slug": slug}
            for slug in [*Theme.objects.values_list("slug", flat=True), "missing"]
        ],
        ("slug", "job type"): [
            {"slug": slug}
            for slug in [*JobType.objects.values_list("slug", flat=True), "missing"]
        ],
        ("episode", "series"): [
            {"series": e.series.slug, "episode": e.slug}
            for e in Episode.objects.select_related("series")
        ]
        + [{"series": "missing", "episode": "missing"}],
        ("slug", "narrator"): [
            {"slug": slug}
            for slug in [
                *Narrator.objects.exclude(slug="").values_list("slug", flat=True),
                # The internal keys of every narrator, the anonymous ones too.
                *Narrator.objects.values_list("key", flat=True),
                "missing",
            ]
        ],
    }


def what_it_names(name: str) -> str:
    return {
        "testimonies:theme": "theme",
        "testimonies:job_type": "job type",
        "testimonies:narrator": "narrator",
    }.get(name, "testimony")


def site_urls() -> list[str]:
    filled = fillings()
    urls = []
    for name, parameters in patterns():
        key = parameters if len(parameters) != 1 else (*parameters, what_it_names(name))
        assert key in filled, f"the walk cannot fill {name}{parameters}: teach it"
        for language in ("fr", "en"):
            with translation.override(language):
                urls += [reverse(name, kwargs=kwargs) for kwargs in filled[key]]
    return urls


@pytest.fixture
def archive(db):
    """Testimonies in every state, each with its own marker words; the
    markers of what is hidden must never be read by the public."""
    now = timezone.now()
    job_type = JobTypeFactory(slug="moderation")
    theme = ThemeFactory(slug="trauma")
    episode = EpisodeFactory(slug="episode-3", number=3)
    paused = NarratorFactory(slug="paused-narrator", public_name="zqpauspseudo")
    NarratorRequestFactory(narrator=paused, kind="pause")
    states = {
        "public": {"consent": "public"},
        "research": {"consent": "research"},
        "archive": {"consent": ["public", "archive"]},
        "withdrawn": {"consent": ["public", "withdrawn"]},
        "noconsent": {},
        "draft": {"consent": "public", "published": False},
        "review": {"consent": "public", "published": False, "status": "in_review"},
        "retired": {"consent": "public", "status": "retired"},
        "embargo": {"consent": "public", "embargo_until": now + dt.timedelta(days=9)},
        "paused": {"consent": "public", "narrator": paused},
    }
    made = {}
    for state, fields in states.items():
        word = f"zq{state[:4]:a<4}"
        identity = fields.pop("identity", Narrator.Identity.PSEUDONYM)
        narrator = fields.pop("narrator", None) or NarratorFactory(
            slug=f"narrator-{state}",
            public_name=f"{word}pseudo",
            identity=identity,
            legal_name=f"{word}legal Surname",
            contact=f"{word}contact@example.org",
            private_notes=f"{word}notes",
        )
        narrator.job_types.add(job_type)
        testimony = TestimonyFactory(
            **{"published": True, **fields},
            slug=f"testimony-{state}",
            title=f"{word}title",
            summary=f"{word}summary",
            narrator=narrator,
            curator_notes=f"{word}curator",
            media=f"testimonies/{word}original.ogg",
            media_kind="audio",
        )
        testimony.themes.add(theme)
        segment = services.segment_create(
            testimony=testimony,
            start=0,
            end=60,
            speaker="narrator",
            text=f"{word}passage et {word}redacted",
        )
        services.segment_redact(
            segment=segment,
            start=len(f"{word}passage et "),
            end=len(segment.text),
            reason="person",
        )
        services.appearance_add(testimony=testimony, episode=episode, start=1, end=2)
        made[state] = word
    # An anonymous narrator's internal label is never shown, not even with a
    # public testimony.
    anonymous = NarratorFactory(
        identity=Narrator.Identity.ANONYMOUS, public_name="zqanonlabel", slug=""
    )
    anonymous.job_types.add(job_type)
    TestimonyFactory(
        slug="testimony-anonymous", published=True, consent="public", narrator=anonymous
    )
    return made


# What of a testimony its visitors may read, and what no one outside staff may.
READABLE = ("title", "summary", "passage", "pseudo")
NEVER = ("redacted", "legal", "contact", "notes", "curator", "original", "anonlabel")


def read_everything(client) -> dict[str, str]:
    bodies = {}
    for url in site_urls():
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        bodies[url] = CSRF_TOKEN.sub("", response.content.decode())
    # Search results and facets, with every marker asked for.
    words = " or ".join(
        f"zq{state}{part}"
        for state in ("publ", "rese", "arch", "with", "paus")
        for part in (*READABLE, *NEVER)
    )
    for query in ("", words, "passage", "redacted"):
        body = client.get(reverse("testimonies:search"), {"q": query}).content
        # The visitor's own query is echoed back, in the box and in the page's
        # address in the other language: that is not the archive's to hide.
        echoes = (html.escape(query), urlencode({"q": query}), quote(query))
        text = CSRF_TOKEN.sub("", body.decode())
        for echo in echoes:
            text = text.replace(echo, "")
        bodies[f"search {query!r}"] = text
    return bodies


def markers_read(bodies: dict[str, str]) -> set[str]:
    return {
        (url, marker) for url, body in bodies.items() for marker in MARK.findall(body)
    }


@pytest.mark.parametrize("tier", ["public", "researcher"])
def test_no_page_shows_anything_hidden(archive, tier, researcher):
    client = Client()
    if tier == "researcher":
        client.force_login(researcher)
    visible = {"public"} | ({"research"} if tier == "researcher" else set())
    allowed = {f"{archive[state]}{part}" for state in visible for part in READABLE}

    bodies = read_everything(client)

    read = markers_read(bodies)
    assert sorted((url, m) for url, m in read if m not in allowed) == []
    # And the walk did read what may be read: the pages are not empty.
    assert {m for _url, m in read} == allowed


def test_the_walk_reads_every_kind_of_page(archive):
    names = {name for name, _parameters in patterns()}
    assert {
        "testimonies:home",
        "testimonies:search",
        "testimonies:detail",
        "testimonies:captions",
        "testimonies:transcript",
        "testimonies:theme",
        "testimonies:job_type",
        "testimonies:episode",
        "testimonies:narrator",
        "testimonies:request",
    } <= names
