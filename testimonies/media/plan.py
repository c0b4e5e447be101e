"""What the public rendition of a testimony is made from, now.

One answer for the jobs that make renditions and the view that serves them:
the ranges every redaction silences, the disguise of an anonymous narrator's
voice, whether the sound alone is released, and the digest of all of it
(``render.rendition_state``). The variant follows the media rule
(``querysets.media_offer``): nothing offered, nothing to make.
"""

from dataclasses import dataclass

from django.conf import settings

from ..models import ConsentRecord, Narrator, Redaction, Rendition, Testimony
from .render import rendition_state


@dataclass(frozen=True)
class RenditionPlan:
    """The exact state a servable rendition of a testimony is made from."""

    testimony_id: int
    original: str  # the name in the originals storage
    original_sha256: str
    silences: tuple[tuple[float, float], ...]
    disguise: float | None
    audio_only: bool
    state: str


def rendition_plan(testimony: Testimony | int) -> RenditionPlan | None:
    """The public rendition ``testimony`` needs now, or None when its media rule
    offers nothing (or its original has not been taken in)."""
    pk = testimony if isinstance(testimony, int) else testimony.pk
    current = (
        Testimony.objects.filter(pk=pk)
        .with_media_offer()
        .select_related("narrator")
        .first()
    )
    if current is None or not current.media or not current.media_sha256:
        return None
    offer = current.media_offer
    if offer == ConsentRecord.MediaRelease.NONE:
        return None
    audio_only = (
        offer == ConsentRecord.MediaRelease.AUDIO
        and current.media_kind == Testimony.MediaKind.VIDEO
    )
    disguise = None
    if current.narrator.identity == Narrator.Identity.ANONYMOUS:
        disguise = float(settings.MEDIA_DISGUISE_COEFFICIENT)
    silences = tuple(
        sorted(
            redaction.media_range()
            for redaction in Redaction.objects.filter(
                segment__testimony_id=pk
            ).select_related("segment")
        )
    )
    return RenditionPlan(
        testimony_id=pk,
        original=current.media.name,
        original_sha256=current.media_sha256,
        silences=silences,
        disguise=disguise,
        audio_only=audio_only,
        state=rendition_state(
            original_sha256=current.media_sha256,
            silences=silences,
            disguise=disguise,
            audio_only=audio_only,
        ),
    )


def ready_rendition(testimony: Testimony | int) -> Rendition | None:
    """The ready rendition of the testimony's current state: the only one that
    any public channel may hand out. None while it is being made, or when
    nothing is offered."""
    plan = rendition_plan(testimony)
    if plan is None:
        return None
    return Rendition.objects.filter(
        testimony_id=plan.testimony_id,
        state=plan.state,
        status=Rendition.Status.READY,
    ).first()
