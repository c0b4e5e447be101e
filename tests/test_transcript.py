"""The shape shared by the transcript parsers and the import service
(testimonies/transcript.py): labels, speakers, open ends, order."""

import math

import pytest

from testimonies.errors import ServiceError
from testimonies.transcript import Piece, speaker_role, split_label, timed_pieces

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    "text, label, rest",
    [
        ("SMYTH: Yes, my father.", "SMYTH", "Yes, my father."),
        ("Intervieweuse : Bonjour.", "Intervieweuse", "Bonjour."),
        ("Q: And then?", "Q", "And then?"),
        ("Marie Dupont : oui.", "Marie Dupont", "oui."),
        ("JEAN-PIERRE: non.", "JEAN-PIERRE", "non."),
        # Words that begin a sentence stay words of the transcript.
        ("Bref : on ne pouvait rien dire.", None, "Bref : on ne pouvait rien dire."),
        ("Il m'a dit : reviens demain.", None, "Il m'a dit : reviens demain."),
        ("Voir https://example.org", None, "Voir https://example.org"),
        ("12:30 : la pause.", None, "12:30 : la pause."),
        ("SMYTH:", None, "SMYTH:"),
    ],
)
def test_a_label_is_split_off_only_where_it_names_a_speaker(text, label, rest):
    assert split_label(text) == (label, rest)


@pytest.mark.parametrize(
    "label, interviewer, role",
    [
        ("Sarah Schneider", "Sarah Schneider", "interviewer"),
        ("SCHNEIDER", "Sarah Schneider", "interviewer"),
        ("DOEL", "Jeffrey L. Sturchio, Ron Doel", "interviewer"),
        ("Benalì", "Karim Benali", "interviewer"),
        ("Intervieweuse", "", "interviewer"),
        ("ENQUÊTEUR", "", "interviewer"),
        ("Q.", "", "interviewer"),
        ("Narratrice", "", "narrator"),
        ("Voix off", "", "other"),
        ("Interprète", "", "other"),
        # Unknown labels are the narrator's; a one-letter part of a name
        # names no one.
        ("Lina", "Karim Benali", "narrator"),
        ("L", "Jeffrey L. Sturchio", "narrator"),
        ("Speaker 2", "Karim Benali", "narrator"),
    ],
)
def test_a_label_is_matched_to_one_of_the_archives_speakers(label, interviewer, role):
    assert speaker_role(label, interviewer) == role


def test_open_ends_close_at_the_next_start_and_the_last_at_the_media_duration():
    pieces = [
        Piece(0, None, None, "a"),
        Piece(10, 12, None, "b"),
        Piece(20, None, None, "c"),
    ]
    closed = timed_pieces(pieces, duration=65.5)
    assert [(p.start, p.end) for p in closed] == [(0, 10), (10, 12), (20, 65.5)]


@pytest.mark.parametrize("duration", [None, 5.0])
def test_the_last_open_end_is_its_own_start_without_a_duration_after_it(duration):
    closed = timed_pieces(
        [Piece(0, None, None, "a"), Piece(20, None, None, "b")], duration=duration
    )
    assert closed[-1].end == 20


def test_a_piece_without_a_label_is_spoken_by_whoever_spoke_before():
    pieces = [
        Piece(0, 1, None, "a"),
        Piece(1, 2, "Interviewer", "b"),
        Piece(2, 3, None, "c"),
        Piece(3, 4, "SAM", "d"),
        Piece(4, 5, None, "e"),
    ]
    assert [p.speaker for p in timed_pieces(pieces)] == [
        "narrator",
        "interviewer",
        "interviewer",
        "narrator",
        "narrator",
    ]


@pytest.mark.parametrize(
    "pieces",
    [
        [Piece(math.nan, 1, None, "a")],
        [Piece(0, math.inf, None, "a")],
        [Piece(-1, 1, None, "a")],
        [Piece(5, 4, None, "a")],
        [Piece(5, 6, None, "a"), Piece(4, None, None, "b")],
    ],
)
def test_pieces_out_of_order_or_out_of_time_are_refused(pieces):
    with pytest.raises(ServiceError):
        timed_pieces(pieces)
