"""The background jobs that make public renditions, off the request.

After any change that alters what a testimony's rendition is made from, the
services call ``renditions_follow`` once their transaction has committed: a
``Rendition`` row for the new state (pending) is ensured and its job enqueued
(django-tasks, database backend: ``python manage.py db_worker`` runs it, or
``process_media`` at once). The job makes the file with ``make_rendition``,
which stores it whole, and only then marks the row ready. A failure is logged,
recorded on the row (attempts, error) and tried again later, a bounded number
of times; a rendition that cannot be made from what it was given (a silenced
range beyond the end of the recording, an original that cannot be decoded)
fails at once, since trying again would change nothing. Once the new rendition
is ready, those of states that no longer hold are deleted, files and rows; none
is ever served, since the media view serves only the ready rendition of the
current state.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from ..models import Rendition, Testimony
from .plan import RenditionPlan, rendition_plan
from .render import RenditionFailed
from .storage import make_rendition, renditions

logger = logging.getLogger(__name__)

# The wait before a failed rendition is tried again, per attempt made.
RETRY_DELAY = dt.timedelta(seconds=30)


@task()
def make_rendition_job(rendition_id: int) -> str:
    """Make one pending rendition (the worker's entry point)."""
    return rendition_make(rendition_id=rendition_id)


def renditions_follow_on_commit(testimony_id: int) -> None:
    """Once the current transaction commits, ensure the rendition of
    ``testimony_id``'s new state (see ``renditions_follow``)."""
    transaction.on_commit(lambda: renditions_follow(testimony_id=testimony_id))


def renditions_follow(*, testimony_id: int, enqueue: bool = True) -> Rendition | None:
    """Ensure a rendition row for the testimony's current state, and enqueue
    its job if it is new; None when nothing is offered to be made."""
    plan = rendition_plan(testimony_id)
    if plan is None:
        return None
    try:
        rendition, created = Rendition.objects.get_or_create(
            testimony_id=testimony_id,
            state=plan.state,
            defaults={"audio_only": plan.audio_only},
        )
    except IntegrityError:
        # The testimony was deleted meanwhile: nothing to make.
        if not Testimony.objects.filter(pk=testimony_id).exists():
            return None
        raise
    if created and enqueue:
        _enqueue(rendition.pk)
    return rendition


def _enqueue(rendition_id: int, *, after: dt.datetime | None = None) -> None:
    job = (
        make_rendition_job
        if after is None
        else make_rendition_job.using(run_after=after)
    )
    try:
        job.enqueue(rendition_id)
    except Exception:
        # The row stays pending: process_media, or the next change, makes it.
        logger.exception("The job of rendition %s could not be enqueued", rendition_id)


def rendition_make(*, rendition_id: int) -> str:
    """Make a pending rendition whose state still holds; returns what became of
    it: ``ready``, ``pending`` (to be tried again), ``failed``, ``stale`` (its
    state no longer holds: deleted) or ``skipped`` (not pending, or gone)."""
    rendition = Rendition.objects.filter(
        pk=rendition_id, status=Rendition.Status.PENDING
    ).first()
    if rendition is None:
        return "skipped"
    plan = rendition_plan(rendition.testimony_id)
    if plan is None or plan.state != rendition.state:
        rendition.delete()
        return "stale"
    try:
        stored = make_rendition(
            plan.original,
            original_sha256=plan.original_sha256,
            silences=plan.silences,
            disguise=plan.disguise,
            audio_only=plan.audio_only,
        )
    except Exception as error:
        return _record_failure(rendition, error)
    if stored.state != rendition.state:
        renditions().delete(stored.name)
        raise RuntimeError(
            f"rendition {rendition_id} was made from another state than its own"
        )
    return _record_ready(rendition, stored, plan)


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(error.messages)
    return f"{type(error).__name__}: {error}"


def _record_failure(rendition: Rendition, error: Exception) -> str:
    logger.error(
        "The rendition %s of testimony %s failed (attempt %s)",
        rendition.pk,
        rendition.testimony_id,
        rendition.attempts + 1,
        exc_info=error,
    )
    with transaction.atomic():
        row = (
            Rendition.objects.select_for_update()
            .filter(pk=rendition.pk, status=Rendition.Status.PENDING)
            .first()
        )
        if row is None:
            return "skipped"
        row.attempts += 1
        row.error = _describe(error)[:2000]
        hopeless = isinstance(error, RenditionFailed)
        if hopeless or row.attempts >= settings.MEDIA_RENDITION_ATTEMPTS:
            row.status = Rendition.Status.FAILED
            row.finished_at = timezone.now()
        row.save(update_fields=["attempts", "error", "status", "finished_at"])
    if row.status == Rendition.Status.FAILED:
        return "failed"
    _enqueue(row.pk, after=timezone.now() + RETRY_DELAY * row.attempts)
    return "pending"


def _record_ready(rendition: Rendition, stored, plan: RenditionPlan) -> str:
    with transaction.atomic():
        row = (
            Rendition.objects.select_for_update()
            .filter(pk=rendition.pk, status=Rendition.Status.PENDING)
            .first()
        )
        if row is None:
            # Made twice, or deleted meanwhile: this copy is not needed.
            transaction.on_commit(lambda: renditions().delete(stored.name))
            return "skipped"
        row.name = stored.name
        row.kind = stored.kind
        row.content_type = stored.content_type
        row.duration = stored.duration
        row.attempts += 1
        row.error = ""
        row.status = Rendition.Status.READY
        row.finished_at = timezone.now()
        row.save()
    _forget_stale(plan.testimony_id)
    return "ready"


def _forget_stale(testimony_id: int) -> None:
    """Delete the renditions of states that no longer hold, files and rows."""
    plan = rendition_plan(testimony_id)
    current = plan.state if plan else None
    stale = Rendition.objects.filter(testimony_id=testimony_id).exclude(state=current)
    for old in stale:
        old.delete()
        if old.name:
            try:
                renditions().delete(old.name)
            except Exception:
                logger.exception("The stale rendition file %s stayed", old.name)


def pending_renditions():
    """The renditions waiting to be made, oldest first."""
    return Rendition.objects.filter(status=Rendition.Status.PENDING).order_by("pk")


def renditions_forget_on_commit(doomed) -> None:
    """Once the current transaction commits, delete the files of ``doomed``
    renditions (whose rows go with their testimony)."""
    names = [rendition.name for rendition in doomed if rendition.name]

    def forget():
        for name in names:
            try:
                renditions().delete(name)
            except Exception:
                logger.exception("The rendition file %s stayed", name)

    transaction.on_commit(forget)
