"""Synthetic speech for the demo's recordings, made once and committed.

Each voiced testimony of the demo bundle is read aloud by espeak-ng in its own
language, segment by segment, into a small Ogg Opus file beside the bundle
(``testimonies/demo/media/<slug>.opus``); the bundle's segment times are then
rewritten to where each segment's words are heard, and each redaction gets the
media range of its words, so that the public rendition silences the redacted
words and nothing else. The words of a redaction are spoken as the original
has them: the rendition is what falls silent.

The demo never needs espeak-ng: only this command does, and the files it wrote
are what the demo loads.
"""

import io
import json
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from django.core.management.base import BaseCommand, CommandError

from testimonies.management.commands.seed_demo import DEMO_BUNDLE
from testimonies.media import ogg

VOICES = {"fr": "fr", "en": "en-gb"}
WORDS_PER_MINUTE = 165
RATE = 24_000  # Hz: one of Opus's own rates, enough for speech
BIT_RATE = 16_000  # bit/s: speech, mono
LEAD = 0.5  # s of silence before the first segment and after the last
PAUSE = 0.6  # s between segments
JOIN = 0.12  # s between the pieces of a segment cut at a redaction
# A redaction's range reaches into the gaps around its words by this much, so
# that no edge of them is heard, while the neighbouring words are left whole.
MARGIN = JOIN / 2
QUIET = 10 ** (-50 / 20)  # below -50 dBFS, espeak's lead-in and tail are trimmed

SYNTHETIC = {
    "fr": "Voix de synthèse : l'enregistrement est lu par un synthétiseur vocal.",
    "en": "Synthetic voice: the recording is read by a speech synthesiser.",
}


@dataclass
class Piece:
    """A run of a segment's text, with where it is heard in the recording."""

    first: int  # character offsets in the segment's text
    last: int
    start: float = 0.0
    end: float = 0.0


def speak(text: str, language: str) -> np.ndarray:
    """``text`` read by espeak-ng in ``language``, as floats at ``RATE``, trimmed
    of the silence espeak puts around an utterance."""
    result = subprocess.run(
        ["espeak-ng", "-v", VOICES[language], "-s", str(WORDS_PER_MINUTE), "--stdout"],
        input=text.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    with wave.open(io.BytesIO(result.stdout)) as sound:
        rate = sound.getframerate()
        frames = sound.readframes(sound.getnframes())
    samples = np.frombuffer(frames, "<i2").astype(np.float32) / 32768
    heard = np.flatnonzero(np.abs(samples) > QUIET)
    if not len(heard):
        return np.zeros(0, np.float32)
    samples = samples[heard[0] : heard[-1] + 1]
    return resample(samples, rate)


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return samples
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
    frame.rate = rate
    out = [*resampler.resample(frame), *resampler.resample(None)]
    return np.concatenate([f.to_ndarray()[0] for f in out])


def pieces_of(text: str, redactions: list[dict]) -> list[Piece]:
    """The segment's text cut at every edge of its redactions."""
    edges = {0, len(text)}
    for redaction in redactions:
        edges.update((redaction["start"], redaction["end"]))
    edges = sorted(edges)
    return [Piece(a, b) for a, b in zip(edges, edges[1:], strict=False)]


class Recording:
    """The sound of one testimony, appended piece by piece."""

    def __init__(self):
        self.blocks = [np.zeros(round(LEAD * RATE), np.float32)]
        self.length = len(self.blocks[0])

    @property
    def now(self) -> float:
        return self.length / RATE

    def pause(self, seconds: float) -> None:
        self.append(np.zeros(round(seconds * RATE), np.float32))

    def append(self, samples: np.ndarray) -> None:
        self.blocks.append(samples)
        self.length += len(samples)

    def samples(self) -> np.ndarray:
        self.pause(LEAD)
        return np.concatenate(self.blocks)


def voice_testimony(item: dict) -> np.ndarray:
    """Speak every segment of ``item``, rewriting its segment times and its
    redactions' media ranges to match; the samples of the whole recording."""
    language = item["language"]
    recording = Recording()
    by_segment: dict[int, list[dict]] = {}
    for redaction in item.get("redactions", []):
        by_segment.setdefault(redaction["segment"], []).append(redaction)
    for number, segment in enumerate(item["segments"]):
        if number:
            recording.pause(PAUSE)
        redactions = by_segment.get(number, [])
        pieces = pieces_of(segment["text"], redactions)
        for piece in pieces:
            spoken = speak(segment["text"][piece.first : piece.last], language)
            if len(spoken) and recording.length and piece is not pieces[0]:
                recording.pause(JOIN)
            piece.start = recording.now
            recording.append(spoken)
            piece.end = recording.now
        segment["start"] = floor(pieces[0].start)
        segment["end"] = ceil(pieces[-1].end)
        for redaction in redactions:
            covered = [
                p
                for p in pieces
                if redaction["start"] <= p.first and p.last <= redaction["end"]
            ]
            redaction["media_start"] = floor(max(0.0, covered[0].start - MARGIN))
            redaction["media_end"] = ceil(covered[-1].end + MARGIN)
    return recording.samples()


def floor(seconds: float) -> float:
    return float(np.floor(seconds * 100) / 100)


def ceil(seconds: float) -> float:
    return float(np.ceil(seconds * 100) / 100)


def write_opus(path: Path, samples: np.ndarray) -> None:
    """Mono Ogg Opus at a speech bit rate, the same bytes for the same samples."""
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = BIT_RATE
        stream.codec_context.options = {"flags": "+bitexact", "application": "voip"}
        block = 960
        for start in range(0, len(samples), block):
            piece = np.ascontiguousarray(samples[None, start : start + block])
            frame = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
            frame.rate = RATE
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    path.write_bytes(ogg.without_vendor(path.read_bytes()))


def mark_synthetic(item: dict) -> None:
    sentence = SYNTHETIC[item["language"]]
    if sentence not in item["summary"]:
        item["summary"] = f"{item['summary']} {sentence}"


class Command(BaseCommand):
    help = (
        "Read the demo's voiced testimonies aloud with espeak-ng: write their Opus "
        "files beside the demo bundle and the bundle's times to match the speech."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "slugs",
            nargs="*",
            help="testimonies to voice (by default those that have media already)",
        )
        parser.add_argument("--bundle", type=Path, default=DEMO_BUNDLE)

    def handle(self, *args, slugs, bundle, **options):
        if shutil.which("espeak-ng") is None:
            raise CommandError(
                "espeak-ng is needed to make the demo's speech "
                "(apt-get install espeak-ng); the demo itself does not need it"
            )
        document = json.loads(bundle.read_text(encoding="utf-8"))
        items = {item["slug"]: item for item in document["testimonies"]}
        unknown = sorted(set(slugs) - set(items))
        if unknown:
            raise CommandError(f"not in the bundle: {', '.join(unknown)}")
        chosen = slugs or [slug for slug, item in items.items() if item.get("media")]
        folder = bundle.parent / "media"
        folder.mkdir(exist_ok=True)
        for slug in chosen:
            item = items[slug]
            samples = voice_testimony(item)
            write_opus(folder / f"{slug}.opus", samples)
            item["media"] = {"path": f"media/{slug}.opus", "kind": "audio"}
            mark_synthetic(item)
            self.stdout.write(f"{slug}: {len(samples) / RATE:.1f} s")
        bundle.write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
