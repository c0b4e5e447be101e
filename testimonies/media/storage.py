"""Where media is kept: originals, public renditions and consent forms, apart.

Three named entries of ``STORAGES`` (see ``archive/settings.py``): folders of
``MEDIA_ROOT`` that no URL serves, or prefixes of a private S3 bucket. Every
stored name is made by ``names.server_name``, at random: it tells nothing of
the narrator, nor of the name the file came with.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

from .names import (  # noqa: F401 (named here for the callers of storage)
    CONSENT_FORMS,
    EXTENSIONS,
    ORIGINALS,
    RENDITIONS,
    server_name,
)
from .probe import Probed, probe
from .render import render, rendition_state


def originals() -> Storage:
    """The storage of original recordings (staff only)."""
    return storages[ORIGINALS]


def renditions() -> Storage:
    """The storage of public renditions."""
    return storages[RENDITIONS]


def consent_forms() -> Storage:
    """The storage of signed consent forms (archivists only)."""
    return storages[CONSENT_FORMS]


class PrivateFileSystemStorage(FileSystemStorage):
    """Local files that no URL serves, each moved into place whole."""

    def url(self, name):
        """Refuse: a local private file is streamed by a view that checks access."""
        raise NotImplementedError(
            "Private media has no URL of its own; it is streamed by the media view."
        )

    def _save(self, name, content):
        # Written beside its final place under a temporary name, then linked
        # there: a reader never finds half a file, and an existing file is
        # never replaced.
        directory = os.path.dirname(self.path(name))
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=".", suffix=".partial"
        )
        try:
            with os.fdopen(handle, "wb") as out:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            while True:
                try:
                    os.link(temporary, self.path(name))
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
        finally:
            os.unlink(temporary)
        return str(name).replace("\\", "/")


def signed_url(storage: Storage, name: str) -> str | None:
    """A URL of the object store that expires within MEDIA_URL_LIFETIME, or None
    where the storage is local and the file must be streamed."""
    if isinstance(storage, FileSystemStorage):
        return None
    return storage.url(name, expire=settings.MEDIA_URL_LIFETIME)


@dataclass(frozen=True)
class Ingested:
    """An original taken in: its stored name and what it was found to be."""

    name: str
    probed: Probed


def ingest(file, *, storage: Storage | None = None) -> Ingested:
    """Probe ``file`` and, only if it is a recording, store it under a new name."""
    probed = probe(file)
    storage = storage or originals()
    name = server_name(EXTENSIONS.get(probed.container, ".bin"))
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as handle:
            stored = storage.save(name, File(handle))
    else:
        file.seek(0)
        stored = storage.save(name, File(file))
    return Ingested(name=stored, probed=probed)


@contextmanager
def local_copy(storage: Storage, name: str) -> Iterator[Path]:
    """A path to the stored file ``name``: its own on local storage, else a copy."""
    if isinstance(storage, FileSystemStorage):
        yield Path(storage.path(name))
        return
    with tempfile.TemporaryDirectory(prefix="archive-media-") as folder:
        copy = Path(folder) / "original"
        with storage.open(name, "rb") as source, open(copy, "wb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        yield copy


@dataclass(frozen=True)
class StoredRendition:
    """A rendition kept in the renditions storage, and the state it was made from."""

    name: str
    state: str  # see render.rendition_state
    kind: str
    content_type: str
    duration: float


def make_rendition(
    original: str,
    *,
    original_sha256: str,
    silences: Sequence[tuple[float, float]] = (),
    disguise: float | None = None,
    audio_only: bool = False,
) -> StoredRendition:
    """Make the rendition of the stored original ``original`` and store it whole."""
    state = rendition_state(
        original_sha256=original_sha256,
        silences=silences,
        disguise=disguise,
        audio_only=audio_only,
    )
    with (
        local_copy(originals(), original) as source,
        tempfile.TemporaryDirectory(prefix="archive-rendition-") as folder,
    ):
        made = render(
            source,
            Path(folder) / "rendition",
            silences=silences,
            disguise=disguise,
            audio_only=audio_only,
        )
        with open(made.path, "rb") as handle:
            name = renditions().save(server_name(made.extension), File(handle))
    return StoredRendition(
        name=name,
        state=state,
        kind=made.kind,
        content_type=made.content_type,
        duration=made.duration,
    )
