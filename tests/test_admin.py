import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from testimonies import search, services
from testimonies.models import IdentityAccess, Narrator, Redaction, Segment, Testimony

from .factories import (
    JobTypeFactory,
    NarratorFactory,
    SegmentFactory,
    TestimonyFactory,
    ThemeFactory,
    indexed_testimony,
)
from .search.index import assert_index_exact, index_held

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


@pytest.mark.parametrize(
    "language, named",
    [("fr", "numéro de téléphone"), ("en", "phone number")],
)
def test_admin_publish_action_goes_through_the_publication_gate(
    client, curator, language, named
):
    testimony = TestimonyFactory(consent="public", status=Testimony.Status.IN_REVIEW)
    SegmentFactory(testimony=testimony, text="Appelez-moi au 06 12 34 56 78.")
    client.force_login(staff(curator))
    with translation.override(language):
        url = reverse("admin:testimonies_testimony_changelist")
    response = client.post(
        url, {"action": "publish", "_selected_action": [testimony.pk]}, follow=True
    )
    # The refusal names what it found, in the curator's language.
    assert named in response.content.decode()
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.IN_REVIEW


def post_testimony_change(
    client, testimony, *, title=None, new_consent=None, extra=None
):
    """The change form of a testimony as the admin renders it, with edits."""
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: form.initial.get(name, "")
        for name in form.fields
        if name != "media_upload"
    }
    records = list(testimony.consent_records.order_by("pk"))
    data.update(
        {
            "narrator": testimony.narrator_id,
            "content_warnings": "[]",
            "themes": [],
            "consent_records-TOTAL_FORMS": str(len(records) + 1),
            "consent_records-INITIAL_FORMS": str(len(records)),
            "segments-TOTAL_FORMS": "0",
            "segments-INITIAL_FORMS": "0",
        }
    )
    for index, record in enumerate(records):
        data[f"consent_records-{index}-id"] = record.pk
        data[f"consent_records-{index}-testimony"] = testimony.pk
    new = len(records)
    data[f"consent_records-{new}-testimony"] = testimony.pk
    if new_consent:
        for key, value in new_consent.items():
            data[f"consent_records-{new}-{key}"] = value
    if title is not None:
        data["title"] = title
    data.update(extra or {})
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(url, data)


def test_admin_consent_is_added_through_the_service_by_its_curator(client, curator):
    testimony = TestimonyFactory(consent="public")
    client.force_login(staff(curator))
    response = post_testimony_change(
        client,
        testimony,
        new_consent={"scope": "withdrawn", "media": "none", "given_on": "2024-03-01"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = testimony.consent_in_force()
    assert latest.scope == "withdrawn"
    assert latest.recorded_by == curator
    assert latest.given_on == dt.date(2024, 3, 1)


def test_admin_consent_dated_before_the_one_in_force_is_refused_and_nothing_saved(
    client, curator
):
    testimony = TestimonyFactory(consent="public", title="Avant")
    client.force_login(staff(curator))
    response = post_testimony_change(
        client,
        testimony,
        title="Après",
        new_consent={"scope": "withdrawn", "media": "none", "given_on": "2020-01-01"},
    )
    assert response.status_code == 200
    assert "ne remonte jamais le temps" in response.content.decode()
    testimony.refresh_from_db()
    assert testimony.title == "Avant"
    assert testimony.consent_records.count() == 1


def test_admin_narrator_change_that_would_expose_sends_testimonies_to_review(
    client, archivist
):
    narrator = NarratorFactory(legal_name="Jeanne-Marie Durandal")
    testimony = TestimonyFactory(narrator=narrator, published=True, consent="public")
    client.force_login(staff(archivist))
    url = reverse("admin:testimonies_narrator_change", args=[narrator.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(
        {
            "descriptor_fr": "Jeanne-Marie, livreuse",
            "job_types": [],
            "sensitive_terms": "[]",
            "birth_decade": "",
        }
    )
    response = client.post(url, data, follow=True)
    assert "repassés en relecture" in response.content.decode()
    testimony.refresh_from_db()
    assert testimony.status == Testimony.Status.IN_REVIEW


def test_admin_narrator_form_shown_again_with_errors_is_logged_as_an_identity_view(
    client, archivist
):
    narrator = NarratorFactory(legal_name="Jeanne-Marie Durandal")
    client.force_login(staff(archivist))
    url = reverse("admin:testimonies_narrator_change", args=[narrator.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update({"key": "Bad_Key", "job_types": [], "sensitive_terms": "[]"})
    data["birth_decade"] = ""
    response = client.post(url, data)
    assert response.status_code == 200
    assert b"Durandal" in response.content
    # One view for the page shown, one for the page shown again with its errors.
    assert IdentityAccess.objects.filter(narrator=narrator, user=archivist).count() == 2


def test_admin_changelist_shows_the_consent_in_force_in_a_fixed_number_of_queries(
    client, curator, django_assert_max_num_queries
):
    TestimonyFactory(consent=["public", "withdrawn"], title="Retirée")
    TestimonyFactory(title="Sans consentement")
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_testimony_changelist")
    client.get(url)  # warm the session and permission caches
    TestimonyFactory.create_batch(10, consent="public")
    with django_assert_max_num_queries(12):
        page = client.get(url).content.decode()
    assert "retiré" in page
    assert "aucun" in page


def test_admin_edits_of_searched_metadata_reach_the_index_at_once(client, curator):
    testimony = indexed_testimony("quai", "Le quai de chargement.", published=False)
    client.force_login(staff(curator))
    staff_view = Testimony.objects.all()
    assert search.search("chrysanthème", staff_view).total == 0
    response = post_testimony_change(client, testimony, title="Un chrysanthème")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [h.testimony for h in search.search("chrysanthème", staff_view).hits] == [
        testimony
    ]
    assert_index_exact()


def test_admin_renaming_a_job_type_reaches_the_index(client, curator):
    job = JobTypeFactory(name_fr="Livreur")
    testimony = indexed_testimony("pluie", "Sous la pluie.")
    testimony.narrator.job_types.set([job])
    services.search_reindex(testimony_ids=[testimony.pk])
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_jobtype_change", args=[job.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["name_fr"] = "Coursier nocturne"
    assert client.post(url, data).status_code == 302
    staff_view = Testimony.objects.all()
    assert search.search("nocturne", staff_view).total == 1
    assert search.search("livreur", staff_view).total == 0


def test_admin_deleting_a_testimony_takes_it_out_of_the_index(
    client, django_user_model
):
    # Only a superuser may delete a testimony; the groups have no such permission.
    testimony = indexed_testimony("quai", "Le quai de chargement.")
    client.force_login(django_user_model.objects.create_superuser("root", "", "pw"))
    url = reverse("admin:testimonies_testimony_delete", args=[testimony.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Testimony.objects.filter(pk=testimony.pk).exists()
    assert_index_exact()
    assert index_held()["segments"] == {}


# --- Every edit of a published testimony goes through the services ------------

LEGAL_NAME = "Jeanne-Marie Durandal"


def change_form_data(client, testimony) -> dict:
    """What the change form of a testimony posts back as it is rendered."""
    url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        if name == "media":
            continue
        value = form[name].value()
        if value is None:
            value = ""
        data[name] = value
    records = list(testimony.consent_records.order_by("pk"))
    data.update(
        {
            "consent_records-TOTAL_FORMS": str(len(records)),
            "consent_records-INITIAL_FORMS": str(len(records)),
            "segments-TOTAL_FORMS": "0",
            "segments-INITIAL_FORMS": "0",
        }
    )
    for index, record in enumerate(records):
        data[f"consent_records-{index}-id"] = record.pk
        data[f"consent_records-{index}-testimony"] = testimony.pk
    return data


def stored(testimony) -> tuple:
    """Everything of a testimony that an edit could change, as stored."""
    row = Testimony.objects.filter(pk=testimony.pk).values().get()
    themes = sorted(testimony.themes.values_list("pk", flat=True))
    return row, themes, index_held()


@pytest.fixture
def published(db):
    """A published testimony of a pseudonymous narrator with a legal name."""
    narrator = NarratorFactory(legal_name=LEGAL_NAME)
    testimony = indexed_testimony(
        "le-quai", "Le quai de chargement, la nuit.", narrator=narrator
    )
    testimony.interviewer = "Une enquêtrice"
    testimony.save(update_fields=["interviewer"])
    return testimony


def exposed_narrator():
    """A narrator whose public name is their legal name, under a pseudonym's
    disclosure: choosing them exposes them."""
    return NarratorFactory(public_name="Paul Quennec", legal_name="Paul Quennec").pk


# Each editable field of the change form, and a value that exposes a narrator.
LEAKS = {
    "slug": lambda: "le-quai-de-durandal",
    "title": lambda: "Le quai, par Durandal",
    "summary": lambda: "Jeanne-Marie raconte ses nuits.",
    "place": lambda: "Chez Durandal, Pantin",
    "interviewer": lambda: "jeanne.durandal@exemple.org",
    "content_warnings": lambda: '["violence", "appelez le 06 12 34 56 78"]',
    "narrator": exposed_narrator,
}
# Fields that are never public: what they hold is the curators' own.
PRIVATE = {"curator_notes"}
# Fields that hold no text of their own: a code, a date, a choice among
# existing rows, a file (whose kind and duration are read from it, never typed).
WITHOUT_TEXT = {"language", "recorded_on", "themes", "media_upload"}


def test_every_field_of_the_change_form_is_accounted_for(client, curator, published):
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    fields = set(client.get(url).context["adminform"].form.fields)
    assert fields == set(LEAKS) | PRIVATE | WITHOUT_TEXT


@pytest.mark.parametrize("field", LEAKS)
def test_a_leak_in_any_editable_field_of_a_published_testimony_is_refused(
    client, curator, published, field
):
    client.force_login(staff(curator))
    data = change_form_data(client, published)
    data[field] = LEAKS[field]()
    before = stored(published)

    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    response = client.post(url, data)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert stored(published) == before


def test_a_clean_edit_of_a_published_testimony_is_saved_and_searched(
    client, curator, published
):
    client.force_login(staff(curator))
    data = change_form_data(client, published)
    data["title"] = "Le quai des chrysanthèmes"
    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    assert client.post(url, data).status_code == 302
    published.refresh_from_db()
    assert published.title == "Le quai des chrysanthèmes"
    assert published.status == Testimony.Status.PUBLISHED
    public = Testimony.objects.visible_to(None)
    assert [h.testimony for h in search.search("chrysanthèmes", public).hits] == [
        published
    ]


def test_private_curator_notes_take_what_the_curators_write(client, curator, published):
    client.force_login(staff(curator))
    data = change_form_data(client, published)
    data["curator_notes"] = f"Rappeler {LEGAL_NAME} avant la mise en ligne."
    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    assert client.post(url, data).status_code == 302
    published.refresh_from_db()
    assert LEGAL_NAME in published.curator_notes


@pytest.mark.parametrize("state", ["published", "retired"])
def test_the_slug_of_a_testimony_once_published_is_permanent(
    client, curator, published, state
):
    if state == "retired":
        services.testimony_set_status(
            testimony=published, status=Testimony.Status.RETIRED
        )
    client.force_login(staff(curator))
    data = change_form_data(client, published)
    data["slug"] = "une-autre-adresse"
    before = stored(published)

    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    response = client.post(url, data)

    assert response.status_code == 200
    assert "slug" in response.context["adminform"].form.errors
    assert stored(published) == before


def test_the_slug_of_a_draft_can_change(client, curator):
    draft = TestimonyFactory(slug="premier-jet", consent="public")
    client.force_login(staff(curator))
    data = change_form_data(client, draft)
    data["slug"] = "second-jet"
    url = reverse("admin:testimonies_testimony_change", args=[draft.pk])
    assert client.post(url, data).status_code == 302
    draft.refresh_from_db()
    assert draft.slug == "second-jet"


def test_a_refusal_that_only_the_service_finds_is_shown_and_nothing_saved(
    client, curator, published, monkeypatch
):
    # As when another curator's change lands between the form's check and the
    # save: the service, under its lock, refuses on its own.
    monkeypatch.setattr(services, "testimony_check_update", lambda **kwargs: None)
    client.force_login(staff(curator))
    data = change_form_data(client, published)
    data["title"] = "Le quai, par Durandal"
    before = stored(published)

    url = reverse("admin:testimonies_testimony_change", args=[published.pk])
    response = client.post(url, data, follow=True)

    assert response.redirect_chain[-1][0].endswith(url)
    assert "publication refusée" in response.content.decode()
    assert stored(published) == before


def test_a_theme_cannot_be_made_its_own_ancestor_in_the_admin(client, curator):
    parent = ThemeFactory(slug="organisation")
    child = ThemeFactory(slug="syndicats", parent=parent)
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_theme_change", args=[parent.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["parent"] = child.pk

    response = client.post(url, data)

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    parent.refresh_from_db()
    assert parent.parent is None


def test_a_narrator_added_in_the_admin_gets_their_job_types(client, archivist):
    job = JobTypeFactory(slug="moderation")
    client.force_login(staff(archivist))
    url = reverse("admin:testimonies_narrator_add")
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(
        {
            "key": "nouvelle-voix",
            "public_name": "Nouvelle voix",
            "identity": "pseudonym",
            "job_types": [job.pk],
            "sensitive_terms": "[]",
        }
    )
    assert client.post(url, data).status_code == 302
    narrator = Narrator.objects.get(key="nouvelle-voix")
    assert list(narrator.job_types.all()) == [job]


# --- Redactions: added, placed in the recording and lifted through the services ---


@pytest.fixture
def recorded_segment(db):
    testimony = TestimonyFactory()
    Testimony.objects.filter(pk=testimony.pk).update(
        media="0123456789abcdef0123456789abcdef.wav",
        media_kind="audio",
        media_duration=90.0,
    )
    return services.segment_create(
        testimony=testimony, start=30, end=45, speaker="narrator", text="Je suis Lina."
    )


def redaction_data(segment, **fields):
    data = {
        "segment": segment.pk,
        "start": 8,
        "end": 12,
        "reason": "person",
        "label": "",
        "note": "",
        "media_start": "",
        "media_end": "",
    }
    data.update(fields)
    return data


def test_a_redaction_added_in_the_admin_is_placed_in_the_recording(
    client, curator, recorded_segment
):
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_redaction_add")
    form = client.get(url).context["adminform"].form
    assert {"media_start", "media_end"} <= set(form.fields)

    response = client.post(
        url, redaction_data(recorded_segment, media_start="33.5", media_end="34.25")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    redaction = Redaction.objects.get()
    assert redaction.media_range() == (33.5, 34.25)
    assert redaction.created_by == curator
    # Through the service: the public text hides the words, the label defaulted.
    segment = Segment.objects.get(pk=recorded_segment.pk)
    assert "Lina" not in segment.public_text
    assert redaction.label in segment.public_text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"media_start": "20", "media_end": "12"}, "media_end", "doit venir après"),
        ({"media_start": "85", "media_end": "91"}, "media_end", "90 s"),
        ({"media_start": "20"}, "media_end", "media_end"),
        ({"media_end": "20"}, "media_start", "media_start"),
    ],
)
def test_a_silenced_range_the_services_refuse_is_shown_at_its_field(
    client, curator, recorded_segment, fields, field, message
):
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_redaction_add")

    response = client.post(url, redaction_data(recorded_segment, **fields))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not Redaction.objects.exists()


def test_the_admin_places_an_existing_redaction_and_nothing_else_of_it(
    client, curator, recorded_segment
):
    redaction = services.segment_redact(
        segment=recorded_segment, start=8, end=12, reason="person"
    )
    client.force_login(staff(curator))
    url = reverse("admin:testimonies_redaction_change", args=[redaction.pk])
    form = client.get(url).context["adminform"].form
    # The span and its label are read-only: their public text has a service.
    assert set(form.fields) == {"media_start", "media_end"}

    response = client.post(url, {"media_start": "31", "media_end": "32.5"})

    assert response.status_code == 302, response.content.decode()[:2000]
    redaction.refresh_from_db()
    assert redaction.media_range() == (31, 32.5)
    assert (redaction.start, redaction.end) == (8, 12)


def test_a_redaction_deleted_in_the_admin_is_lifted_through_the_service(
    admin_client, recorded_segment
):
    # Curators and archivists delete nothing; a superuser may.
    redaction = services.segment_redact(
        segment=recorded_segment, start=8, end=12, reason="person"
    )
    url = reverse("admin:testimonies_redaction_delete", args=[redaction.pk])

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Redaction.objects.exists()
    assert Segment.objects.get(pk=recorded_segment.pk).public_text == "Je suis Lina."


def test_the_redaction_list_shows_what_each_silences(client, curator, recorded_segment):
    services.segment_redact(
        segment=recorded_segment,
        start=0,
        end=2,
        reason="other",
        media_start=30.5,
        media_end=31,
    )
    services.segment_redact(segment=recorded_segment, start=8, end=12, reason="person")
    client.force_login(staff(curator))

    page = client.get(reverse("admin:testimonies_redaction_changelist"))

    text = page.content.decode()
    assert "30.5–31" in text
    assert "30–45" in text


@pytest.mark.parametrize(
    "language, name",
    [
        ("fr", "Archive des témoignages des travailleurs du clic"),
        ("en", "Archive of click workers' testimonies"),
    ],
)
def test_the_workspace_carries_the_archives_name_in_the_curators_language(
    client, curator, language, name
):
    client.force_login(staff(curator))
    with translation.override(language):
        url = reverse("admin:index")
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert f'<a href="{url}">{name}</a>' in text.replace("&#x27;", "'")
    assert "Django" not in text.split("<body", 1)[1].split('id="content"', 1)[0]


@pytest.mark.parametrize("identity", ["anonymous", "pseudonym", "named"])
def test_the_workspace_says_what_a_disguise_does_and_does_not_protect_against(
    client, curator, identity
):
    testimony = TestimonyFactory(narrator=NarratorFactory(identity=identity))
    client.force_login(staff(curator))
    with translation.override("en"):
        url = reverse("admin:testimonies_testimony_change", args=[testimony.pk])
    text = client.get(url).content.decode()
    shown = "heard only through a disguised voice" in text
    assert shown is (identity == "anonymous")
    if shown:
        assert "does not change the pitch" in text
        assert "not proof against a determined attempt" in text
