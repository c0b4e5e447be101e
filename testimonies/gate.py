"""The publication gate: what must never be public, where it stands, and the refusal.

A testimony's public fields (``public_fields``) are scanned for what would
expose its narrator: their legal name or any part of it of three letters or more
(unless they chose to be named), their contact, their sensitive terms, e-mail
addresses and phone numbers (docs/design.md, "The publication gate"); and a video
released of an anonymous narrator (``media_hits``). Every path
to publication asks here: the services (publishing, and every edit of a
published testimony), the bundle importer, and the admin's forms.
"""

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .errors import ServiceError
from .models import ConsentRecord, Narrator, Testimony

EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# French numbers: 0X XX XX XX XX with spaces, dots or dashes (or none), and
# +33 X XX XX XX XX, optionally with (0). International: + then 8 to 15 digits.
# Both run on folded text, where no-break and thin spaces have become spaces.
FRENCH_PHONE_RE = re.compile(
    r"(?<![\w+])(?:0|\+33[ .\-]?(?:\(0\)[ .\-]?)?)[1-9](?:[ .\-]?\d{2}){4}(?!\d)"
)
INTERNATIONAL_PHONE_RE = re.compile(r"(?<![\w+])\+\d(?:[ .\-()]{0,2}\d){7,14}(?!\d)")


_PHONE_START_RE = re.compile(r"[0+]")


def _phones(text: str) -> Iterator[tuple[int, int]]:
    """Spans of phone numbers. Every number starts with 0 or +: the patterns
    are tried only there, which is many times faster on long prose."""
    end = 0
    for candidate in _PHONE_START_RE.finditer(text):
        start = candidate.start()
        if start < end:
            continue
        match = FRENCH_PHONE_RE.match(text, start) or INTERNATIONAL_PHONE_RE.match(
            text, start
        )
        if match:
            end = match.end()
            yield start, end


class HitKind(models.TextChoices):
    """What the gate found; the value is stable, the label is the curator's."""

    LEGAL_NAME = "legal name", _("legal name")
    CONTACT = "contact", _("contact")
    SENSITIVE_TERM = "sensitive term", _("sensitive term")
    EMAIL = "e-mail address", _("e-mail address")
    PHONE = "phone number", _("phone number")
    VIDEO_OF_ANONYMOUS = (
        "video of an anonymous narrator",
        _("video released of an anonymous narrator: only their disguised voice may be"),
    )


@dataclass(frozen=True, slots=True)
class Hit:
    place: str
    offset: int
    kind: str
    # What matched, except for the legal name and the contact, which a
    # curator without the identity permission must not learn from an error.
    shown: str

    def __str__(self) -> str:
        kind = HitKind(self.kind).label
        if self.kind == HitKind.VIDEO_OF_ANONYMOUS:
            # A whole recording: no offset in it.
            return gettext("%(place)s: %(kind)s") % {"place": self.place, "kind": kind}
        if self.shown:
            return gettext("%(place)s, offset %(offset)s: %(kind)s %(shown)s") % {
                "place": self.place,
                "offset": self.offset,
                "kind": kind,
                "shown": repr(self.shown),
            }
        return gettext("%(place)s, offset %(offset)s: %(kind)s") % {
            "place": self.place,
            "offset": self.offset,
            "kind": kind,
        }


def _fold_char(char: str) -> str:
    # Case first (ß -> ss, İ -> i + dot), then accents: marks and invisible
    # format characters (soft hyphen, zero-width space) fold to nothing, so a
    # decomposed "E\u0301lodie" or a "Du\u00adbois" is still found.
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(
        c for c in decomposed if not unicodedata.category(c).startswith(("M", "Cf"))
    )


class _FoldTable(dict):
    # str.translate looks characters up in C; each new one is folded once.
    def __missing__(self, code_point: int) -> str:
        folded = self[code_point] = _fold_char(chr(code_point))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text (its length may differ)."""
    return text.translate(_FOLD_TABLE)


def _origins(text: str) -> list[int]:
    """For each folded character, the offset of the original one it comes from.

    One more entry closes the list, so that a match's end maps too (marks after
    the last folded character belong to it).
    """
    origins: list[int] = []
    for index, char in enumerate(text):
        origins.extend([index] * len(_FOLD_TABLE[ord(char)]))
    origins.append(len(text))
    return origins


_WORD_PART_RE = re.compile(r"[^\W\d_]{3,}")


def legal_name_terms(legal_name: str) -> list[str]:
    """The whole legal name and each part of it of three letters or more."""
    # Composed first, so that a decomposed accent does not split a part in two.
    legal_name = unicodedata.normalize("NFC", legal_name).strip()
    terms = [legal_name] if legal_name else []
    terms += _WORD_PART_RE.findall(legal_name)
    return terms


def contact_terms(contact: str) -> list[str]:
    return [
        part.strip() for part in re.split(r"[\n,;]+", contact) if len(part.strip()) >= 3
    ]


_FIELD_SEPARATOR = "\x00\x00"


class IdentityScanner:
    """Finds, in public text, what would expose a narrator."""

    def __init__(
        self,
        *,
        legal_name: str = "",
        contact: str = "",
        sensitive_terms: Sequence[str] = (),
        named: bool = False,
    ) -> None:
        groups: list[tuple[str, list[str]]] = []
        if not named:
            groups.append((HitKind.LEGAL_NAME, legal_name_terms(legal_name)))
        groups.append((HitKind.CONTACT, contact_terms(contact)))
        groups.append(
            (HitKind.SENSITIVE_TERM, [t for t in sensitive_terms if t.strip()])
        )
        alternatives = []
        self._kinds: dict[str, str] = {}
        for index, (kind, terms) in enumerate(groups):
            folded = {tuple(fold(t).split()) for t in terms} - {()}
            if folded:
                name = f"g{index}"
                self._kinds[name] = kind
                # Longest first; any run of white space (a line break, two
                # spaces) between the words of a term still matches.
                joined = "|".join(
                    r"\s+".join(re.escape(word) for word in words)
                    for words in sorted(folded, key=lambda w: len(" ".join(w)))[::-1]
                )
                alternatives.append(f"(?P<{name}>{joined})")
        # Whole words: no letter or digit on either side; "_" separates words,
        # so a handle such as "martin_dubois" exposes its parts.
        self._terms_re = (
            re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")
            if alternatives
            else None
        )

    def scan(self, place: str, text: str) -> list[Hit]:
        if not text:
            return []
        folded = fold(text)
        # Matches are found in the folded text: (offset, end, kind) there.
        found: list[tuple[int, int, str]] = []
        if self._terms_re is not None:
            for match in self._terms_re.finditer(folded):
                found.append((match.start(), match.end(), self._kinds[match.lastgroup]))
        # The address pattern is slow on long prose; most text has no "@".
        if "@" in folded:
            for match in EMAIL_RE.finditer(folded):
                found.append((match.start(), match.end(), HitKind.EMAIL))
        found += [(start, end, HitKind.PHONE) for start, end in _phones(folded)]
        if not found:
            return []
        # The legal name and the contact are never repeated in a message, not
        # even inside an e-mail address or a phone number that contains them.
        secret = [
            (start, end)
            for start, end, kind in found
            if kind in (HitKind.LEGAL_NAME, HitKind.CONTACT)
        ]
        origins = _origins(text)
        hits: list[Hit] = []
        for start, end, kind in found:
            hidden = any(start < s_end and s_start < end for s_start, s_end in secret)
            start, end = origins[start], origins[end]
            hits.append(Hit(place, start, kind, "" if hidden else text[start:end]))
        hits.sort(key=lambda hit: hit.offset)
        return hits

    def scan_all(
        self, fields: Iterable[tuple["str | _SegmentPlace", str]]
    ) -> list[Hit]:
        """Scan many fields at once; each hit names its field and its offset there."""
        fields = [(place, text) for place, text in fields if text]
        if any(_FIELD_SEPARATOR[0] in text for _place, text in fields):
            return [
                hit for place, text in fields for hit in self.scan(str(place), text)
            ]
        # One pass over all the fields joined is several times faster than one
        # pass each; the separator is neither a letter, a digit nor white
        # space, so no match can span two fields.
        starts: list[int] = []
        position = 0
        for _place, text in fields:
            starts.append(position)
            position += len(text) + len(_FIELD_SEPARATOR)
        joined = _FIELD_SEPARATOR.join(text for _place, text in fields)
        hits = []
        for hit in self.scan("", joined):
            index = bisect_right(starts, hit.offset) - 1
            place = str(fields[index][0])
            hits.append(Hit(place, hit.offset - starts[index], hit.kind, hit.shown))
        return hits


# --- The public fields and the refusal -----------------------------------------


def public_fields(
    testimony: Testimony,
    narrator: Narrator,
    appearance_notes: Iterable[str],
    segments: Iterable[tuple[int, float, str]],
) -> Iterator[tuple["str | _SegmentPlace", str]]:
    """Every public field of a testimony, named by its place, for the scan."""
    # The slug is in every public URL; its words are read like the title's.
    yield "slug", testimony.slug.replace("-", " ")
    yield "title", testimony.title
    yield "summary", testimony.summary
    yield "place", testimony.place
    # Public too: the interviewer is shown and exported with the testimony.
    yield "interviewer", testimony.interviewer
    warnings = testimony.content_warnings or []
    if not isinstance(warnings, list):
        warnings = [warnings]
    for index, warning in enumerate(str(w) for w in warnings):
        yield f"content_warnings[{index}]", warning
    for index, note in enumerate(appearance_notes):
        yield f"appearances[{index}].note", note
    if narrator.identity != Narrator.Identity.ANONYMOUS:
        yield "narrator.public_name", narrator.public_name
        # The address of their public page.
        yield "narrator.slug", narrator.slug.replace("-", " ")
    yield "narrator.descriptor.fr", narrator.descriptor_fr
    yield "narrator.descriptor.en", narrator.descriptor_en
    yield "narrator.region", narrator.region
    for position, start, text in segments:
        yield _SegmentPlace(position, start), text


class _SegmentPlace:
    """A segment's place, put into words only where a hit is found there: a
    testimony has a hundred segments, and nearly all of them are clean."""

    __slots__ = ("position", "start")

    def __init__(self, position: int, start: float) -> None:
        self.position, self.start = position, start

    def __str__(self) -> str:
        return segment_place(self.position, self.start)


def segment_place(position: int, start: float) -> str:
    """How the gate names a segment: its position and its time."""
    return gettext("segments[%(position)s] (at %(start)s s)") % {
        "position": position,
        "start": f"{start:g}",
    }


def scanner_for(narrator: Narrator) -> IdentityScanner:
    """The scan of what would expose this narrator."""
    return IdentityScanner(
        legal_name=narrator.legal_name or "",
        contact=narrator.contact or "",
        sensitive_terms=narrator.sensitive_terms or [],
        named=narrator.identity == Narrator.Identity.NAMED,
    )


def hits_in(
    testimony: Testimony,
    narrator: Narrator,
    appearance_notes: Iterable[str],
    segments: Iterable[tuple[int, float, str]],
) -> list[Hit]:
    """What the scan finds in these public fields of a testimony, stored or not."""
    return scanner_for(narrator).scan_all(
        public_fields(testimony, narrator, appearance_notes, segments)
    )


MEDIA_PLACE = "media"


def media_hits(
    testimony: Testimony, narrator: Narrator, release: str | None
) -> list[Hit]:
    """A video released with its picture (``release``, the consent in force) of
    a narrator who chose to stay anonymous: their face would be public. The
    media rule never serves it; the gate does not publish it either."""
    if (
        narrator.identity == Narrator.Identity.ANONYMOUS
        and testimony.media_kind == Testimony.MediaKind.VIDEO
        and release == ConsentRecord.MediaRelease.AUDIO_VIDEO
    ):
        return [Hit(MEDIA_PLACE, 0, HitKind.VIDEO_OF_ANONYMOUS, "")]
    return []


def publication_hits(testimony: Testimony) -> list[Hit]:
    """What the gate finds in a testimony as it would be published.

    Its own fields are read from the instance (an edit not yet saved is
    scanned as it stands); its appearances, segments and the consent in force
    from the database.
    """
    notes = testimony.appearances.order_by("pk").values_list("note", flat=True)
    segments = testimony.segments.order_by("position").values_list(
        "position", "start", "public_text"
    )
    consent = testimony.consent_in_force()
    return [
        *media_hits(testimony, testimony.narrator, consent.media if consent else None),
        *hits_in(testimony, testimony.narrator, notes, segments),
    ]


def refusal_text(hits: list[Hit]) -> str:
    """The refusal in the curator's language, each hit with its place."""
    return ngettext(
        "publication refused, %(count)d item would expose the narrator: %(hits)s",
        "publication refused, %(count)d items would expose the narrator: %(hits)s",
        len(hits),
    ) % {"count": len(hits), "hits": "; ".join(str(hit) for hit in hits)}


class PublicationRefused(ServiceError):
    """The gate found what would expose the narrator; ``hits`` says where."""

    def __init__(
        self, testimony_slug: str, hits: list[Hit], narrator_id: int | None = None
    ) -> None:
        self.testimony_slug = testimony_slug
        self.hits = hits
        self.narrator_id = narrator_id
        super().__init__(f"{testimony_slug}: {refusal_text(hits)}")


def check(testimony: Testimony) -> None:
    """Refuse, naming every hit, a testimony whose public fields expose its narrator."""
    if hits := publication_hits(testimony):
        raise PublicationRefused(testimony.slug, hits, testimony.narrator_id)
