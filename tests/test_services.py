"""Every change of state (testimonies/services.py): gate, redaction, consent."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone, translation

from testimonies import search, services
from testimonies.gate import HitKind
from testimonies.models import (
    ConsentRecord,
    IdentityAccess,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Testimony,
    hash_reference_code,
)
from testimonies.services import PublicationRefused, ServiceError

from .factories import EpisodeFactory, NarratorFactory, TestimonyFactory, ThemeFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

LEGAL_NAME = "Élodie Martin-Dubois"
CONTACT = "Signal: elodie-md\n12 rue des Lilas"

# What would expose the narrator, by kind: each appears once in a field.
LEAKS = {
    HitKind.LEGAL_NAME: "DUBOIS",
    HitKind.CONTACT: "12 rue des lilas",
    HitKind.SENSITIVE_TERM: "projet atlas",
    HitKind.EMAIL: "lina.m@exemple.org",
    HitKind.PHONE: "06 12 34 56 78",
}
PREFIX = "Voir "  # every leak is put at offset 5 of its field


@pytest.fixture
def narrator():
    return NarratorFactory(
        public_name="Lina",
        identity=Narrator.Identity.PSEUDONYM,
        legal_name=LEGAL_NAME,
        contact=CONTACT,
        sensitive_terms=["Projet Atlas"],
        descriptor_fr="une modératrice, Île-de-France",
        descriptor_en="a moderator, Île-de-France",
        region="Île-de-France",
    )


@pytest.fixture
def testimony(narrator):
    testimony = TestimonyFactory(
        narrator=narrator,
        status=Testimony.Status.IN_REVIEW,
        title="Modérer la nuit",
        summary="Des images qu'on n'oublie pas.",
        place="Paris",
        content_warnings=["violence"],
        consent="public",
    )
    episode = EpisodeFactory()
    for note in ("première apparition", "à vélo"):
        services.appearance_add(
            testimony=testimony, episode=episode, start=10, end=20, note=note
        )
    for start, text in ((0, "Je modérais des vidéos."), (75.5, "Personne ne savait.")):
        services.segment_create(
            testimony=testimony,
            start=start,
            end=start + 10,
            speaker="narrator",
            text=text,
        )
    return testimony


def put_in_title(testimony, text):
    Testimony.objects.filter(pk=testimony.pk).update(title=text)


def put_in_summary(testimony, text):
    Testimony.objects.filter(pk=testimony.pk).update(summary=text)


def put_in_place(testimony, text):
    Testimony.objects.filter(pk=testimony.pk).update(place=text)


def put_in_content_warning(testimony, text):
    Testimony.objects.filter(pk=testimony.pk).update(
        content_warnings=["violence", text]
    )


def put_in_appearance_note(testimony, text):
    testimony.appearances.filter(note="à vélo").update(note=text)


def put_in_public_name(testimony, text):
    Narrator.objects.filter(pk=testimony.narrator_id).update(public_name=text)


def put_in_descriptor_fr(testimony, text):
    Narrator.objects.filter(pk=testimony.narrator_id).update(descriptor_fr=text)


def put_in_descriptor_en(testimony, text):
    Narrator.objects.filter(pk=testimony.narrator_id).update(descriptor_en=text)


def put_in_region(testimony, text):
    Narrator.objects.filter(pk=testimony.narrator_id).update(region=text)


def put_in_segment(testimony, text):
    services.segment_edit(segment=testimony.segments.get(position=1), text=text)


PLACES = {
    "title": put_in_title,
    "summary": put_in_summary,
    "place": put_in_place,
    "content_warnings[1]": put_in_content_warning,
    "appearances[1].note": put_in_appearance_note,
    "narrator.public_name": put_in_public_name,
    "narrator.descriptor.fr": put_in_descriptor_fr,
    "narrator.descriptor.en": put_in_descriptor_en,
    "narrator.region": put_in_region,
    "segments[1] (at 75.5 s)": put_in_segment,
}


def refusal(testimony) -> PublicationRefused:
    with pytest.raises(PublicationRefused) as caught:
        services.testimony_publish(testimony=testimony)
    return caught.value


# --- The publication gate ----------------------------------------------------


def test_a_clean_testimony_is_published(testimony):
    published = services.testimony_publish(testimony=testimony)
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.PUBLISHED
    assert testimony.published_at == published.published_at is not None


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("kind", LEAKS)
def test_gate_refuses_a_leak_in_any_public_field_and_names_its_place(
    testimony, place, kind
):
    PLACES[place](testimony, PREFIX + LEAKS[kind])
    error = refusal(testimony)
    assert [(hit.place, hit.offset, hit.kind) for hit in error.hits] == [
        (place, len(PREFIX), kind)
    ]
    assert f"{place}, offset {len(PREFIX)}: {kind}" in str(error)


def test_gate_lists_every_hit_with_its_place(testimony):
    put_in_title(testimony, "Dubois et Élodie")
    put_in_summary(testimony, "Écrire à lina.m@exemple.org ou au 06 12 34 56 78.")
    put_in_region(testimony, "Le Projet Atlas, Paris")
    put_in_segment(testimony, "Mon numéro : +44 20 7946 0958. Au 12 rue des Lilas.")
    error = refusal(testimony)
    expected = [
        ("title", 0, HitKind.LEGAL_NAME),
        ("title", 10, HitKind.LEGAL_NAME),
        ("summary", 9, HitKind.EMAIL),
        ("summary", 34, HitKind.PHONE),
        ("narrator.region", 3, HitKind.SENSITIVE_TERM),
        ("segments[1] (at 75.5 s)", 13, HitKind.PHONE),
        ("segments[1] (at 75.5 s)", 34, HitKind.CONTACT),
    ]
    assert sorted((h.place, h.offset, h.kind) for h in error.hits) == sorted(expected)
    message = str(error)
    for place, offset, kind in expected:
        assert f"{place}, offset {offset}: {kind}" in message


def test_refusal_message_never_repeats_the_legal_name_or_contact(testimony):
    put_in_title(testimony, "Élodie Martin-Dubois, 12 rue des Lilas")
    put_in_summary(testimony, "Écrire à martin.dubois@exemple.org")
    message = str(refusal(testimony))
    assert "summary, offset 9: e-mail address" in message
    for secret in ("lodie", "Martin", "Dubois", "Lilas"):
        assert secret.lower() not in message.lower()


def test_gate_reads_public_text_so_a_redacted_segment_publishes(testimony):
    segment = testimony.segments.get(position=1)
    services.segment_edit(segment=segment, text="Parlez-en à Dubois, au 0612345678.")
    assert len(refusal(testimony).hits) == 2
    services.segment_redact(segment=segment, start=12, end=18, reason="person")
    services.segment_redact(segment=segment, start=23, end=33, reason="other")
    segment.refresh_from_db()
    assert segment.public_text == "Parlez-en à [nom retiré], au [passage retiré]."
    assert "Dubois" in segment.text and "0612345678" in segment.text
    services.testimony_publish(testimony=testimony)
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.PUBLISHED


def test_gate_skips_the_internal_label_of_an_anonymous_narrator(testimony):
    Narrator.objects.filter(pk=testimony.narrator_id).update(
        identity=Narrator.Identity.ANONYMOUS, public_name=LEGAL_NAME
    )
    services.testimony_publish(testimony=testimony)
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.PUBLISHED


def test_gate_still_scans_the_rest_for_an_anonymous_narrator(testimony):
    Narrator.objects.filter(pk=testimony.narrator_id).update(
        identity=Narrator.Identity.ANONYMOUS, public_name=LEGAL_NAME
    )
    put_in_summary(testimony, "Elle s'appelle Élodie.")
    assert [(h.place, h.kind) for h in refusal(testimony).hits] == [
        ("summary", HitKind.LEGAL_NAME)
    ]


def test_gate_allows_the_legal_name_of_a_named_narrator(testimony):
    Narrator.objects.filter(pk=testimony.narrator_id).update(
        identity=Narrator.Identity.NAMED, public_name=LEGAL_NAME
    )
    put_in_title(testimony, "Élodie Martin-Dubois raconte")
    services.testimony_publish(testimony=testimony)
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.PUBLISHED


@pytest.mark.parametrize("kind", [HitKind.EMAIL, HitKind.PHONE, HitKind.CONTACT])
def test_gate_still_refuses_contacts_of_a_named_narrator(testimony, kind):
    Narrator.objects.filter(pk=testimony.narrator_id).update(
        identity=Narrator.Identity.NAMED, public_name=LEGAL_NAME
    )
    put_in_title(testimony, "Élodie Martin-Dubois raconte")
    put_in_summary(testimony, PREFIX + LEAKS[kind])
    assert [(h.place, h.kind) for h in refusal(testimony).hits] == [("summary", kind)]


@pytest.mark.parametrize(
    ("status", "published_at"),
    [
        (Testimony.Status.IN_REVIEW, None),
        (Testimony.Status.DRAFT, None),
        (Testimony.Status.RETIRED, dt.datetime(2022, 5, 1, 12, tzinfo=dt.UTC)),
    ],
)
def test_refusal_leaves_status_and_published_at_unchanged(
    testimony, status, published_at
):
    Testimony.objects.filter(pk=testimony.pk).update(
        status=status, published_at=published_at
    )
    put_in_summary(testimony, "lina.m@exemple.org")
    refusal(testimony)
    testimony.refresh_from_db()
    assert (testimony.status, testimony.published_at) == (status, published_at)


def test_setting_the_status_to_published_passes_the_gate(testimony):
    put_in_place(testimony, "chez Dubois")
    with pytest.raises(PublicationRefused):
        services.testimony_set_status(
            testimony=testimony, status=Testimony.Status.PUBLISHED
        )
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.IN_REVIEW


@pytest.fixture
def published_with_a_redacted_name(testimony):
    segment = testimony.segments.get(position=1)
    services.segment_edit(segment=segment, text="Mon nom est Dubois.")
    redaction = services.segment_redact(
        segment=segment, start=12, end=18, reason="person"
    )
    services.testimony_publish(testimony=testimony)
    return redaction


def test_lifting_a_redaction_that_exposes_a_published_narrator_is_refused(
    published_with_a_redacted_name,
):
    redaction = published_with_a_redacted_name
    pk, segment_id = redaction.pk, redaction.segment_id
    with pytest.raises(PublicationRefused) as caught:
        services.redaction_remove(redaction=redaction)
    assert [(h.place, h.offset, h.kind) for h in caught.value.hits] == [
        ("segments[1] (at 75.5 s)", 12, HitKind.LEGAL_NAME)
    ]
    assert Redaction.objects.filter(pk=pk).exists()
    assert Segment.objects.get(pk=segment_id).public_text == (
        "Mon nom est [nom retiré]."
    )


def test_editing_a_published_segment_into_a_leak_is_refused(
    published_with_a_redacted_name,
):
    segment = published_with_a_redacted_name.segment
    with pytest.raises(PublicationRefused):
        services.segment_edit(segment=segment, text="Mon nom est Dubois, 0612345678.")
    assert Segment.objects.get(pk=segment.pk).text == "Mon nom est Dubois."


def test_appending_a_leaking_segment_to_a_published_testimony_is_refused(
    published_with_a_redacted_name,
):
    testimony = published_with_a_redacted_name.segment.testimony
    with pytest.raises(PublicationRefused):
        services.segment_create(
            testimony=testimony,
            start=100,
            end=110,
            speaker="narrator",
            text="Écrivez à lina.m@exemple.org",
        )
    assert testimony.segments.count() == 2


def test_harmless_changes_to_a_published_testimony_are_accepted(
    published_with_a_redacted_name,
):
    segment = published_with_a_redacted_name.segment
    services.segment_edit(segment=segment, text="Mon nom est Dubois, voilà.")
    other = services.segment_redact(segment=segment, start=20, end=25, reason="other")
    services.redaction_remove(redaction=other)
    assert Segment.objects.get(pk=segment.pk).public_text == (
        "Mon nom est [nom retiré], voilà."
    )


def test_an_unpublished_testimony_may_hold_a_leak_until_publication(testimony):
    segment = testimony.segments.get(position=1)
    services.segment_edit(segment=segment, text="Appelez le 06 12 34 56 78.")
    assert Segment.objects.get(pk=segment.pk).public_text == (
        "Appelez le 06 12 34 56 78."
    )


# --- Redaction ---------------------------------------------------------------

TEXT = "Mon chef, Paul Girard, notait tout."  # 35 code points


@pytest.fixture
def segment(testimony):
    segment = testimony.segments.get(position=0)
    return services.segment_edit(segment=segment, text=TEXT)


def stored(segment) -> Segment:
    return Segment.objects.get(pk=segment.pk)


def test_segment_redact_recomputes_the_stored_public_text(segment):
    services.segment_redact(segment=segment, start=10, end=21, reason="third_party")
    assert stored(segment).public_text == "Mon chef, [tiers retiré], notait tout."
    assert stored(segment).text == TEXT


def test_segment_redact_uses_the_default_label_of_an_english_testimony(segment):
    Testimony.objects.filter(pk=segment.testimony_id).update(language="en")
    services.segment_redact(segment=segment, start=10, end=21, reason="person")
    assert stored(segment).public_text == "Mon chef, [name removed], notait tout."


def test_segment_redact_keeps_a_label_given_by_the_curator(segment):
    redaction = services.segment_redact(
        segment=segment, start=10, end=21, reason="person", label="[P.]"
    )
    assert redaction.label == "[P.]"
    assert stored(segment).public_text == "Mon chef, [P.], notait tout."


def test_segment_redact_merges_overlapping_redactions_under_the_first(segment):
    services.segment_redact(segment=segment, start=15, end=21, reason="other")
    services.segment_redact(segment=segment, start=10, end=16, reason="person")
    assert stored(segment).public_text == "Mon chef, [nom retiré], notait tout."


def test_redactions_with_the_same_start_show_the_first_recorded_label(segment):
    services.segment_redact(segment=segment, start=10, end=14, reason="person")
    services.segment_redact(segment=segment, start=10, end=21, reason="other")
    assert stored(segment).public_text == "Mon chef, [nom retiré], notait tout."


def test_segment_redact_refuses_an_end_beyond_the_text_and_names_the_numbers(
    segment,
):
    with pytest.raises(ServiceError, match=r"\(41 > 35\)"):
        services.segment_redact(segment=segment, start=30, end=41, reason="person")
    assert not Redaction.objects.exists()
    assert stored(segment).public_text == TEXT


@pytest.mark.parametrize(("start", "end"), [(5, 5), (9, 3), (-1, 4)])
def test_segment_redact_refuses_an_empty_reversed_or_negative_span(segment, start, end):
    with pytest.raises(ServiceError, match=rf"got {start}, {end}"):
        services.segment_redact(segment=segment, start=start, end=end, reason="person")
    assert not Redaction.objects.exists()


def test_segment_redact_accepts_a_span_ending_at_the_end_of_the_text(segment):
    services.segment_redact(segment=segment, start=30, end=35, reason="other")
    assert (
        stored(segment).public_text == "Mon chef, Paul Girard, notait [passage retiré]"
    )


def test_segment_redact_refuses_an_unknown_reason(segment):
    with pytest.raises(ServiceError, match="reason"):
        services.segment_redact(segment=segment, start=0, end=3, reason="secret")
    assert not Redaction.objects.exists()


def test_redaction_remove_restores_the_words_in_the_public_text(segment):
    first = services.segment_redact(segment=segment, start=10, end=14, reason="person")
    services.segment_redact(segment=segment, start=0, end=3, reason="other")
    services.redaction_remove(redaction=first)
    assert (
        stored(segment).public_text
        == "[passage retiré] chef, Paul Girard, notait tout."
    )
    services.redaction_remove(redaction=Redaction.objects.get())
    assert stored(segment).public_text == TEXT


def test_segment_edit_refuses_a_text_shorter_than_a_redaction(segment):
    services.segment_redact(segment=segment, start=10, end=21, reason="person")
    with pytest.raises(ServiceError, match=r"\(21 > 20\)"):
        services.segment_edit(segment=segment, text="Mon chef, Paul Girar")
    assert stored(segment).text == TEXT
    assert stored(segment).public_text == "Mon chef, [nom retiré], notait tout."


def test_segment_edit_recomputes_public_text_over_the_new_text(segment):
    services.segment_redact(segment=segment, start=10, end=21, reason="person")
    new_text = "Ma cheffe, Paule Girard, notait."
    services.segment_edit(segment=segment, text=new_text)
    assert stored(segment).public_text == new_text[:10] + "[nom retiré]" + new_text[21:]


def test_a_failure_after_segment_redact_rolls_back_redaction_and_public_text(
    segment,
):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.segment_redact(segment=segment, start=10, end=21, reason="person")
        assert stored(segment).public_text != TEXT
        raise RuntimeError("the caller fails after redacting")
    assert not Redaction.objects.filter(segment_id=segment.pk).exists()
    assert stored(segment).public_text == TEXT


def test_segment_create_keeps_segments_in_order_of_start(testimony):
    with pytest.raises(ServiceError, match="order"):
        services.segment_create(
            testimony=testimony, start=30, end=40, speaker="narrator", text="x"
        )
    assert testimony.segments.count() == 2


# --- Consent -----------------------------------------------------------------


@pytest.fixture
def bare_testimony():
    return TestimonyFactory()


def test_consent_record_refuses_a_date_earlier_than_the_latest(bare_testimony):
    services.consent_record(
        testimony=bare_testimony,
        scope="public",
        media="audio",
        given_on=dt.date(2024, 3, 1),
    )
    with pytest.raises(ServiceError, match="2024-02-29.*2024-03-01"):
        services.consent_record(
            testimony=bare_testimony,
            scope="withdrawn",
            media="none",
            given_on=dt.date(2024, 2, 29),
        )
    assert bare_testimony.consent_records.count() == 1
    assert bare_testimony.consent_in_force().scope == "public"


def test_consent_record_of_the_same_day_is_accepted_and_the_later_wins(
    bare_testimony,
):
    day = dt.date(2024, 3, 1)
    for scope in ("public", "research", "archive"):
        services.consent_record(
            testimony=bare_testimony, scope=scope, media="none", given_on=day
        )
    assert bare_testimony.consent_in_force().scope == "archive"
    assert bare_testimony.consent_records.count() == 3


@pytest.mark.parametrize(
    ("scope", "media"), [("everyone", "audio"), ("public", "video_only")]
)
def test_consent_record_refuses_unknown_scope_or_media(bare_testimony, scope, media):
    with pytest.raises(ServiceError):
        services.consent_record(
            testimony=bare_testimony, scope=scope, media=media, given_on=dt.date.today()
        )
    assert not bare_testimony.consent_records.exists()


def test_consent_withdraw_records_withdrawn_scope_without_media(bare_testimony):
    services.consent_record(
        testimony=bare_testimony,
        scope="public",
        media="audio_video",
        given_on=dt.date(2023, 1, 1),
    )
    record = services.consent_withdraw(testimony=bare_testimony, note="par courriel")
    in_force = bare_testimony.consent_in_force()
    assert in_force == record
    assert (in_force.scope, in_force.media) == ("withdrawn", "none")
    assert in_force.given_on == timezone.localdate()


def test_consent_withdraw_after_a_consent_dated_later_than_today_is_accepted(
    bare_testimony,
):
    later = timezone.localdate() + dt.timedelta(days=30)
    services.consent_record(
        testimony=bare_testimony, scope="public", media="audio", given_on=later
    )
    record = services.consent_withdraw(testimony=bare_testimony)
    assert (record.scope, record.given_on) == ("withdrawn", later)


def test_consent_withdraw_hides_a_published_testimony_at_once(anonymous):
    testimony = TestimonyFactory(published=True, consent="public")
    assert list(Testimony.objects.visible_to(anonymous)) == [testimony]
    services.consent_withdraw(testimony=testimony)
    assert not Testimony.objects.visible_to(anonymous).exists()


# --- Narrator requests -------------------------------------------------------

CODE = "ABCD-EFGH-JKMN-PQRS"


@pytest.fixture
def coded_narrator():
    narrator = NarratorFactory()
    narrator.set_reference_code(CODE)
    narrator.save()
    return narrator


def test_request_with_an_unknown_code_is_stored_without_a_narrator(coded_narrator):
    result = services.narrator_request_submit(
        reference_code="ZZZZ-ZZZZ-ZZZZ-ZZZZ", kind="withdraw", message="retirez tout"
    )
    assert result is None
    request = NarratorRequest.objects.get()
    assert request.narrator is None
    assert request.reference_code_hash == hash_reference_code("ZZZZZZZZZZZZZZZZ")
    assert (request.kind, request.status, request.message) == (
        "withdraw",
        "pending",
        "retirez tout",
    )


@pytest.mark.parametrize(
    "typed",
    [CODE, "abcd-efgh-jkmn-pqrs", "abcd efgh jkmn pqrs", " ABCDefgh-JKMN pqrs "],
)
def test_request_with_a_known_code_is_linked_to_its_narrator(coded_narrator, typed):
    result = services.narrator_request_submit(reference_code=typed, kind="pause")
    assert result is None
    assert NarratorRequest.objects.get().narrator == coded_narrator


def test_request_of_an_unknown_kind_is_refused(coded_narrator):
    with pytest.raises(ServiceError):
        services.narrator_request_submit(reference_code=CODE, kind="delete")
    assert not NarratorRequest.objects.exists()


def test_pending_withdrawal_hides_all_the_narrators_testimonies(
    coded_narrator, anonymous
):
    TestimonyFactory.create_batch(
        2, narrator=coded_narrator, published=True, consent="public"
    )
    other = TestimonyFactory(published=True, consent="public")
    services.narrator_request_submit(reference_code=CODE, kind="withdraw")
    assert list(Testimony.objects.visible_to(anonymous)) == [other]


def test_handled_withdrawal_records_withdrawn_consent_on_all_their_testimonies(
    coded_narrator, curator, anonymous
):
    with_consent = TestimonyFactory(
        narrator=coded_narrator, published=True, consent="public"
    )
    without_consent = TestimonyFactory(narrator=coded_narrator)
    other = TestimonyFactory(published=True, consent="public")
    services.narrator_request_submit(reference_code=CODE, kind="withdraw")
    request = services.narrator_request_handle(
        request=NarratorRequest.objects.get(), by=curator, status="handled"
    )
    assert (request.status, request.handled_by) == ("handled", curator)
    assert request.handled_at is not None
    for testimony in (with_consent, without_consent):
        assert testimony.consent_in_force().scope == "withdrawn"
    assert other.consent_in_force().scope == "public"
    # Closing the request does not bring them back.
    assert list(Testimony.objects.visible_to(anonymous)) == [other]


def test_dismissed_withdrawal_records_no_consent(coded_narrator, curator):
    testimony = TestimonyFactory(narrator=coded_narrator, consent="public")
    services.narrator_request_submit(reference_code=CODE, kind="withdraw")
    services.narrator_request_handle(
        request=NarratorRequest.objects.get(), by=curator, status="dismissed"
    )
    assert testimony.consent_records.count() == 1


def test_closing_a_request_twice_is_refused(coded_narrator, curator, archivist):
    services.narrator_request_submit(reference_code=CODE, kind="pause")
    request = NarratorRequest.objects.get()
    services.narrator_request_handle(request=request, by=curator, status="handled")
    with pytest.raises(ServiceError, match="already"):
        services.narrator_request_handle(
            request=request, by=archivist, status="dismissed"
        )
    request.refresh_from_db()
    assert (request.status, request.handled_by) == ("handled", curator)


def test_a_request_cannot_be_closed_as_pending(coded_narrator, curator):
    services.narrator_request_submit(reference_code=CODE, kind="correct")
    with pytest.raises(ServiceError):
        services.narrator_request_handle(
            request=NarratorRequest.objects.get(), by=curator, status="pending"
        )


def test_reference_code_reset_returns_a_code_that_finds_the_narrator(coded_narrator):
    code = services.narrator_reference_code_reset(narrator=coded_narrator)
    coded_narrator.refresh_from_db()
    assert coded_narrator.reference_code_hash == hash_reference_code(code)
    assert code not in coded_narrator.reference_code_hash
    services.narrator_request_submit(reference_code=code.lower(), kind="pause")
    assert NarratorRequest.objects.get().narrator == coded_narrator


# --- Identity ----------------------------------------------------------------


def test_curator_cannot_view_an_identity_and_nothing_is_logged(narrator, curator):
    with pytest.raises(PermissionError):
        services.narrator_identity_view(narrator=narrator, user=curator)
    assert not IdentityAccess.objects.exists()


def test_inactive_archivist_cannot_view_an_identity(narrator, archivist):
    archivist.is_active = False
    archivist.save()
    with pytest.raises(PermissionError):
        services.narrator_identity_view(narrator=narrator, user=archivist)
    assert not IdentityAccess.objects.exists()


def test_archivist_views_an_identity_and_the_view_is_logged(narrator, archivist):
    narrator.private_notes = "préfère les appels le soir"
    narrator.save()
    seen = services.narrator_identity_view(
        narrator=narrator, user=archivist, purpose="request #4"
    )
    assert seen == {
        "legal_name": LEGAL_NAME,
        "contact": CONTACT,
        "private_notes": "préfère les appels le soir",
    }
    access = IdentityAccess.objects.get()
    assert (access.narrator, access.user, access.purpose) == (
        narrator,
        archivist,
        "request #4",
    )
    assert set(access.fields.split(",")) == {"legal_name", "contact", "private_notes"}


def test_a_label_that_names_what_it_hides_is_refused_on_a_published_testimony(
    published_with_a_redacted_name,
):
    segment = published_with_a_redacted_name.segment
    with pytest.raises(PublicationRefused):
        services.segment_redact(
            segment=segment, start=0, end=3, reason="other", label="[Dubois]"
        )
    assert segment.redactions.count() == 1
    assert Segment.objects.get(pk=segment.pk).public_text == (
        "Mon nom est [nom retiré]."
    )


def test_an_appearance_note_that_exposes_a_published_narrator_is_refused(
    published_with_a_redacted_name,
):
    testimony = published_with_a_redacted_name.segment.testimony
    with pytest.raises(PublicationRefused):
        services.appearance_add(
            testimony=testimony,
            episode=EpisodeFactory(),
            start=1,
            end=2,
            note="joindre au 06 12 34 56 78",
        )
    assert testimony.appearances.count() == 2


def test_a_slug_holding_the_legal_name_is_refused(testimony):
    testimony.slug = "dubois-raconte"
    testimony.save()
    assert [(h.place, h.kind) for h in refusal(testimony).hits] == [
        ("slug", HitKind.LEGAL_NAME)
    ]


@pytest.mark.parametrize(
    ("start", "end"), [(float("nan"), 1.0), (0.0, float("inf")), (-1.0, 2.0), (5, 4)]
)
def test_segment_times_must_be_finite_and_ordered(testimony, start, end):
    with pytest.raises(ServiceError, match="0 <= start <= end"):
        services.segment_create(
            testimony=testimony, start=start, end=end, speaker="narrator", text="x"
        )


def test_narrator_change_that_would_expose_sends_published_testimonies_to_review(
    testimony,
):
    services.testimony_publish(testimony=testimony)
    other = TestimonyFactory(published=True, consent="public")
    withdrawn = services.narrator_update(
        narrator=testimony.narrator,
        changes={"descriptor_fr": "Élodie, modératrice"},
    )
    assert withdrawn == [testimony.slug]
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.IN_REVIEW
    assert testimony.narrator.descriptor_fr == "Élodie, modératrice"
    other.refresh_from_db()
    assert other.status == Testimony.Status.PUBLISHED


def test_recording_a_sensitive_term_already_public_unpublishes_rather_than_refuses(
    testimony,
):
    services.testimony_publish(testimony=testimony)
    withdrawn = services.narrator_update(
        narrator=testimony.narrator,
        changes={"sensitive_terms": ["Projet Atlas", "personne"]},
    )
    assert withdrawn == [testimony.slug]
    assert Narrator.objects.get(pk=testimony.narrator_id).sensitive_terms == [
        "Projet Atlas",
        "personne",
    ]


def test_harmless_narrator_change_keeps_testimonies_published(testimony):
    services.testimony_publish(testimony=testimony)
    assert (
        services.narrator_update(
            narrator=testimony.narrator, changes={"region": "Grand Est"}
        )
        == []
    )
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.PUBLISHED


def test_a_handled_pause_keeps_the_testimonies_hidden(testimony, anonymous):
    services.testimony_publish(testimony=testimony)
    testimony.narrator.set_reference_code("PAUS-E000-0000-0001")
    testimony.narrator.save()
    services.narrator_request_submit(
        reference_code="PAUS-E000-0000-0001", kind="pause", message=""
    )
    request = NarratorRequest.objects.get()
    services.narrator_request_handle(
        request=request, by=None, status=NarratorRequest.Status.HANDLED
    )
    assert testimony.consent_in_force().scope == ConsentRecord.Scope.ARCHIVE
    assert not Testimony.objects.visible_to(anonymous).exists()


def test_a_refusal_naming_legal_name_positions_is_logged_for_its_curator(
    testimony, curator
):
    put_in_summary(testimony, LEAKS[HitKind.LEGAL_NAME])
    with pytest.raises(PublicationRefused):
        services.testimony_publish(testimony=testimony, by=curator)
    access = IdentityAccess.objects.get()
    assert (access.user, access.narrator_id) == (curator, testimony.narrator_id)
    assert "legal name" in access.fields


def test_a_refusal_without_identity_hits_logs_nothing(testimony, curator):
    put_in_summary(testimony, LEAKS[HitKind.EMAIL])
    with pytest.raises(PublicationRefused):
        services.testimony_publish(testimony=testimony, by=curator)
    assert not IdentityAccess.objects.exists()


# --- Editing a testimony -----------------------------------------------------


def row_of(testimony) -> dict:
    return Testimony.objects.filter(pk=testimony.pk).values().get()


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", "Dubois raconte"),
        ("summary", "Écrire à lina.m@exemple.org"),
        ("place", "Projet Atlas, Paris"),
        ("interviewer", "Élodie"),
        ("content_warnings", ["violence", "06 12 34 56 78"]),
    ],
)
def test_an_edit_of_a_published_testimony_passes_the_gate_or_saves_nothing(
    testimony, field, value
):
    services.testimony_publish(testimony=testimony)
    before = row_of(testimony)
    with pytest.raises(PublicationRefused) as caught:
        services.testimony_update(testimony=testimony, changes={field: value})
    assert {hit.place.split("[")[0] for hit in caught.value.hits} == {field}
    assert row_of(testimony) == before


def test_an_edit_of_a_testimony_under_review_is_not_held_by_the_gate(testimony):
    services.testimony_update(testimony=testimony, changes={"title": "Dubois"})
    testimony.refresh_from_db()
    assert testimony.title == "Dubois"


def test_publishing_after_such_an_edit_is_refused_all_the_same(testimony):
    services.testimony_update(testimony=testimony, changes={"title": "Dubois"})
    assert [h.place for h in refusal(testimony).hits] == ["title"]


@pytest.mark.parametrize("then", [None, Testimony.Status.RETIRED])
def test_the_slug_of_a_testimony_once_published_never_changes(testimony, then):
    services.testimony_publish(testimony=testimony)
    if then:
        services.testimony_set_status(testimony=testimony, status=then)
    before = row_of(testimony)
    with pytest.raises(services.SlugIsPermanent):
        services.testimony_update(testimony=testimony, changes={"slug": "ailleurs"})
    assert row_of(testimony) == before


def test_only_a_testimonys_own_fields_are_edited_this_way(testimony):
    before = row_of(testimony)
    with pytest.raises(ServiceError, match="status"):
        services.testimony_update(
            testimony=testimony, changes={"status": Testimony.Status.PUBLISHED}
        )
    assert row_of(testimony) == before


def test_an_edit_sets_the_themes_and_the_index_follows(testimony):
    theme = ThemeFactory(name_fr="Horaires de nuit")
    services.testimony_update(
        testimony=testimony, changes={"title": "Nuits"}, themes=[theme]
    )
    assert list(testimony.themes.all()) == [theme]
    found = search.search("horaires", Testimony.objects.all())
    assert [hit.testimony for hit in found.hits] == [testimony]


def test_a_refused_edit_logs_where_the_legal_name_was_seen(testimony, curator):
    services.testimony_publish(testimony=testimony)
    with pytest.raises(PublicationRefused):
        services.testimony_update(
            testimony=testimony, changes={"title": "Dubois"}, by=curator
        )
    access = IdentityAccess.objects.get()
    assert (access.user, access.narrator_id) == (curator, testimony.narrator_id)


@pytest.mark.parametrize(
    "language, expected",
    [("fr", "l’historique ne remonte jamais le temps"), ("en", "never goes back")],
)
def test_a_refusal_reads_in_the_language_of_whoever_asked(
    testimony, language, expected
):
    with translation.override(language), pytest.raises(ServiceError) as caught:
        services.consent_record(
            testimony=testimony,
            scope="public",
            media="none",
            given_on=dt.date(2000, 1, 1),
        )
    assert expected in str(caught.value)


# --- The time range a redaction silences -------------------------------------------


@pytest.fixture
def recorded_segment():
    """A segment of a testimony whose recording lasts 90 s."""
    testimony = TestimonyFactory()
    Testimony.objects.filter(pk=testimony.pk).update(
        media="0123456789abcdef0123456789abcdef.wav",
        media_kind="audio",
        media_duration=90.0,
    )
    return services.segment_create(
        testimony=testimony, start=30, end=45, speaker="narrator", text="Je suis Lina."
    )


def test_a_redaction_silences_the_range_it_is_given(recorded_segment):
    redaction = services.segment_redact(
        segment=recorded_segment,
        start=8,
        end=12,
        reason="person",
        media_start=33.25,
        media_end=34.5,
    )
    redaction.refresh_from_db()
    assert redaction.media_range() == (33.25, 34.5)


def test_an_unplaced_redaction_silences_its_segments_whole_range(recorded_segment):
    redaction = services.segment_redact(
        segment=recorded_segment, start=8, end=12, reason="person"
    )
    redaction.refresh_from_db()
    assert (redaction.media_start, redaction.media_end) == (None, None)
    assert redaction.media_range() == (30, 45)


@pytest.mark.parametrize(
    ("media_start", "media_end", "field", "message"),
    [
        (-0.5, 2, "media_start", "media_start must be 0 seconds or more (got -0.5)"),
        (20, 20, "media_end", "media_end must come after media_start (20 <= 20)"),
        (20, 12.5, "media_end", "media_end must come after media_start (12.5 <= 20)"),
        (
            85,
            90.5,
            "media_end",
            "media_end lies beyond the end of the recording (90.5 s > 90 s)",
        ),
        (12, None, "media_end", "media_end is missing beside media_start"),
        (None, 12, "media_start", "media_start is missing beside media_end"),
        (
            float("nan"),
            12,
            "media_start",
            "media_start must be a finite number of seconds",
        ),
    ],
)
def test_a_silenced_range_the_archive_refuses_names_its_field(
    recorded_segment, media_start, media_end, field, message
):
    with pytest.raises(services.MediaRangeRefused) as refused:
        services.segment_redact(
            segment=recorded_segment,
            start=8,
            end=12,
            reason="person",
            media_start=media_start,
            media_end=media_end,
        )
    assert refused.value.field == field
    assert message in str(refused.value)
    assert not Redaction.objects.exists()


def test_the_recordings_end_bounds_a_range_only_where_it_is_known():
    segment = services.segment_create(
        testimony=TestimonyFactory(), start=0, end=5, speaker="narrator", text="Oui."
    )
    redaction = services.segment_redact(
        segment=segment,
        start=0,
        end=3,
        reason="other",
        media_start=1000,
        media_end=1001.5,
    )
    assert redaction.media_range() == (1000, 1001.5)


def test_a_redaction_is_placed_and_given_back_its_segments_range(recorded_segment):
    redaction = services.segment_redact(
        segment=recorded_segment, start=8, end=12, reason="person"
    )
    public = Segment.objects.get(pk=recorded_segment.pk).public_text

    services.redaction_set_media_range(
        redaction=redaction, media_start=31, media_end=32.75
    )
    redaction.refresh_from_db()
    assert redaction.media_range() == (31, 32.75)
    # The text hidden is unchanged.
    assert Segment.objects.get(pk=recorded_segment.pk).public_text == public

    services.redaction_set_media_range(
        redaction=redaction, media_start=None, media_end=None
    )
    redaction.refresh_from_db()
    assert redaction.media_range() == (30, 45)


def test_a_range_refused_on_an_edit_leaves_the_redaction_as_it_was(recorded_segment):
    redaction = services.segment_redact(
        segment=recorded_segment,
        start=8,
        end=12,
        reason="person",
        media_start=31,
        media_end=32,
    )
    with pytest.raises(services.MediaRangeRefused) as refused:
        services.redaction_set_media_range(
            redaction=redaction, media_start=31, media_end=95
        )
    assert refused.value.field == "media_end"
    redaction.refresh_from_db()
    assert redaction.media_range() == (31, 32)


def test_a_range_refusal_is_in_the_curators_language(recorded_segment):
    with translation.override("fr"), pytest.raises(ServiceError) as refused:
        services.segment_redact(
            segment=recorded_segment,
            start=8,
            end=12,
            reason="person",
            media_start=5,
            media_end=4,
        )
    assert "media_end" in str(refused.value)
    assert "doit venir après" in str(refused.value)
