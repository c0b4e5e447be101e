import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from testimonies import demo_accounts


def start_worker() -> subprocess.Popen:
    """The background worker that makes renditions, in a process of its own
    (it answers signals, which only a main thread may)."""
    return subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "db_worker",
            "--no-reload",
            "--verbosity",
            "0",
        ]
    )


def _stop(signum, frame):
    raise SystemExit(128 + signum)


class Command(BaseCommand):
    help = (
        "Migrate, load the demo data and make its renditions if the archive is "
        "empty, serve on 127.0.0.1:8000 "
        "with the background worker that makes renditions beside the site."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="prepare the database and stop"
        )

    def handle(self, *args, addrport, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        self.show_accounts()
        if no_serve:
            return
        worker = start_worker()
        # Stopped by a signal rather than Ctrl-C, the site still stops its
        # worker: the handler unwinds to the ``finally`` below.
        signal.signal(signal.SIGTERM, _stop)
        self.stdout.write(
            f"Serving the archive on http://{addrport}/ (Ctrl-C stops it), "
            "with the worker that makes renditions"
        )
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    def show_accounts(self) -> None:
        """Make the demo's account of each role and print how to log in."""
        if not demo_accounts.enabled():
            self.stdout.write(
                "No demo accounts: they are made with development settings only."
            )
            return
        self.stdout.write(
            "Demo accounts (new passwords each time the demo starts; the "
            "workspace is at /admin/):"
        )
        for account in demo_accounts.demo_accounts_create():
            self.stdout.write(
                f"  {account.role:<10}  user {account.username:<16}"
                f"  password {account.password}"
            )
