"""Public text and the identity scan of the publication gate.

Public text is made here and nowhere else: a segment's original text with each
redacted span replaced by its label. The scan looks for what must never be
public: the narrator's legal name, contact and sensitive terms, e-mail addresses
and phone numbers.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

DEFAULT_LABELS = {
    "person": _("[name removed]"),
    "third_party": _("[third party removed]"),
    "employer": _("[employer removed]"),
    "location": _("[place removed]"),
    "health": _("[health information removed]"),
    "other": _("[passage removed]"),
}


def default_label(reason: str, language: str) -> str:
    """The label shown for a redaction without one, in the testimony's language."""
    language = language if language in ("fr", "en") else "en"
    with translation.override(language):
        return str(DEFAULT_LABELS[reason])


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans merge; the one that starts first names them.

    Among spans with the same start, the earlier in the given order wins (the
    order recorded), so the result does not depend on a sort's whims.
    """
    ordered = sorted(enumerate(spans), key=lambda item: (item[1].start, item[0]))
    merged: list[Span] = []
    for _index, span in ordered:
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.label)
        else:
            merged.append(span)
    return merged


def public_text(text: str, spans: Iterable[Span]) -> str:
    """The text with every redacted span replaced by its label."""
    pieces: list[str] = []
    cursor = 0
    for span in merge_spans(spans):
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(
                f"redaction [{span.start}, {span.end}) is outside the text "
                f"(length {len(text)})"
            )
        pieces.append(text[cursor : span.start])
        pieces.append(span.label)
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


# --- The identity scan -------------------------------------------------------

EMAIL_RE = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
# French numbers: 0X XX XX XX XX with spaces, dots or dashes (or none), and
# +33 X XX XX XX XX, optionally with (0). International: + then 8 to 15 digits.
FRENCH_PHONE_RE = re.compile(
    r"(?<![\w+])(?:0|\+33[ .\-]?(?:\(0\)[ .\-]?)?)[1-9](?:[ .\-]?\d{2}){4}(?!\d)"
)
INTERNATIONAL_PHONE_RE = re.compile(r"(?<![\w+])\+\d(?:[ .\-()]{0,2}\d){7,14}(?!\d)")


class HitKind:
    LEGAL_NAME = "legal name"
    CONTACT = "contact"
    SENSITIVE_TERM = "sensitive term"
    EMAIL = "e-mail address"
    PHONE = "phone number"


@dataclass(frozen=True, slots=True)
class Hit:
    place: str
    offset: int
    kind: str
    # What matched, except for the legal name and the contact, which a
    # curator without the identity permission must not learn from an error.
    shown: str

    def __str__(self) -> str:
        what = f"{self.kind} {self.shown!r}" if self.shown else self.kind
        return f"{self.place}, offset {self.offset}: {what}"


def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    # Keep one character per input character so that offsets carry over.
    return base[:1] if base else char


class _FoldTable(dict):
    # str.translate looks characters up in C; each new one is folded once.
    def __missing__(self, code_point: int) -> str:
        folded = self[code_point] = _fold_char(chr(code_point))
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Case- and accent-insensitive form, one output character per input one."""
    return text.translate(_FOLD_TABLE)


_WORD_PART_RE = re.compile(r"[^\W\d_]{3,}")


def legal_name_terms(legal_name: str) -> list[str]:
    """The whole legal name and each part of it of three letters or more."""
    terms = [legal_name.strip()] if legal_name.strip() else []
    terms += _WORD_PART_RE.findall(legal_name)
    return terms


def contact_terms(contact: str) -> list[str]:
    return [
        part.strip() for part in re.split(r"[\n,;]+", contact) if len(part.strip()) >= 3
    ]


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
            folded = sorted({fold(t.strip()) for t in terms}, key=len, reverse=True)
            if folded:
                name = f"g{index}"
                self._kinds[name] = kind
                joined = "|".join(re.escape(t) for t in folded)
                alternatives.append(f"(?P<{name}>{joined})")
        self._terms_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
            if alternatives
            else None
        )

    def scan(self, place: str, text: str) -> list[Hit]:
        if not text:
            return []
        hits: list[Hit] = []
        if self._terms_re is not None:
            for match in self._terms_re.finditer(fold(text)):
                kind = self._kinds[match.lastgroup]
                shown = (
                    text[match.start() : match.end()]
                    if kind == HitKind.SENSITIVE_TERM
                    else ""
                )
                hits.append(Hit(place, match.start(), kind, shown))
        for match in EMAIL_RE.finditer(text):
            hits.append(Hit(place, match.start(), HitKind.EMAIL, match.group()))
        phones = {m.start(): m for m in FRENCH_PHONE_RE.finditer(text)}
        for match in INTERNATIONAL_PHONE_RE.finditer(text):
            phones.setdefault(match.start(), match)
        for start, match in sorted(phones.items()):
            hits.append(Hit(place, start, HitKind.PHONE, match.group()))
        hits.sort(key=lambda hit: hit.offset)
        return hits

    def scan_all(self, fields: Iterable[tuple[str, str]]) -> list[Hit]:
        hits: list[Hit] = []
        for place, text in fields:
            hits.extend(self.scan(place, text))
        return hits
