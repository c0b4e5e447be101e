import datetime as dt

import pytest
from django.urls import reverse

from testimonies.models import IdentityAccess, Testimony

from .factories import NarratorFactory, SegmentFactory, TestimonyFactory

pytestmark = pytest.mark.django_db


def staff(user):
    user.is_staff = True
    user.save()
    return user


def test_curator_admin_never_shows_a_legal_name(client, curator):
    narrator = NarratorFactory(legal_name="Jeanne-Marie Durandal")
    client.force_login(staff(curator))
    page = client.get(reverse("admin:testimonies_narrator_change", args=[narrator.pk]))
    assert page.status_code == 200
    assert b"Durandal" not in page.content
    assert not IdentityAccess.objects.exists()


def test_archivist_admin_shows_the_legal_name_and_logs_the_view(client, archivist):
    narrator = NarratorFactory(legal_name="Jeanne-Marie Durandal")
    client.force_login(staff(archivist))
    page = client.get(reverse("admin:testimonies_narrator_change", args=[narrator.pk]))
    assert b"Durandal" in page.content
    access = IdentityAccess.objects.get()
    assert (access.user, access.narrator) == (archivist, narrator)


def test_admin_publish_action_goes_through_the_publication_gate(client, curator):
    testimony = TestimonyFactory(consent="public", status=Testimony.Status.IN_REVIEW)
    SegmentFactory(testimony=testimony, text="Appelez-moi au 06 12 34 56 78.")
    client.force_login(staff(curator))
    response = client.post(
        reverse("admin:testimonies_testimony_changelist"),
        {"action": "publish", "_selected_action": [testimony.pk]},
        follow=True,
    )
    assert "phone number" in response.content.decode()
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.IN_REVIEW


def test_admin_consent_is_added_through_the_service_by_its_curator(client, curator):
    testimony = TestimonyFactory(consent="public")
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields if name != "media"}
    data.update(
        {
            "narrator": testimony.narrator_id,
            "content_warnings": "[]",
            "themes": [],
            "consent_records-TOTAL_FORMS": "2",
            "consent_records-INITIAL_FORMS": "1",
            "consent_records-0-id": testimony.consent_records.get().pk,
            "consent_records-0-testimony": testimony.pk,
            "consent_records-1-testimony": testimony.pk,
            "consent_records-1-scope": "withdrawn",
            "consent_records-1-media": "none",
            "consent_records-1-given_on": "2024-03-01",
            "segments-TOTAL_FORMS": "0",
            "segments-INITIAL_FORMS": "0",
        }
    )
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = testimony.consent_in_force()
    assert latest.scope == "withdrawn"
    assert latest.recorded_by == curator
    assert latest.given_on == dt.date(2024, 3, 1)
