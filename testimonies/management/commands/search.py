import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError

from ... import search
from ...models import Testimony
from ...timecodes import timecode


class Command(BaseCommand):
    help = (
        "Search the archive as a user would see it (anonymous unless --user): "
        "total, testimonies, segment times and snippets."
    )

    def add_arguments(self, parser):
        parser.add_argument("query", help='words, "a phrase", or, -excluded')
        parser.add_argument("--user", help="search as this user (a username)")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--page", type=int, default=1, help="page number")

    def handle(self, *args, query, user, json: bool, page: int, **options):
        who = AnonymousUser()
        if user:
            try:
                who = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user named {user!r}") from None
        if page < 1:
            raise CommandError(f"--page must be 1 or more (got {page})")
        results = search.search(query, Testimony.objects.visible_to(who), page=page)
        if json:
            self.stdout.write(self._json(results))
        else:
            self._text(results)

    def _json(self, results) -> str:
        return json.dumps(
            {
                "total": results.total_json,
                "page": results.page,
                "hits": [
                    {
                        "slug": hit.testimony.slug,
                        "title": hit.testimony.title,
                        "segments": [
                            {
                                "start": segment.start,
                                "speaker": segment.speaker,
                                "snippet": str(segment.snippet.html()),
                            }
                            for segment in hit.segments
                        ],
                    }
                    for hit in results.hits
                ],
                "facets": {
                    name: [
                        {"value": v.value, "label": str(v.label), "count": v.count}
                        for v in values
                    ]
                    for name, values in results.facets.items()
                },
            },
            ensure_ascii=False,
            indent=2,
        )

    def _text(self, results) -> None:
        self.stdout.write(
            f"{results.total_display} testimonies (page {results.page} of "
            f"{results.pages})"
        )
        for hit in results.hits:
            self.stdout.write(f"\n{hit.testimony.slug}  {hit.testimony.title}")
            for segment in hit.segments:
                self.stdout.write(
                    f"  [{timecode(segment.start)}] {segment.speaker}: "
                    f"{segment.snippet.text('«', '»')}"
                )
