"""The demo's recordings: synthetic speech of its transcripts, committed as small
Opus files, loaded with the demo and heard through public renditions."""

import copy
import fnmatch
import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings
from django.core.management import call_command

from benchmarks.management.commands import demo_speech
from testimonies.management.commands.seed_demo import DEMO_BUNDLE
from testimonies.media import storage
from testimonies.media.plan import ready_rendition, rendition_plan
from testimonies.models import Narrator, Testimony

from .signals import decode_audio

pytestmark = pytest.mark.django_db

RATE = 24_000
MEDIA_FOLDER = DEMO_BUNDLE.parent / "media"
SYNTHETIC = {"fr": "Voix de synthèse", "en": "Synthetic voice"}


def bundle() -> dict:
    return json.loads(DEMO_BUNDLE.read_text("utf-8"))


def voiced() -> list[dict]:
    return [item for item in bundle()["testimonies"] if item.get("media")]


def peak_dbfs(samples) -> float:
    return 20 * np.log10(np.max(np.abs(samples)) + 1e-12)


def inside(samples, start: float, end: float):
    return samples[int(np.floor(start * RATE)) : int(np.ceil(end * RATE))]


@pytest.fixture
def demo_data():
    call_command("seed_demo", "--no-renditions", verbosity=0)


def test_the_demo_has_recordings_for_both_languages_and_an_anonymous_narrator():
    items = voiced()
    narrators = {n["key"]: n for n in bundle()["narrators"]}
    assert {item["language"] for item in items} == {"fr", "en"}
    assert "anonymous" in {narrators[item["narrator"]]["identity"] for item in items}
    assert any(item["redactions"] for item in items)
    for item in items:
        assert item["media"] == {"path": f"media/{item['slug']}.opus", "kind": "audio"}
        # The demo has no video: none of an anonymous narrator can be released.
        assert item["consent"][-1]["media"] == "audio"


def test_the_demo_loads_each_recording_probed_with_its_sha256(demo_data):
    with_media = {item["slug"]: item for item in voiced()}
    for testimony in Testimony.objects.all():
        if testimony.slug not in with_media:
            assert not testimony.media
            continue
        source = DEMO_BUNDLE.parent / with_media[testimony.slug]["media"]["path"]
        payload = source.read_bytes()
        assert testimony.media_kind == Testimony.MediaKind.AUDIO
        assert testimony.media_sha256 == hashlib.sha256(payload).hexdigest()
        assert testimony.media_size == len(payload)
        heard = decode_audio(source, RATE)
        assert testimony.media_duration == pytest.approx(len(heard) / RATE, abs=0.05)
        # The stored name is the server's, and says nothing of the testimony.
        assert testimony.slug not in testimony.media.name
        with storage.originals().open(testimony.media.name) as stored:
            assert stored.read() == payload


def test_segment_times_are_ordered_within_the_recording_where_its_words_are_heard():
    for item in voiced():
        heard = decode_audio(DEMO_BUNDLE.parent / item["media"]["path"], RATE)
        duration = len(heard) / RATE
        segments = item["segments"]
        for before, after in zip(segments, segments[1:], strict=False):
            assert before["end"] < after["start"], item["slug"]
            # Between two segments nothing is said.
            gap = inside(heard, before["end"] + 0.05, after["start"] - 0.05)
            assert peak_dbfs(gap) < -60, (item["slug"], before["end"])
        for segment in segments:
            assert 0 <= segment["start"] < segment["end"] <= duration
            # Each segment's range is where its words are.
            words = inside(heard, segment["start"], segment["end"])
            assert peak_dbfs(words) > -20, (item["slug"], segment["start"])
            # They begin and end at its edges (within 50 ms).
            assert peak_dbfs(words[: int(0.05 * RATE)]) > -40
            assert peak_dbfs(words[-int(0.05 * RATE) :]) > -40


def test_each_redaction_silences_the_range_of_its_words_within_its_segment():
    for item in voiced():
        for redaction in item["redactions"]:
            segment = item["segments"][redaction["segment"]]
            start, end = redaction["media_start"], redaction["media_end"]
            assert segment["start"] - 0.1 <= start < end <= segment["end"] + 0.1
            # Narrower than the segment: the words around the name stay heard.
            assert end - start < segment["end"] - segment["start"]


def test_the_demo_recordings_are_small_mono_opus_files_that_packaging_includes():
    files = sorted(MEDIA_FOLDER.iterdir())
    assert [f.name for f in files] == sorted(
        Path(item["media"]["path"]).name for item in voiced()
    )
    assert sum(f.stat().st_size for f in files) < 1_200_000
    for path in files:
        with av.open(str(path)) as container:
            assert container.format.name == "ogg"
            (stream,) = container.streams
            assert stream.codec_context.name == "opus"
            assert stream.codec_context.layout.nb_channels == 1
            seconds = float(container.duration) / av.time_base
        # A speech bit rate: at most 24 kb/s over the file.
        assert path.stat().st_size * 8 / seconds < 24_000
    project = tomllib.loads((settings.BASE_DIR / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["testimonies"]
    for path in files:
        name = str(path.relative_to(settings.BASE_DIR / "testimonies"))
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_the_voiced_testimonies_say_to_the_public_that_the_voice_is_synthetic(
    demo_data,
):
    with_media = {item["slug"] for item in voiced()}
    for testimony in Testimony.objects.all():
        said = SYNTHETIC[testimony.language] in testimony.summary
        assert said == (testimony.slug in with_media), testimony.slug


def test_seed_demo_makes_every_rendition_before_returning_with_redactions_silent(
    client,
):
    call_command("seed_demo", verbosity=0)

    heard_any = False
    for item in voiced():
        testimony = Testimony.objects.get(slug=item["slug"])
        rendition = ready_rendition(testimony)
        assert rendition is not None, item["slug"]
        # An anonymous narrator is heard disguised, and only then.
        anonymous = testimony.narrator.identity == Narrator.Identity.ANONYMOUS
        assert (rendition_plan(testimony).disguise is not None) == anonymous
        with storage.local_copy(storage.renditions(), rendition.name) as path:
            heard = decode_audio(path, RATE)
        for redaction in item["redactions"]:
            silenced = inside(heard, redaction["media_start"], redaction["media_end"])
            assert peak_dbfs(silenced) < -60, (item["slug"], redaction)
        for segment in item["segments"][:1]:
            # The first question has no redaction: it is heard.
            assert peak_dbfs(inside(heard, segment["start"], segment["end"])) > -30
        heard_any = heard_any or bool(item["redactions"])
    assert heard_any
    # A new visitor's first request is answered with the sound, not "being
    # prepared".
    response = client.get("/testimonies/livrer-sous-la-pluie/media")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"OggS"


def test_pieces_of_a_segment_are_cut_at_every_edge_of_its_redactions():
    text = "Je m'appelle Nordine, à Bordeaux."
    redactions = [
        {"start": 13, "end": 20},
        {"start": 13, "end": 32},  # overlapping, as curators may leave them
    ]
    pieces = demo_speech.pieces_of(text, redactions)
    assert [text[p.first : p.last] for p in pieces] == [
        "Je m'appelle ",
        "Nordine",
        ", à Bordeaux",
        ".",
    ]


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng makes the demo's speech"
)
def test_demo_speech_rewrites_times_to_the_speech_and_says_the_same_twice(tmp_path):
    document = bundle()
    item = copy.deepcopy(
        next(t for t in document["testimonies"] if t["slug"] == "livrer-sous-la-pluie")
    )
    item["segments"] = item["segments"][:3]
    item["redactions"] = [r for r in item["redactions"] if r["segment"] < 3]
    item["segments"][0]["start"], item["segments"][0]["end"] = 40.0, 50.0
    document["testimonies"] = [item]
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(document, ensure_ascii=False), "utf-8")

    call_command("demo_speech", "livrer-sous-la-pluie", "--bundle", str(source))
    first = (tmp_path / "media" / "livrer-sous-la-pluie.opus").read_bytes()
    written = json.loads(source.read_text("utf-8"))["testimonies"][0]
    call_command("demo_speech", "--bundle", str(source))

    assert (tmp_path / "media" / "livrer-sous-la-pluie.opus").read_bytes() == first
    again = json.loads(source.read_text("utf-8"))["testimonies"][0]
    assert again == written
    assert written["summary"].count(SYNTHETIC["fr"]) == 1
    assert written["segments"][0]["start"] == demo_speech.LEAD
    heard = decode_audio(tmp_path / "media" / "livrer-sous-la-pluie.opus", RATE)
    assert written["segments"][-1]["end"] <= len(heard) / RATE
    (name,) = written["redactions"]
    assert written["segments"][1]["start"] < name["media_start"]
    assert name["media_end"] < written["segments"][1]["end"]
