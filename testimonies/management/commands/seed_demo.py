from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ...importers.bundle import bundle_import_file
from ...importers.validate import BundleError
from ...models import Testimony

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo" / "demo_bundle.json"


class Command(BaseCommand):
    help = (
        "Load the demo data (fictional testimonies, with their synthetic speech) "
        "when the archive is empty, and make the public renditions of its "
        "recordings before returning."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-renditions",
            action="store_true",
            help="leave the renditions to the background worker",
        )

    def handle(self, *args, no_renditions=False, **options):
        if Testimony.objects.exists():
            self.stdout.write(
                "The archive already holds testimonies: demo data not loaded."
            )
            return
        try:
            report = bundle_import_file(DEMO_BUNDLE)
        except BundleError as error:
            raise CommandError(f"demo data: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {report}"))
        if not no_renditions:
            # Ready before the site's first request: a new visitor hears the
            # recordings at once rather than "being prepared".
            call_command(
                "process_media", verbosity=options["verbosity"], stdout=self.stdout
            )
