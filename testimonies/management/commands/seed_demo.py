from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...importers.bundle import bundle_import_file
from ...importers.validate import BundleError
from ...models import Testimony

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "demo" / "demo_bundle.json"


class Command(BaseCommand):
    help = "Load the demo data (fictional testimonies) when the archive is empty."

    def handle(self, *args, **options):
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
