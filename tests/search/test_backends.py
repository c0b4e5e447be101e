"""The search's contract (testimonies/search/): one suite, run on each backend.

Wagtail's shape: ``BackendContract`` holds the tests and is not collected (only
``*Tests`` classes are); a subclass per engine runs them where the test
database is that engine, so each CI run proves its own backend. Archives are
built through the services, which keep the index; what a search must find comes
from the archive's description written here, never from ``visible_to`` or the
index itself.
"""

import datetime as dt
import json
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from testimonies import search, services
from testimonies.importers.bundle import bundle_import_file
from testimonies.importers.validate import BundleError
from testimonies.models import (
    Episode,
    JobType,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
)
from testimonies.querysets import Tier
from testimonies.search import FACETS, Filters, SearchResults

from ..factories import (
    NarratorFactory,
    TestimonyFactory,
    UserFactory,
    indexed_testimony,
)
from .index import assert_index_exact, index_expected, index_held

pytestmark = pytest.mark.django_db

# --- The archive every contract test searches ----------------------------------

JOB_TYPES = {
    "courier": ("Livreur", "Courier"),
    "data-labeller": ("Annotateur de données", "Data labeller"),
    "rater": ("Évaluateur de recherche", "Search quality rater"),
}
THEMES = {
    "trauma": ("Traumatisme", "Trauma"),
    "piecework": ("Paie à la tâche", "Piecework pay"),
    "unions": ("Syndicats", "Unions"),
    "surveillance": ("Surveillance", "Surveillance"),
}
# key: public name, identity, country, job types
NARRATORS = {
    "lina": ("Lina", "pseudonym", "FR", ("data-labeller",)),
    "karim": ("Karim B.", "pseudonym", "FR", ("courier",)),
    "ines": ("Inès", "pseudonym", "BE", ("data-labeller",)),
    "sam": ("Sam Okafor", "named", "GB", ("rater",)),
    # An anonymous narrator's public name is an internal label, never public.
    "anon": ("Zephyrin Label", "anonymous", "KE", ("data-labeller", "rater")),
    "nadia": ("Nadia", "pseudonym", "FR", ("courier",)),
}
# The legal name every narrator of the factories has; never in any text here.
LEGAL_SURNAME = "Durandal"


def utc(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 10, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Spec:
    """A testimony of the archive, as the tests know it."""

    slug: str
    title: str
    narrator: str
    language: str
    segments: tuple[tuple[float, str, str], ...]  # start, speaker, text
    status: str = "published"
    consent: tuple[str, ...] = ("public",)
    release: str = "audio_video"
    media: bool = False
    published: dt.datetime | None = None
    recorded: dt.date | None = None
    place: str = ""
    themes: tuple[str, ...] = ()
    episodes: tuple[int, ...] = ()
    redact: tuple[tuple[int, str], ...] = ()  # segment position, word hidden
    embargoed: bool = False
    withdrawn: bool = False


NAR, ASK = "narrator", "interviewer"
SPECS = (
    Spec(
        "nuits-blanches",
        "Nuits blanches",
        "lina",
        "fr",
        (
            (3.5, ASK, "Comment avez-vous découvert la plateforme ?"),
            (12.5, NAR, "J'étais modérateur la nuit, payé au salaire minimum."),
            (47.0, NAR, "L'algorithme décidait de la prime."),
            (80.0, NAR, "L'algorithme, encore l'algorithme, toujours l'algorithme."),
        ),
        media=True,
        published=utc(2024, 5, 1),
        recorded=dt.date(2019, 6, 1),
        place="Paris",
        themes=("trauma",),
        episodes=(1,),
    ),
    Spec(
        "sous-la-pluie",
        "Sous la pluie",
        "karim",
        "fr",
        (
            (0.0, NAR, "Je livrais à vélo pour une plateforme, sous la pluie."),
            (30.0, NAR, "Le minimum ? Personne ne parlait de salaire."),
            (65.0, NAR, "L'algorithme et la prime, toujours ensemble."),
            (90.0, NAR, "Avant, j'étais MODERATEUR sur un forum, écrit sans accent."),
            (120.0, NAR, "Mon chef Zorglub me surveillait."),
        ),
        published=utc(2024, 4, 1),
        recorded=dt.date(2021, 3, 15),
        themes=("piecework", "unions"),
        episodes=(2,),
        redact=((4, "Zorglub"),),
    ),
    Spec(
        "labelling-in-nairobi",
        "Labelling in Nairobi",
        "anon",
        "en",
        (
            (0.0, NAR, "I labelled images for a scooter company, on a platform."),
            (25.0, ASK, "Did anyone ever see the client?"),
        ),
        consent=("research",),
        release="audio",
        media=True,
        published=utc(2024, 2, 15),
        recorded=dt.date(2018, 11, 20),
        themes=("trauma", "piecework"),
        episodes=(2,),
    ),
    Spec(
        "rating-search-results",
        "Rating search results",
        "sam",
        "en",
        (
            (0.0, NAR, "The platform sent tasks at night."),
            (20.0, ASK, "Was every platform task timed?"),
            (40.0, NAR, "I was a moderator before, then a rater."),
            (60.0, NAR, "The platform never explained, platform after platform."),
            (80.0, NAR, "On that platform, a scooter rider earned more."),
            (100.0, NAR, "My platform account was closed without a word."),
        ),
        # A media file, but a consent that releases none of it.
        release="none",
        media=True,
        published=utc(2024, 3, 1),
        recorded=dt.date(2009, 7, 1),
        themes=("surveillance",),
        episodes=(1,),
    ),
    Spec(
        # Published at the same moment as sous-la-pluie, and created after it.
        "le-syndicat",
        "Le syndicat",
        "lina",
        "fr",
        (
            (
                0.0,
                NAR,
                "Nous, les modérateurs, avons créé un syndicat sur la plateforme.",
            ),
        ),
        release="audio",
        media=True,
        published=utc(2024, 4, 1),
        recorded=dt.date(2022, 9, 9),
        themes=("unions",),
    ),
    Spec(
        "ecrire-vite",
        "Écrire vite",
        "ines",
        "fr",
        (
            (
                0.0,
                NAR,
                "Ecrit sans accents : les moderateurs de nuit, <3 & la plateforme.",
            ),
        ),
        published=utc(2024, 1, 15),
    ),
    # What the public and researchers never find: each has a word of its own.
    Spec(
        "ebauche",
        "Ébauche",
        "karim",
        "fr",
        ((0.0, NAR, "Une ébauche sur la plateforme et le vélo."),),
        status="draft",
        recorded=dt.date(2023, 2, 1),
    ),
    Spec(
        "archive-seule",
        "Archive seule",
        "lina",
        "fr",
        ((0.0, NAR, "Archivage de la plateforme."),),
        consent=("public", "archive"),
        published=utc(2023, 12, 1),
    ),
    Spec(
        "embargoed",
        "Embargoed",
        "sam",
        "en",
        ((0.0, NAR, "An embargoed story about the platform."),),
        published=utc(2024, 6, 1),
        embargoed=True,
    ),
    Spec(
        "retiree",
        "Retirée",
        "karim",
        "fr",
        ((0.0, NAR, "Une retraite loin de la plateforme."),),
        status="retired",
        published=utc(2023, 11, 1),
    ),
    Spec(
        "retrait",
        "Retrait",
        "ines",
        "fr",
        ((0.0, NAR, "Une rétractation sur la plateforme."),),
        published=utc(2023, 10, 1),
        withdrawn=True,
    ),
    Spec(
        # Its narrator asked for a pause, still pending.
        "en-pause",
        "En pause",
        "nadia",
        "fr",
        ((0.0, NAR, "Un compte suspendu par la plateforme."),),
        published=utc(2023, 9, 1),
    ),
)
SPEC = {spec.slug: spec for spec in SPECS}
OWN_WORDS = {
    "labelling-in-nairobi": "nairobi",
    "ebauche": "ébauche",
    "archive-seule": "archivage",
    "embargoed": "embargoed",
    "retiree": "retraite",
    "retrait": "rétractation",
    "en-pause": "suspendu",
}

PUBLIC = {
    "nuits-blanches",
    "sous-la-pluie",
    "rating-search-results",
    "le-syndicat",
    "ecrire-vite",
}
RESEARCH = PUBLIC | {"labelling-in-nairobi"}
# Staff see every testimony, and the index keeps all but retired and withdrawn
# ones: what staff find by words.
STAFF_FINDS = RESEARCH | {"ebauche", "archive-seule", "embargoed", "en-pause"}
EVERY = STAFF_FINDS | {"retiree", "retrait"}
FINDABLE = {Tier.PUBLIC: PUBLIC, Tier.RESEARCHER: RESEARCH, Tier.STAFF: STAFF_FINDS}
LISTED = {Tier.PUBLIC: PUBLIC, Tier.RESEARCHER: RESEARCH, Tier.STAFF: EVERY}
TIERS = (Tier.PUBLIC, Tier.RESEARCHER, Tier.STAFF)
# Most recently published first, then the higher id; never published last.
RECENCY = [
    "embargoed",
    "nuits-blanches",
    "le-syndicat",
    "sous-la-pluie",
    "rating-search-results",
    "labelling-in-nairobi",
    "ecrire-vite",
    "archive-seule",
    "retiree",
    "retrait",
    "en-pause",
    "ebauche",
]
EVERYWHERE = "plateforme or platform"


@dataclass
class Archive:
    testimonies: dict[str, Testimony]
    segments: dict[tuple[str, int], Segment]
    narrators: dict[str, Narrator]
    codes: dict[str, str]


def build_archive(curator) -> Archive:
    """The archive of SPECS, built as curators build one: through the services."""
    jobs = {
        slug: JobType.objects.create(slug=slug, name_fr=fr, name_en=en)
        for slug, (fr, en) in JOB_TYPES.items()
    }
    themes = {
        slug: Theme.objects.create(slug=slug, name_fr=fr, name_en=en)
        for slug, (fr, en) in THEMES.items()
    }
    series = Series.objects.create(slug="invisibles", title="Invisibles")
    episodes = {
        number: Episode.objects.create(
            series=series,
            slug=f"episode-{number}",
            number=number,
            title=f"Épisode {number}",
        )
        for number in (1, 2)
    }
    narrators, codes = {}, {}
    for key, (public_name, identity, country, job_slugs) in NARRATORS.items():
        narrator = NarratorFactory(
            key=key, public_name=public_name, identity=identity, country=country
        )
        narrator.job_types.set([jobs[slug] for slug in job_slugs])
        codes[key] = services.narrator_reference_code_reset(narrator=narrator)
        narrators[key] = narrator
    testimonies, segments = {}, {}
    for spec in SPECS:
        testimony = TestimonyFactory(
            slug=spec.slug,
            title=spec.title,
            narrator=narrators[spec.narrator],
            language=spec.language,
            summary="",
            place=spec.place,
            recorded_on=spec.recorded,
            media=f"testimonies/{spec.slug}.mp3" if spec.media else "",
            media_kind="audio" if spec.media else "",
        )
        testimony.themes.set([themes[slug] for slug in spec.themes])
        # What the admin does when it saves a new testimony and its themes.
        services.search_reindex(testimony_ids=[testimony.pk])
        for position, (start, speaker, text) in enumerate(spec.segments):
            segments[spec.slug, position] = services.segment_create(
                testimony=testimony,
                start=start,
                end=start + 10,
                speaker=speaker,
                text=text,
            )
        for position, word in spec.redact:
            segment = segments[spec.slug, position]
            begin = segment.text.index(word)
            services.segment_redact(
                segment=segment,
                start=begin,
                end=begin + len(word),
                reason="third_party",
                by=curator,
            )
        for number in spec.episodes:
            services.appearance_add(
                testimony=testimony, episode=episodes[number], start=0, end=30
            )
        for days, scope in enumerate(spec.consent):
            services.consent_record(
                testimony=testimony,
                scope=scope,
                media=spec.release,
                given_on=dt.date(2023, 1, 1) + dt.timedelta(days=days),
                by=curator,
            )
        if spec.embargoed:
            services.testimony_set_embargo(
                testimony=testimony, until=timezone.now() + dt.timedelta(days=30)
            )
        if spec.status in ("published", "retired"):
            services.testimony_publish(testimony=testimony, at=spec.published)
        if spec.status != "published":
            services.testimony_set_status(testimony=testimony, status=spec.status)
        if spec.withdrawn:
            services.consent_withdraw(testimony=testimony, by=curator)
        testimonies[spec.slug] = testimony
    services.narrator_request_submit(reference_code=codes["nadia"], kind="pause")
    return Archive(testimonies, segments, narrators, codes)


# --- Reading results -----------------------------------------------------------


def visible(tier: Tier, **kwargs):
    return Testimony.objects.visible_to_tier(tier, **kwargs)


def run(
    query, tier: Tier = Tier.PUBLIC, filters: Filters | None = None, **kwargs
) -> SearchResults:
    kwargs.setdefault("page_size", 1000)
    return search.search(query, visible(tier), filters, **kwargs)


def slugs(results: SearchResults) -> list[str]:
    return [hit.testimony.slug for hit in results.hits]


def found(query, tier: Tier = Tier.PUBLIC, filters: Filters | None = None) -> set:
    results = run(query, tier, filters)
    assert results.total == len(results.hits)
    return set(slugs(results))


# About 1,600 characters of words that no query here looks for.
LONG_FILLER = " ".join(
    ("ciel", "table", "porte", "jardin", "route", "nuage", "pierre", "lampe")[i % 8]
    for i in range(270)
)


def fold(text: str) -> str:
    """Lower case without accents: how both engines compare words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def facet_counts(results: SearchResults) -> dict[str, dict]:
    return {
        name: {value.value: value.count for value in values}
        for name, values in results.facets.items()
    }


def python_facets(testimony_slugs) -> dict[str, dict]:
    """The facets of these testimonies, counted here from the rows themselves."""
    counts = {name: Counter() for name in FACETS}
    testimonies = Testimony.objects.filter(slug__in=testimony_slugs).prefetch_related(
        "themes", "narrator__job_types", "appearances__episode__series"
    )
    for t in testimonies:
        counts["job_type"].update({j.slug for j in t.narrator.job_types.all()})
        counts["theme"].update({theme.slug for theme in t.themes.all()})
        counts["episode"].update(
            {f"{a.episode.series.slug}/{a.episode.slug}" for a in t.appearances.all()}
        )
        if t.narrator.country:
            counts["country"][t.narrator.country] += 1
        counts["language"][t.language] += 1
        if t.recorded_on is not None:
            counts["decade"][t.recorded_on.year // 10 * 10] += 1
        consent = t.consent_in_force()
        released = consent is not None and consent.media in ("audio_video", "audio")
        counts["media"][bool(t.media) and released] += 1
    return {name: dict(counter) for name, counter in counts.items()}


def no_facets() -> dict[str, dict]:
    return {name: {} for name in FACETS}


def all_pages(query, tier: Tier, size: int) -> list[list[str]]:
    first = run(query, tier, page_size=size)
    rest = range(2, first.pages + 1)
    return [slugs(first)] + [
        slugs(run(query, tier, page=p, page_size=size)) for p in rest
    ]


def spec_passes(slug: str, filters: Filters) -> bool:
    """Whether a testimony of SPECS passes filters, read from its spec."""
    spec = SPEC[slug]
    narrator = NARRATORS[spec.narrator]
    episodes = {f"invisibles/episode-{n}" for n in spec.episodes}
    checks = [
        not filters.job_type or set(filters.job_type) & set(narrator[3]),
        not filters.theme or set(filters.theme) & set(spec.themes),
        not filters.episode or set(filters.episode) & episodes,
        not filters.country or narrator[2] in filters.country,
        not filters.language or spec.language in filters.language,
        not filters.decade
        or (spec.recorded and spec.recorded.year // 10 * 10 in filters.decade),
        filters.media is None
        or filters.media
        == (spec.media and spec.release != "none" and not spec.withdrawn),
    ]
    return all(bool(check) for check in checks)


# --- The secret word: a property over placements and states -----------------------

SECRET = "zorblax"
PLACES = ("segment", "redacted", "title", "summary", "place", "public name")
CUTS = ("exact", "padded", "wide", "touching", "overlapping", "overlapping reversed")
STATUSES = ("published",) * 4 + ("draft", "in_review", "retired")
SCOPES = ("public",) * 3 + ("research",) * 2 + ("archive", "withdrawn")
EMBARGOES = ("none", "none", "past", "future")
REQUESTS = (
    "none",
    "none",
    "withdraw pending",
    "pause pending",
    "correct pending",
    "withdraw dismissed",
    "withdraw handled",
    "pause handled",
    "pause dismissed",
)


@dataclass(frozen=True)
class Secret:
    place: str
    cut: str
    spelling: str
    identity: str
    language: str
    status: str
    consent: tuple[str, ...]
    embargo: str
    request: str

    def scope(self) -> str | None:
        """The consent in force once requests are handled."""
        scope = self.consent[-1] if self.consent else None
        kind, _, outcome = self.request.partition(" ")
        if outcome == "handled" and kind == "withdraw":
            scope = "withdrawn"
        elif outcome == "handled" and kind == "pause" and scope != "withdrawn":
            scope = "archive"
        return scope

    def visible(self, tier: Tier) -> bool:
        """The access policy of docs/design.md, read from the description."""
        if tier is Tier.STAFF:
            return True
        kind, _, outcome = self.request.partition(" ")
        admitted = {"public"} if tier is Tier.PUBLIC else {"public", "research"}
        return (
            self.status == "published"
            and self.scope() in admitted
            and self.embargo != "future"
            and not (outcome == "pending" and kind in ("withdraw", "pause"))
        )

    def indexed(self) -> bool:
        """A retirement, a withdrawal or a pending withdrawal takes words out."""
        return (
            self.status != "retired"
            and self.scope() != "withdrawn"
            and self.request != "withdraw pending"
        )

    def findable(self, tier: Tier) -> bool:
        return self.visible(tier) and self.indexed()

    def public(self) -> bool:
        """Whether the secret is in public text or metadata at all."""
        if self.place == "redacted":
            return False
        return not (self.place == "public name" and self.identity == "anonymous")


def secrets():
    return st.builds(
        Secret,
        place=st.sampled_from(PLACES),
        cut=st.sampled_from(CUTS),
        spelling=st.sampled_from((SECRET, SECRET.capitalize(), SECRET.upper())),
        identity=st.sampled_from(("pseudonym", "anonymous", "named")),
        language=st.sampled_from(("fr", "en")),
        status=st.sampled_from(STATUSES),
        consent=st.lists(st.sampled_from(SCOPES), max_size=2).map(tuple),
        embargo=st.sampled_from(EMBARGOES),
        request=st.sampled_from(REQUESTS),
    )


def spans_of(cut: str, start: int, end: int) -> list[tuple[int, int]]:
    middle = (start + end) // 2
    spans = {
        "exact": [(start, end)],
        "padded": [(start - 1, end + 1)],
        "wide": [(start - 5, end + 7)],
        "touching": [(start, middle), (middle, end)],
        "overlapping": [(start, middle + 1), (middle - 1, end)],
    }
    name = cut.removesuffix(" reversed")
    return spans[name][::-1] if cut.endswith(" reversed") else spans[name]


def build_secret_archive(secret: Secret, curator) -> None:
    """A visible testimony and one holding the secret, in the drawn state."""
    other = TestimonyFactory(
        slug="background",
        title="Nuits",
        narrator=NarratorFactory(public_name="Lina"),
        summary="",
    )
    services.search_reindex(testimony_ids=[other.pk])
    services.segment_create(
        testimony=other,
        start=0,
        end=5,
        speaker="narrator",
        text="Le travail de nuit sur la plateforme.",
    )
    services.consent_record(
        testimony=other, scope="public", media="none", given_on=dt.date(2023, 1, 1)
    )
    services.testimony_publish(testimony=other, at=utc(2024, 1, 1))

    word = secret.spelling
    narrator = NarratorFactory(
        public_name=f"{word} B." if secret.place == "public name" else "Nadia",
        identity=secret.identity,
    )
    code = services.narrator_reference_code_reset(narrator=narrator)
    testimony = TestimonyFactory(
        slug="subject",
        title=f"Témoignage {word}" if secret.place == "title" else "Témoignage",
        narrator=narrator,
        language=secret.language,
        summary=word if secret.place == "summary" else "",
        place=word if secret.place == "place" else "",
    )
    services.search_reindex(testimony_ids=[testimony.pk])
    said = word if secret.place in ("segment", "redacted") else "Karim"
    text = (
        f"Le travail sur la plateforme avec {said} chaque nuit."
        if secret.language == "fr"
        else f"Night work on the platform with {said} every day."
    )
    segment = services.segment_create(
        testimony=testimony, start=0, end=5, speaker="narrator", text=text
    )
    if secret.place == "redacted":
        start = text.index(word)
        for begin, end in spans_of(secret.cut, start, start + len(word)):
            services.segment_redact(
                segment=segment, start=begin, end=end, reason="third_party"
            )
    for days, scope in enumerate(secret.consent):
        services.consent_record(
            testimony=testimony,
            scope=scope,
            media="audio",
            given_on=dt.date(2023, 1, 1) + dt.timedelta(days=days),
        )
    offset = {"none": None, "past": -30, "future": 30}[secret.embargo]
    if offset is not None:
        services.testimony_set_embargo(
            testimony=testimony, until=timezone.now() + dt.timedelta(days=offset)
        )
    if secret.status in ("published", "retired"):
        services.testimony_publish(testimony=testimony, at=utc(2024, 2, 1))
    if secret.status != "published":
        services.testimony_set_status(testimony=testimony, status=secret.status)
    kind, _, outcome = secret.request.partition(" ")
    if kind != "none":
        services.narrator_request_submit(reference_code=code, kind=kind)
        if outcome != "pending":
            services.narrator_request_handle(
                request=NarratorRequest.objects.get(narrator=narrator),
                by=curator,
                status=outcome,
            )


def check_secret(secret: Secret, tier: Tier, testimonies) -> None:
    allowed = secret.public() and secret.findable(tier)
    event(f"{tier.value}: the secret is {'found' if allowed else 'hidden'}")
    for query in (SECRET, SECRET.upper(), f"{SECRET} or absentword", f'"{SECRET}"'):
        results = search.search(query, testimonies)
        assert slugs(results) == (["subject"] if allowed else []), (tier, query)
        if not allowed:
            assert facet_counts(results) == no_facets(), (tier, query)
    listed = {"background"} | ({"subject"} if secret.visible(tier) else set())
    matched = {"background"} | ({"subject"} if secret.findable(tier) else set())
    for query, expected in (("", listed), (EVERYWHERE, matched), ("travail", None)):
        results = search.search(query, testimonies, page_size=100)
        shown = slugs(results)
        if expected is not None:
            assert set(shown) == expected, (tier, query)
        assert set(shown) <= listed
        assert facet_counts(results) == python_facets(shown), (tier, query)
        for hit in results.hits:
            for segment in hit.segments:
                if not allowed:
                    assert SECRET not in fold(segment.snippet.raw), (tier, query)


# --- Random sequences of service calls -------------------------------------------

TEXTS = (
    "Le chef Brioche comptait nos colis.",
    "On livrait la nuit, sous la pluie.",
    "Night shifts on the platform.",
    f"Mon vrai nom est {LEGAL_SURNAME}.",  # refused wherever it would be public
    "Zorglub surveillait tout.",
)
PUBLIC_NAMES = ("Océane", "Capucine", f"Lina {LEGAL_SURNAME}")


class IndexMachine(RuleBasedStateMachine):
    """Any sequence of service calls keeps the index exact, and a refused
    call leaves it exactly as it was."""

    def __init__(self, curator) -> None:
        super().__init__()
        self.curator = curator
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.narrators = [NarratorFactory(key=f"machine-{n}") for n in range(2)]
        self.codes = [
            services.narrator_reference_code_reset(narrator=n) for n in self.narrators
        ]
        self.testimonies = []
        for number in range(3):
            testimony = TestimonyFactory(
                slug=f"machine-{number}",
                narrator=self.narrators[number % 2],
                language=("fr", "en")[number % 2],
                summary="",
            )
            services.search_reindex(testimony_ids=[testimony.pk])
            self.testimonies.append(testimony)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def attempt(self, change, **kwargs) -> None:
        before = index_held()
        try:
            change(**kwargs)
        except services.ServiceError:
            assert index_held() == before

    def pick(self, items, index: int):
        return items[index % len(items)]

    def segments(self) -> list[Segment]:
        mine = Segment.objects.filter(testimony__in=self.testimonies)
        return list(mine.order_by("pk"))

    def redactions(self) -> list[Redaction]:
        mine = Redaction.objects.filter(segment__testimony__in=self.testimonies)
        return list(mine.order_by("pk"))

    def pending(self) -> list[NarratorRequest]:
        mine = NarratorRequest.objects.filter(narrator__in=self.narrators)
        return list(mine.filter(status="pending").order_by("pk"))

    @invariant()
    def the_index_is_exact(self) -> None:
        assert index_held() == index_expected()

    @rule(index=st.integers(0, 99), text=st.sampled_from(TEXTS))
    def create_segment(self, index, text) -> None:
        testimony = self.pick(self.testimonies, index)
        last = testimony.segments.order_by("-start").first()
        start = 0.0 if last is None else last.start + 10
        self.attempt(
            services.segment_create,
            testimony=testimony,
            start=start,
            end=start + 5,
            speaker="narrator",
            text=text,
        )

    @precondition(lambda self: self.segments())
    @rule(index=st.integers(0, 99), text=st.sampled_from(TEXTS))
    def edit_segment(self, index, text) -> None:
        segment = self.pick(self.segments(), index)
        self.attempt(services.segment_edit, segment=segment, text=text)

    @precondition(lambda self: self.segments())
    @rule(index=st.integers(0, 99), at=st.integers(0, 99), length=st.integers(1, 12))
    def redact(self, index, at, length) -> None:
        segment = self.pick(self.segments(), index)
        start = at % len(segment.text)
        self.attempt(
            services.segment_redact,
            segment=segment,
            start=start,
            end=min(start + length, len(segment.text)),
            reason="person",
        )

    @precondition(lambda self: self.redactions())
    @rule(index=st.integers(0, 99))
    def remove_redaction(self, index) -> None:
        redactions = self.redactions()
        self.attempt(services.redaction_remove, redaction=self.pick(redactions, index))

    @rule(
        index=st.integers(0, 99),
        scope=st.sampled_from(("public", "research", "archive", "withdrawn")),
    )
    def record_consent(self, index, scope) -> None:
        self.attempt(
            services.consent_record,
            testimony=self.pick(self.testimonies, index),
            scope=scope,
            media="audio",
            given_on=timezone.localdate(),
        )

    @rule(index=st.integers(0, 99))
    def withdraw(self, index) -> None:
        self.attempt(
            services.consent_withdraw, testimony=self.pick(self.testimonies, index)
        )

    @rule(index=st.integers(0, 99))
    def publish(self, index) -> None:
        self.attempt(
            services.testimony_publish, testimony=self.pick(self.testimonies, index)
        )

    @rule(
        index=st.integers(0, 99),
        status=st.sampled_from(("draft", "in_review", "retired")),
    )
    def set_status(self, index, status) -> None:
        self.attempt(
            services.testimony_set_status,
            testimony=self.pick(self.testimonies, index),
            status=status,
        )

    @rule(index=st.integers(0, 99), days=st.sampled_from((None, -1, 1)))
    def embargo(self, index, days) -> None:
        until = None if days is None else timezone.now() + dt.timedelta(days=days)
        self.attempt(
            services.testimony_set_embargo,
            testimony=self.pick(self.testimonies, index),
            until=until,
        )

    @rule(
        index=st.integers(0, 99),
        name=st.sampled_from(PUBLIC_NAMES),
        identity=st.sampled_from(("named", "pseudonym", "anonymous")),
    )
    def update_narrator(self, index, name, identity) -> None:
        self.attempt(
            services.narrator_update,
            narrator=self.pick(self.narrators, index),
            changes={"public_name": name, "identity": identity},
        )

    @rule(
        index=st.integers(0, 99),
        kind=st.sampled_from(("withdraw", "pause", "correct")),
    )
    def submit_request(self, index, kind) -> None:
        self.attempt(
            services.narrator_request_submit,
            reference_code=self.pick(self.codes, index),
            kind=kind,
        )

    @precondition(lambda self: self.pending())
    @rule(index=st.integers(0, 99), status=st.sampled_from(("handled", "dismissed")))
    def handle_request(self, index, status) -> None:
        pending = self.pending()
        self.attempt(
            services.narrator_request_handle,
            request=self.pick(pending, index),
            by=self.curator,
            status=status,
        )


# --- A small bundle ----------------------------------------------------------------


def small_bundle() -> dict:
    text = "Le dépôt de Gennevilliers ouvrait à cinq heures."
    start = text.index("Gennevilliers")
    return {
        "format": "testimony-bundle/1",
        "job_types": [{"slug": "rider", "name": {"fr": "Coursier", "en": "Rider"}}],
        "narrators": [
            {
                "key": "yasmine",
                "public_name": "Yasmine",
                "identity": "pseudonym",
                "job_types": ["rider"],
                "country": "FR",
            }
        ],
        "testimonies": [
            {
                "slug": "imported",
                "title": "Le dépôt",
                "narrator": "yasmine",
                "language": "fr",
                "themes": [],
                "status": "published",
                "published_at": "2024-02-01T10:00:00Z",
                "consent": [
                    {"scope": "public", "media": "none", "given_on": "2024-01-10"}
                ],
                "appearances": [],
                "segments": [
                    {"start": 0, "end": 5, "speaker": "narrator", "text": text}
                ],
                "redactions": [
                    {
                        "segment": 0,
                        "start": start,
                        "end": start + len("Gennevilliers"),
                        "reason": "location",
                    }
                ],
            }
        ],
    }


def write_bundle(folder, data: dict):
    path = folder / f"bundle-{len(list(folder.iterdir()))}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


# --- The contract --------------------------------------------------------------


class OnEngine:
    """Tests of one engine, and the archive they search."""

    vendor = ""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _on_its_engine(cls):
        if connection.vendor != cls.vendor:
            pytest.skip(f"the test database is {connection.vendor}, not {cls.vendor}")

    @pytest.fixture(scope="class")
    @classmethod
    def archive(cls, django_db_setup, django_db_blocker) -> Iterator[Archive]:
        """Built once per engine's class, like setUpTestData: each test runs in
        a savepoint, so what it changes is rolled back before the next one."""
        with django_db_blocker.unblock(), transaction.atomic():
            yield build_archive(UserFactory(groups=["curators"]))
            transaction.set_rollback(True)


class BackendContract(OnEngine):
    """What every search backend promises; subclassed once per engine."""

    def test_the_backend_is_the_one_of_the_database(self):
        assert search.get_backend().vendor == self.vendor

    def test_a_hit_holds_its_testimony_as_the_orm_loads_it(self, archive):
        from testimonies.search.base import HIT_FIELDS

        results = run(EVERYWHERE, Tier.STAFF)
        assert len(results.hits) > 3
        ids = [hit.testimony.pk for hit in results.hits]
        loaded = Testimony.objects.select_related("narrator").only(*HIT_FIELDS)
        expected = loaded.in_bulk(ids)
        for hit in results.hits:
            testimony, reference = hit.testimony, expected[hit.testimony.pk]
            assert testimony.get_deferred_fields() == reference.get_deferred_fields()
            narrator = testimony.narrator
            assert narrator.get_deferred_fields() == (
                reference.narrator.get_deferred_fields()
            )
            for name in HIT_FIELDS:
                owner, _sep, attribute = name.rpartition("__")
                ours = narrator if owner else testimony
                theirs = reference.narrator if owner else reference
                assert getattr(ours, attribute) == getattr(theirs, attribute), name
                assert type(getattr(ours, attribute)) is type(
                    getattr(theirs, attribute)
                )
            assert narrator.pk == reference.narrator_id == testimony.narrator_id
            assert not testimony._state.adding and not narrator._state.adding

    def test_the_archive_built_through_the_services_is_indexed_exactly(self, archive):
        assert_index_exact()

    # -- Words, phrases, or, exclusions ---------------------------------------

    def test_a_quoted_phrase_finds_its_words_adjacent_and_in_order(self, archive):
        assert found('"salaire minimum"') == {"nuits-blanches"}

    def test_a_quoted_phrase_does_not_find_its_words_apart_or_reversed(self, archive):
        # sous-la-pluie says "Le minimum ? Personne ne parlait de salaire."
        assert found('"minimum salaire"') == set()
        assert found('"salaire minimum"') == {"nuits-blanches"}
        assert found("salaire minimum") == {"nuits-blanches", "sous-la-pluie"}

    def test_words_without_quotes_are_all_needed_in_any_order(self, archive):
        assert found("minimum salaire") == {"nuits-blanches", "sous-la-pluie"}
        assert found("salaire minimum scooter") == set()

    def test_a_testimony_matches_by_one_segment_or_its_metadata_never_by_parts(
        self, archive
    ):
        # "découvert" and "algorithme" are in two segments of nuits-blanches.
        assert found("découvert") == {"nuits-blanches"}
        assert found("algorithme") == {"nuits-blanches", "sous-la-pluie"}
        assert found("découvert algorithme") == set()
        # Paris is its place (metadata), "prime" one of its segments.
        assert found("paris") == {"nuits-blanches"}
        assert found("paris prime") == set()

    def test_metadata_words_find_their_testimonies(self, archive):
        assert found("pluie") == {"sous-la-pluie"}  # title and a segment
        assert found("blanches") == {"nuits-blanches"}  # title only
        assert found("Karim") == {"sous-la-pluie"}  # public name
        assert found("Karim", Tier.STAFF) == {"sous-la-pluie", "ebauche"}
        # Job types and themes, in French and in English.
        assert found("livreur") == found("courier") == {"sous-la-pluie"}
        assert found("syndicats") == found("unions") == {"sous-la-pluie", "le-syndicat"}
        assert found("trauma", Tier.RESEARCHER) == {
            "nuits-blanches",
            "labelling-in-nairobi",
        }

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    def test_or_finds_either_word(self, archive, tier):
        expected = {
            Tier.PUBLIC: {"sous-la-pluie", "rating-search-results"},
            Tier.RESEARCHER: {
                "sous-la-pluie",
                "rating-search-results",
                "labelling-in-nairobi",
            },
            Tier.STAFF: {
                "sous-la-pluie",
                "rating-search-results",
                "labelling-in-nairobi",
                "ebauche",
            },
        }[tier]
        assert found("vélo or scooter", tier) == expected
        assert found("vélo OR scooter", tier) == expected
        assert found("scooter Or vélo", tier) == expected
        assert found("vélo", tier) | found("scooter", tier) == expected

    def test_or_joins_only_its_neighbours_and_every_other_item_still_holds(
        self, archive
    ):
        # (salaire or vélo) pluie: nuits-blanches says "salaire" but never
        # "pluie"; sous-la-pluie says "vélo ... pluie" in one segment.
        assert found("salaire or vélo pluie") == {"sous-la-pluie"}
        assert found("pluie salaire or vélo") == {"sous-la-pluie"}
        # scooter or vélo, without pluie: sous-la-pluie's only "vélo" segment
        # (and its title) say "pluie".
        assert found("vélo or scooter -pluie") == {"rating-search-results"}
        assert found("prime découvert or algorithme") == {
            "nuits-blanches",
            "sous-la-pluie",
        }

    def test_an_excluded_word_removes_the_segments_that_hold_it(self, archive):
        # nuits-blanches: "L'algorithme décidait de la prime." and a segment
        # with the algorithm alone; sous-la-pluie has the two words together only.
        results = run("algorithme -prime")
        assert slugs(results) == ["nuits-blanches"]
        [hit] = results.hits
        shown = [segment.segment_id for segment in hit.segments]
        assert shown == [archive.segments["nuits-blanches", 3].pk]
        assert found("prime -algorithme") == set()

    def test_exclusion_is_judged_per_segment_and_per_metadata(self, archive):
        # A testimony is found when its metadata or one of its segments matches
        # the whole query: an excluded word elsewhere in it does not remove it.
        # sous-la-pluie: public name Karim (metadata), "pluie" in a segment.
        assert found("pluie -karim") == {"sous-la-pluie"}
        # Its metadata holds pluie (title), and no segment holds karim.
        assert found("karim -pluie") == set()
        assert found("karim -plateforme") == {"sous-la-pluie"}

    def test_an_excluded_phrase_removes_only_segments_with_the_phrase(self, archive):
        assert found('salaire -"salaire minimum"') == {"sous-la-pluie"}
        assert found('salaire -"minimum salaire"') == {
            "nuits-blanches",
            "sous-la-pluie",
        }

    @pytest.mark.parametrize(
        ("query", "excluded"),
        [
            (EVERYWHERE, "nuit"),
            (EVERYWHERE, "algorithme"),
            ("algorithme", "prime"),
            ("salaire or vélo", "pluie"),
            ("platform", "scooter"),
            ("karim", "plateforme"),
            ("toujours", '"la prime"'),
        ],
    )
    def test_an_exclusion_never_adds_a_testimony(self, archive, query, excluded):
        for tier in TIERS:
            narrowed = found(f"{query} -{excluded}", tier)
            assert narrowed <= found(query, tier), tier

    def test_only_exclusions_find_nothing(self, archive):
        for query in ("-plateforme", '-"salaire minimum"', "-zzz -yyy", "- -a"):
            for tier in TIERS:
                results = run(query, tier)
                assert (results.total, results.hits) == (0, []), query
                assert facet_counts(results) == no_facets(), query

    def test_accents_and_case_are_ignored_both_ways(self, archive):
        # nuits-blanches says "modérateur"; sous-la-pluie "MODERATEUR".
        both = {"nuits-blanches", "sous-la-pluie"}
        assert both <= found("moderateur")
        assert both <= found("modérateur")
        assert both <= found("MODÉRATEUR")
        assert found("velo") == found("vélo") == found("VÉLO") == {"sous-la-pluie"}
        assert found("decouvert") == {"nuits-blanches"}
        assert found("ecrit") == found("écrit") == {"sous-la-pluie", "ecrire-vite"}

    @pytest.mark.parametrize("invisible", ["\u00ad", "\u200b", "\u2060"])
    def test_an_invisible_character_typed_in_a_word_does_not_split_it(
        self, archive, invisible
    ):
        assert found(f"modé{invisible}rateur") == found("modérateur")

    # -- Filters ----------------------------------------------------------------

    FILTERED = [
        (Filters(job_type=("courier",)), Tier.PUBLIC, {"sous-la-pluie"}),
        (
            Filters(job_type=("courier",)),
            Tier.STAFF,
            {"sous-la-pluie", "ebauche", "en-pause"},
        ),
        (
            Filters(job_type=("data-labeller",)),
            Tier.PUBLIC,
            {"nuits-blanches", "le-syndicat", "ecrire-vite"},
        ),
        (
            Filters(job_type=("data-labeller",)),
            Tier.RESEARCHER,
            {"nuits-blanches", "le-syndicat", "ecrire-vite", "labelling-in-nairobi"},
        ),
        (
            Filters(job_type=("courier", "rater")),
            Tier.PUBLIC,
            {"sous-la-pluie", "rating-search-results"},
        ),
        (Filters(theme=("unions",)), Tier.PUBLIC, {"sous-la-pluie", "le-syndicat"}),
        (
            Filters(theme=("trauma", "unions")),
            Tier.PUBLIC,
            {"nuits-blanches", "sous-la-pluie", "le-syndicat"},
        ),
        (
            Filters(episode=("invisibles/episode-1",)),
            Tier.PUBLIC,
            {"nuits-blanches", "rating-search-results"},
        ),
        (
            Filters(episode=("invisibles/episode-2",)),
            Tier.RESEARCHER,
            {"sous-la-pluie", "labelling-in-nairobi"},
        ),
        (Filters(episode=("invisibles/episode-9", "elsewhere")), Tier.STAFF, set()),
        (Filters(country=("GB",)), Tier.PUBLIC, {"rating-search-results"}),
        (Filters(country=("BE", "KE")), Tier.PUBLIC, {"ecrire-vite"}),
        (
            Filters(country=("BE", "KE")),
            Tier.RESEARCHER,
            {"ecrire-vite", "labelling-in-nairobi"},
        ),
        (Filters(language=("en",)), Tier.PUBLIC, {"rating-search-results"}),
        (
            Filters(language=("en",)),
            Tier.STAFF,
            {"rating-search-results", "labelling-in-nairobi", "embargoed"},
        ),
        (Filters(decade=(2010,)), Tier.PUBLIC, {"nuits-blanches"}),
        (
            Filters(decade=(2010,)),
            Tier.RESEARCHER,
            {"nuits-blanches", "labelling-in-nairobi"},
        ),
        (Filters(decade=(2020,)), Tier.PUBLIC, {"sous-la-pluie", "le-syndicat"}),
        (
            Filters(decade=(2000, 2020)),
            Tier.PUBLIC,
            {"rating-search-results", "sous-la-pluie", "le-syndicat"},
        ),
        (Filters(media=True), Tier.PUBLIC, {"nuits-blanches", "le-syndicat"}),
        (
            Filters(media=True),
            Tier.RESEARCHER,
            {"nuits-blanches", "le-syndicat", "labelling-in-nairobi"},
        ),
        (
            Filters(media=False),
            Tier.PUBLIC,
            {"sous-la-pluie", "rating-search-results", "ecrire-vite"},
        ),
        (
            Filters(job_type=("data-labeller",), decade=(2020,)),
            Tier.PUBLIC,
            {"le-syndicat"},
        ),
        (
            Filters(theme=("trauma",), language=("en",), media=True),
            Tier.RESEARCHER,
            {"labelling-in-nairobi"},
        ),
        (Filters(country=("FR",), language=("en",)), Tier.STAFF, set()),
    ]

    @pytest.mark.parametrize(("filters", "tier", "expected"), FILTERED)
    def test_filters_with_words_give_exactly_the_expected_testimonies(
        self, archive, filters, tier, expected
    ):
        # The table above agrees with the specs it was written from.
        assert expected == {s for s in FINDABLE[tier] if spec_passes(s, filters)}
        assert found(EVERYWHERE, tier, filters) == expected

    @pytest.mark.parametrize(("filters", "tier", "_expected"), FILTERED)
    def test_filters_without_words_list_exactly_the_expected_testimonies(
        self, archive, filters, tier, _expected
    ):
        expected = [s for s in RECENCY if s in LISTED[tier] and spec_passes(s, filters)]
        assert slugs(run("", tier, filters)) == expected

    def test_filters_narrow_a_text_query_to_its_own_matches(self, archive):
        assert found("vélo or scooter", filters=Filters(language=("en",))) == {
            "rating-search-results"
        }
        assert found("algorithme", filters=Filters(theme=("unions",))) == {
            "sous-la-pluie"
        }
        assert found("algorithme", filters=Filters(media=False)) == {"sous-la-pluie"}

    # -- Facets -----------------------------------------------------------------

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    @pytest.mark.parametrize(
        "query",
        [
            "",
            EVERYWHERE,
            "algorithme",
            "vélo or scooter",
            "nairobi",
            "nuit or night",
            "-plateforme",
            "zorglub",
        ],
    )
    def test_facet_counts_are_counted_over_the_visible_match_set(
        self, archive, tier, query
    ):
        results = run(query, tier)
        matched = slugs(results)
        assert set(matched) <= LISTED[tier]
        assert facet_counts(results) == python_facets(matched)
        for values in results.facets.values():
            counts = [value.count for value in values]
            assert counts == sorted(counts, reverse=True)
            assert all(count > 0 for count in counts)

    @pytest.mark.parametrize(("filters", "tier", "_expected"), FILTERED[::3])
    def test_facet_counts_with_filters_are_counted_over_the_filtered_matches(
        self, archive, filters, tier, _expected
    ):
        for query in ("", EVERYWHERE):
            results = run(query, tier, filters)
            assert facet_counts(results) == python_facets(slugs(results))

    def test_facets_count_the_visible_testimonies_exactly(self, archive):
        # Written out once, so that an error shared by the code and the Python
        # counts above would still show: lina has three testimonies, one hidden.
        facets = facet_counts(run(""))
        assert facets["job_type"] == {"data-labeller": 3, "courier": 1, "rater": 1}
        assert facets["theme"] == {
            "trauma": 1,
            "unions": 2,
            "piecework": 1,
            "surveillance": 1,
        }
        assert facets["episode"] == {
            "invisibles/episode-1": 2,
            "invisibles/episode-2": 1,
        }
        assert facets["country"] == {"FR": 3, "GB": 1, "BE": 1}
        assert facets["language"] == {"fr": 4, "en": 1}
        assert facets["decade"] == {2010: 1, 2020: 2, 2000: 1}
        assert facets["media"] == {True: 2, False: 3}

    def test_facet_labels_follow_the_active_language(self, archive):
        with translation.override("en"):
            facets = run("").facets
        labels = {v.value: v.label for v in facets["job_type"]}
        assert labels["courier"] == "Courier"
        with translation.override("fr"):
            facets = run("").facets
        labels = {v.value: v.label for v in facets["job_type"]}
        assert labels["courier"] == "Livreur"
        assert {v.value: v.label for v in facets["episode"]} == {
            "invisibles/episode-1": "Épisode 1",
            "invisibles/episode-2": "Épisode 2",
        }

    def test_facet_labels_in_another_language_fall_back_to_french(self, archive):
        # Only fr and en are served, but code may run under any language.
        with translation.override("de"):
            facets = run("").facets
        labels = {v.value: v.label for v in facets["job_type"]}
        assert labels["courier"] == "Livreur"

    # -- Order and pages --------------------------------------------------------

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    def test_the_empty_query_lists_the_most_recently_published_first(
        self, archive, tier
    ):
        expected = [slug for slug in RECENCY if slug in LISTED[tier]]
        assert slugs(run("", tier)) == expected
        assert slugs(run("   ", tier)) == expected
        assert slugs(run(None, tier)) == expected
        # Unreadable items alone leave nothing to look for either.
        assert slugs(run('"" , ; !', tier)) == expected

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    @pytest.mark.parametrize(
        "query", ["", EVERYWHERE, "algorithme or scooter or plateforme", "la"]
    )
    def test_pages_of_two_make_the_whole_result_in_order_and_again(
        self, archive, tier, query
    ):
        whole = slugs(run(query, tier))
        pages = all_pages(query, tier, 2)
        assert [slug for page in pages for slug in page] == whole
        assert all(len(page) == 2 for page in pages[:-1])
        assert len(set(whole)) == len(whole)
        assert all_pages(query, tier, 2) == pages
        thirds = [whole[i : i + 3] for i in range(0, len(whole), 3)]
        assert all_pages(query, tier, 3) == (thirds or [[]])

    def test_every_page_tells_the_same_total_and_one_past_the_end_is_empty(
        self, archive
    ):
        totals = {run(EVERYWHERE, page=p, page_size=2).total for p in (1, 2, 3, 4)}
        assert totals == {len(PUBLIC)}
        past = run(EVERYWHERE, page=4, page_size=2)
        assert (past.hits, past.page, past.pages) == ([], 4, 3)
        assert run(EVERYWHERE, page=0, page_size=2).page == 1

    # -- Totals -----------------------------------------------------------------

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    def test_totals_are_exact(self, archive, tier):
        cases = {
            "": LISTED[tier],
            EVERYWHERE: FINDABLE[tier],
            "vélo or scooter": found("vélo or scooter", tier),
            "zorglub": set(),
        }
        for query, expected in cases.items():
            results = run(query, tier, page_size=2)
            assert results.total == len(expected), query
            assert results.total_capped is False
            assert results.total_display == str(len(expected))
            assert results.total_json == len(expected)

    def test_totals_beyond_the_cap_say_so(self, archive, monkeypatch):
        from testimonies.search import base

        monkeypatch.setattr(base, "TOTAL_CAP", len(PUBLIC))
        exact = run(EVERYWHERE)
        assert (exact.total, exact.total_capped) == (len(PUBLIC), False)
        monkeypatch.setattr(base, "TOTAL_CAP", 3)
        for query in (EVERYWHERE, ""):
            capped = run(query, page_size=2)
            assert (capped.total, capped.total_capped) == (3, True)
            assert capped.total_display == "3+"
            assert capped.total_json == "3+"
            # Every match can still be paged to, beyond the capped total.
            assert len(slugs(run(query, page_size=100))) == len(PUBLIC)
        assert run("algorithme").total_capped is False

    # -- Snippets ---------------------------------------------------------------

    def test_a_snippet_marks_the_word_and_names_its_segment(self, archive):
        segment = archive.segments["nuits-blanches", 0]
        [hit] = run("découvert").hits
        assert hit.testimony == archive.testimonies["nuits-blanches"]
        [shown] = hit.segments
        assert (shown.segment_id, shown.position) == (segment.pk, 0)
        assert (shown.speaker, shown.start) == ("interviewer", 3.5)
        assert shown.snippet.marked() == ["découvert"]
        assert "[découvert]" in shown.snippet.text()
        assert "<mark>découvert</mark>" in shown.snippet.html()
        assert fold(shown.snippet.text("", "")) in fold(segment.public_text)

    def test_a_snippet_marks_each_word_of_a_phrase_in_its_segment(self, archive):
        [hit] = run('"salaire minimum"').hits
        [shown] = hit.segments
        assert (shown.position, shown.start, shown.speaker) == (1, 12.5, "narrator")
        # One mark round the phrase (FTS5) or one round each word (PostgreSQL).
        marked = " ".join(fold(word) for word in shown.snippet.marked())
        assert marked == "salaire minimum"

    def test_a_snippet_marks_words_found_without_their_accents(self, archive):
        [hit] = run("velo").hits
        assert hit.segments[0].snippet.marked() == ["vélo"]

    def test_a_snippet_is_public_text_and_its_html_is_escaped(self, archive):
        [hit] = run("ecrit", filters=Filters(country=("BE",))).hits
        html = hit.segments[0].snippet.html()
        assert "&lt;3 &amp; la" in html
        assert "<mark>Ecrit</mark>" in html
        assert "<3" not in html

    def test_a_long_passage_s_snippet_marks_the_word_wherever_it_stands(self, archive):
        # Far past the start of the text, after a word with the same beginning.
        text = f"happen {LONG_FILLER} happy {LONG_FILLER} rains"
        indexed_testimony("long-passage", text, language="en")
        for word in ("happy", "rains"):
            [hit] = run(word).hits
            [shown] = hit.segments
            assert shown.snippet.marked() == [word]
            # Whole words of the passage, none cut.
            words = shown.snippet.text("", "").replace("…", " ").split()
            assert words and set(words) <= set(text.split())

    def test_a_long_passage_s_snippet_never_shows_what_is_redacted(self, archive):
        text = f"{LONG_FILLER} ornithologue payé par Kestrel Holdings {LONG_FILLER}"
        testimony = indexed_testimony("long-redacted", text)
        segment = testimony.segments.get()
        start = text.index("Kestrel")
        services.segment_redact(
            segment=segment,
            start=start,
            end=start + len("Kestrel Holdings"),
            reason="third_party",
        )
        [hit] = run("ornithologue").hits
        snippet = hit.segments[0].snippet.text()
        assert "[ornithologue]" in snippet
        assert "Kestrel" not in snippet and "Holdings" not in snippet
        assert found("kestrel") == set()

    def test_a_hit_shows_at_most_three_segments_the_best_first(self, archive):
        results = run("platform", Tier.RESEARCHER)
        by_slug = {hit.testimony.slug: hit for hit in results.hits}
        rating = by_slug["rating-search-results"]
        # Five of its segments say "platform"; one says it three times.
        assert len(rating.segments) == 3
        assert rating.segments[0].position == 3
        assert rating.segments[0].snippet.marked() == ["platform"] * 3
        assert len({s.segment_id for s in rating.segments}) == 3
        [nairobi] = by_slug["labelling-in-nairobi"].segments
        assert (nairobi.position, nairobi.start) == (0, 0.0)
        algorithm = run("algorithme").hits[0]
        assert algorithm.testimony.slug == "nuits-blanches"
        assert [s.position for s in algorithm.segments] == [3, 2]

    @pytest.mark.parametrize(
        "query",
        [EVERYWHERE, "algorithme", "la", "nuit or night or prime", "plateforme -vélo"],
    )
    def test_every_segment_shown_holds_a_word_of_the_query(self, archive, query):
        parsed = search.parse(query)
        words = [fold(word) for word in parsed.words()]
        excluded = [fold(item.text) for item in parsed.exclusions]
        for tier in TIERS:
            for hit in run(query, tier).hits:
                assert len(hit.segments) <= 3
                for shown in hit.segments:
                    segment = Segment.objects.get(pk=shown.segment_id)
                    assert segment.testimony_id == hit.testimony.pk
                    assert (shown.position, shown.start, shown.speaker) == (
                        segment.position,
                        segment.start,
                        segment.speaker,
                    )
                    text = fold(segment.public_text)
                    assert shown.snippet.marked(), query
                    assert any(word in text for word in words)
                    assert not any(f" {word} " in f" {text} " for word in excluded)

    def test_metadata_only_matches_show_no_segment(self, archive):
        [hit] = run("blanches").hits
        assert hit.segments == []

    def test_the_empty_query_shows_no_segment(self, archive):
        assert all(hit.segments == [] for hit in run("").hits)

    # -- Privacy ----------------------------------------------------------------

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    def test_a_redacted_word_is_never_found_counted_or_shown(self, archive, tier):
        for query in ("zorglub", "Zorglub", '"chef zorglub"', "chef zorglub"):
            results = run(query, tier)
            assert (results.total, results.hits) == (0, []), query
            assert facet_counts(results) == no_facets(), query
        # What is around it is found, and shows the label instead.
        [hit] = run("chef or zorglub", tier).hits
        [shown] = hit.segments
        assert "zorglub" not in fold(shown.snippet.raw)
        assert "[tiers retiré]" in shown.snippet.text("", "")

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    def test_words_of_testimonies_a_tier_may_not_see_are_never_found(
        self, archive, tier
    ):
        for slug, word in OWN_WORDS.items():
            expected = {slug} & FINDABLE[tier]
            results = run(word, tier)
            assert set(slugs(results)) == expected, word
            if not expected:
                assert facet_counts(results) == no_facets(), word

    @pytest.mark.parametrize("tier", TIERS, ids=lambda t: t.value)
    @pytest.mark.parametrize(
        "query", ["", EVERYWHERE, "la", "the", "nuit or night", "chef", "a or i"]
    )
    def test_broad_queries_show_only_what_the_tier_may_see(self, archive, tier, query):
        results = run(query, tier)
        shown = slugs(results)
        assert set(shown) <= (LISTED[tier] if not query else FINDABLE[tier])
        assert facet_counts(results) == python_facets(shown)
        for hit in results.hits:
            for segment in hit.segments:
                assert "zorglub" not in fold(segment.snippet.raw)
                assert LEGAL_SURNAME.lower() not in fold(segment.snippet.raw)

    def test_an_anonymous_narrators_label_is_never_found(self, archive):
        for tier in TIERS:
            for query in ("zephyrin", "Zephyrin Label", '"zephyrin label"'):
                assert found(query, tier) == set(), (tier, query)
        narrator = archive.narrators["anon"]
        services.narrator_update(narrator=narrator, changes={"identity": "pseudonym"})
        assert found("zephyrin", Tier.RESEARCHER) == {"labelling-in-nairobi"}
        services.narrator_update(narrator=narrator, changes={"identity": "anonymous"})
        assert found("zephyrin", Tier.STAFF) == set()

    def test_a_withdrawal_makes_the_testimony_unfindable_at_once(
        self, archive, curator
    ):
        assert found("découvert") == {"nuits-blanches"}
        services.consent_withdraw(
            testimony=archive.testimonies["nuits-blanches"], by=curator
        )
        for tier in TIERS:
            assert found("découvert", tier) == set()
            assert "nuits-blanches" not in found(EVERYWHERE, tier)
        assert "nuits-blanches" not in slugs(run(""))
        assert facet_counts(run("")) == python_facets(PUBLIC - {"nuits-blanches"})

    def test_a_withdraw_request_makes_the_narrators_testimonies_unfindable_at_once(
        self, archive
    ):
        services.narrator_request_submit(
            reference_code=archive.codes["lina"], kind="withdraw"
        )
        lina = {"nuits-blanches", "le-syndicat", "archive-seule"}
        for tier in TIERS:
            assert found(EVERYWHERE, tier) == FINDABLE[tier] - lina
            assert found("découvert", tier) == set()
        assert set(slugs(run(""))) == PUBLIC - lina

    def test_a_pause_request_hides_from_the_public_but_not_from_staff(self, archive):
        services.narrator_request_submit(
            reference_code=archive.codes["karim"], kind="pause"
        )
        assert found("pluie", Tier.PUBLIC) == set()
        assert found("pluie", Tier.RESEARCHER) == set()
        assert found("pluie", Tier.STAFF) == {"sous-la-pluie"}

    def test_an_embargo_lifts_at_its_time_with_no_job(self, archive):
        later = timezone.now() + dt.timedelta(days=31)
        assert found("embargoed") == set()
        results = search.search("embargoed", visible(Tier.PUBLIC, now=later))
        assert slugs(results) == ["embargoed"]

    @settings(
        max_examples=50,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            # Each engine's class, and PostgreSQL's ways of finding, run it.
            HealthCheck.differing_executors,
        ],
    )
    @given(secret=secrets())
    def test_a_secret_word_is_found_only_where_the_policy_allows(
        self, anonymous, researcher, curator, secret
    ):
        users = {Tier.PUBLIC: anonymous, Tier.RESEARCHER: researcher}
        users[Tier.STAFF] = curator
        with transaction.atomic():
            build_secret_archive(secret, curator)
            assert_index_exact()
            for tier, user in users.items():
                # Narrowed to this example's testimonies: the class's archive
                # may be there too.
                testimonies = Testimony.objects.visible_to(user).filter(
                    slug__in=("background", "subject")
                )
                check_secret(secret, tier, testimonies)
            transaction.set_rollback(True)

    # -- An index kept exact ----------------------------------------------------

    def test_every_service_keeps_the_index_exact(self, archive, curator, tmp_path):
        def found_staff(word):
            return found(word, Tier.STAFF)

        narrator = NarratorFactory(key="oceane", public_name="Océane")
        code = services.narrator_reference_code_reset(narrator=narrator)
        testimony = TestimonyFactory(
            slug="le-quai", title="Le quai", narrator=narrator, summary=""
        )
        services.search_reindex(testimony_ids=[testimony.pk])
        assert_index_exact()
        segment = services.segment_create(
            testimony=testimony,
            start=0,
            end=5,
            speaker="narrator",
            text="Le chef Brioche comptait nos colis.",
        )
        assert_index_exact()
        assert found_staff("colis") == {"le-quai"}
        assert found("colis") == set()
        services.segment_edit(
            segment=segment, text="Le chef Brioche comptait nos colis et nos palettes."
        )
        assert_index_exact()
        assert found_staff("palettes") == {"le-quai"}
        redaction = services.segment_redact(
            segment=segment, start=8, end=15, reason="person", by=curator
        )
        assert_index_exact()
        assert found_staff("brioche") == set()
        services.redaction_remove(redaction=redaction)
        assert_index_exact()
        assert found_staff("brioche") == {"le-quai"}
        services.segment_redact(segment=segment, start=8, end=15, reason="person")
        services.consent_record(
            testimony=testimony,
            scope="public",
            media="none",
            given_on=dt.date(2024, 1, 1),
        )
        assert_index_exact()
        services.testimony_publish(testimony=testimony)
        assert_index_exact()
        assert found("colis") == {"le-quai"}
        services.consent_withdraw(testimony=testimony, given_on=dt.date(2024, 2, 1))
        assert_index_exact()
        assert found_staff("colis") == set()
        services.consent_record(
            testimony=testimony,
            scope="public",
            media="none",
            given_on=dt.date(2024, 3, 1),
        )
        assert_index_exact()
        assert found("colis") == {"le-quai"}
        services.testimony_set_status(testimony=testimony, status="retired")
        assert_index_exact()
        assert found_staff("colis") == set()
        services.testimony_publish(testimony=testimony)
        assert_index_exact()
        assert found("colis") == {"le-quai"}
        services.testimony_set_status(testimony=testimony, status="in_review")
        assert_index_exact()
        assert (found("colis"), found_staff("colis")) == (set(), {"le-quai"})
        services.testimony_publish(testimony=testimony)
        services.narrator_update(narrator=narrator, changes={"public_name": "Capucine"})
        assert_index_exact()
        assert (found("capucine"), found("océane")) == ({"le-quai"}, set())
        services.narrator_update(narrator=narrator, changes={"identity": "anonymous"})
        assert_index_exact()
        assert found_staff("capucine") == set()
        services.narrator_request_submit(reference_code=code, kind="withdraw")
        assert_index_exact()
        assert found_staff("colis") == set()
        request = NarratorRequest.objects.get(narrator=narrator, status="pending")
        services.narrator_request_handle(
            request=request, by=curator, status="dismissed"
        )
        assert_index_exact()
        assert found("colis") == {"le-quai"}
        services.narrator_request_submit(reference_code=code, kind="pause")
        assert_index_exact()
        assert (found("colis"), found_staff("colis")) == (set(), {"le-quai"})
        request = NarratorRequest.objects.get(narrator=narrator, status="pending")
        services.narrator_request_handle(request=request, by=curator, status="handled")
        assert_index_exact()
        assert (found("colis"), found_staff("colis")) == (set(), {"le-quai"})
        services.narrator_request_submit(reference_code=code, kind="withdraw")
        request = NarratorRequest.objects.get(narrator=narrator, status="pending")
        services.narrator_request_handle(request=request, by=curator, status="handled")
        assert_index_exact()
        assert found_staff("colis") == set()
        services.testimony_set_embargo(
            testimony=archive.testimonies["ecrire-vite"],
            until=timezone.now() + dt.timedelta(days=1),
        )
        assert_index_exact()
        assert found("ecrit") == {"sous-la-pluie"}
        # Themes and job types renamed or added in the admin, then reindexed.
        Theme.objects.filter(slug="unions").update(name_fr="Collectifs")
        testimony.themes.add(Theme.objects.get(slug="unions"))
        services.search_reindex(
            testimony_ids=Testimony.objects.values_list("pk", flat=True)
        )
        assert_index_exact()
        assert found("collectifs") == {"sous-la-pluie", "le-syndicat"}
        bundle_import_file(write_bundle(tmp_path, small_bundle()))
        assert_index_exact()
        assert found("cinq") == {"imported"}
        assert found("gennevilliers") == set()
        services.testimony_delete(testimony=archive.testimonies["le-syndicat"])
        assert_index_exact()
        assert found("syndicat") == set()

    def test_the_index_rebuilt_from_scratch_is_the_same(self, archive):
        before = index_held()
        assert search.get_backend().rebuild() == len(before["segments"])
        assert index_held() == before

    def test_a_refused_change_leaves_the_index_as_it_was(
        self, archive, curator, tmp_path
    ):
        testimony = archive.testimonies["nuits-blanches"]
        segment = archive.segments["nuits-blanches", 2]
        before = index_held()

        def refused(error, change, **kwargs):
            with pytest.raises(error):
                change(**kwargs)
            assert index_held() == before
            assert found(LEGAL_SURNAME, Tier.STAFF) == set()

        # The gate is checked after the new public text was indexed.
        exposing = f"L'algorithme de {LEGAL_SURNAME} décidait de la prime."
        refused(
            services.PublicationRefused,
            services.segment_edit,
            segment=segment,
            text=exposing,
        )
        refused(
            services.PublicationRefused,
            services.segment_create,
            testimony=testimony,
            start=200,
            end=210,
            speaker="narrator",
            text=f"Signé {LEGAL_SURNAME}.",
        )
        refused(
            services.PublicationRefused,
            services.segment_redact,
            segment=segment,
            start=2,
            end=12,
            reason="other",
            label=f"[{LEGAL_SURNAME}]",
        )
        refused(
            services.ServiceError,
            services.segment_redact,
            segment=segment,
            start=5,
            end=500,
            reason="other",
        )
        refused(
            services.ServiceError,
            services.segment_edit,
            segment=archive.segments["sous-la-pluie", 4],
            text="Mon chef",
        )
        assert found("algorithme") == {"nuits-blanches", "sous-la-pluie"}
        # A redaction that hides the legal name cannot be lifted while published.
        draft = archive.testimonies["ebauche"]
        hidden = services.segment_create(
            testimony=draft,
            start=10,
            end=20,
            speaker="narrator",
            text=f"Je signais {LEGAL_SURNAME} partout.",
        )
        redaction = services.segment_redact(
            segment=hidden, start=11, end=11 + len(LEGAL_SURNAME), reason="person"
        )
        services.testimony_publish(testimony=draft, at=utc(2024, 7, 1))
        before = index_held()
        kept = redaction.pk
        refused(
            services.PublicationRefused, services.redaction_remove, redaction=redaction
        )
        assert Redaction.objects.filter(pk=kept).exists()
        bad = small_bundle()
        bad["testimonies"][0]["segments"][0]["text"] += f" Signé {LEGAL_SURNAME}."
        bad["narrators"][0]["private"] = {"legal_name": f"Yasmine {LEGAL_SURNAME}"}
        refused(
            BundleError,
            bundle_import_file,
            path=write_bundle(tmp_path, bad),
        )
        assert not Testimony.objects.filter(slug="imported").exists()

    def test_random_sequences_of_service_calls_keep_the_index_exact(self, curator):
        run_state_machine_as_test(
            lambda: IndexMachine(curator),
            settings=settings(
                max_examples=30,
                stateful_step_count=15,
                deadline=None,
                suppress_health_check=[
                    HealthCheck.function_scoped_fixture,
                    HealthCheck.too_slow,
                ],
            ),
        )


# --- The engines -----------------------------------------------------------------


class PostgresBackendTests(BackendContract):
    vendor = "postgresql"

    def test_french_words_are_found_by_their_stem_without_accents(self, archive):
        # "modérateur", "MODERATEUR", "modérateurs" and "moderateurs".
        moderators = {"nuits-blanches", "sous-la-pluie", "le-syndicat", "ecrire-vite"}
        assert found("moderateur") == moderators
        assert found("modérateur") == moderators
        assert found("moderateurs") == moderators
        assert found("modérateurs") == moderators

    def test_english_words_are_found_by_their_stem(self, archive):
        assert found("moderators") == {"rating-search-results"}
        assert found("moderator") == {"rating-search-results"}
        assert found("platforms") == found("platform")

    def test_or_joins_only_its_neighbours_and_every_other_item_still_holds(
        self, archive
    ):
        super().test_or_joins_only_its_neighbours_and_every_other_item_still_holds(
            archive
        )

    def test_past_the_rank_candidates_results_stay_whole_and_stable(
        self, archive, monkeypatch
    ):
        from testimonies.search import postgres

        uncapped = run(EVERYWHERE, Tier.STAFF)
        whole = slugs(uncapped)
        shown_uncapped = {h.testimony.slug: len(h.segments) for h in uncapped.hits}
        # Segments past the candidates are not ranked: their testimonies fall
        # back to their metadata rank and number of matches.
        monkeypatch.setattr(postgres, "RANK_CANDIDATES", 2)
        capped = run(EVERYWHERE, Tier.STAFF)
        assert sorted(slugs(capped)) == sorted(whole)
        assert [p for page in all_pages(EVERYWHERE, Tier.STAFF, 2) for p in page] == (
            slugs(capped)
        )
        for hit in capped.hits:
            # As many passages as without the cap: their first matches.
            assert len(hit.segments) == shown_uncapped[hit.testimony.slug]
            for shown in hit.segments:
                text = fold(Segment.objects.get(pk=shown.segment_id).public_text)
                assert "plateforme" in text or "platform" in text

    def test_a_headline_read_from_a_window_shows_only_whole_words(
        self, archive, monkeypatch
    ):
        from testimonies.search import postgres

        # A window so narrow that the headline reaches both of its ends.
        monkeypatch.setattr(postgres, "WINDOW", 60)
        monkeypatch.setattr(postgres, "WINDOW_BEFORE", 33)
        text = f"{LONG_FILLER} ornithologue {LONG_FILLER}"
        indexed_testimony("narrow-window", text)
        [hit] = run("ornithologue").hits
        [shown] = hit.segments
        assert shown.snippet.marked() == ["ornithologue"]
        words = shown.snippet.text("", "").replace("…", " ").split()
        assert len(words) > 3 and set(words) <= set(text.split())

    def test_stop_words_are_ignored_in_words_and_in_exclusions(self, archive):
        assert found("la") == set()
        assert found("the") == set()
        assert found("plateforme -la") == found("plateforme")

    def test_a_stop_word_with_an_exclusion_finds_no_more_than_the_stop_word(
        self, archive
    ):
        assert found("le") == found("the") == set()
        assert found("le -chef") == set()
        assert found("the -zzz") == set()


def one_way(way: str):
    """The PostgreSQL backend, finding every query's testimonies one way: by
    asking them ("ask") or by reading every match from the index ("index")."""
    from testimonies.search.postgres import PostgresSearchBackend

    chosen = {"ask": "true", "index": "false"}[way]

    class OneWay(PostgresSearchBackend):
        def ask_where(self, condition: str) -> str:
            return chosen

    return OneWay


@contextmanager
def finding_by(way: str | None, sample_mask: int | None = None):
    """Search with the PostgreSQL backend finding testimonies one way (or, with
    None, choosing as it does), and with the sample's mask set."""
    from testimonies.search import postgres

    with ExitStack() as stack:
        if way is not None:
            stack.enter_context(mock.patch.object(search, "get_backend", one_way(way)))
        if sample_mask is not None:
            stack.enter_context(mock.patch.object(postgres, "SAMPLE_MASK", sample_mask))
        yield


def steps_statement(select: str, query: str) -> tuple[str, list]:
    """The steps of the search's statement for ``query``, read by ``select``."""
    from testimonies.search.postgres import statement

    parts = search.get_backend().page_steps(
        search.parse(query), visible(Tier.PUBLIC).order_by()
    )
    return statement(parts, select)


def steps(select: str, query: str):
    """A value read from the steps of the search's statement for ``query``."""
    with connection.cursor() as cursor:
        cursor.execute(*steps_statement(select, query))
        return cursor.fetchone()[0]


def dense_flags(query: str) -> dict:
    """Which configurations the search asks testimony by testimony."""
    return steps("SELECT row_to_json(dense) FROM dense", query)


# Words of the contract's archive, and some it does not hold.
ARCHIVE_WORDS = (
    "pluie", "vélo", "salaire", "plateforme", "platform", "moderateur", "scooter",
    "nuit", "moderators", "la", "the", "zzz", "chef", "syndicat", "écrire",
)  # fmt: skip


@st.composite
def archive_queries(draw) -> str:
    """Queries of one or two items from ``ARCHIVE_WORDS``: words, ``or``,
    exclusions and phrases."""
    parts = []
    for _ in range(draw(st.integers(1, 2))):
        word = draw(st.sampled_from(ARCHIVE_WORDS))
        kind = draw(st.sampled_from(("word", "word", "word", "or", "not", "phrase")))
        if kind == "or":
            parts.append(f"{word} or {draw(st.sampled_from(ARCHIVE_WORDS))}")
        elif kind == "not":
            parts.append(f"-{word}")
        elif kind == "phrase":
            parts.append(f'"{word} {draw(st.sampled_from(ARCHIVE_WORDS))}"')
        else:
            parts.append(word)
    return " ".join(parts)


class PostgresAskingBackendTests(PostgresBackendTests):
    """The whole contract again, every visible testimony asked for its first
    match (the way a word found nearly everywhere is searched), over a sample
    that holds every segment, so that ranks and passages are those of the
    index's way."""

    @pytest.fixture(autouse=True)
    def _asking(self):
        with finding_by("ask", sample_mask=0):
            yield


class PostgresIndexBackendTests(PostgresBackendTests):
    """The whole contract again, every match read from the index."""

    @pytest.fixture(autouse=True)
    def _reading_the_index(self):
        with finding_by("index"):
            yield


class PostgresShelvedBackendTests(PostgresBackendTests):
    """The whole contract again, every write of the index onto a shelf of its
    own (see search/shelves.py), as a large import writes it."""

    @pytest.fixture(scope="class")
    @classmethod
    def archive(cls, django_db_setup, django_db_blocker) -> Iterator[Archive]:
        from testimonies.search import shelves

        with (
            mock.patch.object(shelves, "SHELF_SEGMENTS", 1),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            yield build_archive(UserFactory(groups=["curators"]))
            transaction.set_rollback(True)

    @pytest.fixture(autouse=True)
    def _shelving(self):
        from testimonies.search import shelves

        with mock.patch.object(shelves, "SHELF_SEGMENTS", 1):
            yield

    def test_the_archive_is_held_on_shelves(self, archive):
        from testimonies.search import shelves

        # Every segment entry (testimonies' words are written again from all
        # of their entries, wherever those are held).
        with connection.cursor() as cursor:
            assert shelves.shelves(cursor, "search_segment")
            cursor.execute("SELECT count(*) FROM ONLY search_segment")
            assert cursor.fetchone()[0] == 0


class PostgresFindingTests(OnEngine):
    """How the PostgreSQL backend chooses between its two ways of finding the
    testimonies that match, which must always agree."""

    vendor = "postgresql"

    @settings(
        max_examples=60,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
        deadline=None,
    )
    @given(query=archive_queries(), tier=st.sampled_from(TIERS))
    def test_asking_each_testimony_finds_what_reading_the_index_finds(
        self, archive, query, tier
    ):
        with finding_by("index"):
            read = run(query, tier)
        with finding_by("ask"):
            asked = run(query, tier)
        event("found" if read.total else "nothing found")
        assert asked.total == read.total
        assert sorted(slugs(asked)) == sorted(slugs(read))
        assert facet_counts(asked) == facet_counts(read)
        for hit in asked.hits:
            assert len(hit.segments) <= 3
            assert all(s.snippet.marked() for s in hit.segments)

    def test_a_word_in_every_testimony_asks_them_and_a_rare_word_reads_the_index(
        self,
    ):
        for n in range(10):
            testimony = indexed_testimony(
                f"partout-{n}", "Le quai est froid ce matin.", language="fr"
            )
            for minute in range(1, 6):
                text = "Le quai encore." if minute != 3 or n else "Un ornithologue."
                services.segment_create(
                    testimony=testimony,
                    start=200 + 60 * minute,
                    end=245 + 60 * minute,
                    speaker="narrator",
                    text=text,
                )
        search.get_backend().refresh_statistics()
        from testimonies.search import postgres

        # Fewer matches than are ranked are read from the index, all ranked:
        # this archive is small enough to be under that bound.
        with finding_by(None, sample_mask=0):
            assert dense_flags("quai")["archive_fr"] is False
        with (
            finding_by(None, sample_mask=0),
            mock.patch.object(postgres, "RANK_CANDIDATES", 20),
        ):
            assert dense_flags("quai")["archive_fr"] is True
            assert dense_flags("ornithologue")["archive_fr"] is False
            assert dense_flags("ornithologue")["anywhere"] is False
            assert found("quai") == {f"partout-{n}" for n in range(10)}
            assert found("ornithologue") == {"partout-0"}
            [hit] = run("ornithologue").hits
            assert [s.snippet.marked() for s in hit.segments] == [["ornithologue"]]
            assert all(len(h.segments) == 3 for h in run("quai").hits)
            # The testimonies' words are read only where they may be asked.
            assert steps("SELECT count(*) FROM doc", "quai") == 10
            assert steps("SELECT count(*) FROM doc", "ornithologue") == 0
        with finding_by("ask", sample_mask=0):
            assert steps("SELECT count(*) FROM doc", "ornithologue") == 1

    def test_the_sample_is_read_from_indexes_of_its_own(self):
        from testimonies.search import postgres

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE tablename = 'search_segment' AND indexname LIKE '%%sample'"
            )
            definitions = dict(cursor.fetchall())
        assert set(definitions) == {
            "search_segment_fr_sample",
            "search_segment_en_sample",
            "search_segment_simple_sample",
        }
        for definition in definitions.values():
            assert f"& {postgres.SAMPLE_MASK})" in definition
        # The search's own condition implies the indexes' predicate: the
        # database can read the sample from them (and must, without others).
        statement, params = steps_statement("SELECT count(*) FROM sample", "quai")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + statement, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "search_segment_fr_sample" in plan

    def test_a_testimonys_words_are_every_term_of_its_indexed_segments(self):
        import re

        from benchmarks.search import analyse

        testimony = indexed_testimony("le-quai", "Le quai est froid.", language="fr")
        segment = services.segment_create(
            testimony=testimony,
            start=120,
            end=160,
            speaker="narrator",
            text="Brioche comptait nos colis.",
        )

        def words() -> set[str] | None:
            entry = index_held()["words"].get(testimony.pk)
            return entry and set(re.findall(r"'((?:[^']|'')*)'", entry[1]))

        def terms(*texts: str) -> set[str]:
            return {t for text in texts for t in analyse(text, "fr")}

        def public() -> set[str]:
            segment.refresh_from_db()
            return terms("Le quai est froid.", segment.public_text)

        assert words() == public() and {"quai", "brioch", "colis"} <= words()
        services.segment_redact(segment=segment, start=0, end=7, reason="person")
        assert words() == public() and "brioch" not in words()
        services.segment_edit(segment=segment, text="Brioche comptait nos palettes.")
        assert words() == public()
        assert "palet" in words() and "colis" not in words()
        services.consent_withdraw(testimony=testimony, given_on=dt.date(2024, 2, 1))
        assert words() is None
        assert_index_exact()

    def test_what_a_testimonys_words_tell_of_a_query(self):
        def flags(query: str) -> tuple[bool, bool]:
            pair = "json_build_array(archive_fr_narrows, archive_fr_exact)"
            return tuple(steps(f"SELECT {pair} FROM q", query))

        # (every term is in a matching testimony's words, holding one is a match)
        assert flags("quai") == (True, True)
        assert flags("quai or colis") == (True, True)
        assert flags("quai colis") == (True, False)
        assert flags('"quai est froid"') == (False, False)
        assert flags("quai -colis") == (False, False)

    def test_terms_held_in_different_segments_are_no_match_when_asked(self):
        testimony = indexed_testimony("le-quai", "Le quai est froid.", language="fr")
        services.segment_create(
            testimony=testimony,
            start=120,
            end=160,
            speaker="narrator",
            text="Nos colis attendent.",
        )
        indexed_testimony("le-depot", "Au quai, nos colis attendent.", language="fr")
        with finding_by("ask"):
            assert found("quai colis") == {"le-depot"}
            assert found("quai or colis") == {"le-quai", "le-depot"}
            assert found('"quai est froid"') == {"le-quai"}
            assert found("quai -colis") == {"le-quai"}


class SqliteBackendTests(BackendContract):
    vendor = "sqlite"

    def test_words_match_their_own_form_without_stemming(self, archive):
        # Accents and case fold; endings do not.
        assert found("moderateur") == {"nuits-blanches", "sous-la-pluie"}
        assert found("modérateurs") == {"le-syndicat", "ecrire-vite"}
        assert found("moderators") == set()
        assert found("moderator") == {"rating-search-results"}

    def test_short_common_words_are_found_like_any_other(self, archive):
        assert found("la") == {
            "nuits-blanches",
            "sous-la-pluie",
            "le-syndicat",
            "ecrire-vite",
        }
