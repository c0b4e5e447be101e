"""Settings of the archive, read from environment variables only.

With DJANGO_DEBUG off, every secret must be given: a missing one stops start-up
with a message that names it. With DJANGO_DEBUG on, development stand-ins apply.
"""

import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


DEBUG = env_bool("DJANGO_DEBUG")

# Stand-ins for development only; never reachable with DEBUG off.
_DEVELOPMENT_SECRETS = {
    "DJANGO_SECRET_KEY": "development-only-secret-key-never-used-in-production",
    "ARCHIVE_FIELD_KEY": "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMzJieXQ=",
}


def secret(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if DEBUG:
        return _DEVELOPMENT_SECRETS[name]
    raise ImproperlyConfigured(
        f"The environment variable {name} is not set. It is required when "
        "DJANGO_DEBUG is off (set DJANGO_DEBUG=1 for development defaults)."
    )


SECRET_KEY = secret("DJANGO_SECRET_KEY")
# One Fernet key, or several separated by commas: the first encrypts, all decrypt
# (so that a key can be rotated).
ARCHIVE_FIELD_KEY = secret("ARCHIVE_FIELD_KEY")
try:
    # A mistyped key must stop start-up, not the first read of an identity.
    [Fernet(key.strip()) for key in ARCHIVE_FIELD_KEY.split(",") if key.strip()]
except (ValueError, TypeError) as error:
    raise ImproperlyConfigured(
        "ARCHIVE_FIELD_KEY must be one or more Fernet keys separated by commas; "
        'make one with: python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    ) from error

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else ""
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_ratelimit",
    "django_tasks",
    "django_tasks_db",
    "testimonies",
    "testimonies.search",
]
# The measurements (benchmarks/: the synthetic corpus, the search benchmark and
# their commands) are a development app: loaded with DEBUG, or where a
# measurement with DEBUG off asks for them; never otherwise.
if DEBUG or env_bool("ARCHIVE_BENCHMARKS"):
    INSTALLED_APPS.append("benchmarks")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Demo accounts are made and accepted in development only (see
# testimonies/demo_accounts.py); production settings never take them.
ARCHIVE_DEMO_ACCOUNTS = DEBUG
AUTHENTICATION_BACKENDS = ["testimonies.demo_accounts.ArchiveModelBackend"]

ROOT_URLCONF = "archive.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "archive.wsgi.application"
ASGI_APPLICATION = "archive.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "").strip()
        or f"sqlite:///{BASE_DIR / 'archive.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers go on while a curator writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL text: the database parses each
    # statement once instead of quoted megabytes of transcript.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
    # A statement run this many times on a connection is prepared: the search's
    # large statement is then planned once, not at every page. "off" turns it
    # off, for a pooler that cannot keep prepared statements (PgBouncer < 1.21
    # in transaction mode).
    _prepare = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip().lower()
    if _prepare not in ("off", "none", "") and not _prepare.isdigit():
        raise ImproperlyConfigured(
            "DATABASE_PREPARE_THRESHOLD must be a whole number or 'off', "
            f"not {_prepare!r}."
        )
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
        int(_prepare) if _prepare.isdigit() else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "testimonies" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
# Not served by any URL nor by whitenoise: recordings, renditions and consent
# forms are private, and the media view decides who gets what.
MEDIA_ROOT = Path(os.environ.get("ARCHIVE_MEDIA_ROOT", BASE_DIR / "media"))

# The largest recording taken in (admin upload or bundle), in bytes.
try:
    ARCHIVE_MEDIA_MAX_BYTES = int(os.environ.get("ARCHIVE_MEDIA_MAX_BYTES", 4 << 30))
except ValueError as error:
    raise ImproperlyConfigured(
        "ARCHIVE_MEDIA_MAX_BYTES must be a whole number of bytes."
    ) from error
if ARCHIVE_MEDIA_MAX_BYTES <= 0:
    raise ImproperlyConfigured("ARCHIVE_MEDIA_MAX_BYTES must be positive.")

# The longest life of a signed URL of the object store: a withdrawal reaches a
# listener who already holds one within this time.
MEDIA_URL_LIFETIME = 300  # seconds

# The McAdams coefficient of a disguised voice (each LPC pole angle φ moved to
# φ**α): 0.8 is the VoicePrivacy baseline's; further from 1 disguises more.
try:
    MEDIA_DISGUISE_COEFFICIENT = float(
        os.environ.get("ARCHIVE_DISGUISE_COEFFICIENT", "0.8")
    )
except ValueError as error:
    raise ImproperlyConfigured(
        "ARCHIVE_DISGUISE_COEFFICIENT must be a number between 0.5 and 1.5."
    ) from error
if not (0.5 <= MEDIA_DISGUISE_COEFFICIENT <= 1.5 and MEDIA_DISGUISE_COEFFICIENT != 1):
    raise ImproperlyConfigured(
        "ARCHIVE_DISGUISE_COEFFICIENT must lie between 0.5 and 1.5, and not be 1 "
        "(which leaves the voice as it is)."
    )

# How many times the making of a rendition is tried before it is marked failed.
MEDIA_RENDITION_ATTEMPTS = 3

# Background jobs (the making of renditions) are rows of the database, run by
# `python manage.py db_worker` (which `demo` starts beside the site), or at once
# by `python manage.py process_media`.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# Each kind of private file in its own place: a prefix of the bucket, or a
# folder of MEDIA_ROOT.
MEDIA_PLACES = {
    "media-originals": "originals",
    "media-renditions": "renditions",
    "consent-forms": "consent-forms",
}


def media_storages(environ, media_root: Path) -> dict:
    """STORAGES entries of the private files: S3 when a bucket is named, else local."""
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not bucket:
        return {
            name: {
                "BACKEND": "testimonies.media.storage.PrivateFileSystemStorage",
                "OPTIONS": {"location": str(media_root / place)},
            }
            for name, place in MEDIA_PLACES.items()
        }
    try:
        lifetime = int(environ.get("AWS_QUERYSTRING_EXPIRE", MEDIA_URL_LIFETIME))
    except ValueError as error:
        raise ImproperlyConfigured(
            "AWS_QUERYSTRING_EXPIRE must be a whole number of seconds."
        ) from error
    prefix = environ.get("AWS_LOCATION", "").strip("/")
    options = {
        "bucket_name": bucket,
        "region_name": environ.get("AWS_S3_REGION_NAME") or None,
        "endpoint_url": environ.get("AWS_S3_ENDPOINT_URL") or None,
        "access_key": environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "addressing_style": environ.get("AWS_S3_ADDRESSING_STYLE") or None,
        # Private objects only: no ACL sent (the bucket's, private by
        # default, holds), every URL signed and short-lived, and no custom
        # domain, through which django-storages would give unsigned URLs.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": min(lifetime, MEDIA_URL_LIFETIME),
        "signature_version": "s3v4",
        "custom_domain": None,
        "file_overwrite": False,
    }
    return {
        name: {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**options, "location": "/".join(filter(None, [prefix, place]))},
        }
        for name, place in MEDIA_PLACES.items()
    }


if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # django-storages reads its own AWS_* variables from the settings below.
    AWS_STORAGE_BUCKET_NAME = os.environ["AWS_STORAGE_BUCKET_NAME"]
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME")
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL")
    AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY")
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True  # media is private: signed, short-lived URLs
    AWS_QUERYSTRING_EXPIRE = MEDIA_URL_LIFETIME
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    _media_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": _media_storage,
    **media_storages(os.environ, MEDIA_ROOT),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Django's own Redis backend increments atomically; the rate-limit library
# lists only third-party backends as supported.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# A cache shared by every process where REDIS_URL names one (rate limits count
# across all of them); without it, each process counts in its own memory, which
# is exact for a single process (the SQLite demo).
if os.environ.get("REDIS_URL", "").strip():
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"].strip(),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# Narrator requests per client address and period ("5/h"): enough for a
# narrator, too few to probe reference codes. Behind the reverse proxy, the
# client's address is read from the header it sets (e.g. HTTP_X_REAL_IP).
ARCHIVE_REQUEST_RATE = os.environ.get("ARCHIVE_REQUEST_RATE", "5/h").strip()
RATELIMIT_IP_META_KEY = os.environ.get("ARCHIVE_CLIENT_IP_HEADER", "").strip() or None

LOGIN_URL = "/accounts/login/"

# Behind a reverse proxy that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
}
