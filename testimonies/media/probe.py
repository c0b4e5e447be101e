"""Media checked at the door: what a file is, read from its content alone.

A recording reaches the archive through the admin or a bundle. Before anything
is stored it is opened with PyAV and its sound decoded from end to end: the
kind comes from its streams, the duration from its samples, never from the
file's name or the type it declares. Whatever cannot be read as sound (text, a
picture, a damaged or cut-off file) is refused with the reason.
"""

import hashlib
import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import ogg

# Containers a recording may come in. Anything else is refused before it is
# parsed: playlist and concatenation formats would open other files or URLs.
ACCEPTED_FORMATS = (
    "wav",
    "w64",
    "aiff",
    "flac",
    "mp3",
    "aac",
    "ogg",
    "mov",
    "matroska",
    "avi",
)
# A container's declared duration may exceed the sound by its codec's padding;
# more than this, and the file was cut off.
TRUNCATION_TOLERANCE = 0.5  # seconds
CHUNK = 1 << 20


class MediaRefused(ValidationError):
    """A file that cannot be taken in as a recording; the message says why."""


@dataclass(frozen=True)
class Probed:
    """What a recording is, read from its content."""

    kind: str  # "audio" or "video", as Testimony.MediaKind
    duration: float  # seconds of sound
    sha256: str  # hex digest of the bytes
    size: int  # bytes
    container: str  # the demuxer that read it, e.g. "ogg"


def max_bytes() -> int:
    """The largest recording the archive takes in, from settings."""
    return int(settings.ARCHIVE_MEDIA_MAX_BYTES)


def probe(file, *, limit: int | None = None) -> Probed:
    """Read ``file`` (a path or a binary file object) as a recording, or refuse it."""
    limit = max_bytes() if limit is None else limit
    with _opened(file) as handle:
        size = _size(handle)
        if size > limit:
            raise _too_large(size, limit)
        digest, read = _sha256(handle, limit)
        if read > limit:
            raise _too_large(read, limit)
        if read == 0:
            raise MediaRefused(_("The file is empty."), code="empty")
        handle.seek(0)
        container_name, kind, duration = _read_streams(_Anonymous(handle))
        if _cut_off(handle, container_name, read):
            raise MediaRefused(
                _("The file is cut off: its end is missing."),
                code="truncated",
            )
    return Probed(
        kind=kind, duration=duration, sha256=digest, size=read, container=container_name
    )


class _opened:
    """A binary handle on ``file`` at its start; closed after only if opened here."""

    def __init__(self, file):
        self.file = file
        self.owned = isinstance(file, str | os.PathLike)

    def __enter__(self):
        if self.owned:
            self.handle = open(Path(self.file), "rb")  # noqa: SIM115
        else:
            self.handle = getattr(self.file, "file", None) or self.file
            if hasattr(self.file, "open") and getattr(self.file, "closed", False):
                self.file.open("rb")
                self.handle = getattr(self.file, "file", None) or self.file
        self.handle.seek(0)
        return self.handle

    def __exit__(self, *exc_info):
        if self.owned:
            self.handle.close()
        else:
            self.handle.seek(0)


class _Anonymous(io.RawIOBase):
    """The bytes of a file without its name: FFmpeg's probe weighs a file's
    extension, and the kind must come from the content alone."""

    def __init__(self, handle):
        self.handle = handle

    def readable(self):
        return True

    def seekable(self):
        return True

    def readinto(self, buffer):
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset, whence=io.SEEK_SET):
        return self.handle.seek(offset, whence)

    def tell(self):
        return self.handle.tell()


def _size(handle) -> int:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def _sha256(handle, limit: int) -> tuple[str, int]:
    # Counted while read, so a file that grows, or lies about its size, is
    # still held to the limit.
    digest = hashlib.sha256()
    read = 0
    while chunk := handle.read(CHUNK):
        read += len(chunk)
        if read > limit:
            break
        digest.update(chunk)
    return digest.hexdigest(), read


def _too_large(size: int, limit: int) -> MediaRefused:
    return MediaRefused(
        _(
            "The file is too large: %(size)s bytes, where the archive takes at "
            "most %(limit)s bytes."
        ),
        code="too_large",
        params={"size": size, "limit": limit},
    )


def open_media(source):
    """Open ``source`` (a path or binary file) with PyAV, accepted formats only."""
    options = {"format_whitelist": ",".join(ACCEPTED_FORMATS)}
    if isinstance(source, str | os.PathLike):
        return av.open(os.fspath(source), options=options)
    return av.open(source, options=options)


def _read_streams(source) -> tuple[str, str, float]:
    try:
        container = open_media(source)
    except (av.FFmpegError, ValueError, UnicodeDecodeError) as error:
        raise MediaRefused(
            _("The file is not an audio or video recording that can be read."),
            code="not_media",
        ) from error
    with container:
        audio = next(iter(container.streams.audio), None)
        pictures = [
            stream
            for stream in container.streams.video
            # A cover picture in an audio file is no video.
            if not stream.disposition & av.stream.Disposition.attached_pic
        ]
        if audio is None:
            raise MediaRefused(
                _("The file holds no sound: a recording needs an audio stream."),
                code="no_audio",
            )
        declared = _declared_duration(container, audio)
        samples, rate = _decode_all(container, audio, pictures)
        kind = "video" if pictures else "audio"
        name = container.format.name.split(",")[0]
    duration = samples / rate
    if declared is not None and duration > declared:
        # The last frame of a codec is padded to its full length; the container
        # says where the sound ends.
        duration = declared
    if declared is not None and duration < declared - TRUNCATION_TOLERANCE:
        raise MediaRefused(
            _(
                "The file is cut off: it declares %(declared).1f seconds but its "
                "sound ends at %(found).1f seconds."
            ),
            code="truncated",
            params={"declared": declared, "found": duration},
        )
    return name, kind, duration


def _cut_off(handle, container_name: str, size: int) -> bool:
    """Whether the file ends before its own structure says it does.

    FFmpeg plays what is there of a WAV, AIFF or Ogg file cut short, without a
    word; their structure tells: a RIFF or FORM header gives the file's length,
    and an Ogg stream ends on a whole page marked as its last.
    """
    handle.seek(0)
    head = handle.read(12)
    if container_name in ("wav", "aiff") and len(head) == 12:
        byte_order = "<" if container_name == "wav" else ">"
        (declared,) = struct.unpack(byte_order + "I", head[4:8])
        # 0 and 0xFFFFFFFF mean "unknown" (a stream, or RF64's real size elsewhere).
        return declared not in (0, 0xFFFFFFFF) and declared + 8 > size
    if container_name == "ogg":
        handle.seek(max(0, size - ogg.LARGEST_PAGE))
        return not ogg.ends_whole(handle.read())
    return False


def _declared_duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode_all(container, audio, pictures) -> tuple[int, int]:
    """Decode every sound frame and the first pictures; the count of samples."""
    samples = 0
    rate = audio.codec_context.sample_rate
    picture = pictures[0] if pictures else None
    pictures_decoded = 0
    streams = [audio] + ([picture] if picture is not None else [])
    try:
        for packet in container.demux(*streams):
            if packet.stream is audio:
                for frame in packet.decode():
                    samples += frame.samples
                    rate = frame.sample_rate or rate
            elif pictures_decoded < 3:
                pictures_decoded += len(packet.decode())
        if picture is not None:
            pictures_decoded += len(picture.decode(None)) if pictures_decoded < 3 else 0
    except (av.FFmpegError, ValueError) as error:
        raise MediaRefused(
            _("The file is damaged: its sound cannot be decoded after %(time).1f s."),
            code="damaged",
            params={"time": samples / rate if rate else 0.0},
        ) from error
    if samples == 0 or not rate:
        raise MediaRefused(
            _("The file's audio stream holds no sound that can be decoded."),
            code="no_sound",
        )
    if picture is not None and pictures_decoded == 0:
        raise MediaRefused(
            _("The file's video stream holds no picture that can be decoded."),
            code="no_picture",
        )
    return samples, rate
