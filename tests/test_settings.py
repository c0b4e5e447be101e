"""Settings from the environment (archive/settings.py), each read in a fresh process.

The test run's own settings set test secrets in this process's environment, so
every case starts a new interpreter with the archive's variables removed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STRIPPED_PREFIXES = ("DJANGO_", "ARCHIVE_", "AWS_")
FIELD_KEY = "indIZjnDyTaSZGp3eSpzJgsGi1p8rDJwt48XxqfirVs="

PRINT_SETTINGS = """
import json
import django
from django.conf import settings

django.setup()
names = {names!r}
values = {{name: getattr(settings, name, None) for name in names}}
print(json.dumps(values, default=str))
"""


def run_python(environment: dict[str, str], code: str):
    """Run code in a new interpreter at the project root, with only the given
    archive variables set (on top of the rest of this process's environment)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(STRIPPED_PREFIXES) and key != "DATABASE_URL"
    }
    env.update(environment, DJANGO_SETTINGS_MODULE="archive.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_settings(environment: dict[str, str], *names: str):
    return run_python(environment, PRINT_SETTINGS.format(names=list(names)))


def settings_of(environment: dict[str, str], *names: str) -> dict:
    result = run_settings(environment, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


PRODUCTION = {
    "DJANGO_SECRET_KEY": "a-real-secret-from-the-vault",
    "ARCHIVE_FIELD_KEY": FIELD_KEY,
}


@pytest.mark.parametrize("debug", [None, "", "0", "false", "off"])
def test_without_debug_a_missing_secret_key_stops_start_up_naming_it(debug):
    environment = {"ARCHIVE_FIELD_KEY": FIELD_KEY}
    if debug is not None:
        environment["DJANGO_DEBUG"] = debug
    result = run_settings(environment, "SECRET_KEY")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_without_debug_a_blank_secret_key_stops_start_up_naming_it():
    result = run_settings(
        {"DJANGO_SECRET_KEY": "   ", "ARCHIVE_FIELD_KEY": FIELD_KEY}, "SECRET_KEY"
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_without_debug_a_missing_field_key_stops_start_up_naming_it():
    result = run_settings({"DJANGO_SECRET_KEY": "a-real-secret"}, "SECRET_KEY")
    assert result.returncode != 0
    assert "ARCHIVE_FIELD_KEY" in result.stderr


def test_a_mistyped_field_key_stops_start_up_naming_it():
    result = run_settings(
        {"DJANGO_SECRET_KEY": "a-real-secret", "ARCHIVE_FIELD_KEY": "not-a-fernet-key"},
        "SECRET_KEY",
    )
    assert result.returncode != 0
    assert "ARCHIVE_FIELD_KEY must be one or more Fernet keys" in result.stderr


def test_with_debug_and_nothing_else_the_archive_starts_on_stand_ins():
    values = settings_of({"DJANGO_DEBUG": "1"}, "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"]
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]


FIELD_CIPHER_ROUND_TRIP = """
import django
django.setup()
from testimonies.fields import field_cipher
cipher = field_cipher()
print(cipher.decrypt(cipher.encrypt(b"secret")).decode())
"""


def test_development_field_key_is_a_usable_fernet_key():
    result = run_python({"DJANGO_DEBUG": "1"}, FIELD_CIPHER_ROUND_TRIP)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "secret"


def test_given_secrets_are_used_as_given():
    values = settings_of(PRODUCTION, "SECRET_KEY", "ARCHIVE_FIELD_KEY", "DEBUG")
    assert values == {
        "SECRET_KEY": "a-real-secret-from-the-vault",
        "ARCHIVE_FIELD_KEY": FIELD_KEY,
        "DEBUG": False,
    }


def test_database_url_chooses_postgresql_with_persistent_connections():
    values = settings_of(
        {**PRODUCTION, "DATABASE_URL": "postgres://u@h:5433/db"}, "DATABASES"
    )
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["USER"], database["HOST"]) == ("db", "u", "h")
    assert int(database["PORT"]) == 5433
    assert database["CONN_MAX_AGE"] > 0


def test_postgresql_statements_are_prepared_unless_turned_off():
    url = {**PRODUCTION, "DATABASE_URL": "postgres://u@h:5433/db"}

    def threshold(**environment):
        values = settings_of({**url, **environment}, "DATABASES")
        return values["DATABASES"]["default"]["OPTIONS"]["prepare_threshold"]

    assert threshold() == 5
    assert threshold(DATABASE_PREPARE_THRESHOLD="0") == 0
    assert threshold(DATABASE_PREPARE_THRESHOLD="off") is None
    result = run_settings({**url, "DATABASE_PREPARE_THRESHOLD": "often"}, "DATABASES")
    assert result.returncode != 0
    assert "DATABASE_PREPARE_THRESHOLD" in result.stderr
    assert "'often'" in result.stderr


def test_default_database_is_a_sqlite_file_in_the_project():
    values = settings_of(PRODUCTION, "DATABASES")
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]).parent == PROJECT_ROOT


def test_without_debug_https_is_enforced_behind_the_proxy():
    values = settings_of(
        PRODUCTION,
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
    )
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert tuple(values["SECURE_PROXY_SSL_HEADER"]) == (
        "HTTP_X_FORWARDED_PROTO",
        "https",
    )


def test_without_debug_no_host_is_allowed_unless_configured():
    assert settings_of(PRODUCTION, "ALLOWED_HOSTS") == {"ALLOWED_HOSTS": []}
    values = settings_of(
        {**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "archive.example.org, www.example.org"},
        "ALLOWED_HOSTS",
    )
    assert values["ALLOWED_HOSTS"] == ["archive.example.org", "www.example.org"]


COMMANDS = """
import json
import django
from django.core.management import get_commands

django.setup()
print(json.dumps(sorted(get_commands())))
"""


def commands_of(environment: dict[str, str]) -> set[str]:
    result = run_python(environment, COMMANDS)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_settings_do_not_install_the_benchmarks():
    installed = settings_of(PRODUCTION, "INSTALLED_APPS")["INSTALLED_APPS"]
    assert "testimonies" in installed
    assert "benchmarks" not in installed
    commands = commands_of(PRODUCTION)
    assert "rebuild_search_index" in commands
    assert not {"seed_corpus", "benchmark_search"} & commands


@pytest.mark.parametrize(
    "environment",
    [{"DJANGO_DEBUG": "1"}, {**PRODUCTION, "ARCHIVE_BENCHMARKS": "1"}],
    ids=["development", "opted-in"],
)
def test_development_or_an_explicit_opt_in_installs_the_benchmarks(environment):
    installed = settings_of(environment, "INSTALLED_APPS")["INSTALLED_APPS"]
    assert "benchmarks" in installed
    assert {"seed_corpus", "benchmark_search"} <= commands_of(environment)
