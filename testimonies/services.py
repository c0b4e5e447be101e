"""Every change of state of the archive, each in one transaction.

Admin actions, views, importers and commands call these; none of them changes
testimonies, consent, segments or redactions another way.
"""

import math
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import gate, search
from .errors import ServiceError
from .gate import HitKind, PublicationRefused
from .media import storage as media_storage
from .media.commits import discard_unless_committed
from .media.jobs import renditions_follow_on_commit, renditions_forget_on_commit
from .models import (
    Appearance,
    ConsentRecord,
    Episode,
    IdentityAccess,
    JobType,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
    generate_reference_code,
    hash_reference_code,
)
from .querysets import IDENTITY_PERMISSION
from .redaction import Span, default_label, public_text
from .transcript import Piece, timed_pieces

__all__ = ["PublicationRefused", "ServiceError"]


# --- Public text -------------------------------------------------------------


def _spans_of(redactions: Iterable[Redaction]) -> list[Span]:
    return [
        Span(r.start, r.end, r.label) for r in sorted(redactions, key=lambda r: r.pk)
    ]


def _check_bounds(text: str, start: int, end: int) -> None:
    if not 0 <= start < end:
        raise ServiceError(
            _("a redaction needs 0 <= start < end (got %(start)s, %(end)s)")
            % {"start": start, "end": end}
        )
    if end > len(text):
        raise ServiceError(
            _("redaction end beyond the segment's text (%(end)s > %(length)s)")
            % {"end": end, "length": len(text)}
        )


def _refresh_public_text(segment: Segment) -> None:
    """Recompute a segment's public text, and its search entry with it."""
    segment.public_text = public_text(segment.text, _spans_of(segment.redactions.all()))
    segment.save(update_fields=["public_text"])
    search.index_segments([segment.pk])


def _lock_testimony(testimony_id: int) -> Testimony:
    # Taken before any segment: publishing locks the testimony too, so an edit
    # and a publication cannot interleave between the gate's scan and commit.
    return Testimony.objects.select_for_update().get(pk=testimony_id)


def _hold_the_gate(testimony: Testimony) -> None:
    """A published testimony's fields are public at once: the gate holds for edits."""
    if testimony.status == Testimony.Status.PUBLISHED:
        gate.check(testimony)


def _renditions_follow(testimony_ids: Iterable[int]) -> None:
    """What the public hears changes with what a rendition is made from (the
    silenced ranges, the release, the disguise, the original): once this
    transaction commits, the rendition of each testimony's new state is
    ensured and made in the background. Until it is ready, none is served."""
    for testimony_id in set(testimony_ids):
        renditions_follow_on_commit(testimony_id)


def _check_times(start: float, end: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
        raise ServiceError(
            _("times need 0 <= start <= end, in seconds (got %(start)s, %(end)s)")
            % {"start": start, "end": end}
        )


@transaction.atomic
def segment_create(
    *,
    testimony: Testimony,
    start: float,
    end: float,
    speaker: str,
    text: str,
) -> Segment:
    """Append a segment to a testimony's transcript."""
    _check_times(start, end)
    testimony = _lock_testimony(testimony.pk)
    last = testimony.segments.order_by("-position").first()
    if last is not None and start < last.start:
        raise ServiceError(
            _(
                "segments are kept in order of start: %(start)s comes before "
                "%(previous)s"
            )
            % {"start": start, "previous": last.start}
        )
    segment = Segment.objects.create(
        testimony=testimony,
        position=0 if last is None else last.position + 1,
        start=start,
        end=end,
        speaker=speaker,
        text=text,
        public_text=text,
    )
    search.index_segments([segment.pk])
    _hold_the_gate(testimony)
    return segment


@transaction.atomic
def segment_edit(*, segment: Segment, text: str) -> Segment:
    """Change a segment's original text; its redactions must still fit in it."""
    testimony = _lock_testimony(segment.testimony_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    for redaction in segment.redactions.all():
        if redaction.end > len(text):
            raise ServiceError(
                _(
                    "segment %(position)s: redaction [%(start)s, %(end)s) would lie "
                    "beyond the new text (%(end)s > %(length)s); remove or move it "
                    "first"
                )
                % {
                    "position": segment.position,
                    "start": redaction.start,
                    "end": redaction.end,
                    "length": len(text),
                }
            )
    segment.text = text
    segment.save(update_fields=["text"])
    _refresh_public_text(segment)
    _hold_the_gate(testimony)
    return segment


@transaction.atomic
def segment_redact(
    *,
    segment: Segment,
    start: int,
    end: int,
    reason: str,
    label: str = "",
    note: str = "",
    media_start: float | None = None,
    media_end: float | None = None,
    by=None,
) -> Redaction:
    """Hide [start, end) of a segment's text behind a label, and silence the
    recording from ``media_start`` to ``media_end`` (seconds; both unset, the
    segment's whole time range)."""
    testimony = _lock_testimony(segment.testimony_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    _check_bounds(segment.text, start, end)
    if reason not in Redaction.Reason.values:
        raise ServiceError(
            _("unknown redaction reason %(reason)s") % {"reason": repr(reason)}
        )
    check_media_range(testimony, media_start, media_end)
    redaction = Redaction.objects.create(
        segment=segment,
        start=start,
        end=end,
        reason=reason,
        label=label or default_label(reason, testimony.language),
        note=note,
        media_start=media_start,
        media_end=media_end,
        created_by=by,
    )
    _refresh_public_text(segment)
    # A label is public text too: it must not name what it hides.
    _hold_the_gate(testimony)
    _renditions_follow([testimony.pk])
    return redaction


class MediaRangeRefused(ServiceError):
    """A silenced range the archive refuses; ``field`` names the bad end."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_media_range(
    testimony: Testimony, media_start: float | None, media_end: float | None
) -> None:
    """Refuse a silenced range that is not ``0 <= media_start < media_end``,
    within the recording's duration where it is known; both ends or neither."""
    if media_start is None and media_end is None:
        return
    if media_start is None or media_end is None:
        given, missing = (
            ("media_end", "media_start")
            if media_start is None
            else ("media_start", "media_end")
        )
        raise MediaRangeRefused(
            missing,
            _(
                "%(missing)s is missing beside %(given)s: a silenced range gives "
                "both media_start and media_end, or neither (then its segment's "
                "whole range is silenced)"
            )
            % {"missing": missing, "given": given},
        )
    for name, value in (("media_start", media_start), ("media_end", media_end)):
        if not math.isfinite(value):
            raise MediaRangeRefused(
                name,
                _("%(field)s must be a finite number of seconds (got %(value)s)")
                % {"field": name, "value": value},
            )
    if media_start < 0:
        raise MediaRangeRefused(
            "media_start",
            _("media_start must be 0 seconds or more (got %(start)s)")
            % {"start": f"{media_start:g}"},
        )
    if media_end <= media_start:
        raise MediaRangeRefused(
            "media_end",
            _("media_end must come after media_start (%(end)s <= %(start)s)")
            % {"end": f"{media_end:g}", "start": f"{media_start:g}"},
        )
    duration = testimony.media_duration
    if duration is not None and media_end > duration:
        raise MediaRangeRefused(
            "media_end",
            _(
                "media_end lies beyond the end of the recording (%(end)s s > "
                "%(duration)s s)"
            )
            % {"end": f"{media_end:g}", "duration": f"{duration:g}"},
        )


@transaction.atomic
def redaction_set_media_range(
    *,
    redaction: Redaction,
    media_start: float | None,
    media_end: float | None,
) -> Redaction:
    """Place the time range a redaction silences; both None gives it back its
    segment's whole range. Its text and label are unchanged."""
    segment = Segment.objects.get(pk=redaction.segment_id)
    testimony = _lock_testimony(segment.testimony_id)
    check_media_range(testimony, media_start, media_end)
    redaction = Redaction.objects.select_for_update().get(pk=redaction.pk)
    redaction.media_start = media_start
    redaction.media_end = media_end
    redaction.save(update_fields=["media_start", "media_end"])
    return redaction


@transaction.atomic
def redaction_remove(*, redaction: Redaction) -> None:
    """Lift a redaction: its words become public text again."""
    segment = Segment.objects.get(pk=redaction.segment_id)
    testimony = _lock_testimony(segment.testimony_id)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    redaction.delete()
    _refresh_public_text(segment)
    _hold_the_gate(testimony)
    _renditions_follow([testimony.pk])


# --- Consent -----------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    testimony: Testimony,
    scope: str,
    media: str,
    given_on: date,
    note: str = "",
    form=None,
    by=None,
) -> ConsentRecord:
    """Add a consent record; it is in force from this moment. ``form``, a file
    (the signed form), is kept in the consent forms' storage under a name made
    by the server."""
    testimony = Testimony.objects.select_for_update().get(pk=testimony.pk)
    if scope not in ConsentRecord.Scope.values:
        raise ServiceError(
            _("unknown consent scope %(scope)s") % {"scope": repr(scope)}
        )
    if media not in ConsentRecord.MediaRelease.values:
        raise ServiceError(
            _("unknown media release %(media)s") % {"media": repr(media)}
        )
    latest = testimony.consent_in_force()
    if latest is not None and given_on < latest.given_on:
        raise ServiceError(
            _(
                "consent given on %(given_on)s cannot follow consent given on "
                "%(latest)s: the history never goes back in time"
            )
            % {"given_on": given_on, "latest": latest.given_on}
        )
    record = ConsentRecord.objects.create(
        testimony=testimony,
        scope=scope,
        media=media,
        given_on=given_on,
        note=note,
        recorded_by=by,
    )
    if testimony.status == Testimony.Status.PUBLISHED and gate.media_hits(
        testimony, testimony.narrator, media
    ):
        # Consent is never refused: the testimony leaves publication instead,
        # as after a change of narrator that would expose them.
        testimony.status = Testimony.Status.IN_REVIEW
        testimony.save(update_fields=["status", "updated_at"])
    # A withdrawal takes the testimony's words out of the index; consent
    # given again brings them back.
    search.sync_testimonies([testimony.pk])
    # The release decides whether the picture or the sound alone is heard.
    _renditions_follow([testimony.pk])
    if form:
        # Last: nothing after it can fail in here, and an outer rollback is
        # followed by stored_files_follow_the_transaction.
        record.form.save(form.name or "", form, save=True)
        discard_unless_committed(media_storage.consent_forms(), record.form.name)
    return record


@transaction.atomic
def consent_withdraw(
    *, testimony: Testimony, given_on: date | None = None, note: str = "", by=None
) -> ConsentRecord:
    """Record the narrator's withdrawal: nothing of the testimony is public any more."""
    # Locked before the latest record is read, so that a consent recorded
    # meanwhile cannot make the default date go back and refuse the withdrawal.
    testimony = _lock_testimony(testimony.pk)
    latest = testimony.consent_in_force()
    if given_on is None:
        given_on = _today_or_later(latest)
    return consent_record(
        testimony=testimony,
        scope=ConsentRecord.Scope.WITHDRAWN,
        media=ConsentRecord.MediaRelease.NONE,
        given_on=given_on,
        note=note,
        by=by,
    )


def _today_or_later(latest: ConsentRecord | None) -> date:
    today = timezone.localdate()
    return max(today, latest.given_on) if latest else today


def _consent_hold(testimony: Testimony, scope: str, *, note: str, by) -> None:
    """Record ``scope`` (withdrawn or archive) unless consent is already that closed."""
    testimony = _lock_testimony(testimony.pk)
    latest = testimony.consent_in_force()
    closed = {ConsentRecord.Scope.WITHDRAWN, scope}
    if latest is not None and latest.scope in closed:
        return
    consent_record(
        testimony=testimony,
        scope=scope,
        media=ConsentRecord.MediaRelease.NONE,
        given_on=_today_or_later(latest),
        note=note,
        by=by,
    )


# --- Testimonies -------------------------------------------------------------

# What ``testimony_update`` changes: a testimony's own fields. Status, the
# publication date and the embargo have services of their own; the consent
# history, segments and redactions too; the recording and what was found of
# it, ``testimony_media_attach``.
TESTIMONY_EDITABLE_FIELDS = (
    "slug",
    "title",
    "narrator",
    "language",
    "recorded_on",
    "place",
    "interviewer",
    "summary",
    "content_warnings",
    "curator_notes",
)


@contextmanager
def _refusals_logged(by):
    """A refusal tells where the legal name or contact stands: that is a view of
    the identity, logged like one, after the rollback so that it stays."""
    try:
        yield
    except PublicationRefused as refusal:
        _log_identity_hits(refusal, by)
        raise


def _log_identity_hits(refusal: PublicationRefused, user) -> None:
    kinds = sorted(
        {h.kind for h in refusal.hits} & {HitKind.LEGAL_NAME, HitKind.CONTACT}
    )
    if user is None or not user.is_authenticated or not kinds:
        return
    IdentityAccess.objects.create(
        narrator_id=refusal.narrator_id,
        user=user,
        fields="positions of " + ", ".join(kinds),
        purpose=f"publication gate refusal for {refusal.testimony_slug}",
    )


def _edited(testimony: Testimony, changes: dict) -> Testimony:
    """The testimony with ``changes`` applied, unsaved, if the archive allows them."""
    unknown = sorted(set(changes) - set(TESTIMONY_EDITABLE_FIELDS))
    if unknown:
        raise ServiceError(
            _("these fields of a testimony are not changed this way: %(fields)s")
            % {"fields": ", ".join(unknown)}
        )
    once_published = (
        testimony.status == Testimony.Status.PUBLISHED
        or testimony.published_at is not None
    )
    if once_published and "slug" in changes and changes["slug"] != testimony.slug:
        raise SlugIsPermanent(
            _(
                "%(slug)s has been published: its address is cited, so its slug "
                "is permanent and cannot be changed"
            )
            % {"slug": testimony.slug}
        )
    for name, value in changes.items():
        setattr(testimony, name, value)
    return testimony


class SlugIsPermanent(ServiceError):
    """A testimony once published keeps its slug: its address is cited."""


def testimony_check_update(*, testimony: Testimony, changes: dict, by=None) -> None:
    """Refuse, as ``testimony_update`` would, changes that the archive does not
    allow; nothing is saved (for forms that show each problem at its field)."""
    current = Testimony.objects.select_related("narrator").get(pk=testimony.pk)
    with _refusals_logged(by):
        _hold_the_gate(_edited(current, changes))


@transaction.atomic
def testimony_create(
    *, testimony: Testimony, themes: Iterable[Theme] = ()
) -> Testimony:
    """Save a new testimony, a draft until it is published, with its themes."""
    if testimony.pk is not None:
        raise ServiceError(_("this testimony is already in the archive"))
    if testimony.status == Testimony.Status.PUBLISHED:
        raise ServiceError(_("a new testimony is published through the gate, later"))
    testimony.save()
    testimony.themes.set(themes)
    search.index_testimonies([testimony.pk])
    _renditions_follow([testimony.pk])
    return testimony


def testimony_update(
    *,
    testimony: Testimony,
    changes: dict,
    themes: Iterable[Theme] | None = None,
    by=None,
) -> Testimony:
    """Change a testimony's own fields and themes; a published testimony passes
    the publication gate with the changes, or nothing is saved."""
    with _refusals_logged(by), transaction.atomic():
        testimony = _edited(_lock_testimony(testimony.pk), changes)
        _hold_the_gate(testimony)
        testimony.save()
        if themes is not None:
            testimony.themes.set(themes)
        # Title, summary, place, themes and the narrator's names are searched.
        search.index_metadata([testimony.pk])
        # The recording, or the narrator and with them the disguise, may change.
        _renditions_follow([testimony.pk])
        return testimony


def testimony_publish(
    *, testimony: Testimony, at: datetime | None = None, by=None
) -> Testimony:
    """Publish a testimony, unless the gate finds anything that exposes its narrator."""
    with _refusals_logged(by), transaction.atomic():
        testimony = (
            Testimony.objects.select_for_update()
            .select_related("narrator")
            .get(pk=testimony.pk)
        )
        gate.check(testimony)
        testimony.status = Testimony.Status.PUBLISHED
        testimony.published_at = at or testimony.published_at or timezone.now()
        testimony.save(update_fields=["status", "published_at", "updated_at"])
        search.sync_testimonies([testimony.pk])
        return testimony


@transaction.atomic
def testimony_set_status(*, testimony: Testimony, status: str) -> Testimony:
    """Move a testimony to draft, review or retirement (publishing has its own gate)."""
    if status == Testimony.Status.PUBLISHED:
        return testimony_publish(testimony=testimony)
    if status not in Testimony.Status.values:
        raise ServiceError(_("unknown status %(status)s") % {"status": repr(status)})
    testimony = Testimony.objects.select_for_update().get(pk=testimony.pk)
    testimony.status = status
    testimony.save(update_fields=["status", "updated_at"])
    # A retired testimony leaves the index; one brought back returns to it.
    search.sync_testimonies([testimony.pk])
    return testimony


@transaction.atomic
def testimony_set_embargo(*, testimony: Testimony, until: datetime | None) -> Testimony:
    """Hold a testimony back until a moment (UTC); None lifts the embargo."""
    if until is not None and timezone.is_naive(until):
        raise ServiceError(_("an embargo end needs a time zone (UTC)"))
    testimony = Testimony.objects.select_for_update().get(pk=testimony.pk)
    testimony.embargo_until = until
    # The index is left as it is: search applies the embargo at request time,
    # through visible_to, so that no job has to run when it ends.
    testimony.save(update_fields=["embargo_until", "updated_at"])
    return testimony


@transaction.atomic
def appearance_add(
    *, testimony: Testimony, episode: Episode, start: float, end: float, note: str = ""
) -> Appearance:
    """Link a testimony to the episode where its narrator is seen."""
    _check_times(start, end)
    testimony = _lock_testimony(testimony.pk)
    appearance = Appearance.objects.create(
        testimony=testimony, episode=episode, start=start, end=end, note=note
    )
    _hold_the_gate(testimony)
    return appearance


@transaction.atomic
def testimony_delete(*, testimony: Testimony) -> None:
    """Delete a testimony with its transcript, consent history and search entries."""
    testimony = _lock_testimony(testimony.pk)
    search.remove_testimonies([testimony.pk])
    renditions_forget_on_commit(testimony.renditions.all())
    testimony.delete()


@transaction.atomic
def search_reindex(*, testimony_ids: Iterable[int]) -> None:
    """Rewrite the search entries of testimonies whose metadata changed in place:
    a title or summary edited in the admin, themes, job types, their names."""
    search.index_metadata(list(testimony_ids))


# --- Media at the door ----------------------------------------------------------


def testimony_media_attach(*, testimony: Testimony, file, by=None) -> Testimony:
    """Take in a recording for a testimony: probed, stored under a server name,
    and its kind, duration, digest and size recorded from what was read.

    A refused file (``MediaRefused``) stores nothing and changes nothing. A
    recording it replaces is deleted only once the change is committed; if
    the change fails, the new file is deleted instead.
    """
    # Probed and stored before the row is locked: reading hours of sound must
    # not hold the testimony.
    ingested = media_storage.ingest(file)
    try:
        with transaction.atomic():
            testimony = _lock_testimony(testimony.pk)
            replaced = testimony.media.name
            _check_redactions_fit(testimony, ingested.probed.duration)
            testimony.media.name = ingested.name
            testimony.media_kind = ingested.probed.kind
            testimony.media_duration = ingested.probed.duration
            testimony.media_sha256 = ingested.probed.sha256
            testimony.media_size = ingested.probed.size
            testimony.save(
                update_fields=[
                    "media",
                    "media_kind",
                    "media_duration",
                    "media_sha256",
                    "media_size",
                    "updated_at",
                ]
            )
            # A published testimony's recording passes the gate like its text
            # (a video of an anonymous narrator, released with its picture).
            _hold_the_gate(testimony)
            _renditions_follow([testimony.pk])
            discard_unless_committed(media_storage.originals(), ingested.name)
            if replaced and replaced != ingested.name:
                transaction.on_commit(
                    lambda: media_storage.originals().delete(replaced)
                )
            return testimony
    except BaseException:
        media_storage.originals().delete(ingested.name)
        raise


def _check_redactions_fit(testimony: Testimony, duration: float) -> None:
    """A new recording must hold every silenced range placed on the old one."""
    placed = (
        Redaction.objects.filter(segment__testimony=testimony, media_end__gt=duration)
        .order_by("media_end")
        .last()
    )
    if placed is not None:
        raise ServiceError(
            _(
                "the recording lasts %(duration).1f s, but a redaction silences "
                "it until %(end)s s; move that redaction first"
            )
            % {"duration": duration, "end": f"{placed.media_end:g}"}
        )


# --- Taxonomy ----------------------------------------------------------------


def _testimonies_naming(entry: models.Model) -> Iterable[int]:
    """The testimonies whose search entries hold this entry's names."""
    if isinstance(entry, JobType):
        return Testimony.objects.filter(narrator__job_types=entry).values_list(
            "pk", flat=True
        )
    if isinstance(entry, Theme):
        return entry.testimonies.values_list("pk", flat=True)
    return []


@transaction.atomic
def taxonomy_save(*, entry: JobType | Theme | Series | Episode) -> None:
    """Save a job type, theme, series or episode; the testimonies that carry
    its names are searched under the new ones at once."""
    if isinstance(entry, Theme) and entry.parent_id and entry.would_cycle(entry.parent):
        raise ServiceError(
            _("theme %(slug)s would be its own ancestor") % {"slug": entry.slug}
        )
    entry.save()
    search.index_metadata(list(_testimonies_naming(entry)))


@transaction.atomic
def taxonomy_delete(*, entry: JobType | Theme | Series | Episode) -> None:
    """Delete a job type, theme, series or episode that nothing protects."""
    ids = list(_testimonies_naming(entry))
    entry.delete()
    search.index_metadata(ids)


# --- Narrators and their requests -------------------------------------------


@transaction.atomic
def narrator_create(
    *, narrator: Narrator, job_types: Iterable[JobType] = ()
) -> Narrator:
    """Save a new narrator with their job types."""
    if narrator.pk is not None:
        raise ServiceError(_("this narrator is already in the archive"))
    narrator.save()
    narrator.job_types.set(job_types)
    return narrator


@transaction.atomic
def narrator_update(
    *,
    narrator: Narrator,
    changes: dict,
    job_types: Iterable[JobType] | None = None,
    by=None,
) -> list[str]:
    """Change a narrator's fields and job types; published testimonies they
    would expose leave publication (back to review) at once. Returns the slugs
    withdrawn that way.

    Recording a sensitive term or a legal name is never refused: the archive
    fails closed instead, and a curator redacts before publishing again.
    """
    narrator = Narrator.objects.select_for_update().get(pk=narrator.pk)
    for name, value in changes.items():
        setattr(narrator, name, value)
    narrator.save()
    if job_types is not None:
        narrator.job_types.set(job_types)
    withdrawn: list[str] = []
    published = Testimony.objects.select_for_update().filter(
        narrator=narrator, status=Testimony.Status.PUBLISHED
    )
    for testimony in published:
        if gate.publication_hits(testimony):
            testimony.status = Testimony.Status.IN_REVIEW
            testimony.save(update_fields=["status", "updated_at"])
            withdrawn.append(testimony.slug)
    # The public name and the job types are indexed with each testimony
    # (the name unless anonymous).
    search.index_metadata(
        Testimony.objects.filter(narrator=narrator).values_list("pk", flat=True)
    )
    # An anonymous narrator's voice is disguised: their identity decides it.
    _renditions_follow(
        Testimony.objects.filter(narrator=narrator).values_list("pk", flat=True)
    )
    return withdrawn


@transaction.atomic
def narrator_reference_code_reset(*, narrator: Narrator) -> str:
    """Give a narrator a new reference code; returned once, stored only hashed."""
    code = generate_reference_code()
    narrator.set_reference_code(code)
    narrator.save(update_fields=["reference_code_hash"])
    return code


@transaction.atomic
def narrator_request_submit(
    *, reference_code: str, kind: str, message: str = ""
) -> None:
    """Record a narrator's request; a withdrawal or pause hides their testimonies.

    Returns nothing, so that no caller can tell a known code from an unknown one.
    """
    if kind not in NarratorRequest.Kind.values:
        raise ServiceError(_("unknown request kind %(kind)s") % {"kind": repr(kind)})
    code_hash = hash_reference_code(reference_code)
    narrator = Narrator.objects.filter(reference_code_hash=code_hash).first()
    NarratorRequest.objects.create(
        narrator=narrator, reference_code_hash=code_hash, kind=kind, message=message
    )
    if narrator is not None:
        # A pending withdrawal takes the narrator's words out of the index at once.
        search.sync_testimonies(
            Testimony.objects.filter(narrator=narrator).values_list("pk", flat=True)
        )


@transaction.atomic
def narrator_request_handle(
    *, request: NarratorRequest, by, status: str, response: str = ""
) -> NarratorRequest:
    """Close a request. A handled withdrawal records withdrawn consent everywhere."""
    request = NarratorRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != NarratorRequest.Status.PENDING:
        raise ServiceError(_("this request has already been closed"))
    if status not in (NarratorRequest.Status.HANDLED, NarratorRequest.Status.DISMISSED):
        raise ServiceError(
            _("a request is closed as handled or dismissed, not %(status)s")
            % {"status": repr(status)}
        )
    hides = {
        NarratorRequest.Kind.WITHDRAW: ConsentRecord.Scope.WITHDRAWN,
        # A handled pause holds publication until a curator records consent again.
        NarratorRequest.Kind.PAUSE: ConsentRecord.Scope.ARCHIVE,
    }
    if (
        status == NarratorRequest.Status.HANDLED
        and request.kind in hides
        and request.narrator_id is not None
    ):
        # Closing the request must not bring the testimonies back.
        for testimony in Testimony.objects.filter(narrator_id=request.narrator_id):
            _consent_hold(testimony, hides[request.kind], note=response, by=by)
    request.status = status
    request.handled_by = by
    request.handled_at = timezone.now()
    request.response = response
    request.save()
    if request.narrator_id is not None:
        # A dismissed withdrawal brings the words back, unless consent says otherwise.
        search.sync_testimonies(
            Testimony.objects.filter(narrator_id=request.narrator_id).values_list(
                "pk", flat=True
            )
        )
    return request


@transaction.atomic
def narrator_identity_view(
    *, narrator: Narrator, user, purpose: str = ""
) -> dict[str, str]:
    """A narrator's private identity for an allowed user; every view is logged."""
    if not user.is_active or not user.has_perm(IDENTITY_PERMISSION):
        raise PermissionError(
            "viewing a narrator's identity needs testimonies.view_identity"
        )
    IdentityAccess.objects.create(
        narrator=narrator,
        user=user,
        fields="legal_name,contact,private_notes",
        purpose=purpose,
    )
    return {
        "legal_name": narrator.legal_name,
        "contact": narrator.contact,
        "private_notes": narrator.private_notes,
    }


@transaction.atomic
def consent_form_view(*, record: ConsentRecord, user, purpose: str = "") -> None:
    """Allow an archivist to see a signed consent form, logged like a view of
    the narrator's identity: the form bears their legal name and signature."""
    if not user.is_active or not user.has_perm(IDENTITY_PERMISSION):
        raise PermissionError("viewing a consent form needs testimonies.view_identity")
    testimony = Testimony.objects.select_related("narrator").get(pk=record.testimony_id)
    IdentityAccess.objects.create(
        narrator=testimony.narrator,
        user=user,
        fields="consent_form",
        purpose=purpose or f"consent form of {testimony.slug}, record {record.pk}",
    )


# --- Transcripts ---------------------------------------------------------------


def transcript_import(
    *,
    testimony: Testimony,
    pieces: Sequence[Piece],
    replace: bool = False,
    by=None,
) -> list[Segment]:
    """Write a testimony's transcript from timed pieces, all or nothing; a
    published testimony's passes the publication gate, or nothing is saved."""
    if not pieces:
        raise ServiceError(_("the transcript holds no words: nothing to import"))
    with _refusals_logged(by), transaction.atomic():
        testimony = _lock_testimony(testimony.pk)
        timed = timed_pieces(
            pieces,
            interviewer=testimony.interviewer,
            duration=testimony.media_duration,
        )
        stored = testimony.segments.count()
        if stored and not replace:
            raise ServiceError(
                _(
                    "%(slug)s already has a transcript (%(count)s segments); "
                    "import again with replace to put this one in its place"
                )
                % {"slug": testimony.slug, "count": stored}
            )
        redactions = Redaction.objects.filter(segment__testimony=testimony).count()
        if redactions:
            raise ServiceError(
                _(
                    "%(slug)s has %(count)s redactions: their offsets would point "
                    "at other words in a new transcript; remove them first"
                )
                % {"slug": testimony.slug, "count": redactions}
            )
        if stored:
            search.remove_testimonies([testimony.pk])
            testimony.segments.all().delete()
        segments = Segment.objects.bulk_create(
            (
                Segment(
                    testimony=testimony,
                    position=position,
                    start=piece.start,
                    end=piece.end,
                    speaker=piece.speaker,
                    text=piece.text,
                    public_text=piece.text,
                )
                for position, piece in enumerate(timed)
            ),
            batch_size=1000,
        )
        search.index_testimonies([testimony.pk])
        _hold_the_gate(testimony)
        # Unplaced redactions silence their segments' times.
        _renditions_follow([testimony.pk])
        return segments
