"""Testimonies with real originals, taken in as the door takes them, for the
tests of renditions, their jobs and the media view."""

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
from django.core.files.base import ContentFile

from testimonies.media import storage
from testimonies.media.plan import rendition_plan
from testimonies.models import ConsentRecord, Narrator, Rendition, Testimony

from ..factories import NarratorFactory, TestimonyFactory
from .signals import speech_like, tone, write_audio, write_video

RATE = 24_000
SECONDS = 6.0


def voice(seconds: float = SECONDS, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Speech-like sound over a low tone, so that no stretch of it is silent."""
    return 0.8 * speech_like(seconds, rate, seed) + tone(seconds, rate, 180.0, 0.1)


def attach_original(testimony: Testimony, samples, *, kind: str = "audio"):
    """Take in a generated recording as the testimony's original."""
    with tempfile.TemporaryDirectory() as folder:
        if kind == "video":
            path = write_video(
                Path(folder) / "original.mp4", samples, RATE, seconds=SECONDS
            )
        else:
            path = write_audio(Path(folder) / "original.wav", samples, RATE)
        ingested = storage.ingest(path)
    Testimony.objects.filter(pk=testimony.pk).update(
        media=ingested.name,
        media_kind=ingested.probed.kind,
        media_duration=ingested.probed.duration,
        media_sha256=ingested.probed.sha256,
        media_size=ingested.probed.size,
    )
    testimony.refresh_from_db()
    return testimony


def heard_testimony(
    *,
    identity: str = Narrator.Identity.PSEUDONYM,
    kind: str = "audio",
    release: str = ConsentRecord.MediaRelease.AUDIO_VIDEO,
    scope: str = ConsentRecord.Scope.PUBLIC,
    samples=None,
    **fields,
) -> Testimony:
    """A published testimony with a real original and consent of ``scope``."""
    testimony = TestimonyFactory(
        published=True, narrator=NarratorFactory(identity=identity), **fields
    )
    ConsentRecord.objects.create(
        testimony=testimony, scope=scope, media=release, given_on=dt.date(2023, 1, 1)
    )
    return attach_original(
        testimony, voice() if samples is None else samples, kind=kind
    )


def stand_in_original(testimony: Testimony, kind: str = "audio") -> Testimony:
    """Fields of an original without its file: enough for the plan, when the
    test stores the rendition itself."""
    Testimony.objects.filter(pk=testimony.pk).update(
        media=f"{testimony.slug}.{'mp4' if kind == 'video' else 'wav'}",
        media_kind=kind,
        media_duration=SECONDS,
        media_sha256=f"{testimony.pk:064x}",
    )
    testimony.refresh_from_db()
    return testimony


def stored_rendition(testimony: Testimony, payload: bytes, *, state=None) -> Rendition:
    """A ready rendition of the testimony's current state (or of ``state``),
    its file holding ``payload``."""
    plan = rendition_plan(testimony)
    audio_only = plan.audio_only if plan else False
    video = testimony.media_kind == "video" and not audio_only
    name = storage.renditions().save(
        storage.server_name(".mp4" if video else ".ogg"), ContentFile(payload)
    )
    return Rendition.objects.create(
        testimony=testimony,
        state=state or plan.state,
        audio_only=audio_only,
        status=Rendition.Status.READY,
        name=name,
        kind="video" if video else "audio",
        content_type="video/mp4" if video else "audio/ogg; codecs=opus",
        duration=SECONDS,
    )
