"""Staff hear the original in the admin; archivists alone open signed consent
forms, and each opening is logged like a view of the narrator's identity."""

import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from testimonies.media import storage
from testimonies.media.plan import rendition_plan
from testimonies.models import ConsentRecord, IdentityAccess, Rendition

from ..factories import UserFactory
from .archive import heard_testimony

pytestmark = pytest.mark.django_db


def staff(user):
    user.is_staff = True
    user.save()
    return user


def original_url(testimony):
    return reverse("admin:testimonies_testimony_original", args=[testimony.pk])


def original_bytes(testimony) -> bytes:
    with storage.originals().open(testimony.media.name, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("role", ["curator", "archivist"])
def test_staff_hear_the_original_as_recorded_with_ranges(client, request, role):
    testimony = heard_testimony()
    client.force_login(staff(request.getfixturevalue(role)))
    whole = client.get(original_url(testimony))
    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == original_bytes(testimony)
    assert whole["Content-Type"] == "audio/x-wav"
    part = client.get(original_url(testimony), HTTP_RANGE="bytes=44-1043")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == original_bytes(testimony)[44:1044]


def test_nobody_outside_staff_reaches_the_original(client, researcher):
    testimony = heard_testimony()
    assert client.get(original_url(testimony)).status_code == 302  # to sign in
    # Even a member of the admin without the permission to change testimonies.
    client.force_login(staff(researcher))
    assert client.get(original_url(testimony)).status_code == 403


def test_the_original_is_never_what_the_public_view_serves(client):
    testimony = heard_testimony()
    call_command("process_media", verbosity=0)
    public = client.get(f"/testimonies/{testimony.slug}/media")
    assert b"".join(public.streaming_content) != original_bytes(testimony)


@pytest.fixture
def signed_form():
    testimony = heard_testimony()
    record = testimony.consent_records.get()
    name = storage.consent_forms().save(
        storage.server_name(".pdf"), ContentFile(b"%PDF-1.4 signed by the narrator")
    )
    ConsentRecord.objects.filter(pk=record.pk).update(form=name)
    return testimony, record


def form_url(testimony, record):
    return reverse(
        "admin:testimonies_testimony_consent_form", args=[testimony.pk, record.pk]
    )


def test_an_archivist_opens_a_signed_form_and_the_view_is_logged(
    client, archivist, signed_form
):
    testimony, record = signed_form
    client.force_login(staff(archivist))
    response = client.get(form_url(testimony, record))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 signed by the narrator"
    assert response["Content-Type"] == "application/pdf"
    access = IdentityAccess.objects.get()
    assert (access.user, access.narrator) == (archivist, testimony.narrator)
    assert access.fields == "consent_form"
    assert testimony.slug in access.purpose


def test_a_curator_cannot_open_a_signed_form_and_nothing_is_logged(
    client, curator, signed_form
):
    testimony, record = signed_form
    client.force_login(staff(curator))
    assert client.get(form_url(testimony, record)).status_code == 403
    assert not IdentityAccess.objects.exists()


def test_a_record_without_a_form_answers_404(client, archivist):
    testimony = heard_testimony()
    client.force_login(staff(archivist))
    record = testimony.consent_records.get()
    assert client.get(form_url(testimony, record)).status_code == 404
    assert not IdentityAccess.objects.exists()


def test_the_change_page_says_what_the_public_hears_and_links_the_original(
    client, curator
):
    testimony = heard_testimony()
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert original_url(testimony).encode() in page.content
    assert "En préparation" in page.text
    call_command("process_media", verbosity=0)
    assert "Prête" in client.get(url).text


def test_the_signed_form_link_is_shown_to_archivists_only(
    client, archivist, signed_form
):
    testimony, record = signed_form
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    client.force_login(staff(UserFactory(groups=["curators"])))
    assert form_url(testimony, record).encode() not in client.get(url).content
    client.force_login(staff(archivist))
    assert form_url(testimony, record).encode() in client.get(url).content


def test_the_change_page_says_a_rendition_failed_and_why(client, curator):
    testimony = heard_testimony()
    rendition = Rendition.objects.create(
        testimony=testimony,
        state=rendition_plan(testimony).state,
        status=Rendition.Status.FAILED,
        attempts=3,
        error="OSError: the disk is full",
    )
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    page = client.get(url).text
    assert "Échec (tentatives faites : 3)" in page
    assert rendition.error in page


def test_on_s3_staff_get_a_short_lived_url_of_the_original(client, curator, s3):
    testimony = heard_testimony()
    client.force_login(staff(curator))
    response = client.get(original_url(testimony))
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path.endswith(f"/archive/originals/{testimony.media.name}")
    assert int(parse_qs(url.query)["X-Amz-Expires"][0]) <= 300
    assert urllib.request.urlopen(response["Location"]).read() == original_bytes(
        testimony
    )
