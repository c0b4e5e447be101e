"""The archive's settings for the test run: the real module, with test-only secrets.

Only environment defaults are set here, before the settings module reads them,
so the tests exercise the same settings as production (DEBUG off).
"""

import atexit
import os
import shutil
import tempfile

# Media and static files of one test run live in one folder, removed at exit.
_SCRATCH = tempfile.mkdtemp(prefix="archive-test-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")
os.environ.setdefault(
    "ARCHIVE_FIELD_KEY", "indIZjnDyTaSZGp3eSpzJgsGi1p8rDJwt48XxqfirVs="
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
# The corpus generator and the search benchmark are tested too.
os.environ.setdefault("ARCHIVE_BENCHMARKS", "1")
os.environ.setdefault("ARCHIVE_MEDIA_ROOT", os.path.join(_SCRATCH, "media"))

from archive.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = os.path.join(_SCRATCH, "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
