"""How fast a public rendition is made, as a multiple of real time.

    python benchmarks/rendition_speed.py [--minutes 120] [--repeat 3]

Generates a mono speech-like recording (a voiced synthetic signal: syllables of
varying pitch and vowel, with pauses and a little noise), written as a 48 kHz
16-bit WAV file as a field recorder would, in a temporary folder. Each repeat
renders it with 40 silenced ranges spread over its length and the disguise
(McAdams coefficient 0.8): decoding, resampling, the disguise, the silences,
Opus encoding and the tag rewrite, end to end, as ``render`` does. Prints each
run, the median and the spread; the issue asks for at least 50 times real time.
The time to generate the recording is not counted.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testimonies.media.render import render  # noqa: E402
from tests.media.signals import speech_like  # noqa: E402

REQUIRED_FACTOR = 50
RATE = 48_000
PIECE_SECONDS = 300


def write_recording(path: Path, seconds: float) -> None:
    """A WAV file of ``seconds`` of speech-like sound, made piece by piece."""
    with av.open(str(path), "w", format="wav") as output:
        stream = output.add_stream("pcm_s16le", rate=RATE, layout="mono")
        written = 0
        for index, start in enumerate(np.arange(0, seconds, PIECE_SECONDS)):
            piece = speech_like(min(PIECE_SECONDS, seconds - start), RATE, seed=index)
            for first in range(0, len(piece), 8192):
                block = np.ascontiguousarray(piece[None, first : first + 8192])
                frame = av.AudioFrame.from_ndarray(block, format="flt", layout="mono")
                frame.rate = RATE
                frame.pts = written
                written += block.shape[1]
                for packet in stream.encode(frame):
                    output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)


def silenced_ranges(seconds: float, count: int = 40) -> list[tuple[float, float]]:
    """``count`` ranges of 0.4 to 3 s, spread evenly, as redacted names would be."""
    rng = np.random.default_rng(3)
    starts = np.linspace(5, seconds - 10, count)
    return [(float(s), float(s + rng.uniform(0.4, 3.0))) for s in starts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--disguise", type=float, default=0.8)
    arguments = parser.parse_args()
    seconds = arguments.minutes * 60
    with tempfile.TemporaryDirectory(prefix="rendition-bench-") as folder:
        source = Path(folder) / "recording.wav"
        began = time.perf_counter()
        write_recording(source, seconds)
        print(
            f"recording: {seconds:.0f} s of mono 48 kHz WAV, "
            f"{source.stat().st_size / 1e6:.0f} MB, made in "
            f"{time.perf_counter() - began:.0f} s (not counted)"
        )
        ranges = silenced_ranges(seconds)
        timings = []
        for run in range(arguments.repeat):
            began = time.perf_counter()
            made = render(
                source,
                Path(folder) / "rendition",
                silences=ranges,
                disguise=arguments.disguise,
            )
            elapsed = time.perf_counter() - began
            timings.append(elapsed)
            print(
                f"run {run + 1}: {elapsed:.1f} s, {seconds / elapsed:.0f}x real time "
                f"({made.path.stat().st_size / 1e6:.1f} MB {made.content_type})"
            )
    median = statistics.median(timings)
    print(
        f"median: {median:.1f} s for {seconds:.0f} s of sound, "
        f"{seconds / median:.0f}x real time (runs {min(timings):.1f} to "
        f"{max(timings):.1f} s); required: {REQUIRED_FACTOR}x, "
        f"{'met' if seconds / median >= REQUIRED_FACTOR else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
