from django.core.management.base import BaseCommand, CommandError

from ...importers.bundle import bundle_import_file
from ...importers.validate import BundleError


class Command(BaseCommand):
    help = "Import a testimony-bundle/1 JSON file; any error imports nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="the bundle's JSON file; media paths are relative to it"
        )

    def handle(self, *args, path, **options):
        try:
            report = bundle_import_file(path)
        except BundleError as error:
            raise CommandError(f"{path}: {error}; nothing was imported") from error
        self.stdout.write(self.style.SUCCESS(f"Imported {path}: {report}"))
