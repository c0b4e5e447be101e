"""A disguised voice: the McAdams transformation of the spectral envelope.

Each short frame of the signal is described by linear prediction (LPC): an
all-pole filter, the envelope that the vocal tract gives the voice, and a
residual, the excitation that drives it. Each complex pole at angle φ (radians,
0 < φ < π) is moved to φ**α, α being the McAdams coefficient, keeping its
radius; the residual is then passed through the moved filter and the frames are
overlap-added. With α below 1 the low formants rise and the high ones fall
towards each other; pitch, timing and words are left as they were. This is the
signal-processing baseline of the VoicePrivacy Challenge, made here with numpy
and scipy, vectorised across frames so that hours of speech take seconds.
"""

from collections.abc import Iterator

import numpy as np
from scipy import fft
from scipy import signal as sps

# The method is defined on wideband speech: the angles it moves are radians of
# this rate, so the disguise is made, and heard, at it.
SAMPLE_RATE = 16_000
# One pole pair per kilohertz of bandwidth (the rule for LPC of speech): four
# formants and the glottal and lip shaping. The baseline's order 20 costs twice
# as much for the eigenvalues, which are most of the time spent here.
ORDER = 16
# Frames of 32 ms every 16 ms, as speech coders analyse: five eighths as many
# eigenvalue problems as the baseline's 20 ms every 10 ms.
FRAME_SECONDS = 0.032
# Frames taken together: large enough for numpy to work in bulk, small enough
# for their spectra to stay in memory (about 30 MB at 16 kHz).
CHUNK_FRAMES = 2048


def mcadams(signal: np.ndarray, sample_rate: int, coefficient: float) -> np.ndarray:
    """``signal`` with every LPC pole angle φ of every frame moved to φ**coefficient."""
    out = np.empty(len(signal), dtype=np.float32)
    for start, block in mcadams_blocks(signal, sample_rate, coefficient):
        out[start : start + len(block)] = block
    return out


def mcadams_blocks(
    signal: np.ndarray, sample_rate: int, coefficient: float
) -> Iterator[tuple[int, np.ndarray]]:
    """The disguised signal, block by block as it is finished: (start, samples)."""
    if not 0.5 <= coefficient <= 1.5:
        raise ValueError(
            f"The McAdams coefficient must lie between 0.5 and 1.5, not {coefficient}."
        )
    length = round(FRAME_SECONDS * sample_rate) // 2 * 2
    hop = length // 2
    # The square root of a periodic Hann window, applied before analysis and
    # after synthesis: the product of the two sums to one at half overlap, so
    # that the transformation with a coefficient of 1 gives the signal back.
    window = np.sqrt(sps.get_window("hann", length, fftbins=True))
    # One hop of zeros before and a frame after, so that every sample lies under
    # two frames; the frames are views, not copies.
    padded = np.concatenate(
        [np.zeros(hop, np.float32), np.asarray(signal, np.float32), np.zeros(length)]
    )
    count = (len(signal) + hop) // hop + 1
    frames = np.lib.stride_tricks.sliding_window_view(padded, length)[::hop][:count]
    size = fft.next_fast_len(3 * length, real=True)
    carry = np.zeros(hop)
    for first in range(0, count, CHUNK_FRAMES):
        chunk = frames[first : first + CHUNK_FRAMES] * window
        out = _transform(chunk, coefficient, size) * window
        # Hop i of the padded signal is the first half of frame i plus the
        # second half of frame i - 1; the last half waits for the next chunk.
        hops = np.zeros((len(out) + 1, hop))
        hops[:-1] += out[:, :hop]
        hops[1:] += out[:, hop:]
        hops[0] += carry
        carry = hops[-1]
        start = first * hop - hop  # where this block starts in the signal
        block = hops[:-1].reshape(-1)
        skip = max(0, -start)
        block = block[skip : max(skip, len(signal) - start)]
        if len(block):
            yield start + skip, block.astype(np.float32)


def _transform(frames: np.ndarray, coefficient: float, size: int) -> np.ndarray:
    """Windowed frames, each resynthesised through its moved envelope."""
    spectra = fft.rfft(frames, size, axis=1)
    autocorrelation = fft.irfft(np.abs(spectra) ** 2, size, axis=1)[:, : ORDER + 1]
    energy = autocorrelation[:, 0]
    # A frame of digital silence (a pause, a silenced range) has no envelope.
    voiced = energy > 1e-10 * max(1.0, float(energy.max(initial=0.0)))
    out = frames.copy()
    if not voiced.any():
        return out
    # A touch of white noise on the diagonal keeps the recursion stable on
    # frames that are nearly one pure tone.
    autocorrelation = autocorrelation[voiced]
    autocorrelation[:, 0] *= 1 + 1e-9
    envelope = levinson(autocorrelation)
    moved = _moved_envelope(envelope, coefficient)
    # Residual through the original inverse filter, then the moved synthesis
    # filter: one division of spectra (the poles lie inside the unit circle).
    ratio = fft.rfft(envelope, size, axis=1) / fft.rfft(moved, size, axis=1)
    moved_spectra = spectra[voiced] * ratio
    # The moved envelope has a gain of its own: each frame keeps its energy,
    # so that the loudness of the speech follows the original's.
    weights = np.full(spectra.shape[1], 2.0)
    weights[0] = weights[-1] = 1.0
    before = np.abs(spectra[voiced]) ** 2 @ weights
    after = np.abs(moved_spectra) ** 2 @ weights
    moved_spectra *= np.sqrt(before / np.maximum(after, 1e-300))[:, None]
    resynthesised = fft.irfft(moved_spectra, size, axis=1)
    out[voiced] = resynthesised[:, : frames.shape[1]]
    return out


def levinson(autocorrelation: np.ndarray) -> np.ndarray:
    """LPC coefficients [1, a1, …, ap] of each autocorrelation row (Levinson-Durbin)."""
    rows, width = autocorrelation.shape
    order = width - 1
    coefficients = np.zeros((rows, width))
    coefficients[:, 0] = 1.0
    error = autocorrelation[:, 0].copy()
    for i in range(1, order + 1):
        accumulated = np.einsum(
            "ij,ij->i", coefficients[:, :i], autocorrelation[:, i:0:-1]
        )
        reflection = -accumulated / error
        coefficients[:, 1 : i + 1] += (
            reflection[:, None] * coefficients[:, i - 1 :: -1][:, :i]
        )
        error *= 1 - reflection**2
    return coefficients


def _moved_envelope(envelope: np.ndarray, coefficient: float) -> np.ndarray:
    """The polynomials whose complex roots are those of ``envelope``, angles φ**α."""
    roots = _poles(envelope)
    angles = np.angle(roots)
    # Real poles (φ of 0 or π) stay: moving one alone would break the pairs
    # that keep the filter real.
    complex_pole = roots.imag != 0
    moved_angles = np.where(
        complex_pole,
        np.sign(angles) * np.minimum(np.abs(angles) ** coefficient, np.pi - 1e-6),
        angles,
    )
    moved = np.abs(roots) * np.exp(1j * moved_angles)
    return _polynomial(moved).real


def _polynomial(roots: np.ndarray) -> np.ndarray:
    """Coefficients [1, c1, …, cp] of each row's product of (1 - r z⁻¹)."""
    rows, order = roots.shape
    coefficients = np.zeros((rows, order + 1), dtype=complex)
    coefficients[:, 0] = 1.0
    for k in range(order):
        coefficients[:, 1 : k + 2] -= roots[:, k : k + 1] * coefficients[:, : k + 1]
    return coefficients


def _poles(envelope: np.ndarray) -> np.ndarray:
    """The roots of each row's polynomial, as eigenvalues of its companion matrix."""
    rows, width = envelope.shape
    order = width - 1
    companion = np.zeros((rows, order, order))
    companion[:, 0, :] = -envelope[:, 1:]
    companion[:, np.arange(1, order), np.arange(order - 1)] = 1.0
    return np.linalg.eigvals(companion)
