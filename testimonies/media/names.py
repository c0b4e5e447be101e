"""Where each private file is kept, and the names the server gives them.

A light module (no media library): the models name their storages here.
Every stored name is made here, at random: it tells nothing of the narrator,
nor of the name the file came with.
"""

import re
import secrets
from pathlib import Path

from django.core.files.storage import Storage, storages

ORIGINALS = "media-originals"
RENDITIONS = "media-renditions"
CONSENT_FORMS = "consent-forms"

# The extension of a stored original, after the container that was read.
EXTENSIONS = {
    "wav": ".wav",
    "w64": ".w64",
    "aiff": ".aiff",
    "flac": ".flac",
    "mp3": ".mp3",
    "aac": ".aac",
    "ogg": ".ogg",
    "mov": ".mp4",
    "matroska": ".mkv",
    "avi": ".avi",
}
# What a consent form may be kept as: a scan or a PDF.
FORM_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def server_name(extension: str) -> str:
    """A fresh random name with ``extension`` (e.g. ".ogg")."""
    if not re.fullmatch(r"\.[a-z0-9]{1,5}", extension):
        raise ValueError(f"Not a file extension: {extension!r}")
    return secrets.token_hex(16) + extension


def server_named(instance, filename: str) -> str:
    """``upload_to`` of the private file fields: a fresh name from the server,
    keeping of the uploaded one only a known extension."""
    suffix = Path(filename).suffix.lower()
    known = (*EXTENSIONS.values(), *FORM_EXTENSIONS)
    return server_name(suffix if suffix in known else ".bin")


class Aliased(Storage):
    """The entry ``alias`` of ``STORAGES``, looked up at each use.

    A model field resolves its storage once, when the models load; through
    this one it follows the settings in force (S3 where a bucket is named).
    """

    def __init__(self, alias: str):
        self.alias = alias

    def __repr__(self) -> str:
        return f"<Aliased {self.alias}>"

    @property
    def target(self) -> Storage:
        return storages[self.alias]


def _delegate(method: str):
    def call(self, *args, **kwargs):
        return getattr(self.target, method)(*args, **kwargs)

    call.__name__ = method
    return call


for _method in (
    "open",
    "save",
    "delete",
    "exists",
    "listdir",
    "size",
    "url",
    "path",
    "generate_filename",
    "get_available_name",
    "get_alternative_name",
    "get_valid_name",
    "get_accessed_time",
    "get_created_time",
    "get_modified_time",
):
    setattr(Aliased, _method, _delegate(_method))


def originals_field_storage() -> Storage:
    """The storage of ``Testimony.media``: the originals, as the settings name them."""
    return Aliased(ORIGINALS)


def consent_forms_field_storage() -> Storage:
    """The storage of ``ConsentRecord.form``: the consent forms, likewise."""
    return Aliased(CONSENT_FORMS)
