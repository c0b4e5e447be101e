"""Transcript files read into timed pieces (``testimonies/transcript.py``):
WebVTT, SRT, OHMS XML and text with ``[HH:MM:SS]`` timecodes.

Each parser reads its format strictly and names the line of the first thing it
cannot read, so that a transcript is never stored with a cue quietly dropped:
the service stores all of a file or none of it. ``read_transcript`` tells the
format from the content, not the file's name.

WebVTT and SRT are read here rather than with webvtt-py: it passes over a cue
whose timing line it cannot read (in SRT that cue's lines join the text of the
cue before), and where it refuses a cue (WebVTT, strict) its error names no
line. OHMS XML is read with defusedxml, which refuses document type
declarations, so that no entity is expanded and no external one is fetched.
"""

import codecs
import html
import math
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..transcript import Piece, TranscriptError, joined, split_label

WEBVTT = "webvtt"
SRT = "srt"
OHMS = "ohms"
TEXT = "text"

FORMAT_NAMES = {
    WEBVTT: "WebVTT",
    SRT: "SRT",
    OHMS: "OHMS XML",
    TEXT: gettext_lazy("timecoded text"),
}


def _name(format_key: str) -> str:
    return str(FORMAT_NAMES[format_key])


# --- Text and lines ----------------------------------------------------------


def _decode(data: bytes | str, format_key: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise TranscriptError(
            _name(format_key),
            line,
            _("this is not UTF-8 text (byte %(byte)s); save the file as UTF-8")
            % {"byte": f"0x{data[error.start]:02x}"},
        ) from error


def _lines(text: str) -> list[str]:
    # The line breaks of WebVTT (and of editors): not str.splitlines, which
    # also breaks at form feeds and separators and would miscount the lines.
    return re.split(r"\r\n|\r|\n", text)


def _blocks(lines: list[str], first: int = 0) -> list[tuple[int, list[str]]]:
    """Runs of lines between blank lines, each with the index of its first."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = first
    for index in range(first, len(lines)):
        line = lines[index]
        if line.strip():
            if not current:
                start = index
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


# --- Cue timings (WebVTT and SRT) -------------------------------------------

_VTT_TIME = r"(?:\d+:)?\d{2}:\d{2}\.\d{3}"
_SRT_TIME = r"\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}"
_VTT_TIMING_RE = re.compile(
    rf"\s*(?P<start>{_VTT_TIME})[ \t]+-->[ \t]+(?P<end>{_VTT_TIME})(?:[ \t].*)?"
)
_SRT_TIMING_RE = re.compile(
    rf"\s*(?P<start>{_SRT_TIME})[ \t]*-->[ \t]*(?P<end>{_SRT_TIME})(?:[ \t].*)?"
)
# What a cue's timing line would be, written wrong: a time, then an arrow of
# any length or none.
_LOOKS_LIKE_TIMING_RE = re.compile(r"\s*\d+:\d+\S*\s*(?:-+>|$|\s+\d)")


def _clock(value: str) -> float | None:
    """Seconds of ``[h:]mm:ss.fff`` (or ``,fff``), None if a field is out of range."""
    clock, _sep, fraction = value.replace(",", ".").partition(".")
    fields = [int(f) for f in clock.split(":")]
    hours = fields[0] if len(fields) == 3 else 0
    minutes, seconds = fields[-2], fields[-1]
    if minutes > 59 or seconds > 59:
        return None
    # Whole milliseconds, divided once: 1234.567 reads as 1234567 / 1000.
    clock_seconds = hours * 3600 + minutes * 60 + seconds
    return (clock_seconds * 1000 + int(fraction.ljust(3, "0"))) / 1000


@dataclass
class _CueTimes:
    """The timings read so far, to refuse times that go backwards."""

    format_key: str
    example: str
    previous: float | None = None

    def read(
        self, pattern: re.Pattern, line: str, number: int, open_zero_end: bool
    ) -> tuple[float, float | None]:
        match = pattern.fullmatch(line)
        if match is None:
            raise TranscriptError(
                _name(self.format_key),
                number,
                _(
                    "this cue timing line cannot be read: %(text)s (a timing "
                    "line reads %(example)s)"
                )
                % {"text": repr(line.strip()), "example": self.example},
            )
        start, end = _clock(match["start"]), _clock(match["end"])
        for value, seconds in ((match["start"], start), (match["end"], end)):
            if seconds is None:
                raise TranscriptError(
                    _name(self.format_key),
                    number,
                    _("%(time)s is not a time: minutes and seconds go up to 59")
                    % {"time": value},
                )
        if end < start:
            # OHMS writes 00:00:00.000 for a last cue it leaves open.
            if open_zero_end and end == 0:
                end = None
            else:
                raise TranscriptError(
                    _name(self.format_key),
                    number,
                    _("this cue ends at %(end)s, before it starts at %(start)s")
                    % {"end": match["end"], "start": match["start"]},
                )
        if self.previous is not None and start < self.previous:
            raise TranscriptError(
                _name(self.format_key),
                number,
                _(
                    "this cue starts at %(start)s, before the cue above it: "
                    "times go backwards"
                )
                % {"start": match["start"]},
            )
        self.previous = start
        return start, end


def _refuse_arrow_in_text(
    format_key: str, payload: list[str], first_number: int
) -> None:
    for offset, line in enumerate(payload):
        if "-->" in line:
            raise TranscriptError(
                _name(format_key),
                first_number + offset,
                _(
                    "a timing line inside a cue's text: %(text)s (is the blank "
                    "line before this cue missing?)"
                )
                % {"text": repr(line.strip())},
            )


def _outside_a_cue(format_key: str, number: int, line: str) -> TranscriptError:
    if _LOOKS_LIKE_TIMING_RE.match(line):
        example = "00:01:02.500 --> 00:01:05.000"
        if format_key == SRT:
            example = "00:01:02,500 --> 00:01:05,000"
        return TranscriptError(
            _name(format_key),
            number,
            _(
                "this cue timing line cannot be read: %(text)s (a timing line "
                "reads %(example)s)"
            )
            % {"text": repr(line.strip()), "example": example},
        )
    return TranscriptError(
        _name(format_key),
        number,
        _(
            "text outside any cue: %(text)s (a cue starts with its timing line; "
            "a blank line ends it)"
        )
        % {"text": repr(line.strip()[:60])},
    )


# --- Cue text ---------------------------------------------------------------

_TAG_RE = re.compile(r"(<[^<>]*>)")
_VOICE_RE = re.compile(r"v(?:\.[^\s>]*)?[ \t]+(?P<name>[^>]+)")
_BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SRT_OVERRIDE_RE = re.compile(r"\{\\[^{}]*\}")


def _pieces_of_cue(
    start: float, end: float | None, payload: list[str], *, entities: bool
) -> list[Piece]:
    """A cue's text as pieces: one per voice that speaks in it, tags removed."""
    text = _BREAK_RE.sub("\n", "\n".join(payload))
    groups: list[tuple[str | None, list[str]]] = [(None, [])]
    for token in _TAG_RE.split(text):
        if not (token.startswith("<") and token.endswith(">")):
            groups[-1][1].append(token)
            continue
        voice = _VOICE_RE.fullmatch(token[1:-1].strip())
        if voice is None:
            # Other markup (italics, classes, karaoke timestamps) says
            # nothing of who speaks: only its words are kept.
            continue
        name = voice["name"].strip()
        if name == groups[-1][0]:
            continue
        if "".join(groups[-1][1]).strip():
            groups.append((name, []))
        else:
            groups[-1] = (name, groups[-1][1])
    pieces = []
    for voice, tokens in groups:
        words = joined(["".join(tokens)])
        if entities:
            words = joined([html.unescape(words)])
        speaker = voice
        if speaker is None:
            speaker, words = split_label(words)
        if words:
            pieces.append(Piece(start, end, speaker, words))
    return pieces


# --- WebVTT -------------------------------------------------------------------


def _webvtt(
    lines: list[str], *, first_number: int, open_zero_end: bool = False
) -> list[Piece]:
    if not re.match(r"WEBVTT(?:[ \t]|$)", lines[0] if lines else ""):
        raise TranscriptError(
            _name(WEBVTT),
            first_number,
            _("a WebVTT file begins with WEBVTT on its first line"),
        )
    # The header runs to the first blank line.
    index = 1
    while index < len(lines) and lines[index].strip():
        index += 1
    times = _CueTimes(WEBVTT, "00:01:02.500 --> 00:01:05.000")
    pieces: list[Piece] = []
    seen_cue = False
    for start_index, block in _blocks(lines, index):
        number = first_number + start_index
        head = block[0]
        if re.match(r"NOTE(?:[ \t]|$)", head):
            continue
        if not seen_cue and head.strip() in ("STYLE", "REGION"):
            continue
        if "-->" in head:
            timing_at = 0
        elif len(block) > 1 and "-->" in block[1]:
            timing_at = 1  # the cue's identifier comes first
        else:
            broken = (
                1 if len(block) > 1 and _LOOKS_LIKE_TIMING_RE.match(block[1]) else 0
            )
            raise _outside_a_cue(WEBVTT, number + broken, block[broken])
        start, end = times.read(
            _VTT_TIMING_RE, block[timing_at], number + timing_at, open_zero_end
        )
        seen_cue = True
        payload = block[timing_at + 1 :]
        _refuse_arrow_in_text(WEBVTT, payload, number + timing_at + 1)
        pieces += _pieces_of_cue(start, end, payload, entities=True)
    return pieces


def parse_webvtt(data: bytes | str) -> list[Piece]:
    """The pieces of a WebVTT file: one per cue (per voice in a cue)."""
    return _webvtt(_lines(_decode(data, WEBVTT)), first_number=1)


# --- SRT ----------------------------------------------------------------------


def parse_srt(data: bytes | str) -> list[Piece]:
    """The pieces of an SRT file: one per subtitle."""
    lines = _lines(_decode(data, SRT))
    times = _CueTimes(SRT, "00:01:02,500 --> 00:01:05,000")
    pieces: list[Piece] = []
    for start_index, block in _blocks(lines):
        number = start_index + 1
        timing_at = 1 if block[0].strip().isdigit() else 0
        if timing_at and len(block) == 1:
            raise TranscriptError(
                _name(SRT),
                number,
                _("subtitle %(index)s has no timing line")
                % {"index": block[0].strip()},
            )
        timing = block[timing_at]
        if "-->" not in timing:
            raise _outside_a_cue(SRT, number + timing_at, timing)
        start, end = times.read(_SRT_TIMING_RE, timing, number + timing_at, False)
        payload = block[timing_at + 1 :]
        _refuse_arrow_in_text(SRT, payload, number + timing_at + 1)
        payload = [_SRT_OVERRIDE_RE.sub("", line) for line in payload]
        pieces += _pieces_of_cue(start, end, payload, entities=False)
    return pieces


# --- Timecoded text -------------------------------------------------------------

# Anything in brackets that begins as a time does ("[12:", "[1:2"): a timecode,
# or one written wrong. "[rires]" or "[1998]" are words of the transcript.
_BRACKETED_TIME_RE = re.compile(r"\[\s*\d+\s*:[^\[\]\n]{0,24}\]")
_TIMECODE_RE = re.compile(
    r"\[\s*(?:(?P<hours>\d{1,3}):)?(?P<minutes>\d{1,3}):(?P<seconds>\d{2})"
    r"(?:[.,](?P<fraction>\d{1,3}))?\s*\]"
)


def _timecode_seconds(match: re.Match) -> float | None:
    hours = int(match["hours"] or 0)
    minutes, seconds = int(match["minutes"]), int(match["seconds"])
    if seconds > 59 or (match["hours"] is not None and minutes > 59):
        return None
    milliseconds = int((match["fraction"] or "0").ljust(3, "0"))
    return ((hours * 3600 + minutes * 60 + seconds) * 1000 + milliseconds) / 1000


def parse_timecoded_text(data: bytes | str) -> list[Piece]:
    """The pieces of a text in which each ``[HH:MM:SS]`` starts a piece."""
    lines = _lines(_decode(data, TEXT))
    starts: list[tuple[float, int]] = []
    texts: list[list[str]] = []
    for number, line in enumerate(lines, start=1):
        position = 0
        for found in _BRACKETED_TIME_RE.finditer(line):
            before = line[position : found.start()]
            position = found.end()
            match = _TIMECODE_RE.fullmatch(found.group())
            seconds = None if match is None else _timecode_seconds(match)
            if seconds is None:
                raise TranscriptError(
                    _name(TEXT),
                    number,
                    _("%(text)s is not a timecode (a timecode reads [01:02:03])")
                    % {"text": found.group()},
                )
            _add_text(texts, before, number)
            if starts and seconds < starts[-1][0]:
                raise TranscriptError(
                    _name(TEXT),
                    number,
                    _("%(text)s comes before the timecode above it: times go backwards")
                    % {"text": found.group()},
                )
            starts.append((seconds, number))
            texts.append([])
        _add_text(texts, line[position:], number)
    if not starts:
        raise TranscriptError(
            _name(TEXT), None, _("no [HH:MM:SS] timecode in the text")
        )
    pieces = []
    for (start, _number), words in zip(starts, texts, strict=True):
        speaker, text = split_label(joined(words))
        if text:
            pieces.append(Piece(start, None, speaker, text))
    return pieces


def _add_text(texts: list[list[str]], text: str, number: int) -> None:
    if not texts:
        if text.strip():
            raise TranscriptError(
                _name(TEXT),
                number,
                _("text before the first timecode: %(text)s")
                % {"text": repr(text.strip()[:60])},
            )
        return
    texts[-1].append(text)


# --- OHMS XML -------------------------------------------------------------------


class _LinedTreeBuilder(TreeBuilder):
    """Builds the tree and notes the line where each element starts."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[Element, int] = {}

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


def _read_xml(data: bytes | str) -> tuple[Element, dict[Element, int]]:
    builder = _LinedTreeBuilder()
    # No OHMS file carries a document type declaration: refusing it refuses
    # every entity declaration with it, internal (an entity bomb) or external.
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as error:
        raise TranscriptError(
            _name(OHMS),
            error.position[0],
            _("the XML cannot be read (%(reason)s)")
            % {"reason": str(error).split(":")[0]},
        ) from error
    except DefusedXmlException as error:
        raise TranscriptError(
            _name(OHMS),
            parser.parser.CurrentLineNumber,
            _(
                "a document type declaration or an entity was refused: OHMS "
                "XML has none, and nothing it names is read"
            ),
        ) from error
    except (LookupError, ValueError) as error:
        # An encoding declared that Python does not know, or that expat
        # cannot read (multi-byte ones).
        raise TranscriptError(
            _name(OHMS),
            1,
            _("the XML's declared encoding cannot be read (%(reason)s)")
            % {"reason": error},
        ) from error
    return root, builder.lines


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: Element, name: str) -> Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def parse_ohms(data: bytes | str) -> list[Piece]:
    """The pieces of an OHMS XML export: its WebVTT transcript, or its line
    transcript timed by its sync points and its index's points."""
    root, lines = _read_xml(data)
    if _local(root.tag) != "ROOT" or (record := _child(root, "record")) is None:
        raise TranscriptError(
            _name(OHMS),
            lines.get(root, 1),
            _("not an OHMS export: it has no <ROOT> holding a <record>"),
        )
    vtt = _child(record, "vtt_transcript")
    if vtt is not None and (vtt.text or "").strip():
        text_lines = _lines(vtt.text)
        skipped = next(i for i, line in enumerate(text_lines) if line.strip())
        text_lines = text_lines[skipped:]
        text_lines[0] = text_lines[0].lstrip()
        return _webvtt(
            text_lines, first_number=lines[vtt] + skipped, open_zero_end=True
        )
    transcript = _child(record, "transcript")
    text = "" if transcript is None else transcript.text or ""
    # OHMS writes this where an interview has no transcript.
    if text.strip() in ("", "No transcript."):
        raise TranscriptError(
            _name(OHMS),
            lines[transcript] if transcript is not None else lines[record],
            _("this OHMS export holds no transcript"),
        )
    sync = _child(record, "sync")
    index = _child(record, "index")
    return _LineTranscript(text, lines[transcript]).pieces(
        _sync_points(sync, lines),
        lines[sync] if sync is not None else lines[record],
        _index_points(index, lines) if index is not None else [],
    )


def _sync_points(
    sync: Element | None, lines: dict[Element, int]
) -> list[tuple[int, int, float]]:
    """(line, word, seconds) of each sync point, in the order written.

    ``<sync>`` reads ``1:|13(3)|19(14)``: the interval in minutes, then for
    each interval the line and the word (both counted from 1) the transcript
    has reached by then.
    """
    text = "" if sync is None else (sync.text or "").strip()
    if not text:
        return []
    number = lines[sync]
    interval, colon, marks = text.partition(":")
    if not colon or not re.fullmatch(r"\d+(?:\.\d+)?", interval.strip()):
        raise TranscriptError(
            _name(OHMS),
            number,
            _(
                "the sync points cannot be read: %(text)s (they read "
                "1:|13(3)|19(14), an interval in minutes, then LINE(WORD) for each)"
            )
            % {"text": repr(text[:40])},
        )
    seconds = float(interval) * 60
    if not seconds > 0:
        raise TranscriptError(
            _name(OHMS),
            number,
            _("the sync points need an interval of more than 0 minutes"),
        )
    points = []
    for position, mark in enumerate(marks.split("|")):
        if not mark.strip():
            continue
        found = re.fullmatch(r"\s*(\d+)\((\d+)\)\s*", mark)
        if found is None or int(found[1]) < 1 or int(found[2]) < 1:
            raise TranscriptError(
                _name(OHMS),
                number,
                _(
                    "sync point %(index)s cannot be read: %(mark)s (a sync "
                    "point reads LINE(WORD), counted from 1)"
                )
                % {"index": position, "mark": repr(mark)},
            )
        points.append((int(found[1]), int(found[2]), position * seconds))
    return points


@dataclass(frozen=True)
class _IndexPoint:
    seconds: float
    partial: str
    line: int


def _index_points(index: Element, lines: dict[Element, int]) -> list[_IndexPoint]:
    points = []
    for point in index:
        if _local(point.tag) != "point":
            continue
        time = _child(point, "time")
        partial = _child(point, "partial_transcript")
        value = (time.text or "").strip() if time is not None else ""
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds >= 0):
            raise TranscriptError(
                _name(OHMS),
                lines[time if time is not None else point],
                _("this index point's time is not a number of seconds: %(time)s")
                % {"time": repr(value)},
            )
        text = "" if partial is None else partial.text or ""
        points.append(_IndexPoint(seconds, text, lines[point]))
    return points


_FOOTNOTES_RE = re.compile(r"\[\[footnotes\]\].*?\[\[/footnotes\]\]", re.DOTALL)
_FOOTNOTE_MARK_RE = re.compile(r"\[\[footnote\]\].*?\[\[/footnote\]\]")


def _words_for_match(text: str) -> list[str]:
    return text.casefold().split()


class _LineTranscript:
    """An OHMS line transcript: hard-wrapped lines, paragraphs between blank
    lines, a paragraph's speaker as its first word ("SMYTH:")."""

    def __init__(self, text: str, first_number: int) -> None:
        # The notes at the end are not speech, nor are their marks in the
        # text; both go, the lines keeping their numbers for the sync points.
        text = _FOOTNOTES_RE.sub(lambda m: "\n" * m.group().count("\n"), text)
        text = _FOOTNOTE_MARK_RE.sub("", text)
        self.first_number = first_number
        self.words: list[str] = []
        # The index (in ``words``) of each line's first word; one more entry
        # closes the last line.
        self.line_starts: list[int] = []
        self.paragraphs: list[tuple[int, int]] = []
        paragraph_start = None
        for line in text.split("\n"):
            self.line_starts.append(len(self.words))
            words = line.split()
            if words and paragraph_start is None:
                paragraph_start = len(self.words)
            elif not words and paragraph_start is not None:
                self.paragraphs.append((paragraph_start, len(self.words)))
                paragraph_start = None
            self.words += words
        if paragraph_start is not None:
            self.paragraphs.append((paragraph_start, len(self.words)))
        self.line_starts.append(len(self.words))

    def _marks(
        self, points: list[tuple[int, int, float]], sync_line: int
    ) -> tuple[list[int], list[float]]:
        """The words where sync points fall, and their times, in order.

        OHMS stamps each interval of a stretch left untranscribed on the next
        words of one line, one word per interval; such a run stands for one
        moment, the first, where the stretch begins.
        """
        positions: list[int] = []
        times: list[float] = []
        previous: tuple[int, int] | None = None
        lines = len(self.line_starts) - 1
        for index, (line, word, seconds) in enumerate(points, start=1):
            if line > lines:
                raise TranscriptError(
                    _name(OHMS),
                    sync_line,
                    _(
                        "sync point %(index)s is at line %(line)s, but the "
                        "transcript has %(lines)s lines"
                    )
                    % {"index": index, "line": line, "lines": lines},
                )
            run = (
                previous is not None
                and previous[0] == line
                and (word - previous[1] in (0, 1))
            )
            previous = (line, word)
            # A word number past the line's end is the next line's first word.
            position = min(
                self.line_starts[line - 1] + word - 1, self.line_starts[line]
            )
            if positions and position < positions[-1]:
                raise TranscriptError(
                    _name(OHMS),
                    sync_line,
                    _(
                        "sync point %(index)s, at line %(line)s word %(word)s, "
                        "comes before the one ahead of it: times go backwards"
                    )
                    % {"index": index, "line": line, "word": word},
                )
            if run or (positions and position == positions[-1]):
                continue
            positions.append(position)
            times.append(seconds)
        return positions, times

    def _spoken(self, start: int, end: int) -> tuple[str | None, int]:
        """A paragraph's speaker label and the index of its first spoken word."""
        words = self.words[start:end]
        label, rest = split_label(" ".join(words))
        return label, end - len(rest.split())

    def _align(
        self, index: list[_IndexPoint], positions: list[int], times: list[float]
    ) -> None:
        """Add the index's points as exact times where their partial transcript
        begins a paragraph, and their time agrees with the sync points."""
        paragraph = 0
        for point in index:
            _label, partial = split_label(" ".join(point.partial.split()))
            wanted = _words_for_match(partial)[:8]
            if not wanted:
                continue
            for candidate in range(paragraph, len(self.paragraphs)):
                start, end = self.paragraphs[candidate]
                _speaker, first = self._spoken(start, end)
                found = _words_for_match(" ".join(self.words[first:end]))
                if found[: len(wanted)] != wanted:
                    continue
                slot = bisect_right(positions, first)
                before = times[slot - 1] if slot else 0.0
                after = times[slot] if slot < len(times) else math.inf
                at_same_word = slot and positions[slot - 1] == first
                if before <= point.seconds <= after and not at_same_word:
                    positions.insert(slot, first)
                    times.insert(slot, point.seconds)
                paragraph = candidate + 1
                break

    def pieces(
        self,
        points: list[tuple[int, int, float]],
        sync_line: int,
        index: list[_IndexPoint],
    ) -> list[Piece]:
        """The paragraphs, each cut where a sync or index point falls in it."""
        positions, times = self._marks(points, sync_line)
        self._align(index, positions, times)
        pieces = []
        for start, end in self.paragraphs:
            label, first = self._spoken(start, end)
            if first >= end:
                continue
            slot = bisect_right(positions, first)
            bounds = [(first, times[slot - 1] if slot else 0.0)]
            while slot < len(positions) and positions[slot] < end:
                bounds.append((positions[slot], times[slot]))
                slot += 1
            for number, (word, seconds) in enumerate(bounds):
                stop = bounds[number + 1][0] if number + 1 < len(bounds) else end
                text = " ".join(self.words[word:stop])
                pieces.append(
                    Piece(seconds, None, label if number == 0 else None, text)
                )
        return pieces


# --- Recognising the format -------------------------------------------------------

PARSERS: dict[str, Callable[[bytes | str], list[Piece]]] = {
    WEBVTT: parse_webvtt,
    SRT: parse_srt,
    OHMS: parse_ohms,
    TEXT: parse_timecoded_text,
}


def recognise_format(data: bytes) -> str:
    """Which format a transcript file is in, told from its content."""
    head = data.removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return OHMS
    if head.startswith(b"WEBVTT"):
        return WEBVTT
    text = head[:65536].decode("utf-8", errors="replace")
    lines = [line for line in _lines(text)[:3] if line.strip()]
    if lines and "-->" in lines[0]:
        # Timings without the WEBVTT line: its parser says what is missing.
        return SRT if _SRT_TIMING_RE.fullmatch(lines[0]) and "," in lines[0] else WEBVTT
    if len(lines) > 1 and lines[0].strip().isdigit() and "-->" in lines[1]:
        return SRT
    if _BRACKETED_TIME_RE.search(text):
        return TEXT
    raise TranscriptError(
        _("transcript file"),
        None,
        _(
            "its format cannot be recognised: WebVTT begins with WEBVTT, SRT "
            "with a subtitle number and its timing line, OHMS XML with <ROOT>, "
            "and timecoded text has [HH:MM:SS] timecodes"
        ),
    )


def read_transcript(
    data: bytes, format_key: str | None = None
) -> tuple[str, list[Piece]]:
    """The pieces of a transcript file and the format they were read as (the
    one given, or the one its content shows)."""
    chosen = format_key or recognise_format(data)
    if chosen not in PARSERS:
        raise ValueError(f"unknown transcript format {chosen!r}")
    return chosen, PARSERS[chosen](data)
