"""A testimony's transcript imported from a file: the service, the command and
the admin's upload, all or nothing."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from testimonies import search, services
from testimonies.errors import ServiceError
from testimonies.gate import PublicationRefused
from testimonies.importers.transcripts import read_transcript
from testimonies.models import IdentityAccess, Redaction, Segment, Testimony
from testimonies.transcript import Piece

from .factories import NarratorFactory, TestimonyFactory

FILES = Path(__file__).parent / "importers" / "transcripts"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def pieces_of(name: str) -> list[Piece]:
    return read_transcript((FILES / name).read_bytes())[1]


def stored(testimony) -> list[tuple]:
    return list(
        Segment.objects.filter(testimony=testimony)
        .order_by("position")
        .values_list("position", "start", "end", "speaker", "text", "public_text")
    )


def found(query: str, user=None) -> list[str]:
    from django.contrib.auth.models import AnonymousUser

    visible = Testimony.objects.visible_to(user or AnonymousUser())
    return [hit.testimony.slug for hit in search.search(query, visible).hits]


@pytest.fixture
def testimony():
    return TestimonyFactory(
        slug="livrer-la-nuit",
        interviewer="Karim Benali",
        media_duration=30.0,
        consent="public",
        published=True,
        narrator=NarratorFactory(legal_name="Jeanne-Marie Durandal"),
    )


# --- The service ---------------------------------------------------------------


def test_import_stores_the_pieces_in_order_with_their_speakers(testimony):
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    assert stored(testimony) == [
        (
            0,
            3.0,
            11.0,
            "interviewer",
            "Vous étiez analyste linguistique ?",
            "Vous étiez analyste linguistique ?",
        ),
        (
            1,
            11.0,
            20.0,
            "narrator",
            "Oui. J'écoutais des enregistrements. Des milliers par semaine.",
            "Oui. J'écoutais des enregistrements. Des milliers par semaine.",
        ),
        # The open last end closes at the media's duration.
        (
            2,
            20.0,
            30.0,
            "narrator",
            "Personne ne savait qu'on écoutait.",
            "Personne ne savait qu'on écoutait.",
        ),
    ]


def test_the_index_finds_the_imported_words_at_once(testimony):
    assert found("enregistrements") == []
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    assert found("enregistrements") == ["livrer-la-nuit"]


def test_a_testimony_with_a_transcript_is_refused_unless_asked_to_replace_it(
    testimony,
):
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    before = stored(testimony)
    with pytest.raises(ServiceError):
        services.transcript_import(
            testimony=testimony, pieces=pieces_of("interview.txt")
        )
    assert stored(testimony) == before
    assert found("modériez") == []


def test_replacing_a_transcript_replaces_its_words_in_the_index(testimony):
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    services.transcript_import(
        testimony=testimony, pieces=pieces_of("interview.txt"), replace=True
    )
    assert [row[4] for row in stored(testimony)][
        0
    ] == "Vous modériez quoi, exactement ?"
    assert len(stored(testimony)) == 5
    assert found("modériez") == ["livrer-la-nuit"]
    assert found("enregistrements") == []


def test_a_transcript_with_redactions_is_not_replaced(testimony):
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    segment = testimony.segments.get(position=1)
    services.segment_redact(segment=segment, start=5, end=15, reason="other")
    before = stored(testimony)
    with pytest.raises(ServiceError):
        services.transcript_import(
            testimony=testimony, pieces=pieces_of("interview.txt"), replace=True
        )
    assert stored(testimony) == before
    assert Redaction.objects.filter(segment=segment).count() == 1


def test_a_published_testimony_keeps_its_gate_and_nothing_is_saved(testimony):
    leak = [Piece(0, 5, None, "Appelez Jeanne-Marie Durandal au 06 12 34 56 78.")]
    with pytest.raises(PublicationRefused) as refused:
        services.transcript_import(testimony=testimony, pieces=leak)
    assert {hit.kind for hit in refused.value.hits} == {"legal name", "phone number"}
    assert stored(testimony) == []
    assert found("appelez") == []


def test_a_refused_import_logs_the_view_of_the_identity_it_shows(testimony, curator):
    leak = [Piece(0, 5, None, "Je suis Durandal.")]
    with pytest.raises(PublicationRefused):
        services.transcript_import(testimony=testimony, pieces=leak, by=curator)
    assert IdentityAccess.objects.filter(user=curator).count() == 1


def test_a_draft_is_not_held_by_the_gate():
    draft = TestimonyFactory()
    leak = [Piece(0, 5, None, "Appelez-moi au 06 12 34 56 78.")]
    services.transcript_import(testimony=draft, pieces=leak)
    assert len(stored(draft)) == 1


@pytest.mark.parametrize(
    "pieces",
    [
        [],
        [Piece(10, 12, None, "après"), Piece(5, 6, None, "avant")],
        [Piece(0, 1, None, "un"), Piece(2, float("nan"), None, "deux")],
    ],
)
def test_pieces_that_cannot_be_stored_leave_the_transcript_as_it_was(testimony, pieces):
    services.transcript_import(testimony=testimony, pieces=pieces_of("ohms-vtt.xml"))
    before = stored(testimony)
    with pytest.raises(ServiceError):
        services.transcript_import(testimony=testimony, pieces=pieces, replace=True)
    assert stored(testimony) == before
    assert found("enregistrements") == ["livrer-la-nuit"]


# --- The command ---------------------------------------------------------------


def test_the_command_imports_a_file_and_says_which_format_it_read(testimony, capsys):
    call_command("import_transcript", "livrer-la-nuit", str(FILES / "interview.srt"))
    assert "SRT" in capsys.readouterr().out
    assert [row[1] for row in stored(testimony)] == [1.0, 4.0, 9.5, 12.0]


def test_the_command_refuses_a_malformed_file_naming_its_line(testimony):
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_transcript", "livrer-la-nuit", str(FILES / "broken-timing.vtt")
        )
    assert "line 6" in str(refused.value)
    assert stored(testimony) == []


def test_the_command_reads_the_format_it_is_told(testimony):
    # An SRT file read as WebVTT lacks its first line.
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_transcript",
            "livrer-la-nuit",
            str(FILES / "interview.srt"),
            "--format",
            "webvtt",
        )
    assert "WebVTT, line 1" in str(refused.value)
    assert stored(testimony) == []


def test_the_command_replaces_only_when_asked(testimony):
    call_command("import_transcript", "livrer-la-nuit", str(FILES / "interview.srt"))
    with pytest.raises(CommandError):
        call_command(
            "import_transcript", "livrer-la-nuit", str(FILES / "interview.txt")
        )
    assert len(stored(testimony)) == 4
    call_command(
        "import_transcript",
        "livrer-la-nuit",
        str(FILES / "interview.txt"),
        "--replace",
    )
    assert len(stored(testimony)) == 5


def test_the_command_refuses_an_unknown_testimony_or_file(testimony, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_transcript", "nobody", str(FILES / "interview.srt"))
    with pytest.raises(CommandError):
        call_command("import_transcript", "livrer-la-nuit", str(tmp_path / "none.vtt"))
    assert stored(testimony) == []


# --- The admin -----------------------------------------------------------------


def staff(user):
    user.is_staff = True
    user.save()
    return user


def upload(client, testimony, name, *, prefix="", **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"{prefix}/admin/testimonies/testimony/{testimony.pk}/transcript/"
    data = {"transcript": SimpleUploadedFile(name, (FILES / name).read_bytes())}
    data.update(fields)
    return client.post(url, data)


def test_the_change_page_leads_to_the_transcript_upload(client, curator, testimony):
    client.force_login(staff(curator))
    page = client.get(f"/admin/testimonies/testimony/{testimony.pk}/change/")
    assert f"/admin/testimonies/testimony/{testimony.pk}/transcript/" in (
        page.content.decode()
    )
    form = client.get(f"/admin/testimonies/testimony/{testimony.pk}/transcript/")
    assert form.status_code == 200


def test_an_uploaded_file_is_imported_through_the_service(client, curator, testimony):
    client.force_login(staff(curator))
    response = upload(client, testimony, "interview.vtt")
    assert response.status_code == 302
    assert len(stored(testimony)) == 6
    assert found("application") == ["livrer-la-nuit"]


@pytest.mark.parametrize(
    "prefix, said", [("", "WebVTT, ligne 6 :"), ("/en", "WebVTT, line 6:")]
)
def test_a_malformed_upload_is_refused_in_the_curators_language(
    client, curator, testimony, prefix, said
):
    client.force_login(staff(curator))
    response = upload(client, testimony, "broken-timing.vtt", prefix=prefix)
    assert response.status_code == 200
    assert said in response.content.decode()
    assert stored(testimony) == []


def test_an_upload_the_gate_refuses_saves_nothing(client, curator, testimony, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(staff(curator))
    leak = b"[00:00:01] Mon vrai nom est Durandal.\n"
    response = client.post(
        f"/admin/testimonies/testimony/{testimony.pk}/transcript/",
        {"transcript": SimpleUploadedFile("leak.txt", leak)},
    )
    assert response.status_code == 200
    assert "nom légal" in response.content.decode()
    assert stored(testimony) == []


def test_an_upload_replaces_a_transcript_only_when_asked(client, curator, testimony):
    client.force_login(staff(curator))
    upload(client, testimony, "interview.vtt")
    refused = upload(client, testimony, "interview.txt")
    assert refused.status_code == 200
    assert len(stored(testimony)) == 6
    replaced = upload(client, testimony, "interview.txt", replace="on")
    assert replaced.status_code == 302
    assert len(stored(testimony)) == 5


def test_an_upload_needs_the_right_to_change_the_testimony(client, testimony):
    from .factories import UserFactory

    visitor = staff(UserFactory())
    client.force_login(visitor)
    response = upload(client, testimony, "interview.vtt")
    assert response.status_code == 403
    assert stored(testimony) == []
