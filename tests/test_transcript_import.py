"""A testimony's transcript imported from a file, all or nothing: the service
and the command."""

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
