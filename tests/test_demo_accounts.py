"""Demo accounts: one per role in the demo, refused by production settings."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from testimonies.demo_accounts import demo_accounts_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    with override_settings(ARCHIVE_DEMO_ACCOUNTS=True):
        return {account.role: account for account in demo_accounts_create()}


def test_the_demo_makes_one_account_per_role_in_its_group(accounts):
    from django.contrib.auth import get_user_model

    assert set(accounts) == {"curator", "archivist", "researcher"}
    for role, group in [
        ("curator", "curators"),
        ("archivist", "archivists"),
        ("researcher", "researchers"),
    ]:
        user = get_user_model().objects.get(username=accounts[role].username)
        assert group in set(user.groups.values_list("name", flat=True))
        assert not user.is_superuser


def test_each_password_is_new_each_time_the_demo_starts(accounts):
    with override_settings(ARCHIVE_DEMO_ACCOUNTS=True):
        again = {account.role: account for account in demo_accounts_create()}
    for role in accounts:
        assert again[role].password != accounts[role].password
        assert len(again[role].password) >= 16


@override_settings(ARCHIVE_DEMO_ACCOUNTS=True)
@pytest.mark.parametrize(
    "role, enters", [("curator", True), ("archivist", True), ("researcher", False)]
)
def test_in_the_demo_each_account_logs_in_and_only_staff_enter_the_workspace(
    client, accounts, role, enters
):
    account = accounts[role]
    assert client.login(username=account.username, password=account.password)
    page = client.get(reverse("admin:index"))
    assert (page.status_code == 200) is enters
    if not enters:
        assert page.status_code == 302


def test_production_settings_never_make_them():
    with pytest.raises(ImproperlyConfigured, match="demo only"):
        demo_accounts_create()


def test_production_settings_never_accept_them(client, accounts):
    # Their rows carried into a production database: no login, and a session
    # opened in the demo is no longer anyone's.
    curator = accounts["curator"]
    with override_settings(ARCHIVE_DEMO_ACCOUNTS=True):
        assert client.login(username=curator.username, password=curator.password)
        assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302
    client.logout()
    assert not client.login(username=curator.username, password=curator.password)


def test_other_accounts_log_in_as_before(client, curator):
    curator.set_password("a long enough password")
    curator.save()
    assert client.login(username=curator.username, password="a long enough password")
