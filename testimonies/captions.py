"""A transcript as WebVTT captions and as plain text, from public text only."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from .models import Segment
from .timecodes import timecode


def _vtt_time(seconds: float) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _vtt_text(text: str) -> str:
    # A cue's text is markup: its own "<" and "&" are escaped, and a blank
    # line would end the cue early.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(escaped.split())


def _speaker(segment: Segment) -> str:
    return str(Segment.Speaker(segment.speaker).label)


def webvtt(segments: Iterable[Segment]) -> str:
    """The segments as a WebVTT file: one cue each, its speaker as its voice."""
    lines = ["WEBVTT", ""]
    for segment in segments:
        if segment.end <= segment.start or not segment.public_text.strip():
            continue
        lines.append(f"{_vtt_time(segment.start)} --> {_vtt_time(segment.end)}")
        voice = _vtt_text(_speaker(segment))
        lines.append(f"<v {voice}>{_vtt_text(segment.public_text)}")
        lines.append("")
    return "\n".join(lines)


def plain_text(title: str, address: str, segments: Iterable[Segment]) -> str:
    """The transcript as text to read or quote: a heading, then each segment
    with its time and speaker."""
    lines = [title, address, ""]
    for segment in segments:
        lines.append(f"[{timecode(segment.start)}] {_speaker(segment)}")
        lines.append(segment.public_text)
        lines.append("")
    lines.append(
        _("Transcript in public text: redacted passages are shown by their label.")
    )
    return "\n".join(lines) + "\n"
