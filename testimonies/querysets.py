"""The access policy of the archive: one rule, every channel (docs/design.md,
"The access policy").

Every public path starts from ``Testimony.objects.visible_to(user)``; what media
a visitor may get of a testimony is decided beside it, by ``media_offer``. The
default manager stays unfiltered for staff code. States are named through the
models' choices, imported when a rule is built: the models import this module.
"""

from datetime import datetime
from enum import Enum

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import In
from django.utils import timezone

RESEARCHERS_GROUP = "researchers"
CURATORS_GROUP = "curators"
ARCHIVISTS_GROUP = "archivists"
STAFF_PERMISSION = "testimonies.change_testimony"
IDENTITY_PERMISSION = "testimonies.view_identity"


class Tier(Enum):
    PUBLIC = "public"
    RESEARCHER = "researcher"
    STAFF = "staff"


def tier_of(user) -> Tier:
    """The access tier of a user (anonymous and inactive users are public)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Tier.PUBLIC
    if user.has_perm(STAFF_PERMISSION):
        return Tier.STAFF
    if user.groups.filter(name=RESEARCHERS_GROUP).exists():
        return Tier.RESEARCHER
    return Tier.PUBLIC


def scopes_for(tier: Tier) -> tuple[str, ...]:
    """The consent scopes that admit a tier below staff."""
    from .models import ConsentRecord

    Scope = ConsentRecord.Scope
    return {
        Tier.PUBLIC: (Scope.PUBLIC,),
        Tier.RESEARCHER: (Scope.PUBLIC, Scope.RESEARCH),
    }[tier]


def hiding_request_kinds() -> tuple[str, ...]:
    """The narrators' requests that hide their testimonies while pending."""
    from .models import NarratorRequest

    return (NarratorRequest.Kind.WITHDRAW, NarratorRequest.Kind.PAUSE)


class ConsentRecordQuerySet(models.QuerySet):
    def newest_first(self) -> "ConsentRecordQuerySet":
        """Consent records, the one in force first: the last in the order
        recorded, which is the primary key's (a later record of the same day
        wins; ``given_on`` never decreases along a history)."""
        return self.order_by("-pk")


def in_force(field: str) -> Subquery:
    """A field of each testimony's consent in force, in a query (NULL without one)."""
    from .models import ConsentRecord

    return Subquery(
        ConsentRecord.objects.filter(testimony=OuterRef("pk"))
        .newest_first()
        .values(field)[:1]
    )


def visible_q(tier: Tier, now: datetime | None = None) -> Q:
    """The condition for a testimony to be visible to a tier below staff, at ``now``."""
    from .models import NarratorRequest, Testimony

    if tier is Tier.STAFF:
        return Q()
    now = now or timezone.now()
    hiding_request = NarratorRequest.objects.filter(
        narrator=OuterRef("narrator"),
        status=NarratorRequest.Status.PENDING,
        kind__in=hiding_request_kinds(),
    )
    return (
        Q(status=Testimony.Status.PUBLISHED)
        # No consent record gives NULL, which no IN admits: fail closed.
        & Q(In(in_force("scope"), scopes_for(tier)))
        & (Q(embargo_until__isnull=True) | Q(embargo_until__lte=now))
        & ~Q(Exists(hiding_request))
    )


def media_offer() -> Case:
    """Which media of each testimony a visitor who may see it may get, in a
    query: ``audio_video`` the media, ``audio`` its sound only, ``none`` nothing
    (the values of ``ConsentRecord.MediaRelease``).

    The consent in force releases the media, the sound only or nothing; a
    testimony without a media file offers nothing. Video of an anonymous
    narrator is never served: at most its sound. The sound of a video is
    served on its own (a rendition of the sound alone); an audio recording is
    its own sound.
    """
    from .models import ConsentRecord, Narrator, Testimony

    Release = ConsentRecord.MediaRelease
    release = in_force("media")
    video = Q(media_kind=Testimony.MediaKind.VIDEO)
    anonymous = Q(narrator__identity=Narrator.Identity.ANONYMOUS)
    return Case(
        When(media="", then=Value(Release.NONE)),
        When(
            Q(In(release, (Release.AUDIO_VIDEO,))) & ~(video & anonymous),
            then=Value(Release.AUDIO_VIDEO),
        ),
        When(
            Q(In(release, (Release.AUDIO_VIDEO, Release.AUDIO))),
            then=Value(Release.AUDIO),
        ),
        default=Value(Release.NONE),
        output_field=models.CharField(),
    )


def offers_media_q() -> Q:
    """A testimony offers some media to those who may see it (``media_offer``)."""
    from .models import ConsentRecord

    Release = ConsentRecord.MediaRelease
    return Q(In(media_offer(), (Release.AUDIO_VIDEO, Release.AUDIO)))


class TestimonyQuerySet(models.QuerySet):
    def visible_to(self, user, *, now: datetime | None = None) -> "TestimonyQuerySet":
        """The testimonies ``user`` may see now; the one access rule of the archive."""
        return self.visible_to_tier(tier_of(user), now=now)

    def visible_to_tier(
        self, tier: Tier, *, now: datetime | None = None
    ) -> "TestimonyQuerySet":
        if tier is Tier.STAFF:
            return self.all()
        return self.filter(visible_q(tier, now))

    def with_media_offer(self) -> "TestimonyQuerySet":
        """Each testimony with ``media_offer``: the media those who see it may get."""
        return self.annotate(media_offer=media_offer())

    def searchable(self) -> "TestimonyQuerySet":
        """The testimonies the search index holds (see ``searchable_q``)."""
        return self.filter(searchable_q())


def media_offer_for(testimony, user) -> str:
    """Which media of ``testimony`` ``user`` may get now (``media_offer``):
    nothing of a testimony they may not see."""
    from .models import ConsentRecord, Testimony

    offer = (
        Testimony.objects.visible_to(user)
        .filter(pk=testimony.pk)
        .with_media_offer()
        .values_list("media_offer", flat=True)
        .first()
    )
    return offer or ConsentRecord.MediaRelease.NONE


def searchable_q() -> Q:
    """The testimonies whose public text the search index keeps.

    Not the access rule: search still starts from ``visible_to``. This decides
    only what the index holds at all, so that a withdrawal or a retirement takes
    a testimony's words out of the index in the same transaction.
    """
    from .models import ConsentRecord, NarratorRequest, Testimony

    withdrawal_pending = NarratorRequest.objects.filter(
        narrator=OuterRef("narrator"),
        status=NarratorRequest.Status.PENDING,
        kind=NarratorRequest.Kind.WITHDRAW,
    )
    return (
        ~Q(status=Testimony.Status.RETIRED)
        # A draft without consent yet keeps its text: no record is not withdrawn.
        & ~Q(
            In(
                Coalesce(in_force("scope"), Value("")),
                (ConsentRecord.Scope.WITHDRAWN,),
            )
        )
        & ~Q(Exists(withdrawal_pending))
    )
