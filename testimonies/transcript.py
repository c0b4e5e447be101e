"""A transcript as timed pieces: the shape shared by the transcript parsers
(``importers/transcripts.py``) and the service that stores them as segments.

A piece is what a file says of a stretch of speech: where it starts, where it
ends if the file says so, who speaks as the file labels them, and the words.
Which of the archive's speakers a label stands for, and where an open end
closes, are decided here for every format alike.
"""

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .errors import ServiceError
from .gate import fold
from .models import Segment

NARRATOR = Segment.Speaker.NARRATOR
INTERVIEWER = Segment.Speaker.INTERVIEWER
OTHER = Segment.Speaker.OTHER


@dataclass(frozen=True, slots=True)
class Piece:
    """A timed piece of transcript, as read from a file."""

    start: float
    # None where the file gives no end: the next piece's start closes it.
    end: float | None
    # The label as written (a cue's voice, a "NAME:"), None where none is.
    speaker: str | None
    text: str


class TranscriptError(ValueError):
    """A transcript file that cannot be read; the message names the line."""

    def __init__(self, format_name: str, line: int | None, problem: str) -> None:
        self.format_name = format_name
        self.line = line
        self.problem = problem
        if line is None:
            message = _("%(format)s: %(problem)s") % {
                "format": format_name,
                "problem": problem,
            }
        else:
            message = _("%(format)s, line %(line)s: %(problem)s") % {
                "format": format_name,
                "line": line,
                "problem": problem,
            }
        super().__init__(message)


# --- Labels ----------------------------------------------------------------

# Labels that name a role rather than a person, folded (case and accents
# aside), in French and English. A label found nowhere is the narrator's.
ROLE_LABELS = {
    INTERVIEWER: {
        "interviewer",
        "interviewers",
        "intervieweur",
        "intervieweuse",
        "enqueteur",
        "enqueteuse",
        "enquetrice",
        "journaliste",
        "int",
        "i",
        "q",
        "question",
        "questions",
    },
    NARRATOR: {
        "narrator",
        "narrateur",
        "narratrice",
        "interviewee",
        "interviewe",
        "temoin",
        "witness",
        "r",
        "a",
        "reponse",
        "answer",
    },
    OTHER: {
        "other",
        "others",
        "autre",
        "autres",
        "voice",
        "voix",
        "voix off",
        "unknown",
        "inconnu",
        "inconnue",
        "audience",
        "public",
        "interpreter",
        "interprete",
        "translator",
        "traducteur",
        "traductrice",
    },
}
_ROLE_OF_LABEL = {
    label: role for role, labels in ROLE_LABELS.items() for label in labels
}

# "NAME: words" at the start of a text: a label of letters (with the dots,
# apostrophes and hyphens of names), a colon, with or without the space that
# French typography puts before it, then the words.
_LABEL_RE = re.compile(
    r"\s*(?P<label>[^\W\d_][^\W\d_.'’\- ]*(?:[.'’\- ]+[^\W\d_]+){0,4}\.?)"
    r"[ \u00a0\u202f]?:\s+(?P<rest>\S.*)",
    re.DOTALL,
)


_NAME_PART_RE = re.compile(r"[^\W\d_]+")


def _is_label(label: str) -> bool:
    """Whether words before a colon name a speaker rather than begin a sentence.

    Uppercase labels ("SMYTH", "Q") and role words are labels; so are two to
    five capitalised words (a full name). A single capitalised word is not:
    "Bref : ..." begins a sentence as often as "Marie : ..." names someone,
    and a label left in the text loses nothing, while words taken for a label
    would be lost.
    """
    if " ".join(_NAME_PART_RE.findall(fold(label))) in _ROLE_OF_LABEL:
        return True
    if label.isupper():
        return True
    words = re.split(r"[ \-]+", label)
    return len(words) >= 2 and all(word[:1].isupper() for word in words)


def split_label(text: str) -> tuple[str | None, str]:
    """The speaker's label at the start of a text, if it has one, and the rest."""
    match = _LABEL_RE.match(text)
    if match and len(match["label"]) <= 40 and _is_label(match["label"]):
        return match["label"].strip(), match["rest"]
    return None, text


def speaker_role(label: str, interviewer: str = "") -> str:
    """The archive's speaker a label stands for: the testimony's interviewer
    (their name or a part of it), a role word, or else the narrator."""
    folded = " ".join(_NAME_PART_RE.findall(fold(label)))
    if folded in _ROLE_OF_LABEL:
        return _ROLE_OF_LABEL[folded]
    # "Sarah Schneider", "SCHNEIDER", or either of "Jeffrey L. Sturchio, Ron
    # Doel" by a part of a name.
    names = _NAME_PART_RE.findall(fold(interviewer))
    if names and (
        folded == " ".join(names)
        or folded in {name for name in names if len(name) >= 3}
    ):
        return INTERVIEWER
    return NARRATOR


# --- Pieces to segments ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimedPiece:
    """A piece ready to be stored: closed, with one of the archive's speakers."""

    start: float
    end: float
    speaker: str
    text: str


def _seconds(value: float) -> str:
    return f"{value:g}"


def timed_pieces(
    pieces: Sequence[Piece],
    *,
    interviewer: str = "",
    duration: float | None = None,
) -> list[TimedPiece]:
    """Close every piece and name its speaker, refusing pieces out of order.

    An end not given is the next piece's start; the last one's, the media's
    duration if known (and not before it), else its own start. A piece with no
    label is spoken by whoever spoke before it (the narrator, at first).
    """
    timed: list[TimedPiece] = []
    speaker = NARRATOR
    for index, piece in enumerate(pieces):
        start, end = piece.start, piece.end
        following = pieces[index + 1].start if index + 1 < len(pieces) else None
        if end is None:
            if following is not None:
                end = max(following, start)
            elif duration is not None and duration >= start:
                end = duration
            else:
                end = start
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
            raise ServiceError(
                _(
                    "piece %(index)s of the transcript needs 0 <= start <= end, "
                    "in seconds (got %(start)s, %(end)s)"
                )
                % {"index": index + 1, "start": start, "end": end}
            )
        if timed and start < timed[-1].start:
            raise ServiceError(
                _(
                    "piece %(index)s of the transcript starts at %(start)s s, "
                    "before the one ahead of it (%(previous)s s): segments are "
                    "kept in order of start"
                )
                % {
                    "index": index + 1,
                    "start": _seconds(start),
                    "previous": _seconds(timed[-1].start),
                }
            )
        if piece.speaker is not None:
            speaker = speaker_role(piece.speaker, interviewer)
        timed.append(TimedPiece(start, end, speaker, piece.text))
    return timed


_BLANKS_RE = re.compile(r"[ \t\n\r\f\v]+")


def joined(lines: Iterable[str]) -> str:
    """Lines of one piece as one text: runs of blanks become one space, while
    the no-break spaces of French typography ("quand ?") stay."""
    return _BLANKS_RE.sub(" ", " ".join(lines)).strip(" ")
