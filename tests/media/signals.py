"""Generated signals and media files for the media tests and benchmark.

Everything is made here from numpy and PyAV, the same for the same arguments:
no recording is committed.
"""

import functools
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scipy import signal as sps

# Vowel-like formant sets (Hz): the voice moves between them syllable by syllable.
VOWELS = (
    (730, 1090, 2440),
    (270, 2290, 3010),
    (300, 870, 2240),
    (530, 1840, 2480),
    (570, 840, 2410),
)
FORMANT_BANDWIDTHS = (80, 110, 160)


def resonator(frequency: float, bandwidth: float, rate: int) -> np.ndarray:
    """The denominator of a two-pole resonator at ``frequency``, unit gain at DC."""
    radius = np.exp(-np.pi * bandwidth / rate)
    angle = 2 * np.pi * frequency / rate
    return np.array([1.0, -2 * radius * np.cos(angle), radius**2])


def formant_filter(formants, rate: int, bandwidths=FORMANT_BANDWIDTHS) -> np.ndarray:
    """The all-pole denominator of a cascade of resonators, one per formant."""
    denominator = np.array([1.0])
    for frequency, bandwidth in zip(formants, bandwidths, strict=False):
        denominator = np.convolve(denominator, resonator(frequency, bandwidth, rate))
    return denominator


def pulse_train(seconds: float, rate: int, f0: float) -> np.ndarray:
    """Glottal-like excitation: one unit impulse per period of ``f0``."""
    excitation = np.zeros(round(seconds * rate))
    excitation[:: max(1, round(rate / f0))] = 1.0
    return excitation


def vowel(seconds: float, rate: int, f0: float, formants) -> np.ndarray:
    """A steady voiced vowel: a pulse train through a known formant filter."""
    voiced = sps.lfilter(
        [1.0], formant_filter(formants, rate), pulse_train(seconds, rate, f0)
    )
    return 0.5 * voiced / np.max(np.abs(voiced))


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """A varying voiced signal: syllables of changing pitch and vowel, with pauses."""
    rng = np.random.default_rng(seed)
    total = round(seconds * rate)
    out = np.zeros(total)
    position = 0
    while position < total:
        syllable = round(rng.uniform(0.12, 0.35) * rate)
        gap = round(rng.choice([0.02, 0.05, 0.4], p=[0.6, 0.3, 0.1]) * rate)
        length = min(syllable, total - position)
        f0 = rng.uniform(90, 230)
        # Pitch glides within the syllable, as intonation does.
        phase = np.cumsum(np.linspace(f0, f0 * rng.uniform(0.85, 1.15), length)) / rate
        excitation = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(float)
        excitation += rng.normal(0, 0.02, length)
        formants = VOWELS[rng.integers(len(VOWELS))]
        voiced = sps.lfilter([1.0], formant_filter(formants, rate), excitation)
        envelope = np.hanning(length) * rng.uniform(0.3, 1.0)
        out[position : position + length] = voiced * envelope
        position += syllable + gap
    out += rng.normal(0, 1e-3, total)
    return (0.6 * out / np.max(np.abs(out))).astype(np.float32)


def tone(seconds: float, rate: int, frequency: float = 440.0, level=0.5):
    """A sine tone."""
    t = np.arange(round(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def write_audio(
    path: Path,
    samples: np.ndarray,
    rate: int,
    *,
    container: str = "wav",
    codec: str = "pcm_s16le",
    metadata: dict | None = None,
) -> Path:
    """Write mono ``samples`` (floats in [-1, 1]) to ``path`` in the given format."""
    with av.open(str(path), "w", format=container) as output:
        if metadata:
            output.metadata.update(metadata)
        stream = output.add_stream(codec, rate=rate, layout="mono")
        if metadata:
            stream.metadata.update(metadata)
        _encode_audio(output, stream, samples, rate)
    return path


def write_video(
    path: Path,
    samples: np.ndarray,
    rate: int,
    *,
    seconds: float,
    fps: int = 10,
    size: tuple[int, int] = (64, 48),
    container: str = "mp4",
    codec: str = "libx264",
    audio_codec: str = "aac",
    metadata: dict | None = None,
) -> Path:
    """Write a moving test picture with ``samples`` as its sound."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format=container) as output:
        if metadata:
            output.metadata.update(metadata)
        video = output.add_stream(codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = output.add_stream(audio_codec, rate=rate, layout="mono")
        base = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        for index in range(round(seconds * fps)):
            picture = np.roll(base, index, axis=1)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame):
                output.mux(packet)
        for packet in video.encode(None):
            output.mux(packet)
        _encode_audio(output, audio, samples, rate)
    return path


def _encode_audio(output, stream, samples, rate):
    block = 1024
    for start in range(0, len(samples), block):
        piece = np.ascontiguousarray(samples[None, start : start + block], np.float32)
        frame = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
        frame.rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            output.mux(packet)
    for packet in stream.encode(None):
        output.mux(packet)


def decode_audio(path: Path, rate: int) -> np.ndarray:
    """The first audio stream of ``path``, mono floats at ``rate``."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    pieces = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pieces.append(out.to_ndarray()[0])
        for out in resampler.resample(None):
            pieces.append(out.to_ndarray()[0])
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def write_mp3_with_cover(path: Path, samples, rate: int, metadata: dict) -> Path:
    """An MP3 file with ID3 tags and a cover picture, as music players write them."""
    picture = np.full((16, 16, 3), 200, np.uint8)
    with av.open(str(path), "w", format="mp3") as output:
        output.metadata.update(metadata)
        sound = output.add_stream("libmp3lame", rate=rate, layout="mono")
        cover = output.add_stream("png")
        cover.width = cover.height = 16
        cover.pix_fmt = "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        for packet in [*cover.encode(frame), *cover.encode(None)]:
            packet.pts = packet.dts = 0
            output.mux(packet)
        _encode_audio(output, sound, samples, rate)
    return path


@functools.cache
def recording_bytes(kind: str = "audio", seconds: float = 1.0, seed: int = 0) -> bytes:
    """The bytes of a small real recording: speech-like sound in WAV, or a
    moving picture with a tone in MP4 (``kind="video"``)."""
    rate = 16_000
    with tempfile.TemporaryDirectory() as folder:
        if kind == "video":
            path = write_video(
                Path(folder) / "v.mp4",
                tone(seconds, rate, 220.0 + 110 * seed),
                rate,
                seconds=seconds,
            )
        else:
            path = write_audio(
                Path(folder) / "a.wav", speech_like(seconds, rate, seed), rate
            )
        return path.read_bytes()
