"""Model fields of the archive: text encrypted at rest."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet_for(keys: str) -> MultiFernet:
    try:
        return MultiFernet(
            [Fernet(key.strip()) for key in keys.split(",") if key.strip()]
        )
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "ARCHIVE_FIELD_KEY must be one or more Fernet keys separated by commas "
            "(Fernet.generate_key())."
        ) from error


def field_cipher() -> MultiFernet:
    """The cipher of legal identities, from ARCHIVE_FIELD_KEY, read at call time."""
    return _fernet_for(settings.ARCHIVE_FIELD_KEY)


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token: the database never holds the plaintext.

    An empty value stays empty so that "nothing recorded" needs no decryption.
    Encrypted values cannot be searched or ordered in SQL, by design.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return field_cipher().encrypt(value.encode("utf-8")).decode("ascii")

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return field_cipher().decrypt(value.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise ImproperlyConfigured(
                "An encrypted field could not be decrypted with ARCHIVE_FIELD_KEY: "
                "is the key the one the data was written with?"
            ) from error
