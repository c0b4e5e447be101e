"""The access policy: ``Testimony.objects.visible_to(user)``, and the media rule
beside it (docs/design.md, "The access policy").

The property test compares the QuerySet with an oracle written here in plain
Python from the policy's wording, over generated archives; the example tests
name the behaviours one by one.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from testimonies import search, services
from testimonies.exporters.bundle import bundle_export
from testimonies.models import (
    ConsentRecord,
    Narrator,
    NarratorRequest,
    Testimony,
)
from testimonies.querysets import media_offer_for

from .factories import NarratorFactory, TestimonyFactory, UserFactory
from .media.archive import stand_in_original, stored_rendition

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")

STATUSES = ("draft", "in_review", "published", "retired")
SCOPES = ("public", "research", "archive", "withdrawn")
MEDIA = ("audio_video", "audio", "none")
# What an embargo end is, relative to the frozen "now".
EMBARGOES = {
    "none": None,
    "past": -dt.timedelta(days=30),
    "future": dt.timedelta(days=30),
    "exactly now": dt.timedelta(0),
    "one second before now": -dt.timedelta(seconds=1),
    "one second after now": dt.timedelta(seconds=1),
    "one microsecond before now": -dt.timedelta(microseconds=1),
    "one microsecond after now": dt.timedelta(microseconds=1),
}
# A narrator's requests, as (kind, status).
REQUESTS = {
    "withdraw pending": ("withdraw", "pending"),
    "pause pending": ("pause", "pending"),
    "correct pending": ("correct", "pending"),
    "withdraw handled": ("withdraw", "handled"),
    "pause dismissed": ("pause", "dismissed"),
}
# Instants with and without microseconds, in the ambiguous hour of Paris's
# autumn clock change, and at midnight in Paris but not in UTC.
NOWS = (
    dt.datetime(2025, 6, 15, 12, 0, tzinfo=UTC),
    dt.datetime(2025, 6, 15, 12, 0, 0, 123456, tzinfo=UTC),
    dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
    dt.datetime(2024, 12, 31, 23, 0, 0, 999999, tzinfo=UTC),
)
ZONES = (UTC, PARIS)
# The tier each kind of visitor belongs to, as the policy words it.
TIER_OF = {
    "anonymous": "public",
    "member": "public",
    "researcher": "researcher",
    "curator": "staff",
    "archivist": "staff",
    "inactive researcher": "public",
    "inactive curator": "public",
}


@dataclass(frozen=True)
class TestimonyDescription:
    status: str
    consent: tuple[tuple[str, str, int], ...]  # (scope, media, days after previous)
    embargo: str
    embargo_zone: ZoneInfo
    narrator: int


@dataclass(frozen=True)
class ArchiveDescription:
    testimonies: tuple[TestimonyDescription, ...]
    requests: tuple[tuple[str, ...], ...]  # per narrator
    stray_requests: tuple[str, ...]  # sent with a code that matches no narrator
    consent_order: tuple[int, ...]  # which testimony's next record is recorded
    now: dt.datetime


def embargo_end(description: TestimonyDescription, now: dt.datetime):
    offset = EMBARGOES[description.embargo]
    if offset is None:
        return None
    return (now.astimezone(UTC) + offset).astimezone(description.embargo_zone)


@st.composite
def archives(draw) -> ArchiveDescription:
    narrator_count = draw(st.integers(1, 3))
    testimony = st.builds(
        TestimonyDescription,
        status=st.sampled_from(STATUSES),
        consent=st.lists(
            st.tuples(
                st.sampled_from(SCOPES),
                st.sampled_from(MEDIA),
                st.sampled_from((0, 0, 1, 365)),
            ),
            max_size=4,
        ).map(tuple),
        embargo=st.sampled_from(tuple(EMBARGOES)),
        embargo_zone=st.sampled_from(ZONES),
        narrator=st.integers(0, narrator_count - 1),
    )
    testimonies = tuple(draw(st.lists(testimony, min_size=1, max_size=6)))
    request_lists = st.lists(st.sampled_from(tuple(REQUESTS)), max_size=3)
    requests = tuple(tuple(draw(request_lists)) for _ in range(narrator_count))
    stray = tuple(draw(request_lists))
    # Records of several testimonies interleave in the order recorded; each
    # testimony's own records keep theirs.
    slots = [index for index, t in enumerate(testimonies) for _ in t.consent]
    order = tuple(draw(st.permutations(slots)))
    zone = draw(st.sampled_from(ZONES))
    now = draw(st.sampled_from(NOWS)).astimezone(zone)
    return ArchiveDescription(testimonies, requests, stray, order, now)


def expected_slugs(archive: ArchiveDescription, tier: str) -> set[str]:
    """The oracle: the policy of docs/design.md, read from the description alone."""
    slugs = {f"t{index}" for index in range(len(archive.testimonies))}
    if tier == "staff":
        return slugs
    admitted = {"public"} if tier == "public" else {"public", "research"}
    hidden_narrators = {
        narrator
        for narrator, requests in enumerate(archive.requests)
        if "withdraw pending" in requests or "pause pending" in requests
    }
    now = archive.now.astimezone(UTC)
    visible = set()
    for index, testimony in enumerate(archive.testimonies):
        end = embargo_end(testimony, archive.now)
        if (
            testimony.status == "published"
            and testimony.consent
            and testimony.consent[-1][0] in admitted
            and (end is None or end.astimezone(UTC) <= now)
            and testimony.narrator not in hidden_narrators
        ):
            visible.add(f"t{index}")
    return visible


def build(archive: ArchiveDescription) -> None:
    narrators = Narrator.objects.bulk_create(
        Narrator(key=f"n{index}", public_name=f"N{index}", identity="pseudonym")
        for index in range(len(archive.requests))
    )
    testimonies = Testimony.objects.bulk_create(
        Testimony(
            slug=f"t{index}",
            title=f"T{index}",
            narrator=narrators[description.narrator],
            language="fr",
            status=description.status,
            embargo_until=embargo_end(description, archive.now),
        )
        for index, description in enumerate(archive.testimonies)
    )
    day = dt.date(2023, 1, 1)
    next_record = [0] * len(testimonies)
    given_on = [day] * len(testimonies)
    for index in archive.consent_order:
        scope, media, days_later = archive.testimonies[index].consent[
            next_record[index]
        ]
        next_record[index] += 1
        given_on[index] += dt.timedelta(days=days_later)
        # One insert per record: the order recorded is the primary key's.
        ConsentRecord.objects.create(
            testimony=testimonies[index],
            scope=scope,
            media=media,
            given_on=given_on[index],
        )
    requests = [
        (narrator, name)
        for narrator, names in zip(narrators, archive.requests, strict=True)
        for name in names
    ] + [(None, name) for name in archive.stray_requests]
    NarratorRequest.objects.bulk_create(
        NarratorRequest(
            narrator=narrator,
            reference_code_hash=f"sha256:{number:064x}",
            kind=REQUESTS[name][0],
            status=REQUESTS[name][1],
        )
        for number, (narrator, name) in enumerate(requests)
    )


@pytest.fixture
def visitors(anonymous, member, researcher, curator, archivist):
    return {
        "anonymous": anonymous,
        "member": member,
        "researcher": researcher,
        "curator": curator,
        "archivist": archivist,
        "inactive researcher": UserFactory(groups=["researchers"], is_active=False),
        "inactive curator": UserFactory(groups=["curators"], is_active=False),
    }


@pytest.mark.django_db
@settings(max_examples=500)
@given(archive=archives())
def test_visible_to_shows_each_tier_exactly_what_the_policy_allows(visitors, archive):
    with transaction.atomic():
        build(archive)
        for name, user in visitors.items():
            shown = set(
                Testimony.objects.visible_to(user, now=archive.now).values_list(
                    "slug", flat=True
                )
            )
            assert shown == expected_slugs(archive, TIER_OF[name]), name
        assert Testimony.objects.count() == len(archive.testimonies)
        # Each example leaves the database as it found it.
        transaction.set_rollback(True)


def visible_slugs(user, **kwargs) -> set[str]:
    return set(
        Testimony.objects.visible_to(user, **kwargs).values_list("slug", flat=True)
    )


@pytest.mark.django_db
def test_no_consent_record_hides_a_published_testimony_from_everyone_but_staff(
    anonymous, researcher, curator
):
    testimony = TestimonyFactory(published=True)

    assert visible_slugs(anonymous) == set()
    assert visible_slugs(researcher) == set()
    assert visible_slugs(curator) == {testimony.slug}


@pytest.mark.django_db
def test_the_later_consent_record_of_the_same_day_is_in_force(anonymous):
    day = dt.date(2024, 5, 1)
    withdrawn_last = TestimonyFactory(published=True)
    public_last = TestimonyFactory(published=True)
    for testimony, scopes in (
        (withdrawn_last, ("public", "withdrawn")),
        (public_last, ("withdrawn", "public")),
    ):
        for scope in scopes:
            services.consent_record(
                testimony=testimony, scope=scope, media="audio", given_on=day
            )

    assert visible_slugs(anonymous) == {public_last.slug}


@pytest.mark.django_db
def test_a_withdrawal_after_public_consent_hides_the_testimony_at_once(
    anonymous, researcher
):
    testimony = TestimonyFactory(published=True, consent="public")
    assert visible_slugs(anonymous) == {testimony.slug}

    services.consent_withdraw(testimony=testimony)

    assert visible_slugs(anonymous) == set()
    assert visible_slugs(researcher) == set()


@pytest.mark.django_db
def test_research_consent_shows_a_testimony_to_researchers_only(
    anonymous, member, researcher
):
    testimony = TestimonyFactory(published=True, consent=["public", "research"])

    assert visible_slugs(anonymous) == set()
    assert visible_slugs(member) == set()
    assert visible_slugs(researcher) == {testimony.slug}


@pytest.mark.django_db
def test_an_embargo_lifts_at_request_time_without_any_job(anonymous):
    end = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    testimony = TestimonyFactory(published=True, consent="public", embargo_until=end)

    stored_before = list(Testimony.objects.values())
    with (
        CaptureQueriesContext(connection) as queries,
        time_machine.travel(end - dt.timedelta(seconds=1), tick=False) as traveller,
    ):
        assert visible_slugs(anonymous) == set()
        traveller.move_to(end)
        assert visible_slugs(anonymous) == {testimony.slug}

    # Nothing was written from the first request to the second: time alone
    # lifted the embargo.
    assert queries.captured_queries
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries)
    assert list(Testimony.objects.values()) == stored_before


@pytest.mark.django_db
def test_visible_to_takes_now_as_the_time_of_the_request_by_default(researcher):
    end = dt.datetime(2031, 3, 1, 9, 0, 0, 500000, tzinfo=UTC)
    TestimonyFactory(published=True, consent="research", embargo_until=end)

    for moment in (
        end - dt.timedelta(days=1),
        end - dt.timedelta(microseconds=1),
        end,
        end + dt.timedelta(days=1),
    ):
        with time_machine.travel(moment, tick=False):
            assert visible_slugs(researcher) == visible_slugs(researcher, now=moment)


@pytest.mark.django_db
def test_a_pending_pause_hides_all_the_narrators_testimonies_until_dismissed(
    anonymous, curator
):
    narrator = NarratorFactory()
    code = services.narrator_reference_code_reset(narrator=narrator)
    own = {
        TestimonyFactory(published=True, consent="public", narrator=narrator).slug
        for _ in range(2)
    }
    other = TestimonyFactory(published=True, consent="public").slug

    services.narrator_request_submit(reference_code=code, kind="pause")
    assert visible_slugs(anonymous) == {other}

    services.narrator_request_handle(
        request=NarratorRequest.objects.get(narrator=narrator),
        by=curator,
        status="dismissed",
    )
    assert visible_slugs(anonymous) == own | {other}


@pytest.mark.django_db
def test_a_handled_withdrawal_keeps_the_narrators_testimonies_hidden(
    anonymous, researcher, curator
):
    narrator = NarratorFactory()
    code = services.narrator_reference_code_reset(narrator=narrator)
    TestimonyFactory(published=True, consent="public", narrator=narrator)
    TestimonyFactory(published=True, consent="research", narrator=narrator)
    other = TestimonyFactory(published=True, consent="public").slug

    services.narrator_request_submit(reference_code=code, kind="withdraw")
    assert visible_slugs(researcher) == {other}

    services.narrator_request_handle(
        request=NarratorRequest.objects.get(narrator=narrator),
        by=curator,
        status="handled",
    )
    assert visible_slugs(anonymous) == {other}
    assert visible_slugs(researcher) == {other}


@pytest.mark.django_db
def test_a_correction_request_hides_nothing(anonymous):
    narrator = NarratorFactory()
    code = services.narrator_reference_code_reset(narrator=narrator)
    testimony = TestimonyFactory(published=True, consent="public", narrator=narrator)

    services.narrator_request_submit(reference_code=code, kind="correct")

    assert visible_slugs(anonymous) == {testimony.slug}


@pytest.mark.django_db
def test_visible_to_leaves_the_default_manager_unfiltered(anonymous):
    shown = TestimonyFactory(published=True, consent="public")
    draft = TestimonyFactory(consent="public")
    unconsented = TestimonyFactory(published=True)

    assert visible_slugs(anonymous) == {shown.slug}
    assert set(Testimony.objects.all()) == {shown, draft, unconsented}
    assert Testimony._default_manager.count() == 3


# --- The media rule -------------------------------------------------------------

KINDS = ("audio", "video")
IDENTITIES = ("pseudonym", "anonymous")


def offer_by_the_policy(kind: str, release: str, identity: str) -> str:
    """The oracle, from the policy's wording: the release gives the media, the
    sound only or nothing; video of an anonymous narrator is never served, at
    most its sound; the sound of a video is served on its own."""
    if release == "audio_video" and not (kind == "video" and identity == "anonymous"):
        return "audio_video"
    if release in ("audio_video", "audio"):
        return "audio"
    return "none"


@pytest.mark.django_db
@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("release", MEDIA)
@pytest.mark.parametrize("kind", KINDS)
def test_the_media_rule_the_facet_and_the_public_export_agree(
    anonymous, kind, release, identity
):
    testimony = TestimonyFactory(
        published=True,
        consent="public",
        media=f"testimonies/recording.{'webm' if kind == 'video' else 'ogg'}",
        media_kind=kind,
        narrator=NarratorFactory(identity=identity),
    )
    testimony.consent_records.update(media=release)
    expected = offer_by_the_policy(kind, release, identity)
    stand_in_original(testimony, kind)
    if expected != "none":
        # The public export carries the public rendition, once it is made.
        stored_rendition(testimony, b"rendition")

    assert media_offer_for(testimony, anonymous) == expected
    facet = search.search("", Testimony.objects.visible_to(anonymous)).facets
    counted = {value.value: value.count for value in facet["media"]}
    assert counted == {expected != "none": 1}
    (exported,) = bundle_export(public=True)["testimonies"]
    assert ("media" in exported) == (expected != "none")
    if expected != "none":
        exported_kind = "audio" if expected == "audio" else kind
        assert exported["media"]["kind"] == exported_kind


@pytest.mark.django_db
def test_no_media_is_offered_of_a_testimony_one_may_not_see(anonymous, researcher):
    testimony = TestimonyFactory(
        published=True,
        consent="research",
        media="testimonies/a.ogg",
        media_kind="audio",
    )
    assert media_offer_for(testimony, anonymous) == "none"
    assert media_offer_for(testimony, researcher) == "audio_video"


@pytest.mark.django_db
def test_no_media_is_offered_without_a_media_file(anonymous):
    testimony = TestimonyFactory(published=True, consent="public", media_kind="audio")
    assert media_offer_for(testimony, anonymous) == "none"
