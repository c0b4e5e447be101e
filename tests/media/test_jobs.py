"""Renditions made in the background, for the exact state they belong to: every
change announces a new one, the old one is never served again, a failure is
recorded and tried again, and process_media makes whatever is pending."""

import datetime as dt
import io
import logging
import signal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from testimonies import services
from testimonies.media import jobs, storage
from testimonies.media.plan import rendition_plan
from testimonies.models import Redaction, Rendition

from .archive import heard_testimony
from .signals import recording_bytes

pytestmark = pytest.mark.django_db


def with_segments(testimony):
    for start in (0.0, 3.0):
        services.segment_create(
            testimony=testimony,
            start=start,
            end=start + 3,
            speaker="narrator",
            text="Le chef Bartholoméo surveillait la plateforme.",
        )
    return testimony


def queued_renditions() -> list[int]:
    return [
        result.args_kwargs["args"][0]
        for result in DBTaskResult.objects.filter(
            task_path="testimonies.media.jobs.make_rendition_job"
        )
    ]


def stored_names() -> set[str]:
    renditions = storage.renditions()
    return set(renditions.listdir("")[1]) if renditions.exists("") else set()


def test_a_redaction_announces_a_rendition_of_the_new_state_once_committed(
    django_capture_on_commit_callbacks,
):
    testimony = with_segments(heard_testimony())
    segment = testimony.segments.get(position=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.segment_redact(segment=segment, start=8, end=19, reason="person")
    # Nothing before the change has committed.
    assert not Rendition.objects.exists()
    for callback in callbacks:
        callback()
    rendition = Rendition.objects.get()
    assert rendition.status == Rendition.Status.PENDING
    assert rendition.state == rendition_plan(testimony).state
    assert queued_renditions() == [rendition.pk]


@pytest.mark.parametrize(
    "change",
    [
        "redact",
        "remove",
        "consent",
        "identity",
        "media",
    ],
)
def test_every_change_of_state_gets_its_own_rendition(
    change, django_capture_on_commit_callbacks
):
    testimony = with_segments(heard_testimony(kind="video"))
    segment = testimony.segments.get(position=0)
    redaction = services.segment_redact(
        segment=segment, start=8, end=19, reason="person"
    )
    before = jobs.renditions_follow(testimony_id=testimony.pk)
    with django_capture_on_commit_callbacks(execute=True):
        if change == "redact":
            services.segment_redact(segment=segment, start=0, end=2, reason="other")
        elif change == "remove":
            services.redaction_remove(redaction=redaction)
        elif change == "consent":
            services.consent_record(
                testimony=testimony,
                scope="public",
                media="audio",
                given_on=dt.date(2024, 1, 1),
            )
        elif change == "identity":
            services.narrator_update(
                narrator=testimony.narrator, changes={"identity": "anonymous"}
            )
        else:
            services.testimony_media_attach(
                testimony=testimony,
                file=io.BytesIO(recording_bytes("video", seed=1)),
            )
            testimony.refresh_from_db()
    after = Rendition.objects.exclude(pk=before.pk).get()
    assert after.state == rendition_plan(testimony).state != before.state
    assert after.pk in queued_renditions()


def test_a_change_that_alters_nothing_heard_makes_nothing_new(
    django_capture_on_commit_callbacks,
):
    testimony = heard_testimony()
    jobs.renditions_follow(testimony_id=testimony.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.testimony_update(testimony=testimony, changes={"title": "Autre"})
    assert Rendition.objects.count() == 1


def test_process_media_makes_each_pending_rendition_whole_then_ready():
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    rendition = Rendition.objects.get()
    assert rendition.status == Rendition.Status.READY
    assert rendition.state == rendition_plan(testimony).state
    assert rendition.kind == "audio"
    assert rendition.content_type.startswith("audio/ogg")
    assert rendition.attempts == 1
    assert rendition.finished_at is not None
    with storage.renditions().open(rendition.name, "rb") as made:
        assert made.read(4) == b"OggS"


def test_the_worker_makes_the_rendition_a_change_enqueued(
    django_capture_on_commit_callbacks, monkeypatch
):
    # The worker closes stale connections between jobs; here the connection
    # holds the test's own transaction, which must stay open.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    testimony = with_segments(heard_testimony())
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_redact(
            segment=testimony.segments.get(position=0),
            start=8,
            end=19,
            reason="person",
        )
    # The worker takes over the process's signals to stop cleanly; in the
    # tests' process they are given back once it is done.
    taken = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    handlers = {number: signal.getsignal(number) for number in taken}
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0
        )
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    rendition = Rendition.objects.get()
    assert rendition.status == Rendition.Status.READY
    assert rendition.state == rendition_plan(testimony).state


def test_once_the_new_rendition_is_ready_the_stale_one_is_gone(
    django_capture_on_commit_callbacks,
):
    testimony = with_segments(heard_testimony())
    call_command("process_media", verbosity=0)
    old = Rendition.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_redact(
            segment=testimony.segments.get(position=1),
            start=8,
            end=19,
            reason="person",
        )
    # Until the new one is made, the old one stays stored but never served.
    assert old.name in stored_names()
    call_command("process_media", verbosity=0)
    new = Rendition.objects.get()
    assert new.pk != old.pk
    assert new.status == Rendition.Status.READY
    assert stored_names() == {new.name}


def test_a_pending_rendition_whose_state_no_longer_holds_is_dropped_unmade():
    testimony = with_segments(heard_testimony())
    stale = jobs.renditions_follow(testimony_id=testimony.pk, enqueue=False)
    services.segment_redact(
        segment=testimony.segments.get(position=1),
        start=8,
        end=19,
        reason="person",
    )
    assert jobs.rendition_make(rendition_id=stale.pk) == "stale"
    assert not Rendition.objects.filter(pk=stale.pk).exists()
    assert stored_names() == set()


@override_settings(MEDIA_RENDITION_ATTEMPTS=3)
def test_a_failing_job_is_logged_recorded_retried_and_nothing_is_stored(
    monkeypatch, caplog
):
    testimony = heard_testimony()
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise OSError("the disk is full")

    monkeypatch.setattr(jobs, "make_rendition", broken)
    with (
        caplog.at_level(logging.ERROR, logger="testimonies.media.jobs"),
        pytest.raises(CommandError, match="failed"),
    ):
        call_command("process_media", verbosity=0)
    rendition = Rendition.objects.get(testimony=testimony)
    assert len(calls) == 3
    assert rendition.status == Rendition.Status.FAILED
    assert rendition.attempts == 3
    assert rendition.error == "OSError: the disk is full"
    assert rendition.name == ""
    assert stored_names() == set()
    assert len([r for r in caplog.records if "failed" in r.getMessage()]) == 3


def test_a_failed_attempt_is_tried_again_later_by_the_worker(monkeypatch):
    testimony = heard_testimony()
    rendition = jobs.renditions_follow(testimony_id=testimony.pk, enqueue=False)
    made = jobs.make_rendition
    failures = iter([RuntimeError("storage timed out")])

    def flaky(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return made(*args, **kwargs)

    monkeypatch.setattr(jobs, "make_rendition", flaky)
    assert jobs.rendition_make(rendition_id=rendition.pk) == "pending"
    rendition.refresh_from_db()
    assert (rendition.status, rendition.attempts) == ("pending", 1)
    assert rendition.error == "RuntimeError: storage timed out"
    (retry,) = DBTaskResult.objects.all()
    assert retry.args_kwargs["args"] == [rendition.pk]
    assert retry.run_after > timezone.now()
    assert jobs.rendition_make(rendition_id=rendition.pk) == "ready"
    rendition.refresh_from_db()
    assert (rendition.status, rendition.attempts, rendition.error) == (
        "ready",
        2,
        "",
    )


def test_a_ready_or_failed_rendition_is_not_made_again():
    testimony = heard_testimony()
    rendition = jobs.renditions_follow(testimony_id=testimony.pk, enqueue=False)
    Rendition.objects.filter(pk=rendition.pk).update(status=Rendition.Status.FAILED)
    assert jobs.rendition_make(rendition_id=rendition.pk) == "skipped"
    assert stored_names() == set()


def test_deleting_a_testimony_deletes_its_rendition_files(
    django_capture_on_commit_callbacks,
):
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    assert stored_names()
    with django_capture_on_commit_callbacks(execute=True):
        services.testimony_delete(testimony=testimony)
    assert stored_names() == set()


def test_a_range_beyond_the_recording_fails_at_once_with_its_reason(english):
    testimony = with_segments(heard_testimony())
    redaction = services.segment_redact(
        segment=testimony.segments.get(position=1), start=8, end=19, reason="person"
    )
    Redaction.objects.filter(pk=redaction.pk).update(media_start=60, media_end=61)
    with pytest.raises(CommandError):
        call_command("process_media", verbosity=0)
    rendition = Rendition.objects.get()
    # Trying again would change nothing: one attempt, and the reason kept.
    assert (rendition.status, rendition.attempts) == ("failed", 1)
    assert "starts at 60.0 s, after the end of the media" in rendition.error
    assert not DBTaskResult.objects.exists()
    assert stored_names() == set()


def test_a_failed_rendition_is_made_again_when_asked_once_its_cause_is_gone(
    monkeypatch,
):
    testimony = heard_testimony()
    made = jobs.make_rendition
    monkeypatch.setattr(jobs, "make_rendition", lambda *a, **k: 1 / 0)
    with pytest.raises(CommandError):
        call_command("process_media", verbosity=0)
    # Without being asked, a failed rendition stays failed.
    monkeypatch.setattr(jobs, "make_rendition", made)
    call_command("process_media", verbosity=0)
    assert Rendition.objects.get().status == Rendition.Status.FAILED
    call_command("process_media", "--retry-failed", verbosity=0)
    rendition = Rendition.objects.get(testimony=testimony)
    assert (rendition.status, rendition.attempts, rendition.error) == (
        "ready",
        1,
        "",
    )
