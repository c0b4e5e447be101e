"""Media checked at the door: kind, duration and digest read from the content."""

import hashlib
import io

import av
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from testimonies.media.probe import MediaRefused, probe

from .signals import (
    speech_like,
    tone,
    write_audio,
    write_mp3_with_cover,
    write_video,
)

RATE = 16_000


@pytest.fixture
def speech(tmp_path):
    return write_audio(tmp_path / "speech.wav", speech_like(3.0, RATE), RATE)


@pytest.fixture
def video(tmp_path):
    return write_video(
        tmp_path / "video.mp4", speech_like(2.0, RATE), RATE, seconds=2.0
    )


def png_picture(path):
    with av.open(str(path), "w", format="image2") as output:
        stream = output.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb24"
        picture = np.zeros((16, 16, 3), np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
    return path


def renamed(path, name):
    target = path.with_name(name)
    target.write_bytes(path.read_bytes())
    return target


@pytest.mark.parametrize(
    ("container", "codec", "suffix"),
    [
        ("wav", "pcm_s16le", ".wav"),
        ("flac", "flac", ".flac"),
        ("ogg", "libopus", ".ogg"),
        ("webm", "libopus", ".webm"),
        ("mp4", "aac", ".m4a"),
    ],
)
def test_a_sound_recording_is_audio_with_its_duration_and_digest(
    tmp_path, container, codec, suffix
):
    path = write_audio(
        tmp_path / f"sound{suffix}",
        tone(2.5, RATE),
        RATE,
        container=container,
        codec=codec,
    )
    probed = probe(path)
    assert probed.kind == "audio"
    assert probed.duration == pytest.approx(2.5, abs=0.05)
    assert probed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert probed.size == path.stat().st_size


def test_a_cover_picture_does_not_make_a_recording_video(tmp_path):
    path = write_mp3_with_cover(
        tmp_path / "song.mp3", tone(2.0, RATE), RATE, {"title": "Entretien"}
    )
    with av.open(str(path)) as container:
        assert len(container.streams.video) == 1  # the premise: a picture is there
    probed = probe(path)
    assert probed.kind == "audio"
    assert probed.duration == pytest.approx(2.0, abs=0.1)


def test_a_film_is_video(video):
    probed = probe(video)
    assert probed.kind == "video"
    assert probed.duration == pytest.approx(2.0, abs=0.05)


def test_the_kind_comes_from_the_content_never_from_the_name(speech, video):
    assert probe(renamed(speech, "film.mp4")).kind == "audio"
    assert probe(renamed(video, "song.mp3")).kind == "video"
    assert probe(renamed(speech, "notes.txt")).kind == "audio"


def test_an_upload_is_read_from_its_bytes_not_its_declared_type(speech):
    upload = SimpleUploadedFile("x.png", speech.read_bytes(), content_type="image/png")
    assert probe(upload).kind == "audio"
    assert upload.tell() == 0  # left where a storage will read it from


def test_a_file_object_is_probed_like_a_path(speech):
    assert probe(io.BytesIO(speech.read_bytes())) == probe(speech)


def refusal(file):
    with pytest.raises(MediaRefused) as refused:
        probe(file)
    return refused.value.code


def test_text_declared_as_audio_is_refused():
    upload = SimpleUploadedFile(
        "interview.mp3", b"Bonjour, je suis livreur.\n" * 500, content_type="audio/mpeg"
    )
    assert refusal(upload) == "not_media"


def test_a_picture_named_as_sound_is_refused(tmp_path):
    picture = renamed(png_picture(tmp_path / "photo.png"), "interview.wav")
    assert refusal(picture) in {"not_media", "no_audio"}


def test_an_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert refusal(empty) == "empty"


@pytest.mark.parametrize(
    ("container", "codec"),
    [
        ("wav", "pcm_s16le"),
        ("ogg", "libopus"),
        ("flac", "flac"),
        ("webm", "libopus"),
        ("mp4", "aac"),
    ],
)
def test_a_truncated_file_is_refused(tmp_path, container, codec):
    whole = write_audio(
        tmp_path / "whole",
        speech_like(4.0, RATE),
        RATE,
        container=container,
        codec=codec,
    )
    cut = tmp_path / "cut"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    assert probe(whole).kind == "audio"
    assert refusal(cut) in {"truncated", "damaged", "not_media"}


def test_a_truncated_video_is_refused(tmp_path, video):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.7)])
    assert refusal(cut) in {"truncated", "damaged", "not_media"}


def test_a_header_followed_by_garbage_is_refused(tmp_path, speech):
    # A valid header with noise after it: only decoding shows what it is.
    data = bytearray(speech.read_bytes())
    ogg = write_audio(
        tmp_path / "s.ogg",
        speech_like(3.0, RATE),
        RATE,
        container="ogg",
        codec="libopus",
    ).read_bytes()
    rng = np.random.default_rng(0)
    garbled = ogg[:200] + rng.integers(0, 256, len(ogg) - 200, np.uint8).tobytes()
    (tmp_path / "garbled.ogg").write_bytes(garbled)
    assert len(data) > 0
    assert refusal(tmp_path / "garbled.ogg") in {
        "truncated",
        "damaged",
        "no_sound",
        "not_media",
    }


def test_a_file_over_the_size_limit_is_refused(speech):
    size = speech.stat().st_size
    with override_settings(ARCHIVE_MEDIA_MAX_BYTES=size - 1):
        assert refusal(speech) == "too_large"
    with override_settings(ARCHIVE_MEDIA_MAX_BYTES=size):
        assert probe(speech).kind == "audio"


def test_a_stream_that_lies_about_its_size_is_held_to_the_limit(speech):
    class Growing(io.BytesIO):
        """Reports a small size, then gives every byte."""

        def seek(self, offset, whence=io.SEEK_SET):
            if whence == io.SEEK_END:
                return super().seek(0)
            return super().seek(offset, whence)

    data = speech.read_bytes()
    with override_settings(ARCHIVE_MEDIA_MAX_BYTES=len(data) // 2):
        assert refusal(Growing(data)) == "too_large"


def test_a_refusal_says_what_is_wrong_in_both_languages():
    from django.utils import translation

    upload = SimpleUploadedFile("a.mp3", b"plain text " * 100)
    with pytest.raises(MediaRefused) as refused:
        probe(upload)
    with translation.override("en"):
        english = refused.value.messages[0]
    with translation.override("fr"):
        french = refused.value.messages[0]
    assert english != french
