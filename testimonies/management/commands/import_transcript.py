from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ... import services
from ...errors import ServiceError
from ...importers.transcripts import FORMAT_NAMES, read_transcript
from ...models import Testimony
from ...transcript import TranscriptError


class Command(BaseCommand):
    help = (
        "Import a testimony's transcript from a WebVTT, SRT, OHMS XML or "
        "timecoded text file; any error imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the testimony's slug")
        parser.add_argument("path", help="the transcript file")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace the transcript the testimony already has",
        )
        parser.add_argument(
            "--format",
            dest="format_key",
            choices=sorted(FORMAT_NAMES),
            help="read the file as this format instead of recognising it",
        )

    def handle(self, *args, slug, path, replace, format_key, **options):
        testimony = Testimony.objects.filter(slug=slug).first()
        if testimony is None:
            raise CommandError(_("no testimony %(slug)s") % {"slug": repr(slug)})
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(
                _("cannot read %(path)s: %(reason)s")
                % {"path": path, "reason": error.strerror}
            ) from error
        try:
            chosen, pieces = read_transcript(data, format_key)
            segments = services.transcript_import(
                testimony=testimony, pieces=pieces, replace=replace
            )
        except (TranscriptError, ServiceError) as error:
            raise CommandError(
                _("%(path)s: %(error)s; nothing was imported")
                % {"path": path, "error": error}
            ) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("%(path)s read as %(format)s: %(count)s segments stored for %(slug)s")
                % {
                    "path": path,
                    "format": FORMAT_NAMES[chosen],
                    "count": len(segments),
                    "slug": slug,
                }
            )
        )
