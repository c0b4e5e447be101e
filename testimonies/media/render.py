"""Public renditions: what the public hears of a recording, never the recording.

A rendition is made from an original, the time ranges its redactions silence
and a disguise setting. Its sound is decoded, disguised where asked, silenced
over every range (with a margin on each side, so that the codec's frames and a
curator's rounding never let a syllable through), and encoded anew in a format
every current browser plays: Opus in Ogg for sound, and for video the picture
as it was recorded (its stream copied where MP4 can hold it) with AAC sound in
MP4. Nothing of the original's metadata is carried over, and what the muxers
and encoders would write of themselves is turned off. The file is written
under a temporary name and moved into place whole.
"""

import contextlib
import hashlib
import json
import math
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import disguise as voice
from . import ogg
from .probe import open_media

# Bumped whenever the way renditions are made changes: the state of every
# rendition made before then no longer matches, and each is made again.
RENDITION_VERSION = 1
SPEECH_RATE = 24_000  # Hz: the sound of a rendition without disguise
GUARD = 0.05  # seconds silenced beyond each end of a range
FADE = 0.01  # seconds over which the sound fades out before, and in after
OPUS_BIT_RATE = 32_000
AAC_BIT_RATE = 64_000
# Video codecs that MP4 holds and browsers play, copied as they are, each with
# the bitstream filter that removes its in-band SEI messages: encoders write
# their name and settings there, cameras sometimes the time and place.
COPIED_VIDEO = {
    "h264": "filter_units=remove_types=6",
    "hevc": "filter_units=remove_types=39|40",
}
BIT_EXACT = {"flags": "+bitexact"}


class RenditionFailed(ValidationError):
    """A rendition that cannot be made from what it was given; the message says why."""


@dataclass(frozen=True)
class Rendition:
    """What was written: its kind, its type for the browser and its length."""

    path: Path
    kind: str  # "audio" or "video"
    content_type: str
    extension: str
    duration: float


def rendition_state(
    *,
    original_sha256: str,
    silences: Iterable[tuple[float, float]],
    disguise: float | None,
    audio_only: bool,
) -> str:
    """A digest of all a rendition is made from: it changes when any of it does."""
    state = {
        "version": RENDITION_VERSION,
        "original": original_sha256,
        "silences": sorted([float(start), float(end)] for start, end in silences),
        "disguise": None if disguise is None else float(disguise),
        "audio_only": bool(audio_only),
    }
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def render(
    source,
    destination,
    *,
    silences: Sequence[tuple[float, float]] = (),
    disguise: float | None = None,
    audio_only: bool = False,
) -> Rendition:
    """Make the rendition of ``source`` at ``destination``, whole or not at all."""
    destination = Path(destination)
    rate = voice.SAMPLE_RATE if disguise is not None else SPEECH_RATE
    try:
        with open_media(source) as container:
            pictures = [] if audio_only else _pictures(container)
            samples, origin = _decode_sound(container, rate)
    except av.FFmpegError as error:
        raise RenditionFailed(
            _("The original recording cannot be decoded."), code="undecodable"
        ) from error
    duration = len(samples) / rate
    ranges = _checked(silences, duration)
    sound = _sound(samples, rate, ranges, disguise)
    partial = _partial_name(destination)
    try:
        if pictures:
            with open_media(source) as container:
                _write_video(
                    container, partial, _gathered(sound, samples), rate, origin
                )
            kind, content_type, extension = "video", "video/mp4", ".mp4"
        else:
            _write_opus(partial, sound, rate)
            kind, content_type, extension = "audio", "audio/ogg; codecs=opus", ".ogg"
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return Rendition(destination, kind, content_type, extension, duration)


def _partial_name(destination: Path) -> Path:
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(handle)
    return Path(name)


def _pictures(container) -> list:
    return [
        stream
        for stream in container.streams.video
        if not stream.disposition & av.stream.Disposition.attached_pic
    ][:1]


def _decode_sound(container, rate: int) -> tuple[np.ndarray, float]:
    """The first sound stream as mono floats at ``rate``, from the media's start."""
    if not container.streams.audio:
        raise RenditionFailed(
            _("The original recording holds no sound."), code="no_audio"
        )
    origin = (container.start_time or 0) / av.time_base
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    pieces = []
    first = None
    for frame in container.decode(audio=0):
        if first is None and frame.time is not None:
            first = frame.time
        pieces.extend(out.to_ndarray()[0] for out in resampler.resample(frame))
    pieces.extend(out.to_ndarray()[0] for out in resampler.resample(None))
    if not pieces:
        raise RenditionFailed(
            _("The original recording holds no sound."), code="no_sound"
        )
    # Sound that starts after the media does (a video's first picture comes
    # first) keeps its place on the timeline the redactions were placed on.
    lead = max(0, round(((first or origin) - origin) * rate))
    return np.concatenate([np.zeros(lead, np.float32), *pieces]), origin


def _checked(silences, duration: float) -> list[tuple[float, float]]:
    ranges = []
    for start, end in silences:
        start, end = float(start), float(end)
        params = {"start": start, "end": end, "duration": duration}
        if not (math.isfinite(start) and math.isfinite(end)):
            raise RenditionFailed(
                _("A silenced range is not a finite time: %(start)s to %(end)s."),
                code="range_not_finite",
                params=params,
            )
        if start < 0 or end <= start:
            raise RenditionFailed(
                _(
                    "A silenced range must start at 0 s or later and end after it "
                    "starts, not %(start)s s to %(end)s s."
                ),
                code="range_order",
                params=params,
            )
        if start >= duration:
            raise RenditionFailed(
                _(
                    "A silenced range starts at %(start)s s, after the end of the "
                    "media (%(duration).3f s)."
                ),
                code="range_outside",
                params=params,
            )
        ranges.append((start, end))
    return ranges


def _sound(samples, rate: int, ranges, disguise) -> Iterator[tuple[int, np.ndarray]]:
    """The rendition's sound, block by block: disguised where asked, then silenced."""
    if disguise is None:
        blocks = ((0, samples),)
    else:
        blocks = voice.mcadams_blocks(samples, rate, disguise)
    for start, block in blocks:
        _silence(block, start, rate, ranges)
        # The disguise keeps each frame's energy, not its peaks.
        np.clip(block, -1.0, 1.0, out=block)
        yield start, block


def _gathered(sound, samples: np.ndarray) -> np.ndarray:
    out = np.empty_like(samples)
    for start, block in sound:
        out[start : start + len(block)] = block
    return out


def _silence(block: np.ndarray, offset: int, rate: int, ranges) -> None:
    """Zero every range and its margins within ``block`` (which starts at sample
    ``offset``); fade out before each, and in after."""
    fade = max(1, round(FADE * rate))
    ramp = (0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)).astype(np.float32)
    end = offset + len(block)
    for start, stop in ranges:
        first = math.floor((start - GUARD) * rate)
        last = math.ceil((stop + GUARD) * rate)
        if last + fade <= offset or first - fade >= end:
            continue
        block[max(first, offset) - offset : max(0, min(last, end) - offset)] = 0.0
        # Positions in the signal of the fades, clipped to the block.
        for ramp_start, shape in ((first - fade, ramp[::-1]), (last, ramp)):
            low, high = max(ramp_start, offset), min(ramp_start + fade, end)
            if low < high:
                block[low - offset : high - offset] *= shape[
                    low - ramp_start : high - ramp_start
                ]


def _write_opus(path: Path, sound, rate: int) -> None:
    """Encode the blocks of ``sound`` to Ogg Opus at ``path``, then empty its tags.

    The blocks are made in a thread of their own while this one encodes: numpy
    and the encoder both let go of the interpreter, and on two cores the
    disguise and the encoding then take the time of the slower, not the sum.
    """
    blocks = queue.Queue(maxsize=4)
    done = object()
    stopped = threading.Event()

    def produce():
        try:
            for item in sound:
                if stopped.is_set():
                    return
                blocks.put(item)
        except BaseException as error:  # handed to the encoding thread
            blocks.put(error)
        else:
            blocks.put(done)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        with av.open(
            str(path), "w", format="ogg", options={"fflags": "+bitexact"}
        ) as out:
            stream = out.add_stream("libopus", rate=rate, layout="mono")
            stream.bit_rate = OPUS_BIT_RATE
            # The speech mode: after a silenced range begins, the general
            # mode's decoder fades out over 150 ms of echo (at -45 dBFS), this
            # one in 20. Complexity 3 of 10 (the encoder's search effort, not
            # its bit rate) keeps encoding near 200 times real time on a core.
            stream.codec_context.options = {
                **BIT_EXACT,
                "application": "voip",
                "compression_level": "3",
            }
            while (item := blocks.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                start, block = item
                _encode(out, stream, block, rate, 0, len(block), offset=start)
            _flush(out, stream)
    finally:
        # Stop and unblock the producer, whatever happened here.
        stopped.set()
        while producer.is_alive():
            with contextlib.suppress(queue.Empty):
                blocks.get(timeout=0.1)
        producer.join()
    path.write_bytes(ogg.without_vendor(path.read_bytes()))


def _write_video(container, path: Path, samples, rate: int, origin: float) -> None:
    source = _pictures(container)[0]
    options = {"fflags": "+bitexact", "movflags": "+faststart", "empty_hdlr_name": "1"}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        copied = source.codec_context.name in COPIED_VIDEO
        if copied:
            picture = out.add_stream_from_template(source)
            picture.metadata.clear()
            units = av.BitStreamFilterContext(
                COPIED_VIDEO[source.codec_context.name], source
            )
        else:
            picture, units = _reencoder(out, source), None
        removed = None
        sound = out.add_stream("aac", rate=rate, layout="mono")
        sound.bit_rate = AAC_BIT_RATE
        sound.codec_context.options = dict(BIT_EXACT)
        shift = round(origin / source.time_base) if source.time_base else 0
        written = 0
        for packet in container.demux(source):
            if packet.dts is None:
                continue
            # Sound up to this picture first, so that the two are interleaved.
            time = float(packet.dts * source.time_base) - origin
            until = min(len(samples), max(written, round(time * rate)))
            written = _encode(out, sound, samples, rate, written, until)
            if copied:
                packet.pts -= shift
                packet.dts -= shift
                for filtered in units.filter(packet):
                    filtered.stream = picture
                    out.mux(filtered)
            else:
                for frame in packet.decode():
                    removed = _mux_encoded(out, picture, frame, origin, removed)
        if copied:
            for filtered in units.filter(None):
                filtered.stream = picture
                out.mux(filtered)
        else:
            _mux_encoded(out, picture, None, origin, removed)
        _encode(out, sound, samples, rate, written, len(samples))
        _flush(out, sound)


def _reencoder(out, source):
    """An H.264 stream for a picture MP4 cannot carry as it is (VP8, Theora …)."""
    rate = source.average_rate or source.guessed_rate or Fraction(25)
    picture = out.add_stream("libx264", rate=rate)
    picture.width = source.codec_context.width
    picture.height = source.codec_context.height
    picture.pix_fmt = "yuv420p"
    picture.codec_context.time_base = 1 / Fraction(rate)
    picture.codec_context.options = {"crf": "16"}  # visually lossless
    return picture


def _mux_encoded(out, picture, frame, origin: float, units):
    """Encode one picture (or flush, for None) and mux it without x264's SEI."""
    if frame is not None:
        time_base = picture.codec_context.time_base
        frame.pts = round((float(frame.time) - origin) / time_base)
        frame.time_base = time_base
    for packet in picture.encode(frame):
        # x264 writes its name and settings in an SEI message of the first
        # picture; the filter needs the encoder's parameters, known by now.
        units = units or av.BitStreamFilterContext(COPIED_VIDEO["h264"], picture)
        for filtered in units.filter(packet):
            filtered.stream = picture
            out.mux(filtered)
    if frame is None and units is not None:
        for filtered in units.filter(None):
            filtered.stream = picture
            out.mux(filtered)
    return units


def _encode(out, stream, samples, rate: int, start: int, end: int, offset=0) -> int:
    block = 4096
    for first in range(start, end, block):
        piece = samples[first : min(end, first + block)]
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(piece[None, :]), format="flt", layout="mono"
        )
        frame.rate = rate
        frame.pts = offset + first
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    return max(start, end)


def _flush(out, stream) -> None:
    for packet in stream.encode(None):
        out.mux(packet)
