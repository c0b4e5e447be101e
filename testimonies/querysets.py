"""The access policy of the archive: one rule, every channel (DESIGN.md).

Every public path starts from ``Testimony.objects.visible_to(user)``. The default
manager stays unfiltered for staff code.
"""

from datetime import datetime
from enum import Enum

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery, Value
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


# Which consent scopes admit which tier; staff see everything.
SCOPES_FOR_TIER = {
    Tier.PUBLIC: ("public",),
    Tier.RESEARCHER: ("public", "research"),
}
HIDING_REQUEST_KINDS = ("withdraw", "pause")
# The consent in force is the last record in the order recorded: the newest
# first by this ordering. Shared by the access rule and Testimony.consent_in_force.
CONSENT_NEWEST_FIRST = "-pk"


def tier_of(user) -> Tier:
    """The access tier of a user (anonymous and inactive users are public)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Tier.PUBLIC
    if user.has_perm(STAFF_PERMISSION):
        return Tier.STAFF
    if user.groups.filter(name=RESEARCHERS_GROUP).exists():
        return Tier.RESEARCHER
    return Tier.PUBLIC


def in_force(field: str) -> Subquery:
    """A field of each testimony's consent in force, in a query (NULL without one)."""
    from .models import ConsentRecord

    return Subquery(
        ConsentRecord.objects.filter(testimony=OuterRef("pk"))
        .order_by(CONSENT_NEWEST_FIRST)
        .values(field)[:1]
    )


def visible_q(tier: Tier, now: datetime | None = None) -> Q:
    """The condition for a testimony to be visible to a tier below staff, at ``now``."""
    from .models import NarratorRequest

    if tier is Tier.STAFF:
        return Q()
    now = now or timezone.now()
    scope_in_force = in_force("scope")
    hiding_request = NarratorRequest.objects.filter(
        narrator=OuterRef("narrator"),
        status="pending",
        kind__in=HIDING_REQUEST_KINDS,
    )
    return (
        Q(status="published")
        # No consent record gives NULL, which no IN admits: fail closed.
        & Q(In(scope_in_force, SCOPES_FOR_TIER[tier]))
        & (Q(embargo_until__isnull=True) | Q(embargo_until__lte=now))
        & ~Q(Exists(hiding_request))
    )


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

    def searchable(self) -> "TestimonyQuerySet":
        """The testimonies the search index holds (see ``searchable_q``)."""
        return self.filter(searchable_q())


def searchable_q() -> Q:
    """The testimonies whose public text the search index keeps.

    Not the access rule: search still starts from ``visible_to``. This decides
    only what the index holds at all, so that a withdrawal or a retirement takes
    a testimony's words out of the index in the same transaction.
    """
    from .models import NarratorRequest

    scope_in_force = in_force("scope")
    withdrawal_pending = NarratorRequest.objects.filter(
        narrator=OuterRef("narrator"), status="pending", kind="withdraw"
    )
    return (
        ~Q(status="retired")
        # A draft without consent yet keeps its text: no record is not withdrawn.
        & ~Q(In(Coalesce(scope_in_force, Value("")), ("withdrawn",)))
        & ~Q(Exists(withdrawal_pending))
    )
