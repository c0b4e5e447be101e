"""Public renditions: every range silenced, the rest kept, nothing of the original's
metadata, the picture unchanged, written whole or not at all."""

import av
import numpy as np
import pytest

from testimonies.media import render as rendering
from testimonies.media.render import RenditionFailed, render, rendition_state

from .signals import (
    decode_audio,
    speech_like,
    tone,
    vowel,
    write_audio,
    write_mp3_with_cover,
    write_video,
)

RATE = 24_000
RANGES = [(1.0, 1.6), (3.2, 4.5), (6.0, 6.25)]
SECRET_TAGS = {
    "title": "Entretien de Jeanne Quérouil",
    "artist": "Jeanne Quérouil",
    "comment": "enregistré chez elle, rue des Lilas",
    "location": "+48.8566+002.3522/",
    "encoder": "Field Recorder 3000",
}
# What muxers and encoders write of themselves, and what the source carried.
MARKERS = [
    b"Lavf",
    b"Lavc",
    b"ffmpeg",
    b"FFmpeg",
    b"x264",
    b"libopus",
    b"LAME",
    b"Handler",
    b"\x89PNG",
] + [value.encode() for value in SECRET_TAGS.values()]
# What a demuxer reports of the file's structure, not of its content: MP4's
# brands and a track's undetermined language.
STRUCTURAL = {"major_brand", "minor_version", "compatible_brands"}


def signal(seconds=8.0, rate=RATE):
    """Speech-like sound over a low tone, so that no stretch of it is silent."""
    return 0.8 * speech_like(seconds, rate) + tone(seconds, rate, 180.0, level=0.1)


@pytest.fixture
def original(tmp_path):
    samples = signal()
    path = write_audio(tmp_path / "original.wav", samples, RATE, metadata=SECRET_TAGS)
    return path, samples


@pytest.fixture
def song(tmp_path):
    samples = signal()
    path = write_mp3_with_cover(tmp_path / "original.mp3", samples, RATE, SECRET_TAGS)
    return path, samples


@pytest.fixture
def film(tmp_path):
    samples = signal()
    path = write_video(
        tmp_path / "original.mp4", samples, RATE, seconds=8.0, metadata=SECRET_TAGS
    )
    return path, samples


def peak_dbfs(samples) -> float:
    return 20 * np.log10(np.max(np.abs(samples)) + 1e-12)


def inside(samples, rate, start, end):
    return samples[int(np.floor(start * rate)) : int(np.ceil(end * rate))]


def outside_mask(length, rate, ranges, margin):
    keep = np.ones(length, bool)
    keep[: int(margin * rate)] = False
    keep[length - int(margin * rate) :] = False
    for start, end in ranges:
        keep[max(0, int((start - margin) * rate)) : int((end + margin) * rate)] = False
    return keep


def best_correlation(original, heard, keep, rate):
    """The correlation of the two outside the ranges, at the codec delay that fits
    best (within 10 ms)."""
    best = -1.0
    for lag in range(-rate // 100, rate // 100 + 1, 4):
        shifted = np.roll(heard, -lag)[: len(original)]
        a, b = original[keep[: len(original)]], shifted[keep[: len(original)]]
        best = max(best, float(np.corrcoef(a, b)[0, 1]))
    return best


@pytest.mark.parametrize("disguise", [None, 0.8])
def test_every_range_is_silent_and_the_rest_is_the_original(
    tmp_path, original, disguise
):
    path, samples = original
    made = render(path, tmp_path / "public", silences=RANGES, disguise=disguise)
    assert made.kind == "audio"
    assert made.content_type.startswith("audio/ogg")
    heard = decode_audio(made.path, RATE)
    for start, end in RANGES:
        assert peak_dbfs(inside(heard, RATE, start, end)) < -60
    margin = rendering.GUARD + rendering.FADE + 0.03
    keep = outside_mask(len(samples), RATE, RANGES, margin)
    correlation = best_correlation(samples, heard, keep, RATE)
    if disguise is None:
        assert correlation > 0.9
    else:
        # Disguised, the sound is there but no longer the same waveform.
        assert peak_dbfs(heard[keep[: len(heard)]]) > -20
        assert correlation < 0.9


def test_the_redacted_range_is_silent_in_the_sound_of_a_video(tmp_path, film):
    path, samples = film
    made = render(path, tmp_path / "public", silences=RANGES)
    assert made.kind == "video"
    assert made.content_type == "video/mp4"
    heard = decode_audio(made.path, RATE)
    for start, end in RANGES:
        assert peak_dbfs(inside(heard, RATE, start, end)) < -60
    keep = outside_mask(len(samples), RATE, RANGES, 0.15)
    assert best_correlation(samples, heard, keep, RATE) > 0.9


def decoded_pictures(path):
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def test_the_picture_of_a_video_is_kept_as_it_is(tmp_path, film):
    path, _ = film
    made = render(path, tmp_path / "public", silences=RANGES)
    before, after = decoded_pictures(path), decoded_pictures(made.path)
    assert len(after) == len(before) > 0
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_a_picture_mp4_cannot_carry_is_encoded_anew_closely(tmp_path):
    samples = signal(3.0)
    path = write_video(
        tmp_path / "original.webm",
        samples,
        RATE,
        seconds=3.0,
        container="webm",
        codec="libvpx",
        audio_codec="libopus",
        metadata=SECRET_TAGS,
    )
    made = render(path, tmp_path / "public", silences=[(1.0, 1.5)])
    with av.open(str(made.path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
    before, after = decoded_pictures(path), decoded_pictures(made.path)
    assert len(after) == len(before)
    differences = [
        np.abs(a.astype(int) - b).mean() for a, b in zip(before, after, strict=True)
    ]
    assert max(differences) < 4
    assert not [marker for marker in MARKERS if marker in made.path.read_bytes()]


def test_the_audio_release_of_a_video_is_its_sound_alone(tmp_path, film):
    path, _ = film
    made = render(path, tmp_path / "public", silences=RANGES, audio_only=True)
    assert made.kind == "audio"
    with av.open(str(made.path)) as container:
        assert not container.streams.video
        assert len(container.streams.audio) == 1
    heard = decode_audio(made.path, RATE)
    for start, end in RANGES:
        assert peak_dbfs(inside(heard, RATE, start, end)) < -60


def tags_of(path):
    with av.open(str(path)) as container:
        return dict(container.metadata), [
            dict(stream.metadata) for stream in container.streams
        ]


@pytest.mark.parametrize(
    ("source", "options"),
    [
        ("original", {}),
        ("original", {"disguise": 0.8}),
        ("song", {}),
        ("film", {}),
        ("film", {"audio_only": True}),
    ],
)
def test_no_tag_is_left_of_the_original_the_muxer_or_the_encoder(
    tmp_path, request, source, options
):
    path, _ = request.getfixturevalue(source)
    # The test's own premise: the source does carry the tags.
    assert SECRET_TAGS["artist"] in tags_of(path)[0].values()
    made = render(path, tmp_path / "public", silences=RANGES, **options)
    container_tags, stream_tags = tags_of(made.path)
    assert set(container_tags) <= STRUCTURAL
    for tags in stream_tags:
        assert tags in ({}, {"language": "und"})
    data = made.path.read_bytes()
    assert [marker for marker in MARKERS if marker in data] == []
    # ID3 tags sit at the start (version 2) or in the last 128 bytes (version 1).
    assert not data.startswith(b"ID3") and data[-128:-125] != b"TAG"


def test_the_opus_header_names_no_vendor(tmp_path, original):
    path, _ = original
    made = render(path, tmp_path / "public")
    data = made.path.read_bytes()
    tags = data.index(b"OpusTags")
    assert data[tags + 8 : tags + 16] == b"\0" * 8  # vendor length, comment count


def test_a_disguised_rendition_moves_the_formants_of_the_voice(tmp_path):
    from .test_disguise import FORMANTS, PITCH, formants_of, moved

    rate = 16_000
    path = write_audio(tmp_path / "vowel.wav", vowel(2.0, rate, PITCH, FORMANTS), rate)
    plain = decode_audio(render(path, tmp_path / "plain").path, rate)
    disguised = decode_audio(
        render(path, tmp_path / "disguised", disguise=0.8).path, rate
    )
    assert formants_of(plain, 3) == pytest.approx(FORMANTS, rel=0.05)
    expected = [moved(f, 0.8) for f in FORMANTS]
    assert formants_of(disguised, 3) == pytest.approx(expected, rel=0.05)


def nothing_left(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    "ranges",
    [
        [(9.0, 9.5)],  # starts after the media ends (8 s)
        [(2.0, 1.0)],  # ends before it starts
        [(-1.0, 1.0)],
        [(1.0, float("nan"))],
        [(float("inf"), float("inf"))],
    ],
)
def test_a_bad_range_is_refused_and_nothing_is_written(tmp_path, original, ranges):
    path, _ = original
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(RenditionFailed):
        render(path, folder / "public", silences=ranges)
    assert list(folder.iterdir()) == []


def test_a_range_running_past_the_end_silences_to_the_end(tmp_path, original):
    path, _ = original
    made = render(path, tmp_path / "public", silences=[(7.5, 60.0)])
    heard = decode_audio(made.path, RATE)
    assert peak_dbfs(heard[int(7.5 * RATE) :]) < -60


def test_an_original_that_cannot_be_decoded_leaves_nothing(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + b"\0" * 400)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(RenditionFailed):
        render(broken, folder / "public")
    assert list(folder.iterdir()) == []


def test_a_failure_while_encoding_leaves_no_file_in_place(
    tmp_path, original, monkeypatch
):
    path, _ = original
    folder = tmp_path / "out"
    folder.mkdir()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rendering.ogg, "without_vendor", fail)
    with pytest.raises(OSError):
        render(path, folder / "public", silences=RANGES)
    assert list(folder.iterdir()) == []


def test_a_new_rendition_replaces_the_old_one_whole(tmp_path, original):
    path, _ = original
    target = tmp_path / "public"
    render(path, target)
    first = target.read_bytes()
    render(path, target, silences=RANGES)
    assert target.read_bytes() != first
    assert nothing_left(tmp_path)


def test_the_state_changes_with_whatever_the_rendition_is_made_from():
    base = {
        "original_sha256": "a" * 64,
        "silences": [(1.0, 2.0), (3.0, 4.0)],
        "disguise": None,
        "audio_only": False,
    }
    state = rendition_state(**base)
    assert rendition_state(**{**base, "silences": [(3.0, 4.0), (1.0, 2.0)]}) == state
    changed = [
        {"original_sha256": "b" * 64},
        {"silences": [(1.0, 2.0)]},
        {"silences": [(1.0, 2.001), (3.0, 4.0)]},
        {"disguise": 0.8},
        {"audio_only": True},
    ]
    states = {rendition_state(**{**base, **change}) for change in changed}
    assert state not in states
    assert len(states) == len(changed)


def test_a_failure_while_disguising_reaches_the_caller_and_leaves_nothing(
    tmp_path, original, monkeypatch
):
    path, _ = original

    def failing_blocks(samples, rate, coefficient):
        yield 0, np.zeros(rate, np.float32)
        raise MemoryError("no room for the spectra")

    monkeypatch.setattr(rendering.voice, "mcadams_blocks", failing_blocks)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(MemoryError):
        render(path, folder / "public", disguise=0.8)
    assert list(folder.iterdir()) == []
