"""The curator workspace. Every change of state goes through services.

Forms check what they can show at its field (the publication gate's hits, a
slug that is permanent); the services decide, in their transaction, and a
refusal that comes only then (another change came first) is shown as a
message with nothing saved.
"""

import mimetypes
from pathlib import PurePosixPath

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .gate import PublicationRefused
from .importers.transcripts import FORMAT_NAMES, read_transcript
from .media.commits import stored_files_follow_the_transaction
from .media.probe import probe
from .media.serve import rendition_status, stored_file_response
from .media.storage import consent_forms, originals
from .models import (
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    NarratorRequest,
    Redaction,
    Segment,
    Series,
    Testimony,
    Theme,
)
from .querysets import IDENTITY_PERMISSION, in_force
from .services import (
    TESTIMONY_EDITABLE_FIELDS,
    MediaRangeRefused,
    ServiceError,
    SlugIsPermanent,
)
from .transcript import TranscriptError


class RefusalsAsMessages:
    """A change the services refuse after its form was valid is shown as a
    message; the admin's transaction rolls back, so nothing of it is saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class TaxonomyAdmin(RefusalsAsMessages, admin.ModelAdmin):
    """Job types, themes, series: saved and deleted through the services, which
    keep the testimonies that carry their names searchable under them."""

    def save_model(self, request, obj, form, change):
        services.taxonomy_save(entry=obj)

    def delete_model(self, request, obj):
        services.taxonomy_delete(entry=obj)

    def delete_queryset(self, request, queryset):
        for entry in queryset:
            services.taxonomy_delete(entry=entry)

    def save_formset(self, request, form, formset, change):
        for entry in formset.save(commit=False):
            services.taxonomy_save(entry=entry)
        for entry in formset.deleted_objects:
            services.taxonomy_delete(entry=entry)


def _private_file(request, storage, name: str, stem: str):
    """A private stored file for staff, named after ``stem`` with its own
    extension, its type guessed from its stored name (with Range)."""
    return stored_file_response(
        request,
        storage,
        name,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filename=f"{stem}{PurePosixPath(name).suffix}",
    )


# The curators' workspace carries the archive's name, in the curator's language.
admin.site.site_header = _("Archive of click workers' testimonies")
admin.site.site_title = _("Curators' workspace")
admin.site.index_title = _("Curators' workspace")


@admin.register(JobType)
class JobTypeAdmin(TaxonomyAdmin):
    list_display = ("slug", "name_fr", "name_en", "isco")
    search_fields = ("slug", "name_fr", "name_en")


class ThemeForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        slug = cleaned.get("slug") or self.instance.slug
        if parent is not None and Theme(slug=slug).would_cycle(parent):
            self.add_error(
                "parent",
                _("A theme cannot be its own ancestor: choose another parent."),
            )
        return cleaned


@admin.register(Theme)
class ThemeAdmin(TaxonomyAdmin):
    form = ThemeForm
    list_display = ("slug", "name_fr", "name_en", "parent")
    search_fields = ("slug", "name_fr", "name_en")


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0


@admin.register(Series)
class SeriesAdmin(TaxonomyAdmin):
    list_display = ("slug", "title", "broadcaster")
    inlines = [EpisodeInline]


def _plain_changes(form, obj) -> dict:
    """The model fields a form changed, as the instance now holds them
    (many-to-many relations apart: the services take them on their own)."""
    fields = {field.name: field for field in obj._meta.get_fields()}
    return {
        name: getattr(obj, name)
        for name in form.changed_data
        # A form's own fields (an upload) are handed to their services apart.
        if name in fields and not fields[name].many_to_many
    }


@admin.register(Narrator)
class NarratorAdmin(RefusalsAsMessages, admin.ModelAdmin):
    list_display = ("key", "identity", "country", "region")
    list_filter = ("identity", "country")
    search_fields = ("key",)
    filter_horizontal = ("job_types",)
    actions = ["reset_reference_code"]

    def get_exclude(self, request, obj=None):
        if request.user.has_perm(IDENTITY_PERMISSION):
            return ()
        return Narrator.PRIVATE_FIELDS

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Any rendering of the page shows the identity (a form shown again with
        # errors too): each is logged.
        if request.user.has_perm(IDENTITY_PERMISSION):
            narrator = self.get_object(request, object_id)
            if narrator is not None:
                # The page shows the identity: log the view like any other.
                services.narrator_identity_view(
                    narrator=narrator, user=request.user, purpose="admin change page"
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        job_types = form.cleaned_data.get("job_types")
        if not change:
            services.narrator_create(narrator=obj, job_types=job_types or ())
            return
        withdrawn = services.narrator_update(
            narrator=obj,
            changes=_plain_changes(form, obj),
            job_types=job_types if "job_types" in form.changed_data else None,
            by=request.user,
        )
        if withdrawn:
            self.message_user(
                request,
                _(
                    "These published testimonies would now expose the narrator and "
                    "went back to review: %(slugs)s. Redact them, then publish again."
                )
                % {"slugs": ", ".join(withdrawn)},
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        # The job types were saved with the narrator, by the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Give a new reference code (shown once)"))
    def reset_reference_code(self, request, queryset):
        for narrator in queryset:
            code = services.narrator_reference_code_reset(narrator=narrator)
            self.message_user(
                request,
                _(
                    "New reference code for %(key)s: %(code)s — give it to the "
                    "narrator; it will not be shown again."
                )
                % {"key": narrator.key, "code": code},
                messages.WARNING,
            )


class TestimonyForm(forms.ModelForm):
    """Shows, at each field, what the services would refuse of an edit."""

    # Set by TestimonyAdmin.get_form: whose view of the gate's hits is logged.
    curator = None

    # Handed to services.testimony_media_attach, which reads what it is.
    media_upload = forms.FileField(
        label=_("Recording"),
        required=False,
        help_text=_(
            "An audio or video file. What it is, and how long, is read from its "
            "content; it is stored under a name made by the archive."
        ),
    )

    def clean_media_upload(self):
        upload = self.cleaned_data.get("media_upload")
        if upload:
            # Refused here, at its field, before anything is stored.
            probe(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.errors:
            return cleaned
        changes = {
            name: cleaned[name]
            for name in self.changed_data
            if name in TESTIMONY_EDITABLE_FIELDS
            and name in cleaned
            and not isinstance(self.fields[name], forms.FileField)
        }
        try:
            services.testimony_check_update(
                testimony=self.instance, changes=changes, by=self.curator
            )
        except SlugIsPermanent as error:
            self.add_error("slug", str(error))
        except PublicationRefused as refusal:
            for hit in refusal.hits:
                self.add_error(self._field_of(hit.place, changes), str(hit))
        except ServiceError as error:
            self.add_error(None, str(error))
        return cleaned

    def _field_of(self, place: str, changes: dict) -> str | None:
        """The form field a hit's place stands in, if the form has it."""
        name = place.split("[", 1)[0].split(".", 1)[0].split(" ", 1)[0]
        if name in self.fields:
            return name
        # The segments and appearances are not edited here: a hit in them can
        # only come from a change of narrator, whose identity is scanned.
        return "narrator" if "narrator" in changes else None


class ConsentHistoryFormSet(BaseInlineFormSet):
    """Refuses, with the form shown again, a record that would go back in time."""

    def clean(self):
        super().clean()
        latest = self.instance.consent_in_force() if self.instance.pk else None
        floor = latest.given_on if latest else None
        for form in self.extra_forms:
            given_on = form.cleaned_data.get("given_on") if form.has_changed() else None
            if given_on is None:
                continue
            if floor is not None and given_on < floor:
                form.add_error(
                    "given_on",
                    _(
                        "Consent cannot be dated before the record in force "
                        "(%(date)s): the history never goes back in time."
                    )
                    % {"date": floor.isoformat()},
                )
            else:
                floor = given_on


class ConsentRecordForm(forms.ModelForm):
    # Handed to services.consent_record, which stores it under a server name.
    form_upload = forms.FileField(label=_("signed form"), required=False)


class ConsentRecordInline(admin.TabularInline):
    """The consent history: records are added, never edited or deleted."""

    model = ConsentRecord
    form = ConsentRecordForm
    formset = ConsentHistoryFormSet
    extra = 0
    can_delete = False
    fields = (
        "scope",
        "media",
        "given_on",
        "note",
        "form_upload",
        "form_kept",
        "recorded_by",
        "recorded_at",
    )
    readonly_fields = ("form_kept", "recorded_by", "recorded_at", "signed_form")

    def get_fields(self, request, obj=None):
        # The signed form bears the narrator's legal name: archivists only.
        if request.user.has_perm(IDENTITY_PERMISSION):
            return (*self.fields, "signed_form")
        return self.fields

    @admin.display(description=_("form kept"))
    def form_kept(self, obj):
        # Never a link here: the file is private, and its name is the server's.
        return _("yes") if obj.form else _("no")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    @admin.display(description=_("signed form"))
    def signed_form(self, record):
        if record.pk is None or not record.form:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse(
                "admin:testimonies_testimony_consent_form",
                args=[record.testimony_id, record.pk],
            ),
            _("Open the signed form (the view is logged)"),
        )

    def has_change_permission(self, request, obj=None):
        # Existing rows render read-only; new rows come through the add form.
        return False


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    can_delete = False
    fields = ("position", "start", "end", "speaker", "text", "public_text")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class TranscriptImportForm(forms.Form):
    """A transcript file for a testimony; its words are read and stored whole."""

    # Ample for hours of speech with an OHMS index; the file is read into memory.
    MAX_BYTES = 20 * 1024 * 1024

    transcript = forms.FileField(
        label=_("Transcript file"),
        help_text=_(
            "WebVTT, SRT, OHMS XML, or text with [HH:MM:SS] timecodes, in UTF-8."
        ),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("", _("recognised from the file"))] + list(FORMAT_NAMES.items()),
        required=False,
    )
    replace = forms.BooleanField(
        label=_("Replace the transcript the testimony already has"),
        required=False,
    )

    def clean_transcript(self):
        upload = self.cleaned_data["transcript"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.")
                % {"size": self.MAX_BYTES // (1024 * 1024)}
            )
        return upload


@admin.register(Testimony)
class TestimonyAdmin(RefusalsAsMessages, admin.ModelAdmin):
    form = TestimonyForm
    list_display = (
        "slug",
        "title",
        "language",
        "status",
        "consent_scope",
        "embargo_until",
    )
    list_filter = ("status", "language")
    search_fields = ("slug", "title")
    filter_horizontal = ("themes",)
    inlines = [ConsentRecordInline, SegmentInline]
    actions = ["publish", "submit_for_review", "retire", "withdraw_consent"]
    # Each has a service of its own, with its own rules; the recording is
    # read from the file uploaded (media_upload).
    readonly_fields = (
        "status",
        "published_at",
        "embargo_until",
        "original_recording",
        "media_kind",
        "media_duration",
        "media_size",
        "media_sha256",
        "public_rendition",
    )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # A file stored for a change that is then rolled back is deleted.
        with stored_files_follow_the_transaction():
            return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("original recording"))
    def original_recording(self, testimony):
        if testimony.pk is None or not testimony.media:
            return "—"
        # Its stored name, and the staff view that streams it after checking
        # who asks: a private file has no address of its own.
        return format_html(
            '{} — <a href="{}">{}</a>',
            testimony.media.name,
            reverse("admin:testimonies_testimony_original", args=[testimony.pk]),
            _("Listen to the original (staff only: it is never public)"),
        )

    @admin.display(description=_("public rendition"))
    def public_rendition(self, testimony):
        if testimony.pk is None:
            return "—"
        return rendition_status(testimony)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # A class made for this request: the gate's refusals it shows are
        # logged as this user's views.
        form.curator = request.user
        return form

    def get_urls(self):
        transcript = self.admin_site.admin_view(self.transcript_import_view)
        original = self.admin_site.admin_view(self.original_view)
        consent_form = self.admin_site.admin_view(self.consent_form_view)
        return [
            path(
                "<path:object_id>/transcript/",
                transcript,
                name="testimonies_testimony_transcript",
            ),
            path(
                "<path:object_id>/original/",
                original,
                name="testimonies_testimony_original",
            ),
            path(
                "<path:object_id>/consent/<int:record_id>/form/",
                consent_form,
                name="testimonies_testimony_consent_form",
            ),
            *super().get_urls(),
        ]

    def original_view(self, request, object_id):
        """The original recording, for staff only, as recorded (with Range)."""
        testimony = self.get_object(request, object_id)
        if testimony is None or not testimony.media:
            raise Http404
        if not self.has_change_permission(request, testimony):
            raise PermissionDenied
        return _private_file(
            request, originals(), testimony.media.name, f"{testimony.slug}-original"
        )

    def consent_form_view(self, request, object_id, record_id):
        """A signed consent form, for archivists only; each view is logged like
        a view of the narrator's identity."""
        testimony = self.get_object(request, object_id)
        if testimony is None:
            raise Http404
        if not request.user.has_perm(IDENTITY_PERMISSION):
            raise PermissionDenied
        record = testimony.consent_records.filter(pk=record_id).first()
        if record is None or not record.form:
            raise Http404
        services.consent_form_view(record=record, user=request.user)
        return _private_file(
            request,
            consent_forms(),
            record.form.name,
            f"{testimony.slug}-consent-{record.pk}",
        )

    def transcript_import_view(self, request, object_id):
        """Read an uploaded transcript file and store it through the service;
        a file that cannot be read, or a refusal, is shown on the form."""
        testimony = self.get_object(request, object_id)
        if testimony is None:
            raise Http404
        if not self.has_change_permission(request, testimony):
            raise PermissionDenied
        form = TranscriptImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                chosen, pieces = read_transcript(
                    form.cleaned_data["transcript"].read(),
                    form.cleaned_data["format"] or None,
                )
                segments = services.transcript_import(
                    testimony=testimony,
                    pieces=pieces,
                    replace=form.cleaned_data["replace"],
                    by=request.user,
                )
            except TranscriptError as error:
                form.add_error("transcript", str(error))
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    gettext("Transcript read as %(format)s: %(count)s segments stored.")
                    % {"format": FORMAT_NAMES[chosen], "count": len(segments)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse(
                        "admin:testimonies_testimony_change",
                        args=[testimony.pk],
                        current_app=self.admin_site.name,
                    )
                )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a transcript"),
            "opts": self.model._meta,
            "original": testimony,
            "form": form,
            "has_segments": testimony.segments.exists(),
        }
        return TemplateResponse(
            request, "admin/testimonies/testimony/transcript_import.html", context
        )

    def save_model(self, request, obj, form, change):
        themes = form.cleaned_data.get("themes")
        if not change:
            services.testimony_create(testimony=obj, themes=themes or ())
            return
        services.testimony_update(
            testimony=obj,
            changes={
                name: value
                for name, value in _plain_changes(form, obj).items()
                if name in TESTIMONY_EDITABLE_FIELDS
            },
            themes=themes if "themes" in form.changed_data else None,
            by=request.user,
        )

    def save_related(self, request, form, formsets, change):
        # The themes were saved with the testimony, by the service.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        upload = form.cleaned_data.get("media_upload")
        if upload:
            # Last, once everything else of the page is saved.
            services.testimony_media_attach(
                testimony=form.instance, file=upload, by=request.user
            )

    def delete_model(self, request, obj):
        services.testimony_delete(testimony=obj)

    def delete_queryset(self, request, queryset):
        for testimony in queryset:
            services.testimony_delete(testimony=testimony)

    def save_formset(self, request, form, formset, change):
        # Segments are shown read-only here, so their formset saves nothing;
        # consent records are only added, through the service.
        rows = formset.save(commit=False)
        if formset.model is not ConsentRecord:
            if rows:
                raise ServiceError(_("the transcript is not edited on this page"))
            return None
        uploads = {
            id(row_form.instance): row_form.cleaned_data.get("form_upload")
            for row_form in formset.forms
            if getattr(row_form, "cleaned_data", None)
        }
        for record in rows:
            if record.pk is None:
                # Checked by the formset already; a race still fails the whole save.
                services.consent_record(
                    testimony=form.instance,
                    scope=record.scope,
                    media=record.media,
                    given_on=record.given_on,
                    note=record.note,
                    form=uploads.get(id(record)),
                    by=request.user,
                )
        return None

    def get_queryset(self, request):
        # The changelist shows the consent in force: one subquery, not one per row.
        return super().get_queryset(request).annotate(scope_in_force=in_force("scope"))

    @admin.display(description=_("consent in force"))
    def consent_scope(self, obj):
        scopes = dict(ConsentRecord.Scope.choices)
        return scopes.get(obj.scope_in_force, _("none"))

    def _each(self, request, queryset, change, done=None) -> None:
        """Apply a service to each testimony chosen; a refusal is a message."""
        for testimony in queryset:
            try:
                change(testimony)
            except ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                if done is not None:
                    self.message_user(request, done % {"slug": testimony.slug})

    @admin.action(description=_("Publish (through the publication gate)"))
    def publish(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.testimony_publish(testimony=t, by=request.user),
            done=_("Published: %(slug)s"),
        )

    @admin.action(description=_("Submit for review"))
    def submit_for_review(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.testimony_set_status(
                testimony=t, status=Testimony.Status.IN_REVIEW
            ),
        )

    @admin.action(description=_("Retire from publication"))
    def retire(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.testimony_set_status(
                testimony=t, status=Testimony.Status.RETIRED
            ),
        )

    @admin.action(description=_("Record the narrator's withdrawal of consent"))
    def withdraw_consent(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.consent_withdraw(testimony=t, by=request.user),
        )


class RedactionForm(forms.ModelForm):
    """Shows a silenced range the services would refuse at its field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "label" in self.fields:
            # Left empty, the service gives the label of the reason.
            self.fields["label"].required = False
            self.fields["label"].help_text = _(
                "Left empty: the label of its reason, in the testimony's language."
            )

    def clean(self):
        cleaned = super().clean()
        segment = cleaned.get("segment") or getattr(self.instance, "segment", None)
        if segment is None or self.errors:
            return cleaned
        try:
            services.check_media_range(
                segment.testimony,
                cleaned.get("media_start"),
                cleaned.get("media_end"),
            )
        except MediaRangeRefused as refusal:
            self.add_error(refusal.field, str(refusal))
        return cleaned


@admin.register(Redaction)
class RedactionAdmin(RefusalsAsMessages, admin.ModelAdmin):
    """Redactions, added and placed in the recording through the services. A
    span of text is not moved: a wrong one is removed and added again."""

    form = RedactionForm
    list_display = ("segment", "start", "end", "reason", "label", "silenced")
    list_filter = ("reason",)
    list_select_related = ("segment",)
    search_fields = ("segment__testimony__slug",)
    raw_id_fields = ("segment",)
    fields = (
        "segment",
        "start",
        "end",
        "reason",
        "label",
        "note",
        "media_start",
        "media_end",
        "created_by",
        "created_at",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("created_by", "created_at")
        return ("segment", "start", "end", "reason", "label", "note") + (
            "created_by",
            "created_at",
        )

    @admin.display(description=_("silenced (seconds)"))
    def silenced(self, obj):
        start, end = obj.media_range()
        shown = f"{start:g}–{end:g}"
        if obj.media_start is None:
            return _("%(range)s (its segment's)") % {"range": shown}
        return shown

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.segment_redact(
                segment=obj.segment,
                start=obj.start,
                end=obj.end,
                reason=obj.reason,
                label=obj.label,
                note=obj.note,
                media_start=obj.media_start,
                media_end=obj.media_end,
                by=request.user,
            )
            # The admin's own log and redirect name the row the service made.
            obj.pk = created.pk
            return
        services.redaction_set_media_range(
            redaction=obj, media_start=obj.media_start, media_end=obj.media_end
        )

    def delete_model(self, request, obj):
        services.redaction_remove(redaction=obj)

    def delete_queryset(self, request, queryset):
        for redaction in queryset:
            services.redaction_remove(redaction=redaction)


@admin.register(NarratorRequest)
class NarratorRequestAdmin(admin.ModelAdmin):
    """Requests are read here and closed by the actions, through the service."""

    list_display = ("received_at", "kind", "status", "narrator")
    list_filter = ("status", "kind")
    actions = ["mark_handled", "dismiss"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page would save the row itself: requests are viewed only.
        return False

    def _close(self, request, queryset, status):
        for item in queryset:
            try:
                services.narrator_request_handle(
                    request=item, by=request.user, status=status
                )
            except ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description=_("Mark as handled (a withdrawal withdraws consent)"))
    def mark_handled(self, request, queryset):
        self._close(request, queryset, NarratorRequest.Status.HANDLED)

    @admin.action(description=_("Dismiss"))
    def dismiss(self, request, queryset):
        self._close(request, queryset, NarratorRequest.Status.DISMISSED)
