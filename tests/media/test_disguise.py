"""The McAdams disguise: formants move as φ**α says; pitch and timing stay."""

import numpy as np
import pytest
from scipy.linalg import solve_toeplitz

from testimonies.media.disguise import (
    FRAME_SECONDS,
    SAMPLE_RATE,
    mcadams,
    mcadams_blocks,
)

from .signals import speech_like, vowel

RATE = SAMPLE_RATE
FORMANTS = (500.0, 1500.0, 3500.0)
PITCH = 100.0


def moved(frequency: float, coefficient: float, rate: int = RATE) -> float:
    """Where the McAdams transformation puts a formant: φ → φ**α, in hertz."""
    angle = 2 * np.pi * frequency / rate
    return angle**coefficient * rate / (2 * np.pi)


def formants_of(signal: np.ndarray, count: int, rate: int = RATE) -> list[float]:
    """The ``count`` sharpest resonances of the whole signal, by an LPC fit of
    its own (autocorrelation and a Toeplitz solve, independent of the code
    under test), lowest first."""
    windowed = signal * np.hanning(len(signal))
    order = 2 * count + 2
    spectrum = np.fft.rfft(windowed, 2 * len(windowed))
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: order + 1]
    coefficients = solve_toeplitz(autocorrelation[:order], -autocorrelation[1:])
    poles = np.roots(np.concatenate([[1.0], coefficients]))
    poles = poles[poles.imag > 0]
    sharpest = poles[np.argsort(-np.abs(poles))][:count]
    return sorted(float(np.angle(p)) * rate / (2 * np.pi) for p in sharpest)


@pytest.fixture(scope="module")
def voiced():
    # A pulse train at 100 Hz through resonators at known formants (a low
    # pitch: its harmonics are dense enough for the fit to find each formant).
    return vowel(2.0, RATE, PITCH, FORMANTS)


def test_the_estimate_finds_the_formants_of_the_known_filter(voiced):
    # The test's own instrument, checked on the signal whose formants are known.
    found = formants_of(voiced, 3)
    assert found == pytest.approx(FORMANTS, rel=0.03)


@pytest.mark.parametrize("coefficient", [0.8, 0.9, 1.15])
def test_each_formant_moves_to_where_phi_to_the_alpha_puts_it(voiced, coefficient):
    found = formants_of(mcadams(voiced, RATE, coefficient), 3)
    expected = [moved(f, coefficient) for f in FORMANTS]
    assert found == pytest.approx(expected, rel=0.03)
    # And by the configured amount: the lowest formant, where φ**α moves most,
    # has travelled most of the way from where it was.
    shift = expected[0] - FORMANTS[0]
    assert abs(found[0] - FORMANTS[0]) > 0.7 * abs(shift)


def test_a_coefficient_of_one_gives_the_signal_back():
    signal = speech_like(3.0, RATE)
    assert np.max(np.abs(mcadams(signal, RATE, 1.0) - signal)) < 1e-5


def pitch(signal: np.ndarray, rate: int = RATE) -> float:
    """The fundamental frequency: the autocorrelation peak between 60 and 400 Hz."""
    centred = signal - signal.mean()
    spectrum = np.fft.rfft(centred, 2 * len(centred))
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: len(centred)]
    low, high = rate // 400, rate // 60
    return rate / (low + int(np.argmax(autocorrelation[low:high])))


def test_the_pitch_and_the_length_are_left_as_they_were(voiced):
    disguised = mcadams(voiced, RATE, 0.8)
    assert len(disguised) == len(voiced)
    assert pitch(disguised) == pytest.approx(pitch(voiced), rel=0.02)
    assert pitch(voiced) == pytest.approx(PITCH, rel=0.02)


def test_the_loudness_follows_the_original():
    signal = speech_like(4.0, RATE, seed=2)
    disguised = mcadams(signal, RATE, 0.8)
    frame = RATE // 10
    usable = len(signal) // frame * frame
    before = np.sqrt(np.mean(signal[:usable].reshape(-1, frame) ** 2, axis=1))
    after = np.sqrt(np.mean(disguised[:usable].reshape(-1, frame) ** 2, axis=1))
    loud = before > 0.05 * before.max()
    assert np.allclose(after[loud], before[loud], rtol=0.25)
    assert not np.allclose(disguised, signal, atol=1e-3)


def test_digital_silence_stays_silent():
    signal = speech_like(2.0, RATE)
    signal[RATE // 2 : RATE] = 0.0
    disguised = mcadams(signal, RATE, 0.8)
    # Frames wholly inside the silence (one frame from each edge) are zero.
    frame = round(FRAME_SECONDS * RATE)
    assert np.max(np.abs(disguised[RATE // 2 + frame : RATE - frame])) == 0.0


def test_the_blocks_cover_the_signal_once_in_order():
    signal = speech_like(11.3, RATE)
    blocks = list(mcadams_blocks(signal, RATE, 0.8))
    starts = [start for start, _ in blocks]
    assert starts[0] == 0
    assert all(
        start + len(block) == following
        for (start, block), following in zip(blocks, starts[1:], strict=False)
    )
    assert blocks[-1][0] + len(blocks[-1][1]) == len(signal)


@pytest.mark.parametrize("coefficient", [0.3, 1.9, float("nan")])
def test_a_coefficient_out_of_range_is_refused(coefficient):
    with pytest.raises(ValueError):
        mcadams(speech_like(0.5, RATE), RATE, coefficient)
