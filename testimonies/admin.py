"""The curator workspace. Every change of state goes through services."""

from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    ConsentRecord,
    Episode,
    JobType,
    Narrator,
    NarratorRequest,
    Segment,
    Series,
    Testimony,
    Theme,
)
from .querysets import IDENTITY_PERMISSION, in_force


class ReindexNamesMixin:
    """Names of job types and themes are searched with each testimony."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            services.search_reindex(testimony_ids=self.testimony_ids(obj))


@admin.register(JobType)
class JobTypeAdmin(ReindexNamesMixin, admin.ModelAdmin):
    list_display = ("slug", "name_fr", "name_en", "isco")
    search_fields = ("slug", "name_fr", "name_en")

    def testimony_ids(self, job_type):
        return Testimony.objects.filter(narrator__job_types=job_type).values_list(
            "pk", flat=True
        )


@admin.register(Theme)
class ThemeAdmin(ReindexNamesMixin, admin.ModelAdmin):
    list_display = ("slug", "name_fr", "name_en", "parent")
    search_fields = ("slug", "name_fr", "name_en")

    def testimony_ids(self, theme):
        return theme.testimonies.values_list("pk", flat=True)


class EpisodeInline(admin.TabularInline):
    model = Episode
    extra = 0


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "broadcaster")
    inlines = [EpisodeInline]


@admin.register(Narrator)
class NarratorAdmin(admin.ModelAdmin):
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
        if not change:
            obj.save()
            return
        changes = {
            name: getattr(obj, name)
            for name in form.changed_data
            if not obj._meta.get_field(name).many_to_many
        }
        withdrawn = services.narrator_update(
            narrator=obj, changes=changes, by=request.user
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
        super().save_related(request, form, formsets, change)
        # Job types are searched with each of the narrator's testimonies.
        services.search_reindex(
            testimony_ids=form.instance.testimonies.values_list("pk", flat=True)
        )

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


class ConsentRecordInline(admin.TabularInline):
    """The consent history: records are added, never edited or deleted."""

    model = ConsentRecord
    formset = ConsentHistoryFormSet
    extra = 0
    can_delete = False
    fields = ("scope", "media", "given_on", "note", "recorded_by", "recorded_at")
    readonly_fields = ("recorded_by", "recorded_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

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


@admin.register(Testimony)
class TestimonyAdmin(admin.ModelAdmin):
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
    public_fields = ("title", "summary", "place", "content_warnings", "narrator")

    def get_readonly_fields(self, request, obj=None):
        fixed = ("status", "published_at", "embargo_until")
        if obj is not None and obj.status == Testimony.Status.PUBLISHED:
            # A published testimony's public fields change only after it leaves
            # publication, so that nothing can bypass the publication gate.
            return fixed + self.public_fields
        return fixed

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Title, summary, place and themes are searched: the change view is
        # one transaction, and the index is rewritten within it.
        services.search_reindex(testimony_ids=[form.instance.pk])

    def delete_model(self, request, obj):
        services.testimony_delete(testimony=obj)

    def delete_queryset(self, request, queryset):
        for testimony in queryset:
            services.testimony_delete(testimony=testimony)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ConsentRecord:
            return super().save_formset(request, form, formset, change)
        for record in formset.save(commit=False):
            if record.pk is None:
                # Checked by the formset already; a race still fails the whole save.
                services.consent_record(
                    testimony=form.instance,
                    scope=record.scope,
                    media=record.media,
                    given_on=record.given_on,
                    note=record.note,
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

    @admin.action(description=_("Publish (through the publication gate)"))
    def publish(self, request, queryset):
        for testimony in queryset:
            try:
                services.testimony_publish(testimony=testimony, by=request.user)
            except services.ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _("Published: %s") % testimony.slug)

    @admin.action(description=_("Submit for review"))
    def submit_for_review(self, request, queryset):
        for testimony in queryset:
            services.testimony_set_status(
                testimony=testimony, status=Testimony.Status.IN_REVIEW
            )

    @admin.action(description=_("Retire from publication"))
    def retire(self, request, queryset):
        for testimony in queryset:
            services.testimony_set_status(
                testimony=testimony, status=Testimony.Status.RETIRED
            )

    @admin.action(description=_("Record the narrator's withdrawal of consent"))
    def withdraw_consent(self, request, queryset):
        for testimony in queryset:
            services.consent_withdraw(testimony=testimony, by=request.user)


@admin.register(NarratorRequest)
class NarratorRequestAdmin(admin.ModelAdmin):
    list_display = ("received_at", "kind", "status", "narrator")
    list_filter = ("status", "kind")
    readonly_fields = (
        "narrator",
        "reference_code_hash",
        "kind",
        "message",
        "status",
        "received_at",
        "handled_by",
        "handled_at",
    )
    actions = ["mark_handled", "dismiss"]

    def has_add_permission(self, request):
        return False

    def _close(self, request, queryset, status):
        for item in queryset:
            try:
                services.narrator_request_handle(
                    request=item, by=request.user, status=status
                )
            except services.ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)

    @admin.action(description=_("Mark as handled (a withdrawal withdraws consent)"))
    def mark_handled(self, request, queryset):
        self._close(request, queryset, NarratorRequest.Status.HANDLED)

    @admin.action(description=_("Dismiss"))
    def dismiss(self, request, queryset):
        self._close(request, queryset, NarratorRequest.Status.DISMISSED)
