import json
import re

import pytest
from django.core.management import call_command

from testimonies.management.commands.seed_demo import DEMO_BUNDLE
from testimonies.media.plan import ready_rendition
from testimonies.models import (
    Appearance,
    Episode,
    JobType,
    Redaction,
    Series,
    Testimony,
    Theme,
)
from testimonies.querysets import Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    # The renditions are proved in tests/media/test_demo_media.py.
    call_command("seed_demo", "--no-renditions", verbosity=0)


def latest_scopes():
    return {t.slug: t.consent_in_force().scope for t in Testimony.objects.all()}


def test_demo_loads_the_series_with_its_four_episodes_and_no_invented_dates(demo):
    series = Series.objects.get(slug="invisibles")
    assert series.title.startswith("Invisibles")
    assert series.broadcaster == "France TV Slash"
    assert series.url == "https://www.france.tv/slash/invisibles/"
    episodes = list(Episode.objects.filter(series=series).order_by("number"))
    assert [e.number for e in episodes] == [1, 2, 3, 4]
    # Unknown facts stay empty rather than invented.
    assert all(e.broadcast_on is None and e.duration is None for e in episodes)


def test_demo_has_the_job_types_and_themes_of_the_design_in_both_languages(demo):
    slugs = set(JobType.objects.values_list("slug", flat=True))
    assert len(slugs) >= 5
    for job_type in JobType.objects.all():
        assert job_type.name_fr and job_type.name_en
    assert Theme.objects.count() >= 8
    assert all(t.name_fr and t.name_en for t in Theme.objects.all())


def test_demo_testimonies_are_marked_fictional_in_both_languages(demo):
    testimonies = list(Testimony.objects.all())
    assert len(testimonies) >= 12
    assert {t.language for t in testimonies} >= {"fr", "en"}
    for testimony in testimonies:
        marker = "fictif" if testimony.language == "fr" else "Fictional"
        assert marker in testimony.summary, testimony.slug


def test_demo_covers_couriers_moderators_language_analysts_and_micro_workers(demo):
    names = " ".join(
        JobType.objects.filter(narrators__testimonies__isnull=False).values_list(
            "name_en", flat=True
        )
    ).lower()
    for job in ("courier", "moderator", "language analyst", "label"):
        assert job in names, job


def test_demo_covers_every_consent_scope_an_embargo_and_a_withdrawal(demo):
    scopes = latest_scopes()
    assert set(scopes.values()) == {"public", "research", "archive", "withdrawn"}
    assert Testimony.objects.filter(embargo_until__isnull=False).exists()
    assert Redaction.objects.count() >= 6
    assert Appearance.objects.count() >= 3


def test_demo_shows_the_public_only_what_the_access_rule_allows(demo, anonymous):
    visible = set(
        Testimony.objects.visible_to(anonymous).values_list("slug", flat=True)
    )
    scopes = latest_scopes()
    assert visible
    for slug in visible:
        assert scopes[slug] == "public"
    hidden = set(Testimony.objects.values_list("slug", flat=True)) - visible
    assert any(scopes[s] == "research" for s in hidden)
    assert any(scopes[s] == "withdrawn" for s in hidden)
    researcher_view = set(
        Testimony.objects.visible_to_tier(Tier.RESEARCHER).values_list(
            "slug", flat=True
        )
    )
    assert researcher_view > visible


def test_demo_public_text_hides_every_redacted_span(demo):
    for redaction in Redaction.objects.select_related("segment"):
        segment = redaction.segment
        # Merged spans show one label, so only the hidden words are checked.
        hidden = segment.text[redaction.start : redaction.end]
        if len(hidden) >= 4:
            assert hidden not in segment.public_text


def test_seed_demo_loads_nothing_when_the_archive_is_not_empty(demo):
    count = Testimony.objects.count()
    call_command("seed_demo", verbosity=0)
    assert Testimony.objects.count() == count


def test_demo_command_migrates_and_loads_without_serving(capsys):
    call_command("demo", "--no-serve")
    assert Testimony.objects.count() == len(
        json.loads(DEMO_BUNDLE.read_text(encoding="utf-8"))["testimonies"]
    )
    # The site would open with the recordings ready to be heard.
    with_media = Testimony.objects.exclude(media="")
    assert with_media.exists()
    assert all(ready_rendition(t) is not None for t in with_media)


def test_the_demo_prints_an_account_per_role_that_logs_in(client, capsys, settings):
    settings.ARCHIVE_DEMO_ACCOUNTS = True
    call_command("seed_demo", "--no-renditions", verbosity=0)
    call_command("demo", "--no-serve")
    printed = capsys.readouterr().out
    accounts = re.findall(r"(\w+)\s+user (demo-\w+)\s+password (\S+)", printed)
    assert {role for role, _user, _password in accounts} == {
        "curator",
        "archivist",
        "researcher",
    }
    for _role, username, password in accounts:
        assert client.login(username=username, password=password)
        client.logout()


def test_the_demo_under_production_settings_makes_no_account(capsys):
    call_command("seed_demo", "--no-renditions", verbosity=0)
    call_command("demo", "--no-serve")
    assert "No demo accounts" in capsys.readouterr().out
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username__startswith="demo-").exists()


class StandInWorker:
    """A worker process that records how it was started and stopped."""

    started: list = []

    def __init__(self, command):
        self.command = command
        self.stopped = False
        StandInWorker.started.append(self)

    def terminate(self):
        self.stopped = True

    def wait(self, timeout=None):
        return 0


def test_demo_runs_the_rendition_worker_beside_the_site_and_stops_it(monkeypatch):
    from testimonies.management.commands import demo as demo_command

    served = []
    real_call_command = demo_command.call_command

    def call(name, *args, **kwargs):
        if name == "runserver":
            # The worker is already running while the site serves.
            assert StandInWorker.started and not StandInWorker.started[-1].stopped
            served.append(args)
            raise KeyboardInterrupt  # Ctrl-C
        return real_call_command(name, *args, **kwargs)

    StandInWorker.started = []
    monkeypatch.setattr(demo_command.subprocess, "Popen", StandInWorker)
    monkeypatch.setattr(demo_command, "call_command", call)
    with pytest.raises(KeyboardInterrupt):
        call_command("demo", "--addrport", "127.0.0.1:8123")
    assert served == [("127.0.0.1:8123",)]
    (worker,) = StandInWorker.started
    assert worker.command[2:4] == ["db_worker", "--no-reload"]
    assert worker.command[1].endswith("manage.py")
    assert worker.stopped


def test_demo_stopped_by_a_signal_stops_its_worker_too(monkeypatch):
    import signal

    from testimonies.management.commands import demo as demo_command

    real_call_command = demo_command.call_command

    def call(name, *args, **kwargs):
        if name == "runserver":
            handler = signal.getsignal(signal.SIGTERM)
            assert handler is demo_command._stop
            handler(signal.SIGTERM, None)  # as if the signal came now
        return real_call_command(name, *args, **kwargs)

    StandInWorker.started = []
    monkeypatch.setattr(demo_command.subprocess, "Popen", StandInWorker)
    monkeypatch.setattr(demo_command, "call_command", call)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit):
            call_command("demo")
    finally:
        signal.signal(signal.SIGTERM, previous)
    (worker,) = StandInWorker.started
    assert worker.stopped
