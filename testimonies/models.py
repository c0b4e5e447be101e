"""The domain of the archive: taxonomy, narrators, testimonies, consent, redactions."""

import hashlib
import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField
from .media.names import (
    consent_forms_field_storage,
    originals_field_storage,
    server_named,
)
from .querysets import ConsentRecordQuerySet, TestimonyQuerySet

SLUG_HELP = _("Lowercase letters, digits and hyphens.")
SLUG_NAME = _("slug")

# The same shapes as the bundle format's, so that whatever the admin accepts
# can be exported and imported again.
validate_archive_slug = RegexValidator(
    r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z",
    _("Use lowercase letters and digits, in words joined by single hyphens."),
)
validate_country = RegexValidator(
    r"\A[A-Z]{2}\Z", _("Use an ISO 3166-1 alpha-2 code in capitals, e.g. FR.")
)
validate_language = RegexValidator(
    r"\A[a-z]{2}\Z", _("Use an ISO 639-1 code in lowercase, e.g. fr.")
)
validate_isco = RegexValidator(r"\A[0-9]{1,4}\Z", _("Use one to four digits."))
validate_web_url = URLValidator(schemes=["http", "https"])


def archive_slug_field(
    verbose_name=SLUG_NAME,
    *,
    max_length: int = 80,
    unique: bool = True,
    help_text=SLUG_HELP,
) -> models.SlugField:
    """A slug or key in the bundle format's shape."""
    return models.SlugField(
        verbose_name,
        max_length=max_length,
        unique=unique,
        help_text=help_text,
        validators=[validate_archive_slug],
    )


def validate_decade(value: int) -> None:
    if value % 10 or not 1900 <= value <= 2100:
        raise ValidationError(
            _("Use a decade between 1900 and 2100, e.g. 1980."), code="decade"
        )


def validate_word_list(value) -> None:
    """A list of non-empty strings (content warnings, sensitive terms)."""
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item.strip() for item in value
    ):
        raise ValidationError(
            _('Use a list of non-empty texts, e.g. ["violence"].'), code="word_list"
        )


# Crockford's base-32 alphabet: no I, L, O, U, so a code read aloud is unambiguous.
REFERENCE_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_CODE_LENGTH = 16


def normalise_reference_code(code: str) -> str:
    """Upper case, without spaces or dashes of any kind (phones type en dashes)."""
    code = unicodedata.normalize("NFKC", code)
    return "".join(
        char
        for char in code
        if not char.isspace() and unicodedata.category(char) != "Pd"
    ).upper()


def hash_reference_code(code: str) -> str:
    """The stored form of a reference code (docs/design.md, "The bundle format")."""
    digest = hashlib.sha256(normalise_reference_code(code).encode("utf-8")).hexdigest()
    return f"sha256:{digest}"


def generate_reference_code() -> str:
    """A new code of 16 characters, shown once to the narrator, grouped by four."""
    raw = "".join(
        secrets.choice(REFERENCE_CODE_ALPHABET) for _ in range(REFERENCE_CODE_LENGTH)
    )
    return "-".join(raw[i : i + 4] for i in range(0, REFERENCE_CODE_LENGTH, 4))


class Translated:
    """Picks the fr or en variant of a field pair for the active language."""

    @staticmethod
    def pick(obj, base: str) -> str:
        language = (get_language() or "fr")[:2]
        first, second = ("en", "fr") if language == "en" else ("fr", "en")
        return getattr(obj, f"{base}_{first}") or getattr(obj, f"{base}_{second}")


class JobType(models.Model):
    slug = archive_slug_field()
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    isco = models.CharField(
        _("ISCO-08 code"),
        max_length=4,
        blank=True,
        validators=[validate_isco],
        help_text=_(
            "One to four digits of the International Standard Classification "
            "of Occupations."
        ),
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("job type")
        verbose_name_plural = _("job types")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("testimonies:job_type", kwargs={"slug": self.slug})

    @property
    def name(self) -> str:
        return Translated.pick(self, "name")

    @property
    def description(self) -> str:
        return Translated.pick(self, "description")


class Theme(models.Model):
    slug = archive_slug_field()
    name_fr = models.CharField(_("name (French)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent theme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="theme_not_its_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("testimonies:theme", kwargs={"slug": self.slug})

    @property
    def name(self) -> str:
        return Translated.pick(self, "name")

    def would_cycle(self, parent: "Theme") -> bool:
        """Whether taking ``parent`` would make this theme its own ancestor."""
        seen = {self.slug}
        ancestor = parent
        while ancestor is not None:
            if ancestor.slug in seen:
                return True
            seen.add(ancestor.slug)
            ancestor = ancestor.parent
        return False


class Series(models.Model):
    slug = archive_slug_field()
    title = models.CharField(_("title"), max_length=300)
    broadcaster = models.CharField(_("broadcaster"), max_length=200, blank=True)
    url = models.URLField(
        _("URL"), max_length=500, blank=True, validators=[validate_web_url]
    )
    description_fr = models.TextField(_("description (French)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return self.title


class Episode(models.Model):
    series = models.ForeignKey(
        Series,
        verbose_name=_("series"),
        on_delete=models.CASCADE,
        related_name="episodes",
    )
    # Unique within its series (see Meta).
    slug = archive_slug_field(unique=False)
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=300)
    broadcast_on = models.DateField(_("broadcast on"), null=True, blank=True)
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    url = models.URLField(
        _("URL"), max_length=500, blank=True, validators=[validate_web_url]
    )
    synopsis_fr = models.TextField(_("synopsis (French)"), blank=True)
    synopsis_en = models.TextField(_("synopsis (English)"), blank=True)

    class Meta:
        ordering = ["series", "number"]
        verbose_name = _("episode")
        verbose_name_plural = _("episodes")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "slug"], name="episode_slug_unique"
            ),
            models.UniqueConstraint(
                fields=["series", "number"], name="episode_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="episode_number_positive"
            ),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=0),
                name="episode_duration_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series.title} — {self.number}. {self.title}"

    def get_absolute_url(self) -> str:
        return reverse(
            "testimonies:episode",
            kwargs={"series": self.series.slug, "episode": self.slug},
        )

    @property
    def synopsis(self) -> str:
        return Translated.pick(self, "synopsis")


class Narrator(models.Model):
    class Identity(models.TextChoices):
        NAMED = "named", _("named")
        PSEUDONYM = "pseudonym", _("pseudonym")
        ANONYMOUS = "anonymous", _("anonymous")

    key = archive_slug_field(
        _("key"), help_text=_("A stable internal key, used by bundles.")
    )
    slug = models.SlugField(
        _("public slug"),
        max_length=80,
        blank=True,
        validators=[validate_archive_slug],
        help_text=_(
            "The address of the narrator's public page. Only a named or "
            "pseudonymous narrator has one; it is public, like their name."
        ),
    )
    public_name = models.CharField(
        _("public name"),
        # As long as a descriptor, which stands in for it in public exports.
        max_length=300,
        help_text=_(
            "The name the narrator chose to be known by. For an anonymous narrator "
            "it is only an internal label and is never shown."
        ),
    )
    identity = models.CharField(
        _("identity disclosure"), max_length=12, choices=Identity.choices
    )
    descriptor_fr = models.CharField(
        _("descriptor (French)"), max_length=300, blank=True
    )
    descriptor_en = models.CharField(
        _("descriptor (English)"), max_length=300, blank=True
    )
    job_types = models.ManyToManyField(
        JobType, verbose_name=_("job types"), blank=True, related_name="narrators"
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2, e.g. FR."),
        validators=[validate_country],
    )
    region = models.CharField(_("generalised region"), max_length=200, blank=True)
    birth_decade = models.PositiveSmallIntegerField(
        _("birth decade"), null=True, blank=True, validators=[validate_decade]
    )
    sensitive_terms = models.JSONField(
        _("sensitive terms"),
        default=list,
        blank=True,
        help_text=_(
            "Names of colleagues or managers, internal project names: words that "
            "must never be public."
        ),
        validators=[validate_word_list],
    )
    # Private identity: encrypted at rest, shown only to holders of view_identity.
    PRIVATE_FIELDS = ("legal_name", "contact", "private_notes")
    legal_name = EncryptedTextField(_("legal name"), blank=True)
    contact = EncryptedTextField(_("contact"), blank=True)
    private_notes = EncryptedTextField(_("private notes"), blank=True)
    reference_code_hash = models.CharField(
        _("reference code (hashed)"), max_length=71, blank=True, editable=False
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("narrator")
        verbose_name_plural = _("narrators")
        permissions = [
            ("view_identity", _("Can see narrators' legal names and contacts"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reference_code_hash"],
                condition=~Q(reference_code_hash=""),
                name="narrator_reference_code_unique",
            ),
            models.UniqueConstraint(
                fields=["slug"], condition=~Q(slug=""), name="narrator_slug_unique"
            ),
            # Nothing public links an anonymous narrator's testimonies together.
            models.CheckConstraint(
                condition=Q(slug="") | ~Q(identity="anonymous"),
                name="narrator_anonymous_has_no_page",
            ),
            models.CheckConstraint(
                condition=Q(birth_decade__isnull=True)
                | Q(birth_decade__gte=1900, birth_decade__lte=2100),
                name="narrator_birth_decade_range",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def get_absolute_url(self) -> str:
        return reverse("testimonies:narrator", kwargs={"slug": self.slug})

    @property
    def descriptor(self) -> str:
        return Translated.pick(self, "descriptor")

    @property
    def display_name(self) -> str:
        """What the public sees: never the internal label of an anonymous narrator."""
        if self.identity == self.Identity.ANONYMOUS:
            return self.descriptor or str(_("an anonymous narrator"))
        return self.public_name

    @property
    def has_page(self) -> bool:
        """Named and pseudonymous narrators with a slug have a public page."""
        return bool(self.slug) and self.identity != self.Identity.ANONYMOUS

    def set_reference_code(self, code: str) -> None:
        self.reference_code_hash = hash_reference_code(code)


class Testimony(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        IN_REVIEW = "in_review", _("in review")
        PUBLISHED = "published", _("published")
        RETIRED = "retired", _("retired")

    class MediaKind(models.TextChoices):
        AUDIO = "audio", _("audio")
        VIDEO = "video", _("video")

    slug = archive_slug_field(max_length=120)
    title = models.CharField(_("title"), max_length=300)
    narrator = models.ForeignKey(
        Narrator,
        verbose_name=_("narrator"),
        on_delete=models.PROTECT,
        related_name="testimonies",
    )
    language = models.CharField(
        _("language"),
        max_length=2,
        help_text=_("ISO 639-1, e.g. fr."),
        validators=[validate_language],
    )
    recorded_on = models.DateField(_("recorded on"), null=True, blank=True)
    place = models.CharField(_("generalised place"), max_length=200, blank=True)
    interviewer = models.CharField(_("interviewer"), max_length=200, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), blank=True, related_name="testimonies"
    )
    content_warnings = models.JSONField(
        _("content warnings"), default=list, blank=True, validators=[validate_word_list]
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    embargo_until = models.DateTimeField(
        _("embargo until"),
        null=True,
        blank=True,
        help_text=_("Hidden from the public and researchers until this moment (UTC)."),
    )
    # The original recording, in the originals' storage under a name made by
    # the server; set only by services.testimony_media_attach, from what the
    # file was found to be.
    media = models.FileField(
        _("media file"),
        storage=originals_field_storage,
        upload_to=server_named,
        max_length=255,
        blank=True,
        editable=False,
    )
    media_kind = models.CharField(
        _("media kind"),
        max_length=8,
        choices=MediaKind.choices,
        blank=True,
        editable=False,
    )
    media_duration = models.FloatField(
        _("media duration (seconds)"), null=True, blank=True, editable=False
    )
    media_sha256 = models.CharField(
        _("SHA-256 of the original"), max_length=64, blank=True, editable=False
    )
    media_size = models.PositiveBigIntegerField(
        _("size of the original (bytes)"), null=True, blank=True, editable=False
    )
    curator_notes = models.TextField(_("curator notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TestimonyQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "slug"]
        verbose_name = _("testimony")
        verbose_name_plural = _("testimonies")
        indexes = [models.Index(fields=["status", "embargo_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(media_duration__isnull=True) | Q(media_duration__gte=0),
                name="testimony_media_duration_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("testimonies:detail", kwargs={"slug": self.slug})

    def consent_in_force(self) -> "ConsentRecord | None":
        """The latest consent record, in the order recorded; None means no consent."""
        return self.consent_records.newest_first().first()


class ConsentRecord(models.Model):
    class Scope(models.TextChoices):
        PUBLIC = "public", _("public")
        RESEARCH = "research", _("research only")
        ARCHIVE = "archive", _("archive only (staff)")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class MediaRelease(models.TextChoices):
        AUDIO_VIDEO = "audio_video", _("audio and video")
        AUDIO = "audio", _("audio only")
        NONE = "none", _("no media")

    testimony = models.ForeignKey(
        Testimony,
        verbose_name=_("testimony"),
        on_delete=models.CASCADE,
        related_name="consent_records",
    )
    scope = models.CharField(_("scope"), max_length=12, choices=Scope.choices)
    media = models.CharField(
        _("media release"), max_length=12, choices=MediaRelease.choices
    )
    given_on = models.DateField(_("given on"))
    note = models.TextField(_("note"), blank=True)
    # A private file, for archivists only, under a name made by the server.
    form = models.FileField(
        _("consent form"),
        storage=consent_forms_field_storage,
        upload_to=server_named,
        max_length=255,
        blank=True,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        # The order recorded is the primary key's: the last one is in force.
        ordering = ["testimony", "pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [models.Index(fields=["testimony", "-id"], name="consent_latest_idx")]

    def __str__(self) -> str:
        return f"{self.testimony_id}: {self.scope} ({self.given_on})"


class Appearance(models.Model):
    testimony = models.ForeignKey(
        Testimony,
        verbose_name=_("testimony"),
        on_delete=models.CASCADE,
        related_name="appearances",
    )
    episode = models.ForeignKey(
        Episode,
        verbose_name=_("episode"),
        on_delete=models.PROTECT,
        related_name="appearances",
    )
    start = models.FloatField(_("start (seconds)"))
    end = models.FloatField(_("end (seconds)"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["testimony", "episode", "start", "pk"]
        verbose_name = _("appearance")
        verbose_name_plural = _("appearances")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(end__gte=F("start")),
                name="appearance_times_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.testimony_id} in {self.episode_id}"


class Segment(models.Model):
    class Speaker(models.TextChoices):
        NARRATOR = "narrator", _("narrator")
        INTERVIEWER = "interviewer", _("interviewer")
        OTHER = "other", _("other")

    testimony = models.ForeignKey(
        Testimony,
        verbose_name=_("testimony"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    position = models.PositiveIntegerField(_("position"))
    start = models.FloatField(_("start (seconds)"))
    end = models.FloatField(_("end (seconds)"))
    speaker = models.CharField(_("speaker"), max_length=12, choices=Speaker.choices)
    text = models.TextField(_("original text"))
    # Derived from text and redactions by redaction.public_text, stored by the
    # services in the same transaction. The only text any public channel reads.
    public_text = models.TextField(_("public text"), editable=False)

    class Meta:
        ordering = ["testimony", "position"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(
                fields=["testimony", "position"], name="segment_position_unique"
            ),
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(end__gte=F("start")),
                name="segment_times_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.testimony_id}#{self.position}"


class Redaction(models.Model):
    class Reason(models.TextChoices):
        PERSON = "person", _("person")
        THIRD_PARTY = "third_party", _("third party")
        EMPLOYER = "employer", _("employer")
        LOCATION = "location", _("location")
        HEALTH = "health", _("health")
        OTHER = "other", _("other")

    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        on_delete=models.CASCADE,
        related_name="redactions",
    )
    start = models.PositiveIntegerField(_("start (code points)"))
    end = models.PositiveIntegerField(_("end (code points)"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    label = models.CharField(_("label shown instead"), max_length=100)
    # The time range of the recording it silences, in seconds. Unset, it is its
    # segment's whole range: an unplaced redaction silences too much rather
    # than too little (see ``media_range``).
    media_start = models.FloatField(_("silenced from (seconds)"), null=True, blank=True)
    media_end = models.FloatField(_("silenced until (seconds)"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("redacted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("redacted at"), auto_now_add=True)

    class Meta:
        ordering = ["segment", "start", "pk"]
        verbose_name = _("redaction")
        verbose_name_plural = _("redactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(end__gt=F("start")),
                name="redaction_span_not_empty",
            ),
            models.CheckConstraint(
                condition=(Q(media_start__isnull=True) & Q(media_end__isnull=True))
                | (Q(media_start__gte=0) & Q(media_end__gt=F("media_start"))),
                name="redaction_media_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment_id}[{self.start}:{self.end}] {self.label}"

    def media_range(self) -> tuple[float, float]:
        """The seconds of the recording this redaction silences: its own range
        where a curator placed it, else its segment's whole range."""
        if self.media_start is not None and self.media_end is not None:
            return self.media_start, self.media_end
        return self.segment.start, self.segment.end


class NarratorRequest(models.Model):
    class Kind(models.TextChoices):
        WITHDRAW = "withdraw", _("withdraw")
        PAUSE = "pause", _("pause")
        CORRECT = "correct", _("correct")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        HANDLED = "handled", _("handled")
        DISMISSED = "dismissed", _("dismissed")

    # Null when the code matched no narrator: the request is kept all the same,
    # so that the answer and the stored trace are alike whatever the code.
    narrator = models.ForeignKey(
        Narrator,
        verbose_name=_("narrator"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    reference_code_hash = models.CharField(_("reference code (hashed)"), max_length=71)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    response = models.TextField(_("response"), blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("narrator request")
        verbose_name_plural = _("narrator requests")
        indexes = [models.Index(fields=["narrator", "status", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"


class IdentityAccess(models.Model):
    """One view of a narrator's private identity: who, when, which fields."""

    narrator = models.ForeignKey(
        Narrator, verbose_name=_("narrator"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    fields = models.CharField(_("fields seen"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("identity access")
        verbose_name_plural = _("identity accesses")

    def __str__(self) -> str:
        return f"{self.user_id} saw {self.fields} of {self.narrator_id}"


class Rendition(models.Model):
    """A public rendition of a testimony's recording, or the job of making one.

    It belongs to the exact state it is made from (``state``: the original's
    digest, the silenced ranges, the disguise, sound alone or not; see
    ``media.render.rendition_state``). Once that state changes, the rendition
    is never served again; a new one is made for the new state.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    testimony = models.ForeignKey(
        Testimony,
        verbose_name=_("testimony"),
        on_delete=models.CASCADE,
        related_name="renditions",
    )
    state = models.CharField(_("state made from"), max_length=64)
    audio_only = models.BooleanField(_("sound alone"), default=False)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    # In the renditions storage; empty until the file is stored whole.
    name = models.CharField(_("stored name"), max_length=255, blank=True)
    kind = models.CharField(
        _("media kind"), max_length=8, choices=Testimony.MediaKind.choices, blank=True
    )
    content_type = models.CharField(_("content type"), max_length=60, blank=True)
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["testimony", "-pk"]
        verbose_name = _("rendition")
        verbose_name_plural = _("renditions")
        constraints = [
            models.UniqueConstraint(
                fields=["testimony", "state"], name="rendition_one_per_state"
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | ~Q(name=""),
                name="rendition_ready_is_stored",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.testimony_id}: {self.state[:12]} ({self.status})"
