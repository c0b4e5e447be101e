import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from testimonies.fields import field_cipher
from testimonies.models import Narrator

from .factories import NarratorFactory

pytestmark = pytest.mark.django_db


def raw_legal_name(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name FROM testimonies_narrator WHERE id = %s", [pk]
        )
        return cursor.fetchone()[0]


def test_rotation_re_encrypts_identities_so_the_old_key_can_be_dropped(settings):
    old_key = settings.ARCHIVE_FIELD_KEY
    narrator = NarratorFactory(legal_name="Jeanne-Marie Durandal")
    new_key = Fernet.generate_key().decode()

    settings.ARCHIVE_FIELD_KEY = f"{new_key},{old_key}"
    call_command("rotate_field_key", verbosity=0)
    token = raw_legal_name(narrator.pk)
    assert "Durandal" not in token

    settings.ARCHIVE_FIELD_KEY = new_key
    assert Fernet(new_key).decrypt(token.encode()).decode() == "Jeanne-Marie Durandal"
    assert Narrator.objects.get(pk=narrator.pk).legal_name == "Jeanne-Marie Durandal"


def test_cipher_follows_the_configured_key(settings):
    settings.ARCHIVE_FIELD_KEY = Fernet.generate_key().decode()
    token = field_cipher().encrypt(b"x")
    assert Fernet(settings.ARCHIVE_FIELD_KEY).decrypt(token) == b"x"
