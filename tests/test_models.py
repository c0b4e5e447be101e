"""The domain (testimonies/models.py): database constraints, encryption, codes."""

import datetime as dt
import hashlib
import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connection, transaction

from testimonies.models import (
    REFERENCE_CODE_ALPHABET,
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    Redaction,
    Segment,
    Testimony,
    generate_reference_code,
    hash_reference_code,
)

from .factories import (
    EpisodeFactory,
    JobTypeFactory,
    NarratorFactory,
    SegmentFactory,
    SeriesFactory,
    TestimonyFactory,
)

pytestmark = pytest.mark.django_db


def refused_by_the_database(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


# --- Constraints -------------------------------------------------------------


def test_segment_ending_before_it_starts_is_refused():
    testimony = TestimonyFactory()
    refused_by_the_database(
        lambda: SegmentFactory(testimony=testimony, start=10.0, end=9.5)
    )


def test_segment_with_a_negative_start_is_refused():
    testimony = TestimonyFactory()
    refused_by_the_database(
        lambda: SegmentFactory(testimony=testimony, start=-1.0, end=5.0)
    )


def test_segment_of_zero_duration_is_accepted():
    assert SegmentFactory(start=3.0, end=3.0).pk is not None


def test_two_segments_at_the_same_position_are_refused():
    first = SegmentFactory()
    refused_by_the_database(
        lambda: SegmentFactory(testimony=first.testimony, position=first.position)
    )


def make_redaction(segment: Segment, start: int, end: int) -> Redaction:
    return Redaction.objects.create(
        segment=segment, start=start, end=end, reason="person", label="[x]"
    )


def test_empty_redaction_is_refused():
    segment = SegmentFactory()
    refused_by_the_database(lambda: make_redaction(segment, 4, 4))


def test_reversed_redaction_is_refused():
    segment = SegmentFactory()
    refused_by_the_database(lambda: make_redaction(segment, 6, 4))


def test_redaction_with_a_negative_start_is_refused():
    segment = SegmentFactory()
    refused_by_the_database(lambda: make_redaction(segment, -1, 4))


def test_redaction_of_one_code_point_is_accepted():
    assert make_redaction(SegmentFactory(), 0, 1).pk is not None


def test_duplicate_testimony_slug_is_refused():
    TestimonyFactory(slug="nuit-blanche")
    refused_by_the_database(lambda: TestimonyFactory(slug="nuit-blanche"))


def test_duplicate_narrator_key_is_refused():
    NarratorFactory(key="lina")
    refused_by_the_database(lambda: NarratorFactory(key="lina"))


def test_duplicate_job_type_slug_is_refused():
    JobType.objects.create(slug="courier", name_fr="Livreur", name_en="Courier")
    refused_by_the_database(
        lambda: JobType.objects.create(
            slug="courier", name_fr="Coursier", name_en="Rider"
        )
    )


def test_duplicate_episode_number_in_one_series_is_refused():
    series = SeriesFactory()
    EpisodeFactory(series=series, number=3, slug="moderateurs")
    refused_by_the_database(
        lambda: EpisodeFactory(series=series, number=3, slug="autre")
    )


def test_same_episode_number_in_two_series_is_accepted():
    EpisodeFactory(series=SeriesFactory(), number=1)
    EpisodeFactory(series=SeriesFactory(), number=1)
    assert Episode.objects.filter(number=1).count() == 2


def test_episode_number_zero_is_refused():
    refused_by_the_database(lambda: EpisodeFactory(number=0))


def test_two_narrators_with_the_same_reference_code_are_refused():
    first = NarratorFactory()
    first.set_reference_code("AAAA-BBBB-CCCC-DDDD")
    first.save()
    second = NarratorFactory()
    second.set_reference_code("aaaa bbbb cccc dddd")
    refused_by_the_database(second.save)


def test_many_narrators_without_a_reference_code_are_accepted():
    NarratorFactory.create_batch(3)
    assert Narrator.objects.filter(reference_code_hash="").count() == 3


# --- Encryption at rest ------------------------------------------------------


def test_private_identity_is_encrypted_at_rest_and_read_back_in_clear():
    narrator = NarratorFactory(
        legal_name="Jeanne Durandal",
        contact="jeanne.durandal@example.org, 06 12 34 56 78",
        private_notes="Ne pas appeler avant 18 h.",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name, contact, private_notes FROM testimonies_narrator "
            "WHERE id = %s",
            [narrator.pk],
        )
        row = cursor.fetchone()
    for stored in row:
        assert stored.startswith("gAAAAA")
        for plain in ("Jeanne", "Durandal", "durandal", "06 12", "appeler"):
            assert plain not in stored
    again = Narrator.objects.get(pk=narrator.pk)
    assert again.legal_name == "Jeanne Durandal"
    assert again.contact == "jeanne.durandal@example.org, 06 12 34 56 78"
    assert again.private_notes == "Ne pas appeler avant 18 h."


def test_two_saves_of_one_legal_name_give_different_tokens():
    first = NarratorFactory(legal_name="Jeanne Durandal")
    second = NarratorFactory(legal_name="Jeanne Durandal")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name FROM testimonies_narrator WHERE id IN (%s, %s)",
            [first.pk, second.pk],
        )
        tokens = {row[0] for row in cursor.fetchall()}
    assert len(tokens) == 2


def test_an_empty_private_field_stays_empty_in_the_database():
    narrator = NarratorFactory(legal_name="", contact="", private_notes="")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name, contact, private_notes FROM testimonies_narrator "
            "WHERE id = %s",
            [narrator.pk],
        )
        assert cursor.fetchone() == ("", "", "")
    assert Narrator.objects.get(pk=narrator.pk).legal_name == ""


NEW_KEY = "8mS2R9w0s7Pq5n1cY3xZb4Vd6Hf8Jk0Lm2Np4Qr6St8="


def test_a_rotated_key_list_still_reads_values_written_with_the_old_key(settings):
    old_key = settings.ARCHIVE_FIELD_KEY
    narrator = NarratorFactory(legal_name="Jeanne Durandal")
    settings.ARCHIVE_FIELD_KEY = f"{NEW_KEY},{old_key}"
    again = Narrator.objects.get(pk=narrator.pk)
    assert again.legal_name == "Jeanne Durandal"
    again.save()
    settings.ARCHIVE_FIELD_KEY = NEW_KEY
    assert Narrator.objects.get(pk=narrator.pk).legal_name == "Jeanne Durandal"


def test_reading_with_a_wrong_key_is_refused_with_a_message_naming_it(settings):
    narrator = NarratorFactory(legal_name="Jeanne Durandal")
    settings.ARCHIVE_FIELD_KEY = NEW_KEY
    with pytest.raises(ImproperlyConfigured, match="ARCHIVE_FIELD_KEY"):
        Narrator.objects.get(pk=narrator.pk)


# --- Reference codes ---------------------------------------------------------


def test_reference_code_hash_is_sha256_of_the_normalised_code():
    expected = "sha256:" + hashlib.sha256(b"ABCDEFGHIJKLMNOP").hexdigest()
    assert hash_reference_code("abcd-efgh ijkl-mnop") == expected
    assert hash_reference_code("ABCDEFGHIJKLMNOP") == expected
    assert hash_reference_code(" abcd\tefgh-ijkl--mnop\n") == expected


def test_reference_code_typed_with_en_dashes_or_wide_letters_finds_the_same_hash():
    expected = hash_reference_code("ABCD-EFGH-IJKL-MNOP")
    assert hash_reference_code("abcd\u2013efgh\u2011ijkl\u2014mnop") == expected
    assert hash_reference_code("\uff21BCD EFGH\u00a0IJKL MNOP") == expected


def test_a_narrator_stores_only_the_hash_of_their_reference_code():
    narrator = NarratorFactory()
    narrator.set_reference_code("wxyz-2345-6789-abcd")
    narrator.save()
    stored = Narrator.objects.get(pk=narrator.pk).reference_code_hash
    assert stored == hash_reference_code("WXYZ23456789ABCD")
    assert "WXYZ" not in stored.upper()


def test_generated_reference_code_has_16_characters_of_the_alphabet_in_groups():
    assert len(REFERENCE_CODE_ALPHABET) == len(set(REFERENCE_CODE_ALPHABET)) == 32
    for _ in range(50):
        code = generate_reference_code()
        assert re.fullmatch(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4})+", code)
        raw = code.replace("-", "")
        assert len(raw) >= 16
        assert set(raw) <= set(REFERENCE_CODE_ALPHABET)


def test_generated_reference_codes_differ():
    assert len({generate_reference_code() for _ in range(50)}) == 50


# --- Consent in force --------------------------------------------------------


def add_consent(testimony: Testimony, scope: str, given_on: dt.date) -> ConsentRecord:
    return ConsentRecord.objects.create(
        testimony=testimony, scope=scope, media="audio", given_on=given_on
    )


def test_consent_in_force_is_none_without_a_record():
    assert TestimonyFactory().consent_in_force() is None


def test_consent_in_force_is_the_last_recorded():
    testimony = TestimonyFactory()
    add_consent(testimony, "public", dt.date(2023, 1, 1))
    add_consent(testimony, "research", dt.date(2023, 6, 1))
    last = add_consent(testimony, "public", dt.date(2023, 6, 1))
    assert testimony.consent_in_force() == last


def test_consent_in_force_follows_the_order_recorded_not_the_date():
    testimony = TestimonyFactory()
    add_consent(testimony, "public", dt.date(2024, 1, 1))
    last = add_consent(testimony, "withdrawn", dt.date(2020, 1, 1))
    assert testimony.consent_in_force() == last


def test_consent_in_force_ignores_other_testimonies():
    testimony, other = TestimonyFactory(), TestimonyFactory()
    mine = add_consent(testimony, "research", dt.date(2023, 1, 1))
    add_consent(other, "withdrawn", dt.date(2023, 2, 1))
    assert testimony.consent_in_force() == mine


# --- Groups from the data migration ------------------------------------------


def test_groups_of_the_access_policy_exist_after_migrations():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"researchers", "curators", "archivists"} <= names


def group_permissions(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_only_archivists_may_view_identities():
    assert "testimonies.view_identity" in group_permissions("archivists")
    assert "testimonies.view_identity" not in group_permissions("curators")
    assert "testimonies.view_identity" not in group_permissions("researchers")


def test_curators_and_archivists_are_staff_and_researchers_are_not():
    assert "testimonies.change_testimony" in group_permissions("curators")
    assert "testimonies.change_testimony" in group_permissions("archivists")
    assert group_permissions("researchers") == set()


def test_role_fixtures_hold_the_permissions_of_their_group(
    curator, archivist, researcher
):
    assert archivist.has_perm("testimonies.view_identity")
    assert not curator.has_perm("testimonies.view_identity")
    assert curator.has_perm("testimonies.change_testimony")
    assert not researcher.has_perm("testimonies.change_testimony")


# --- Field shapes: what the admin accepts, a bundle can carry -----------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "Bad_Key"),
        ("key", "double--dash"),
        ("country", "fr"),
        ("country", "FRA"),
        ("birth_decade", 1985),
        ("birth_decade", 1850),
        ("sensitive_terms", "Projet Atlas"),
        ("sensitive_terms", ["ok", ""]),
    ],
)
def test_narrator_fields_refuse_what_a_bundle_could_not_carry(field, value):
    narrator = NarratorFactory.build(**{field: value})
    with pytest.raises(ValidationError) as caught:
        narrator.full_clean()
    assert field in caught.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Avec-Majuscule"),
        ("language", "fra"),
        ("language", "FR"),
        ("content_warnings", "violence"),
        ("content_warnings", [["violence"]]),
    ],
)
def test_testimony_fields_refuse_what_a_bundle_could_not_carry(field, value):
    testimony = TestimonyFactory.build(narrator=NarratorFactory(), **{field: value})
    with pytest.raises(ValidationError) as caught:
        testimony.full_clean()
    assert field in caught.value.message_dict


def test_episode_url_must_be_http_or_https():
    episode = EpisodeFactory.build(series=SeriesFactory(), url="ftp://example.org/x")
    with pytest.raises(ValidationError) as caught:
        episode.full_clean()
    assert "url" in caught.value.message_dict


def test_job_type_isco_is_one_to_four_digits():
    with pytest.raises(ValidationError):
        JobTypeFactory.build(isco="12345").full_clean()
    JobTypeFactory.build(isco="9331").full_clean()
