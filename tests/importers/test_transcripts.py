"""Transcript files read into timed pieces (testimonies/importers/transcripts.py):
each format from files made for these tests, and each malformed case refused
with the line and the format named."""

import builtins
import math
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from testimonies.captions import webvtt
from testimonies.importers.transcripts import (
    OHMS,
    SRT,
    TEXT,
    WEBVTT,
    parse_ohms,
    parse_srt,
    parse_timecoded_text,
    parse_webvtt,
    read_transcript,
    recognise_format,
)
from testimonies.models import Segment
from testimonies.transcript import Piece, TranscriptError, speaker_role

FILES = Path(__file__).parent / "transcripts"

pytestmark = pytest.mark.usefixtures("english")


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_webvtt_cues_become_pieces_with_their_voices_and_plain_text():
    assert parse_webvtt(read("interview.vtt")) == [
        Piece(1.0, 4.5, "Intervieweuse", "Bonjour, vous livrez depuis quand\xa0?"),
        Piece(
            4.5,
            9.0,
            "Lina",
            "Depuis 2019. Au début, à vélo sous la pluie, dix heures par jour.",
        ),
        # No voice: the speaker is left to whoever spoke before.
        Piece(
            9.0, 12.25, None, "C'était l'application qui décidait de tout & de rien."
        ),
        # Two voices in one cue: one piece each, at the cue's times.
        Piece(12.25, 15.0, "Intervieweuse", "Et la paie ?"),
        Piece(12.25, 15.0, "Lina", "À la course, jamais la même."),
        Piece(3600.0, 3602.0, "Voix off", "Fin de l'enregistrement."),
    ]


def test_srt_subtitles_become_pieces_with_labels_read_from_their_text():
    assert parse_srt(read("interview.srt")) == [
        Piece(1.0, 4.0, "INTERVIEWER", "When did you start labelling images?"),
        Piece(4.0, 9.5, None, "In 2021. Ten cents a task, sometimes less."),
        Piece(9.5, 12.0, "Q", "And the rules?"),
        # A colon inside a sentence is no label.
        Piece(12.0, 15.0, None, "Nobody explained them: the tool did."),
    ]


def test_timecoded_text_starts_a_piece_at_each_timecode_even_inside_a_line():
    assert parse_timecoded_text(read("interview.txt")) == [
        Piece(5.0, None, "Intervieweuse", "Vous modériez quoi, exactement ?"),
        Piece(
            9.0, None, None, "Des vidéos signalées. Huit heures par jour, sans pause."
        ),
        # One capitalised word before a colon begins a sentence: kept as words.
        Piece(62.5, None, None, "Bref : on ne pouvait parler à personne."),
        Piece(90.0, None, "Q", "Et après ?"),
        Piece(3723.0, None, "R", "Je suis partie."),
    ]


def test_ohms_webvtt_transcript_is_read_with_an_open_last_cue():
    assert parse_ohms(read("ohms-vtt.xml")) == [
        Piece(3.0, 11.0, "BENALI", "Vous étiez analyste linguistique ?"),
        Piece(
            11.0,
            20.0,
            "LINA",
            "Oui. J'écoutais des enregistrements. Des milliers par semaine.",
        ),
        # OHMS ends its last cue at 00:00:00.000: an end it leaves open.
        Piece(20.0, None, None, "Personne ne savait qu'on écoutait."),
    ]


def test_ohms_line_transcript_is_cut_at_its_sync_and_index_points():
    assert parse_ohms(read("ohms-lines.xml")) == [
        Piece(0.0, None, "MOREL", "Where did you work then?"),
        # Minute 1 is reached at line 3, word 4: the paragraph is cut there.
        Piece(0.0, None, "SAM", "In a"),
        Piece(
            60.0,
            None,
            None,
            "warehouse at first, then at home labelling pictures for a "
            "platform. I was paid per picture.",
        ),
        # Minutes 2 to 4 stamped on successive words of one line: the stretch
        # left untranscribed begins at the first.
        Piece(120.0, None, None, "[untranscribed audio, two minutes]"),
        # The index point's partial transcript begins this paragraph: its
        # time, between the sync points around it, is exact.
        Piece(250.0, None, "MOREL", "And the queue of tasks?"),
        Piece(300.0, None, "SAM", "It never ended. Some nights I stopped at four."),
    ]


def test_ohms_index_point_that_contradicts_the_sync_points_is_left_out():
    data = read("ohms-lines.xml").replace(b"<time>250</time>", b"<time>30</time>")
    starts = [piece.start for piece in parse_ohms(data)]
    # 30 s would come before the sync point at 120 s ahead of the paragraph.
    assert starts == [0.0, 0.0, 60.0, 120.0, 120.0, 300.0]


def test_ohms_export_without_a_transcript_is_refused():
    data = read("ohms-lines.xml")
    start, end = data.index(b"<transcript>"), data.index(b"</transcript>")
    empty = data[:start] + b"<transcript>No transcript.</transcript>" + data[end + 13 :]
    with pytest.raises(TranscriptError) as refused:
        parse_ohms(empty)
    assert (refused.value.format_name, refused.value.line) == ("OHMS XML", 8)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("interview.vtt", WEBVTT),
        ("interview.srt", SRT),
        ("interview.txt", TEXT),
        ("ohms-vtt.xml", OHMS),
        ("ohms-lines.xml", OHMS),
    ],
)
def test_the_format_is_recognised_from_the_content(name, expected):
    chosen, pieces = read_transcript(read(name))
    assert chosen == expected
    assert pieces


def test_a_webvtt_file_is_recognised_whatever_it_is_called_and_says_so():
    # Only the bytes are given: a file's name has no say.
    assert recognise_format(b"\xef\xbb\xbfWEBVTT\n\n00:01.000 --> 00:02.000\nx\n") == (
        WEBVTT
    )


def test_content_of_no_known_format_is_refused():
    with pytest.raises(TranscriptError) as refused:
        read_transcript("Un texte sans aucun repère de temps.\n".encode())
    assert refused.value.line is None


@pytest.mark.parametrize(
    "name, format_name, line",
    [
        # a cue whose timing line has a broken arrow
        ("broken-timing.vtt", "WebVTT", 6),
        # a cue that starts before the one above it
        ("backwards.vtt", "WebVTT", 6),
        # a time of 99 seconds
        ("broken-timing.srt", "SRT", 6),
        # a cue that ends before it starts
        ("backwards.srt", "SRT", 6),
        ("bad-timecode.txt", "timecoded text", 2),
        ("backwards.txt", "timecoded text", 2),
        # an element left open: found where the enclosing one closes
        ("unterminated.xml", "OHMS XML", 6),
        # a sync point past the transcript's last line, named at <sync>
        ("bad-sync.xml", "OHMS XML", 4),
        ("entity-bomb.xml", "OHMS XML", 2),
        ("external-entity.xml", "OHMS XML", 2),
    ],
)
def test_malformed_file_is_refused_naming_its_format_and_line(name, format_name, line):
    with pytest.raises(TranscriptError) as refused:
        read_transcript(read(name))
    assert (refused.value.format_name, refused.value.line) == (format_name, line)


def test_the_refusal_reads_in_the_curators_language():
    with translation.override("fr"), pytest.raises(TranscriptError) as refused:
        read_transcript(read("backwards.txt"))
    assert str(refused.value).startswith("texte horodaté, ligne 2 :")


def test_external_entity_is_refused_without_opening_any_file(monkeypatch):
    opened = []
    real_open = builtins.open

    def watching_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    data = read("external-entity.xml")
    monkeypatch.setattr(builtins, "open", watching_open)
    with pytest.raises(TranscriptError) as refused:
        parse_ohms(data)
    assert opened == []
    assert "SECRET" not in str(refused.value)


@pytest.mark.parametrize(
    "text, line",
    [
        (
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nun\n"
            "00:00:03.000 --> 00:00:04.000\n",
            5,
        ),
        ("00:00:01.000 --> 00:00:02.000\nno header\n", 1),
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nun\n\ndes mots sans cue\n", 6),
        ("WEBVTT\n\nid\n00:00:01,000 --> 00:00:02,000\nune virgule\n", 4),
    ],
)
def test_webvtt_structure_errors_name_their_line(text, line):
    with pytest.raises(TranscriptError) as refused:
        parse_webvtt(text.encode())
    assert refused.value.line == line


def test_text_before_the_first_timecode_is_refused_at_its_line():
    with pytest.raises(TranscriptError) as refused:
        parse_timecoded_text(b"\nEntretien du 3 mai\n[00:00:01] Bonjour.\n")
    assert refused.value.line == 2


def test_a_file_that_is_not_utf8_is_refused_at_the_line_of_the_bad_byte():
    data = "1\n00:00:01,000 --> 00:00:02,000\nD\xe9j\xe0 vu\n".encode("latin-1")
    with pytest.raises(TranscriptError) as refused:
        parse_srt(data)
    assert refused.value.line == 3


def test_srt_subtitle_text_after_a_blank_line_is_refused_not_joined():
    text = "1\n00:00:01,000 --> 00:00:02,000\nOne\n\ntwo\n"
    with pytest.raises(TranscriptError) as refused:
        parse_srt(text.encode())
    assert refused.value.line == 5


# The archive's own captions, read back: times, words and speakers survive.
segments = st.lists(
    st.tuples(
        st.integers(0, 10_000_000),
        st.integers(1, 100_000),
        st.sampled_from(Segment.Speaker.values),
        st.text(
            st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
            min_size=1,
            max_size=40,
        ).filter(lambda t: t.strip() and "-->" not in t),
    ),
    min_size=1,
    max_size=8,
)


@given(segments, st.sampled_from(["fr", "en"]))
def test_the_archives_own_webvtt_captions_read_back_the_same(items, language):
    start = 0
    stored = []
    for offset, length, speaker, text in items:
        start += offset
        stored.append(
            Segment(
                start=start / 1000,
                end=(start + length) / 1000,
                speaker=speaker,
                public_text=text,
            )
        )
    with translation.override(language):
        pieces = parse_webvtt(webvtt(stored))
        speakers = [speaker_role(piece.speaker) for piece in pieces]
    assert [(p.start, p.end, p.text) for p in pieces] == [
        (s.start, s.end, " ".join(s.public_text.split())) for s in stored
    ]
    assert speakers == [s.speaker for s in stored]


# Pieces of every format, and of their mistakes, in any order.
fragments = st.sampled_from(
    [
        "WEBVTT",
        "\n",
        "\n\n",
        "1",
        "NOTE ",
        "00:00:01.000",
        "00:00:02,500",
        "01:59:59.999",
        "00:61:00.000",
        " --> ",
        " -> ",
        "[00:00:03]",
        "[00:01:02.5]",
        "[12:75]",
        "SAM: ",
        "Intervieweuse : ",
        "<v Lina>",
        "</v>",
        "<i>",
        "&amp;",
        "mots ",
        "é",
        "<ROOT>",
        "<record>",
        "<transcript>",
        "</transcript>",
        "<sync>1:|1(1)|2(3)</sync>",
        "</record></ROOT>",
        "<!DOCTYPE ROOT>",
    ]
)


@given(st.lists(fragments, max_size=40).map("".join))
def test_any_text_is_read_into_ordered_pieces_or_refused_with_a_transcript_error(
    text,
):
    try:
        _format, pieces = read_transcript(text.encode())
    except TranscriptError:
        return
    starts = [piece.start for piece in pieces]
    assert starts == sorted(starts)
    for piece in pieces:
        assert math.isfinite(piece.start) and piece.start >= 0
        assert piece.end is None or piece.end >= piece.start
        assert piece.text and piece.text == piece.text.strip()


@pytest.mark.parametrize(
    "declaration", [b'encoding="no-such-encoding"', b'encoding="shift_jis"']
)
def test_an_xml_encoding_that_cannot_be_read_is_refused_at_line_1(declaration):
    data = b'<?xml version="1.0" ' + declaration + b"?><ROOT><record/></ROOT>"
    with pytest.raises(TranscriptError) as refused:
        parse_ohms(data)
    assert refused.value.line == 1
