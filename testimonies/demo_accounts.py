"""Demo accounts: one per role, made by ``demo`` and printed when it starts.

They exist for a visitor trying the demo on their own machine, and nowhere
else: they are made only where ``ARCHIVE_DEMO_ACCOUNTS`` is on (development
settings, ``DJANGO_DEBUG=1``), and the archive's authentication backend
refuses them everywhere else, even if their rows were carried into a
production database.
"""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

# The marker of a demo account: a group that grants nothing.
DEMO_GROUP = "demo accounts"
# Role, the group of the access policy it belongs to, and whether it enters
# the curators' workspace.
ROLES = (
    ("curator", "curators", True),
    ("archivist", "archivists", True),
    ("researcher", "researchers", False),
)


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str


def enabled() -> bool:
    return bool(getattr(settings, "ARCHIVE_DEMO_ACCOUNTS", False))


@transaction.atomic
def demo_accounts_create() -> list[DemoAccount]:
    """Make (or make again) the demo's account of each role, each with a new
    password, returned so that it can be printed."""
    if not enabled():
        raise ImproperlyConfigured(
            "Demo accounts exist in the demo only (ARCHIVE_DEMO_ACCOUNTS, on with "
            "DJANGO_DEBUG=1)."
        )
    marker, _ = Group.objects.get_or_create(name=DEMO_GROUP)
    accounts = []
    for role, group_name, staff in ROLES:
        user, _ = get_user_model().objects.get_or_create(username=f"demo-{role}")
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.is_staff = staff
        user.is_superuser = False
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=group_name), marker])
        accounts.append(DemoAccount(role, user.username, password))
    return accounts


def is_demo_account(user) -> bool:
    return user.groups.filter(name=DEMO_GROUP).exists()


class ArchiveModelBackend(ModelBackend):
    """Django's own backend, which refuses demo accounts outside the demo: at
    login, and for a session opened before."""

    def user_can_authenticate(self, user):
        if not super().user_can_authenticate(user):
            return False
        return enabled() or not is_demo_account(user)
